/*
 * im2col / col2im for one element type. Included by im2col.c once per type with
 * T (the element type) and TC(name) (the name with the type's suffix) defined.
 *
 * Along one axis, output position o reads input position i = o*s + off with
 * off = k*d - p (kernel tap k, stride s, dilation d, padding p). axis_range() gives the
 * o for which i falls inside [0, X): outside it the column holds padding zeros.
 */

/* im2col: x[channels][X0][X1][X2] => cols[r1 - r0][Y0·Y1·Y2], rows r = (ch, k0, k1, k2) */
void TC(tconv__im2col)(const tconv__shape *sh, const T *x, int64_t r0, int64_t r1, T *cols)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2];
    for (int64_t r = r0; r < r1; ++r) {
        tap t;
        tap_of_row(sh, r, &t);
        const T *xc = x + t.ch * sh->x_count;
        T *row = cols + (r - r0) * sh->y_count;
        for (int64_t o0 = 0; o0 < sh->y[0]; ++o0) {
            T *plane = row + o0 * Y1 * Y2;
            const int64_t i0 = o0 * sh->s[0] + t.off[0];
            if (o0 < t.lo[0] || o0 >= t.hi[0]) {
                memset(plane, 0, (size_t)(Y1 * Y2) * sizeof(T));
                continue;
            }
            for (int64_t o1 = 0; o1 < Y1; ++o1) {
                T *dst = plane + o1 * Y2;
                if (o1 < t.lo[1] || o1 >= t.hi[1]) {
                    memset(dst, 0, (size_t)Y2 * sizeof(T));
                    continue;
                }
                /* index of o2 = 0, which may lie in the padding: only o2 in [lo, hi) read */
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
}

/* col2im: cols[channels·K][Y0·Y1·Y2] => x[channels c0..c1][X0][X1][X2], overwriting x.
 * Each channel's taps are summed in one fixed order, so any split over channels gives
 * the same bits. */
void TC(tconv__col2im)(const tconv__shape *sh, const T *cols, int64_t c0, int64_t c1, T *x)
{
    const int64_t Y1 = sh->y[1], Y2 = sh->y[2], X1 = sh->x[1], X2 = sh->x[2];
    const int64_t s2 = sh->s[2], K = sh->k_count;
    for (int64_t ch = c0; ch < c1; ++ch) {
        T *xc = x + ch * sh->x_count;
        memset(xc, 0, (size_t)sh->x_count * sizeof(T));
        for (int64_t r = ch * K; r < (ch + 1) * K; ++r) {
            tap t;
            tap_of_row(sh, r, &t);
            const T *row = cols + r * sh->y_count;
            for (int64_t o0 = t.lo[0]; o0 < t.hi[0]; ++o0) {
                const int64_t i0 = o0 * sh->s[0] + t.off[0];
                for (int64_t o1 = t.lo[1]; o1 < t.hi[1]; ++o1) {
                    const T *src = row + (o0 * Y1 + o1) * Y2;
                    const int64_t base = (i0 * X1 + o1 * sh->s[1] + t.off[1]) * X2 + t.off[2];
                    for (int64_t o2 = t.lo[2]; o2 < t.hi[2]; ++o2)
                        xc[base + o2 * s2] += src[o2];
                }
            }
        }
    }
}
