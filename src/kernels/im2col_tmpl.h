/*
 * im2col / col2im for one element type. Included by im2col.c once per type with
 * T (the element type) and TC(name) (the name with the type's suffix) defined.
 *
 * Along one axis, output position o reads input position i = o*s + off with
 * off = k*d - p (kernel tap k, stride s, dilation d, padding p). axis_range() gives the
 * o for which i falls inside [0, X): outside it the column holds padding zeros.
 *
 * Columns are visited over a span (see tconv__span): images, then lines, then positions.
 */

typedef T TC(quad) __attribute__((vector_size(4 * sizeof(T))));

/* d[q] = s[2q]: stride-2 layers' rows, where a variable stride made a scalar gather. Long
 * rows are the compiler's to vectorise; a short one (8 positions: a DCGAN layer's 8x8
 * map) never filled its vectors of 16 and ran scalar, so it goes 4 at a time, each four
 * from s[2q .. 2q + 3] and s[2q + 3 .. 2q + 6], which reads nothing past s[2(n - 1)]. */
static inline void TC(every_other)(T *restrict d, const T *restrict s, int64_t n)
{
    int64_t q = 0;
    if (n < 32)
        for (; q + 4 <= n; q += 4) {
            TC(quad) a, b;
            memcpy(&a, s + 2 * q, sizeof a);
            memcpy(&b, s + 2 * q + 3, sizeof b);
            const TC(quad) e = __builtin_shufflevector(a, b, 0, 2, 5, 7);
            memcpy(d + q, &e, sizeof e);
        }
    for (; q < n; ++q)
        d[q] = s[2 * q];
}

#include "kernels/add_run_tmpl.h"

/* d[0..n) = s[0..n) for a run shorter than 32 (TCONV__PLANES_LINE): straight-line copies
 * of constant sizes, which the compiler makes vector moves (a loop of them became a call
 * of memmove per run, a fifth of the time). */
static TCONV__ALWAYS_INLINE void TC(copy_short)(T *restrict d, const T *restrict s, int64_t n)
{
    if (n & 16)
        memcpy(d, s, 16 * sizeof(T)), d += 16, s += 16;
    if (n & 8)
        memcpy(d, s, 8 * sizeof(T)), d += 8, s += 8;
    if (n & 4)
        memcpy(d, s, 4 * sizeof(T)), d += 4, s += 4;
    if (n & 2)
        memcpy(d, s, 2 * sizeof(T)), d += 2, s += 2;
    if (n & 1)
        d[0] = s[0];
}

/* One channel's phase planes P[f0][f1][f2][j0][j1][j2] (see `planes`): x at position
 * s·(j + least) + f of each axis, or 0 outside x. */
static TCONV__ALWAYS_INLINE void TC(build_planes)(const tconv__shape *sh, const planes *pl,
                                                  const T *xc, T *P)
{
    const int64_t *e = pl->extent, *s = sh->s;
    for (int64_t f0 = 0; f0 < s[0]; ++f0)
        for (int64_t f1 = 0; f1 < s[1]; ++f1)
            for (int64_t f2 = 0; f2 < s[2]; ++f2) {
                T *q = P + ((f0 * s[1] + f1) * s[2] + f2) * e[0] * e[1] * e[2];
                for (int64_t j0 = 0; j0 < e[0]; ++j0) {
                    const int64_t i0 = s[0] * (j0 + pl->least[0]) + f0;
                    for (int64_t j1 = 0; j1 < e[1]; ++j1, q += e[2]) {
                        const int64_t i1 = s[1] * (j1 + pl->least[1]) + f1;
                        if ((uint64_t)i0 >= (uint64_t)sh->x[0] ||
                            (uint64_t)i1 >= (uint64_t)sh->x[1]) {
                            memset(q, 0, (size_t)e[2] * sizeof(T));
                            continue;
                        }
                        /* x's positions s2·(j2 + least) + f2 inside the line: [lo, hi) */
                        int64_t lo, hi;
                        axis_range(s[2], s[2] * pl->least[2] + f2, sh->x[2], e[2], &lo, &hi);
                        const T *xl = xc + (i0 * sh->x[1] + i1) * sh->x[2] +
                                      (s[2] * (lo + pl->least[2]) + f2);
                        memset(q, 0, (size_t)lo * sizeof(T));
                        if (s[2] == 1)
                            memcpy(q + lo, xl, (size_t)(hi - lo) * sizeof(T));
                        else if (s[2] == 2)
                            TC(every_other)(q + lo, xl, hi - lo);
                        else
                            for (int64_t j2 = lo; j2 < hi; ++j2)
                                q[j2] = xl[(j2 - lo) * s[2]];
                        memset(q + hi, 0, (size_t)(e[2] - hi) * sizeof(T));
                    }
                }
            }
}

