/*
 * Channels-last im2col ("im2row") and col2im ("row2im") for one element type (included by
 * im2row.c through instantiate.h).
 *
 * In channels-last a position's channels are contiguous, so a column matrix has one row
 * per output position and its columns in (tap, channel) order: every (position, tap) pair
 * is one contiguous run of channels, copied (im2row) or added (row2im) as a vector. x
 * points at channel 0 of the group in the span's first image; a position i of an image is
 * at ((i0·X1 + i1)·X2 + i2)·C_x; images are sp->x_stride apart; rows of cols `ld` apart.
 */

/* Along the last axis, output o2's taps k2 = 0..K2-1 (dilation 1) read x's positions
 * a2..a2+K2-1 with a2 = o2·s - p (returned): as columns of a (k0, k1)'s run of K2·C, those
 * inside X2 are [*lo, *hi) (empty when *hi <= *lo). */
static inline int64_t TC(run_inside)(const tconv__shape *sh, int64_t o2, int64_t *lo,
                                     int64_t *hi)
{
    const int64_t C = sh->cx, K2 = sh->k[2], X2 = sh->x[2];
    const int64_t a2 = o2 * sh->s[2] - sh->p[2];
    *lo = (a2 < 0 ? -a2 : 0) * C;
    *hi = (X2 - a2 < K2 ? X2 - a2 : K2) * C;
    return a2;
}

/* One row of im2row when the last axis's taps merge (merges_taps): the columns of the
 * taps k2 = 0..K2-1 of one (k0, k1) are x's positions a2..a2+K2-1 (a2 = o2·s - p), all
 * channels: one run of x, copied where it lies inside X2 and zero in the padding. */
static TCONV__ALWAYS_INLINE void TC(row_runs)(const tconv__shape *sh, const T *xm, int64_t o0,
                                              int64_t o1, int64_t o2, int64_t j0, int64_t j1,
                                              T *dst)
{
    const int64_t C = sh->cx, K1 = sh->k[1], K2 = sh->k[2], X2 = sh->x[2];
    int64_t skip, keep; /* a run's columns inside x: [skip, keep) */
    const int64_t a2 = TC(run_inside)(sh, o2, &skip, &keep);
    for (int64_t j = j0; j < j1;) {
        const int64_t g = j / (K2 * C), jb = g * K2 * C; /* (k0, k1) = (g / K1, g % K1) */
        const int64_t je = jb + K2 * C < j1 ? jb + K2 * C : j1;
        const int64_t i0 = o0 * sh->s[0] - sh->p[0] + g / K1 * sh->d[0];
        const int64_t i1 = o1 * sh->s[1] - sh->p[1] + g % K1 * sh->d[1];
        int64_t lo = jb + skip, hi = jb + keep;
        if ((uint64_t)i0 >= (uint64_t)sh->x[0] || (uint64_t)i1 >= (uint64_t)sh->x[1])
            lo = hi = je; /* the whole run in the padding */
        lo = lo < j ? j : lo > je ? je : lo;
        hi = hi < lo ? lo : hi > je ? je : hi;
        const int64_t run = ((i0 * sh->x[1] + i1) * X2 + a2) * C - jb; /* column j: xm[run + j] */
        if (lo > j)
            memset(dst + (j - j0), 0, (size_t)(lo - j) * sizeof(T));
        if (hi > lo)
            memcpy(dst + (lo - j0), xm + (run + lo), (size_t)(hi - lo) * sizeof(T));
        if (je > hi)
            memset(dst + (hi - j0), 0, (size_t)(je - hi) * sizeof(T));
        j = je;
    }
}

/* cols[row][j - j0] = x at row's position through tap j / (C_x/g), channel j % (C_x/g),
 * or 0 in the padding, for j in [j0, j1): the columns of one block of R. */
TCONV__VECTOR_CLONES
void TC(tconv__im2row)(const tconv__shape *sh, const T *x, int64_t j0, int64_t j1,
                       const tconv__span *sp, T *cols, int64_t ld)
{
    const int64_t cxg = sh->cxg, C = sh->cx, Y1 = sh->y[1], Y2 = sh->y[2];
    const int64_t t_first = j0 / cxg, t_last = (j1 - 1) / cxg;
    const bool merged = merges_taps(sh, cxg);
    int64_t row = 0;
    for (int64_t m = 0; m < sp->images; ++m) {
        const T *xm = x + m * sp->x_stride;
        int64_t o0 = sp->l0 / Y1, o1 = sp->l0 % Y1;
        for (int64_t l = sp->l0; l < sp->l1; ++l) {
            for (int64_t o2 = 0; o2 < Y2; ++o2, ++row) {
                T *dst = cols + row * ld; /* column j at dst[j - j0] */
                if (merged) {
                    TC(row_runs)(sh, xm, o0, o1, o2, j0, j1, dst);
                    continue;
                }
                int64_t k[3];
                tap_coords(sh, t_first, k);
                for (int64_t t = t_first; t <= t_last; ++t) {
                    const int64_t a0 = t * cxg > j0 ? t * cxg : j0;
                    const int64_t a1 = (t + 1) * cxg < j1 ? (t + 1) * cxg : j1;
                    int64_t at;
                    if (position_of(sh, o0, o1, o2, k, &at))
                        memcpy(dst + (a0 - j0), xm + at * C + (a0 - t * cxg),
                               (size_t)(a1 - a0) * sizeof(T));
                    else
                        memset(dst + (a0 - j0), 0, (size_t)(a1 - a0) * sizeof(T));
                    next_tap(sh, k);
                }
            }
            if (++o1 == Y1)
                o1 = 0, ++o0;
        }
    }
}

