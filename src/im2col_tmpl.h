/*
 * im2col / col2im for one element type. Included by im2col.c once per type with
 * T (the element type) and TC(name) (the name with the type's suffix) defined.
 *
 * Along one axis, output position o reads input position i = o*s + off with
 * off = k*d - p (kernel tap k, stride s, dilation d, padding p). axis_range() gives the
 * o for which i falls inside [0, X): outside it the column holds padding zeros.
 *
 * Columns are visited line by line: line l = o0·Y1 + o1 holds the Y2 positions o2.
 */

/* im2col: x[channels][X0][X1][X2] => cols[r1 - r0][(l - l0)·Y2 + o2], rows r = (ch, k0, k1, k2)
 * and lines l0..l1, rows `ld` apart */
void TC(tconv__im2col_lines)(const tconv__shape *sh, const T *x, int64_t r0, int64_t r1,
                             int64_t l0, int64_t l1, T *cols, int64_t ld)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2];
    for (int64_t r = r0; r < r1; ++r) {
        tap t;
        tap_of_row(sh, r, &t);
        const T *xc = x + t.ch * sh->x_count;
        T *row = cols + (r - r0) * ld;
        for (int64_t l = l0; l < l1; ++l) {
            const int64_t o0 = l / Y1, o1 = l % Y1;
            T *dst = row + (l - l0) * Y2;
            if (o0 < t.lo[0] || o0 >= t.hi[0] || o1 < t.lo[1] || o1 >= t.hi[1]) {
                memset(dst, 0, (size_t)Y2 * sizeof(T));
                continue;
            }
            /* index of o2 = 0, which may lie in the padding: only o2 in [lo, hi) read */
            const int64_t i0 = o0 * sh->s[0] + t.off[0];
            const int64_t base = (i0 * X1 + o1 * sh->s[1] + t.off[1]) * X2 + t.off[2];
            for (int64_t o2 = 0; o2 < t.lo[2]; ++o2)
                dst[o2] = 0;
            if (s2 == 1)
                memcpy(dst + t.lo[2], xc + (base + t.lo[2]),
                       (size_t)(t.hi[2] - t.lo[2]) * sizeof(T));
            else
                for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                    dst[o2] = xc[base + o2 * s2];
            for (int64_t o2 = t.hi[2]; o2 < Y2; ++o2)
                dst[o2] = 0;
        }
    }
}

void TC(tconv__im2col)(const tconv__shape *sh, const T *x, int64_t r0, int64_t r1, T *cols)
{
    TC(tconv__im2col_lines)(sh, x, r0, r1, 0, sh->y[0] * sh->y[1], cols, sh->y_count);
}

/* col2im: cols[channels·K][(l - l0)·Y2 + o2] => x[channels c0..c1][X0][X1][X2], adding.
 * Each channel's taps are summed in one fixed order, so any split over channels gives
 * the same bits. */
void TC(tconv__col2im_lines)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t c0,
                             int64_t c1, int64_t l0, int64_t l1, bool init, const T *bias, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2], K = sh->k_count;
    for (int64_t ch = c0; ch < c1; ++ch) {
        T *xc = x + ch * sh->x_count;
        if (init && bias)
            for (int64_t i = 0; i < sh->x_count; ++i)
                xc[i] = bias[ch];
        else if (init)
            memset(xc, 0, (size_t)sh->x_count * sizeof(T));
        for (int64_t r = ch * K; r < (ch + 1) * K; ++r) {
            tap t;
            tap_of_row(sh, r, &t);
            const T *row = cols + r * ld;
            for (int64_t l = l0; l < l1; ++l) {
                const int64_t o0 = l / Y1, o1 = l % Y1;
                if (o0 < t.lo[0] || o0 >= t.hi[0] || o1 < t.lo[1] || o1 >= t.hi[1])
                    continue;
                const T *src = row + (l - l0) * Y2;
                const int64_t i0 = o0 * sh->s[0] + t.off[0];
                const int64_t base = (i0 * X1 + o1 * sh->s[1] + t.off[1]) * X2 + t.off[2];
                if (s2 == 1)
                    for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                        xc[base + o2] += src[o2];
                else
                    for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                        xc[base + o2 * s2] += src[o2];
            }
        }
    }
}

void TC(tconv__col2im)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1, T *x)
{
    TC(tconv__col2im_lines)(sh, cols, sh->y_count, c0, c1, 0, sh->y[0] * sh->y[1], true, NULL,
                            x);
}

/* col2im for an exact tiling: x[ch][o·s + k] = cols[(ch, k)][o] on every axis, each x
 * element written once (padding 0, dilation 1, taps tiling the stride or a single position;
 * see tconv__gemm_layout_of). Along the last axis the K2 taps of a line are interleaved
 * into one contiguous run of x. */
void TC(tconv__col2im_tiled)(const tconv__shape *sh, const T *cols, int64_t ld, int64_t c0,
                             int64_t c1, int64_t l0, int64_t l1, const T *bias, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t K0 = sh->k[0], K1 = sh->k[1], K2 = sh->k[2], s2 = sh->s[2];
    for (int64_t ch = c0; ch < c1; ++ch) {
        T *xc = x + ch * sh->x_count;
        const T b = bias ? bias[ch] : (T)0;
        for (int64_t k01 = 0; k01 < K0 * K1; ++k01) {
            const int64_t k0 = k01 / K1, k1 = k01 % K1;
            const T *rows = cols + (ch * K0 * K1 + k01) * K2 * ld; /* rows (ch, k0, k1, 0..K2) */
            for (int64_t l = l0; l < l1; ++l) {
                const int64_t o0 = l / Y1, o1 = l % Y1;
                const T *src = rows + (l - l0) * Y2;
                T *dst = xc + ((o0 * sh->s[0] + k0) * X1 + o1 * sh->s[1] + k1) * X2;
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