/* im2col of whole images through each channel's phase planes (see `planes`): every
 * row's line is a contiguous run of a plane, padding included, so a short line is one
 * copy instead of a gather with its zeros around it (DCGAN's 8x8 maps at stride 2 were
 * written at 6.6 GB/s, a third of the rate of long lines). The same columns. */
static TCONV__ALWAYS_INLINE void TC(im2col_planes)(const tconv__shape *sh, const planes *pl,
                                                   const T *x, int64_t r0, int64_t r1,
                                                   const tconv__span *sp, T *cols)
{
    const int64_t K = sh->k_count, K1 = sh->k[1], K2 = sh->k[2];
    const int64_t Y0 = sh->y[0], Y1 = sh->y[1], Y2 = sh->y[2], e1 = pl->extent[1];
    const int64_t e2 = pl->extent[2], per_phase = pl->extent[0] * e1 * e2;
    T P[PLANES_MOST];
    int64_t at[PLANES_TAPS]; /* tap kk's run of o = 0 in P */
    for (int64_t kk = 0; kk < K; ++kk) {
        const int64_t k[3] = {kk / (K1 * K2), kk / K2 % K1, kk % K2};
        int64_t f[3], j[3];
        for (int a = 0; a < 3; ++a) {
            phase_shift(k[a] * sh->d[a] - sh->p[a], sh->s[a], &f[a], &j[a]);
            j[a] -= pl->least[a];
        }
        at[kk] = ((f[0] * sh->s[1] + f[1]) * sh->s[2] + f[2]) * per_phase +
                 (j[0] * e1 + j[1]) * e2 + j[2];
    }
    for (int64_t r = r0; r < r1;) {
        const int64_t ch = r / K, end = (ch + 1) * K < r1 ? (ch + 1) * K : r1;
        for (int64_t m = 0; m < sp->images; ++m) {
            TC(build_planes)(sh, pl, x + m * sp->x_stride + ch * sh->x_count, P);
            for (int64_t rr = r; rr < end; ++rr) {
                const T *src = P + at[rr % K];
                T *restrict d = cols + (rr - r0) * sp->ld + m * sh->y_count;
                for (int64_t o0 = 0; o0 < Y0; ++o0)
                    for (int64_t o1 = 0; o1 < Y1; ++o1, d += Y2) {
                        TC(copy_short)(d, src + (o0 * e1 + o1) * e2, Y2);
                    }
            }
        }
        r = end;
    }
}

/* im2col: x[channels][X0][X1][X2] => cols[r1 - r0][columns of the span],
 * rows r = (ch, k0, k1, k2) */