/* Sets channels c0..c1 of every position of the span's images to bias (0 without). */
static void TC(init_rows)(const tconv__shape *sh, int64_t c0, int64_t c1,
                          const tconv__span *sp, const T *bias, T *x)
{
    if (!bias && c0 == 0 && c1 == sh->cx) { /* every channel: the image is one run (a 12-byte
                                              * memset per position was 2 % of dcgan_5) */
        for (int64_t m = 0; m < sp->images; ++m)
            memset(x + m * sp->x_stride, 0, (size_t)(sh->x_count * sh->cx) * sizeof(T));
        return;
    }
    for (int64_t m = 0; m < sp->images; ++m)
        for (int64_t i = 0; i < sh->x_count; ++i) {
            T *xi = x + m * sp->x_stride + i * sh->cx;
            for (int64_t c = c0; c < c1; ++c)
                xi[c] = bias ? bias[c] : (T)0;
        }
}

#include "kernels/add_run_tmpl.h"

/* One row of rows_back when the last axis's taps merge: per (k0, k1), the K2 taps' columns
 * are one run of x (positions a2..a2+K2-1, all channels), added (or, tiled, written with
 * the bias) over the part inside X2. Within a row every x element has at most one tap,
 * so the order of each element's sum is rows_back's. */
static TCONV__ALWAYS_INLINE void TC(runs_back)(const tconv__shape *sh, const T *src, T *xm,
                                               int64_t o0, int64_t o1, int64_t o2, bool tiled,
                                               const T *bias)
{
    const int64_t C = sh->cx, K1 = sh->k[1], K2 = sh->k[2], X2 = sh->x[2];
    int64_t lo, hi;
    const int64_t a2 = TC(run_inside)(sh, o2, &lo, &hi);
    if (hi <= lo)
        return;
    /* (k0, k1) in nested loops: a division and a remainder per run were a third of it */
    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0, src += K1 * K2 * C) {
        const int64_t i0 = o0 * sh->s[0] - sh->p[0] + k0 * sh->d[0];
        if ((uint64_t)i0 >= (uint64_t)sh->x[0])
            continue;
        for (int64_t k1 = 0; k1 < K1; ++k1) {
            const int64_t i1 = o1 * sh->s[1] - sh->p[1] + k1 * sh->d[1];
            if ((uint64_t)i1 >= (uint64_t)sh->x[1])
                continue;
            /* from x's first position the run reaches (a2 may lie in the padding) */
            T *restrict d = xm + (((i0 * sh->x[1] + i1) * X2 + a2) * C + lo);
            const T *restrict s = src + k1 * K2 * C + lo;
            const int64_t n = hi - lo;
            if (!tiled)
                TC(add_run)(d, s, n);
            else if (bias)
                for (int64_t j = 0; j < n; j += C)
                    for (int64_t c = 0; c < C; ++c)
                        d[j + c] = s[j + c] + bias[c];
            else
                memcpy(d, s, (size_t)n * sizeof(T));
        }
    }
}

/*
 * x[position of row through tap t][c0 + c] += cols[row][t·(c1 - c0) + c]: the columns of
 * channels c0..c1 of one group added back, each row and tap one vector of channels. With
 * `init` the span's images are first set to the bias. Each x element sums its
 * contributions in row then tap order, whatever splits the channels. When the taps tile X
 * exactly (`tiled`, TCONV__PATH_TILED) each x element has one source: written (plus the
 * bias), not added, and no init is needed.
 */
TCONV__VECTOR_CLONES
static void TC(rows_back)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t c0,
                          int64_t c1, const tconv__span *sp, bool tiled, const T *bias, T *x)
{
    const int64_t C = sh->cx, Y1 = sh->y[1], Y2 = sh->y[2], K = sh->k_count, nb = c1 - c0;
    const bool merged = merges_taps(sh, nb);
    int64_t row = 0;
    for (int64_t m = 0; m < sp->images; ++m) {
        T *xm = x + m * sp->x_stride + c0;
        int64_t o0 = sp->l0 / Y1, o1 = sp->l0 % Y1;
        for (int64_t l = sp->l0; l < sp->l1; ++l) {
            for (int64_t o2 = 0; o2 < Y2; ++o2, ++row) {
                const T *src = cols + row * ld;
                if (merged) {
                    TC(runs_back)(sh, src, xm, o0, o1, o2, tiled, bias);
                    continue;
                }
                int64_t k[3] = {0, 0, 0};
                for (int64_t t = 0; t < K; ++t, src += nb) {
                    int64_t at;
                    if (position_of(sh, o0, o1, o2, k, &at)) { /* always inside when tiled */
                        T *restrict d = xm + at * C;
                        const T *restrict s = src;
                        if (!tiled)
                            for (int64_t c = 0; c < nb; ++c)
                                d[c] += s[c];
                        else if (bias)
                            for (int64_t c = 0; c < nb; ++c)
                                d[c] = s[c] + bias[c0 + c];
                        else
                            memcpy(d, s, (size_t)nb * sizeof(T));
                    }
                    next_tap(sh, k);
                }
            }
            if (++o1 == Y1)
                o1 = 0, ++o0;
        }
    }
}

void TC(tconv__row2im)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t c0,
                       int64_t c1, const tconv__span *sp, bool init, const T *bias, T *x)
{
    if (init)
        TC(init_rows)(sh, c0, c1, sp, bias, x);
    TC(rows_back)(sh, cols, ld, c0, c1, sp, false, NULL, x);
}

void TC(tconv__row2im_tiled)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t c0,
                             int64_t c1, const tconv__span *sp, const T *bias, T *x)
{
    TC(rows_back)(sh, cols, ld, c0, c1, sp, true, bias, x);
}

/* The outputs o of axis a whose taps reach input position i: o·s - p + k·d = i for some
 * k < K means o in [⌈(i + p - (K-1)·d) / s⌉, ⌊(i + p) / s⌋] within [0, Y). */
static void TC(reaching)(const tconv__shape *sh, int a, int64_t i, int64_t *lo, int64_t *hi)
{
    const int64_t top = i + sh->p[a], least = top - (sh->k[a] - 1) * sh->d[a];
    *lo = least <= 0 ? 0 : (least + sh->s[a] - 1) / sh->s[a];
    *hi = top / sh->s[a] + 1 < sh->y[a] ? top / sh->s[a] + 1 : sh->y[a];
}

/*
 * x's lines il0..il1 (line = i0·X1 + i1) of one image, all channels of one group, gathered
 * from the whole image's columns cols[row][tap·C + c] (rows ld apart): each element is the
 * bias (0 without), then the contribution of every row that reaches it, in row order:
 * the order rows_back adds them in, so the bits are those of row2im, whatever cuts the
 * lines. Along the last axis a (k0, k1)'s taps are one run of x when the dilation is 1.
 */
TCONV__VECTOR_CLONES
void TC(tconv__row2im_gather)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t il0,
                              int64_t il1, const T *bias, T *x)
{
    const int64_t C = sh->cx, X1 = sh->x[1], X2 = sh->x[2], Y1 = sh->y[1], Y2 = sh->y[2];
    const int64_t K1 = sh->k[1], K2 = sh->k[2], s2 = sh->s[2], p2 = sh->p[2], d2 = sh->d[2];
    for (int64_t l = il0; l < il1; ++l) {
        const int64_t i0 = l / X1, i1 = l % X1;
        T *restrict xl = x + l * X2 * C;
        for (int64_t j = 0; j < X2; ++j)
            for (int64_t c = 0; c < C; ++c)
                xl[j * C + c] = bias ? bias[c] : (T)0;
        int64_t lo0, hi0, lo1, hi1;
        TC(reaching)(sh, 0, i0, &lo0, &hi0);
        TC(reaching)(sh, 1, i1, &lo1, &hi1);
        for (int64_t o0 = lo0; o0 < hi0; ++o0) {
            const int64_t v0 = i0 + sh->p[0] - o0 * sh->s[0];
            if (v0 % sh->d[0])
                continue;
            for (int64_t o1 = lo1; o1 < hi1; ++o1) {
                const int64_t v1 = i1 + sh->p[1] - o1 * sh->s[1];
                if (v1 % sh->d[1])
                    continue;
                const int64_t g = v0 / sh->d[0] * K1 + v1 / sh->d[1]; /* (k0, k1) */
                const T *line = cols + (o0 * Y1 + o1) * Y2 * ld + g * K2 * C;
                for (int64_t o2 = 0; o2 < Y2; ++o2) {
                    const T *restrict src = line + o2 * ld;
                    if (d2 == 1) {
                        int64_t lo, hi;
                        const int64_t a2 = TC(run_inside)(sh, o2, &lo, &hi);
                        if (hi <= lo)
                            continue;
                        T *restrict d = xl + (a2 * C + lo); /* x's first element reached */
                        for (int64_t j = 0; j < hi - lo; ++j)
                            d[j] += src[lo + j];
                        continue;
                    }
                    const int64_t a2 = o2 * s2 - p2;
                    for (int64_t k2 = 0; k2 < K2; ++k2) {
                        const int64_t at = a2 + k2 * d2;
                        if ((uint64_t)at < (uint64_t)X2)
                            for (int64_t c = 0; c < C; ++c)
                                xl[at * C + c] += src[k2 * C + c];
                    }
                }
            }
        }
    }
}