TCONV__VECTOR_CLONES
void TC(tconv__im2col_span)(const tconv__shape *sh, const T *x, int64_t r0, int64_t r1,
                            const tconv__span *sp, T *cols)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2];
    planes pl;
    if (by_planes(sh, sp, &pl)) {
        TC(im2col_planes)(sh, &pl, x, r0, r1, sp, cols);
        return;
    }
    for (int64_t r = r0; r < r1; ++r) {
        tap t;
        tap_of_row(sh, r, &t);
        const int64_t n2 = t.hi[2] - t.lo[2]; /* positions of a line inside the map */
        for (int64_t m = 0; m < sp->images; ++m) {
            const T *xc = x + m * sp->x_stride + t.ch * sh->x_count;
            T *row = cols + (r - r0) * sp->ld + m * sh->y_count - sp->l0 * Y2; /* line 0 */
            /* the span's lines by (o0, o1): those outside the map along axes 0 and 1 are
             * runs of zeros, one memset each; the rest copy the part of their line inside */
            for (int64_t o0 = sp->l0 / Y1; o0 * Y1 < sp->l1; ++o0) {
                const int64_t a = sp->l0 > o0 * Y1 ? sp->l0 - o0 * Y1 : 0;
                const int64_t b = sp->l1 - o0 * Y1 < Y1 ? sp->l1 - o0 * Y1 : Y1;
                const bool in0 = o0 >= t.lo[0] && o0 < t.hi[0];
                const int64_t v0 = in0 && t.lo[1] > a ? t.lo[1] : a; /* lines inside: */
                const int64_t v1 = !in0 ? a : t.hi[1] < b ? t.hi[1] : b; /* [v0, v1) */
                T *d = row + (o0 * Y1 + a) * Y2;
                if (v1 <= v0) {
                    memset(d, 0, (size_t)((b - a) * Y2) * sizeof(T));
                    continue;
                }
                memset(d, 0, (size_t)((v0 - a) * Y2) * sizeof(T));
                d += (v0 - a) * Y2;
                /* index of (o0, v0, o2 = 0), which may lie in the padding: only o2 in
                 * [lo, hi) is read; the step to the next line is formed only when one lies
                 * inside the map (a huge stride's step would overflow) */
                int64_t base = ((o0 * sh->s[0] + t.off[0]) * X1 + v0 * sh->s[1] + t.off[1]) *
                                   X2 + t.off[2];
                const int64_t step1 = v1 - v0 > 1 ? sh->s[1] * X2 : 0;
                for (int64_t o1 = v0; o1 < v1; ++o1, base += step1, d += Y2) {
                    for (int64_t o2 = 0; o2 < t.lo[2]; ++o2)
                        d[o2] = 0;
                    if (s2 == 1)
                        memcpy(d + t.lo[2], xc + base + t.lo[2], (size_t)n2 * sizeof(T));
                    else if (s2 == 2) /* a constant stride: vector loads and shuffles */
                        TC(every_other)(d + t.lo[2], xc + (base + 2 * t.lo[2]), n2);
                    else
                        for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                            d[o2] = xc[base + o2 * s2];
                    for (int64_t o2 = t.hi[2]; o2 < Y2; ++o2)
                        d[o2] = 0;
                }
                memset(d, 0, (size_t)((b - v1) * Y2) * sizeof(T));
            }
        }
    }
}

/* The whole column matrix of one image. */
static tconv__span TC(whole_image)(const tconv__shape *sh)
{
    const tconv__span sp = {1, 0, 0, sh->y[0] * sh->y[1], sh->y_count};
    return sp;
}

void TC(tconv__im2col)(const tconv__shape *sh, const T *x, int64_t r0, int64_t r1, T *cols)
{
    const tconv__span sp = TC(whole_image)(sh);
    TC(tconv__im2col_span)(sh, x, r0, r1, &sp, cols);
}

/* col2im: cols[channels·K][columns of the span] => x[channels c0..c1][X0][X1][X2], adding.
 * Each channel's taps are summed in one fixed order, so any split over channels gives
 * the same bits. */
TCONV__VECTOR_CLONES
void TC(tconv__col2im_span)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1,
                            const tconv__span *sp, bool init, const T *bias, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2], K = sh->k_count;
    for (int64_t ch = c0; ch < c1; ++ch) {
        for (int64_t m = 0; init && m < sp->images; ++m) {
            T *xc = x + m * sp->x_stride + ch * sh->x_count;
            const T b = bias ? bias[ch] : (T)0;
            for (int64_t i = 0; i < sh->x_count; ++i)
                xc[i] = b;
        }
        for (int64_t r = ch * K; r < (ch + 1) * K; ++r) {
            tap t;
            tap_of_row(sh, r, &t);
            /* lines of the span whose inputs lie inside the map: o0 in [lo0, hi0), and o1 in
             * [lo1, hi1) clipped to the span on its first and last o0 */
            const int64_t o0_end = t.hi[0] < (sp->l1 + Y1 - 1) / Y1 ? t.hi[0]
                                                                     : (sp->l1 + Y1 - 1) / Y1;
            for (int64_t m = 0; m < sp->images; ++m) {
                T *xc = x + m * sp->x_stride + ch * sh->x_count;
                const T *row = cols + r * sp->ld + m * sh->y_count;
                for (int64_t o0 = t.lo[0] > sp->l0 / Y1 ? t.lo[0] : sp->l0 / Y1; o0 < o0_end;
                     ++o0) {
                    const int64_t first = sp->l0 - o0 * Y1, last = sp->l1 - o0 * Y1;
                    const int64_t o1_end = t.hi[1] < last ? t.hi[1] : last;
                    const int64_t i0 = o0 * sh->s[0] + t.off[0];
                    for (int64_t o1 = t.lo[1] > first ? t.lo[1] : first; o1 < o1_end; ++o1) {
                        const T *src = row + (o0 * Y1 + o1 - sp->l0) * Y2;
                        /* index of o2 = 0, which may lie in the padding */
                        const int64_t base = (i0 * X1 + o1 * sh->s[1] + t.off[1]) * X2 + t.off[2];
                        if (s2 == 1)
                            TC(add_run)(xc + base + t.lo[2], src + t.lo[2], t.hi[2] - t.lo[2]);
                        else
                            for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                                xc[base + o2 * s2] += src[o2];
                    }
                }
            }
        }
    }
}

/* x[q·S + φ] = lb[φ·Q + q] for the first X positions of a line: the phases of a line put
 * back in place. A constant S (2, 4) lets the compiler vectorise the interleave. */
static inline void TC(interleave_line)(const T *restrict lb, int64_t Q, int64_t S, int64_t X,
                                       T *restrict x)
{
    const int64_t whole = X / S; /* positions q whose S phases all lie inside */
    if (S == 1) {
        memcpy(x, lb, (size_t)X * sizeof(T));
        return;
    }
    if (S == 2)
        for (int64_t q = 0; q < whole; ++q)
            x[2 * q] = lb[q], x[2 * q + 1] = lb[Q + q];
    else if (S == 4)
        for (int64_t q = 0; q < whole; ++q)
            for (int64_t f = 0; f < 4; ++f)
                x[4 * q + f] = lb[f * Q + q];
    else
        for (int64_t q = 0; q < whole; ++q)
            for (int64_t f = 0; f < S; ++f)
                x[q * S + f] = lb[f * Q + q];
    for (int64_t i = whole * S; i < X; ++i)
        x[i] = lb[(i % S) * Q + i / S];
}

/*
 * col2im of whole images through a phase plane: a channel's x plane split by phase along
 * the last axis (i2 = q·s2 + φ: plane[i0][i1][φ][q]) takes every tap's runs of positions as
 * contiguous adds, in the tap order the span col2im adds them (the same bits), then one
 * interleave writes the x plane, each element once. `plane` holds X0·X1·s2·⌈X2/s2⌉
 * elements.
 */
TCONV__VECTOR_CLONES
void TC(tconv__col2im_lines)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1,
                             const tconv__span *sp, const T *bias, T *plane, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2], Q = (X2 + s2 - 1) / s2, lines = sh->x[0] * X1;
    const int64_t K = sh->k_count;
    /* the taps' geometry once for every channel and image (computed on the way when there
     * are more taps than the table holds) */
    enum { TABLE = 64 };
    tap table[TABLE];
    int64_t phase_of[TABLE], shift_of[TABLE];
    for (int64_t kk = 0; kk < K && kk < TABLE; ++kk) {
        tap_of_row(sh, kk, &table[kk]);
        phase_shift(table[kk].off[2], s2, &phase_of[kk], &shift_of[kk]);
    }
    for (int64_t ch = c0; ch < c1; ++ch)
        for (int64_t m = 0; m < sp->images; ++m) {
            const T b = bias ? bias[ch] : (T)0;
            for (int64_t j = 0; j < lines * s2 * Q; ++j)
                plane[j] = b;
            for (int64_t r = ch * K; r < (ch + 1) * K; ++r) {
                tap t;
                int64_t f, shift;
                if (r - ch * K < TABLE) {
                    t = table[r - ch * K];
                    f = phase_of[r - ch * K], shift = shift_of[r - ch * K];
                } else {
                    tap_of_row(sh, r, &t);
                    phase_shift(t.off[2], s2, &f, &shift);
                }
                const int64_t run = t.hi[2] - t.lo[2];
                const T *row = cols + r * sp->ld + m * sh->y_count + t.lo[2];
                for (int64_t o0 = t.lo[0]; o0 < t.hi[0]; ++o0) {
                    const int64_t i0 = o0 * sh->s[0] + t.off[0];
                    for (int64_t o1 = t.lo[1]; o1 < t.hi[1]; ++o1) {
                        const int64_t i1 = o1 * sh->s[1] + t.off[1];
                        const T *restrict src = row + (o0 * Y1 + o1) * Y2;
                        T *restrict dst = plane + ((i0 * X1 + i1) * s2 + f) * Q + shift + t.lo[2];
                        TC(add_run)(dst, src, run);
                    }
                }
            }
            T *xc = x + m * sp->x_stride + ch * sh->x_count;
            for (int64_t l = 0; l < lines; ++l)
                TC(interleave_line)(plane + l * s2 * Q, Q, s2, X2, xc + l * X2);
        }
}

void TC(tconv__col2im)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1, T *x)
{
    const tconv__span sp = TC(whole_image)(sh);
    TC(tconv__col2im_span)(sh, cols, c0, c1, &sp, true, NULL, x);
}

/* col2im for an exact tiling: x[ch][o·s + k] = cols[(ch, k)][o] on every axis, each x
 * element written once (padding 0, dilation 1, taps tiling the stride or a single position;
 * see tconv__gemm_layout_of). Along the last axis the K2 taps of a line are interleaved
 * into one contiguous run of x. */
TCONV__VECTOR_CLONES
void TC(tconv__col2im_tiled)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1,
                             const tconv__span *sp, const T *bias, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t K0 = sh->k[0], K1 = sh->k[1], K2 = sh->k[2], s2 = sh->s[2], ld = sp->ld;
    for (int64_t ch = c0; ch < c1; ++ch) {
        const T b = bias ? bias[ch] : (T)0;
        for (int64_t k01 = 0; k01 < K0 * K1; ++k01) {
            const int64_t k0 = k01 / K1, k1 = k01 % K1;
            const T *rows = cols + (ch * K0 * K1 + k01) * K2 * ld; /* rows (ch, k0, k1, 0..K2) */
            for (int64_t m = 0; m < sp->images; ++m)
            for (int64_t l = sp->l0; l < sp->l1; ++l) {
                const int64_t o0 = l / Y1, o1 = l % Y1;
                const T *src = rows + m * sh->y_count + (l - sp->l0) * Y2;
                T *dst = x + m * sp->x_stride + ch * sh->x_count +
                         ((o0 * sh->s[0] + k0) * X1 + o1 * sh->s[1] + k1) * X2;
                if (K2 == 1)
                    for (int64_t o2 = 0; o2 < Y2; ++o2)
                        dst[o2 * s2] = src[o2] + b;
                else if (K2 == 2 && s2 == 2)
                    for (int64_t o2 = 0; o2 < Y2; ++o2) {
                        dst[2 * o2] = src[o2] + b;
                        dst[2 * o2 + 1] = src[ld + o2] + b;
                    }
                else
                    for (int64_t o2 = 0; o2 < Y2; ++o2)
                        for (int64_t k2 = 0; k2 < K2; ++k2)
                            dst[o2 * s2 + k2] = src[k2 * ld + o2] + b;
            }
        }
    }
}
