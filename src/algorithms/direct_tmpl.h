/*
 * The two textbook views as plain loops, for one element type (included by algo_direct.c
 * with T and TC defined). No threads, no BLAS: these are the oracles.
 *
 * Loops run over three axes (a 1-D or 2-D geometry has leading unit axes). Names:
 * o = position in Y, i = position in X, k = kernel tap, per axis i = o*s - p + k*d.
 * Weight index: w[(cy * C_x/g + cx_in_group) * K + k].
 */

/* xp = x_n zero-padded by p on both sides of every axis: [C_x][x0+2p0][x1+2p1][x2+2p2]. */
static void TC(pad_copy)(const tconv__shape *sh, const T *x_n, T *xp)
{
    int64_t P[3];
    padded_extent(sh, P);
    const int64_t plane = P[0] * P[1] * P[2];
    memset(xp, 0, (size_t)(sh->cx * plane) * sizeof(T));
    for (int64_t cx = 0; cx < sh->cx; ++cx)
    for (int64_t i0 = 0; i0 < sh->x[0]; ++i0)
    for (int64_t i1 = 0; i1 < sh->x[1]; ++i1)
    for (int64_t i2 = 0; i2 < sh->x[2]; ++i2)
        xp[cx * plane + ((i0 + sh->p[0]) * P[1] + i1 + sh->p[1]) * P[2] + i2 + sh->p[2]] =
            x_n[cx * sh->x_count + (i0 * sh->x[1] + i1) * sh->x[2] + i2];
}

/* wf = w with every kernel axis reversed: wf[..][k0][k1][k2] = w[..][K0-1-k0][K1-1-k1][K2-1-k2]. */
static void TC(flip_kernel)(const tconv__shape *sh, const T *w, T *wf)
{
    for (int64_t m = 0; m < sh->cy * sh->cxg; ++m)
    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
    for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
    for (int64_t k2 = 0; k2 < sh->k[2]; ++k2)
        wf[m * sh->k_count + (k0 * sh->k[1] + k1) * sh->k[2] + k2] =
            w[m * sh->k_count +
              ((sh->k[0] - 1 - k0) * sh->k[1] + sh->k[1] - 1 - k1) * sh->k[2] + sh->k[2] - 1 -
              k2];
}

/* ---- scatter: the distribution view ---------------------------------------------------- */

/*
 * apply_t, the seed's version 1. x = Cᵀ y: every y element spreads its value through
 * the kernel into a zero canvas of the padded output, xp[i + p] += y[o] · w[k] at
 * i + p = o*s + k*d; the output is the canvas without its padding border.
 */
static void TC(scatter_apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                                void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *y = a, *w = b;
    T *x = out, *xp = ws;
    int64_t P[3];
    padded_extent(sh, P);
    const int64_t plane = P[0] * P[1] * P[2];
    for (int64_t n = 0; n < sh->batch; ++n) {
        memset(xp, 0, (size_t)(sh->cx * plane) * sizeof(T));
        for (int64_t cy = 0; cy < sh->cy; ++cy) {
            const int64_t g = cy / sh->cyg;
            const T *yc = y + (n * sh->cy + cy) * sh->y_count;
            for (int64_t o0 = 0; o0 < sh->y[0]; ++o0)
            for (int64_t o1 = 0; o1 < sh->y[1]; ++o1)
            for (int64_t o2 = 0; o2 < sh->y[2]; ++o2) {
                const T v = yc[(o0 * sh->y[1] + o1) * sh->y[2] + o2];
                for (int64_t cxl = 0; cxl < sh->cxg; ++cxl) {
                    T *canvas = xp + (g * sh->cxg + cxl) * plane;
                    const T *wk = w + (cy * sh->cxg + cxl) * sh->k_count;
                    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
                    for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
                    for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                        const int64_t j0 = o0 * sh->s[0] + k0 * sh->d[0];
                        const int64_t j1 = o1 * sh->s[1] + k1 * sh->d[1];
                        const int64_t j2 = o2 * sh->s[2] + k2 * sh->d[2];
                        canvas[(j0 * P[1] + j1) * P[2] + j2] +=
                            v * wk[(k0 * sh->k[1] + k1) * sh->k[2] + k2];
                    }
                }
            }
        }
        /* crop the padding border */
        for (int64_t cx = 0; cx < sh->cx; ++cx) {
            T *xc = x + (n * sh->cx + cx) * sh->x_count;
            const T *canvas = xp + cx * plane;
            for (int64_t i0 = 0; i0 < sh->x[0]; ++i0)
            for (int64_t i1 = 0; i1 < sh->x[1]; ++i1)
            for (int64_t i2 = 0; i2 < sh->x[2]; ++i2)
                xc[(i0 * sh->x[1] + i1) * sh->x[2] + i2] =
                    canvas[((i0 + sh->p[0]) * P[1] + i1 + sh->p[1]) * P[2] + i2 + sh->p[2]];
        }
    }
}

/*
 * apply, from the same side: y = C x, every x element spreads its value to the y elements
 * whose window covers it: y[o] += x[i] · w[k] for each tap k with o*s = i + p - k*d.
 */
static void TC(scatter_apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                              void *ws)
{
    (void)pp;
    (void)ws;
    const tconv__shape *sh = &c->sh;
    const T *x = a, *w = b;
    T *y = out;
    memset(y, 0, (size_t)(sh->batch * sh->cy * sh->y_count) * sizeof(T));
    for (int64_t n = 0; n < sh->batch; ++n)
    for (int64_t cx = 0; cx < sh->cx; ++cx) {
        const int64_t g = cx / sh->cxg, cxl = cx % sh->cxg;
        const T *xc = x + (n * sh->cx + cx) * sh->x_count;
        for (int64_t i0 = 0; i0 < sh->x[0]; ++i0)
        for (int64_t i1 = 0; i1 < sh->x[1]; ++i1)
        for (int64_t i2 = 0; i2 < sh->x[2]; ++i2) {
            const T v = xc[(i0 * sh->x[1] + i1) * sh->x[2] + i2];
            for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
            for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
            for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                int64_t o0, o1, o2;
                if (!source_of(i0, k0, sh, 0, &o0) || !source_of(i1, k1, sh, 1, &o1) ||
                    !source_of(i2, k2, sh, 2, &o2))
                    continue;
                const int64_t kk = (k0 * sh->k[1] + k1) * sh->k[2] + k2;
                const int64_t o = (o0 * sh->y[1] + o1) * sh->y[2] + o2;
                for (int64_t cyl = 0; cyl < sh->cyg; ++cyl) {
                    const int64_t cy = g * sh->cyg + cyl;
                    y[(n * sh->cy + cy) * sh->y_count + o] +=
                        v * w[(cy * sh->cxg + cxl) * sh->k_count + kk];
                }
            }
        }
    }
}

/*
 * wgrad on the same canvas as apply_t: every y element, spreading through tap k, meets
 * the padded x element xp[o*s + k*d]; their product is that tap's share of dW.
 */
static void TC(scatter_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                              void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out, *xp = ws;
    int64_t P[3];
    padded_extent(sh, P);
    const int64_t plane = P[0] * P[1] * P[2];
    memset(dw, 0, (size_t)(sh->cy * sh->cxg * sh->k_count) * sizeof(T));
    for (int64_t n = 0; n < sh->batch; ++n) {
        TC(pad_copy)(sh, x + n * sh->cx * sh->x_count, xp);
        for (int64_t cy = 0; cy < sh->cy; ++cy) {
            const int64_t g = cy / sh->cyg;
            const T *yc = y + (n * sh->cy + cy) * sh->y_count;
            for (int64_t o0 = 0; o0 < sh->y[0]; ++o0)
            for (int64_t o1 = 0; o1 < sh->y[1]; ++o1)
            for (int64_t o2 = 0; o2 < sh->y[2]; ++o2) {
                const T v = yc[(o0 * sh->y[1] + o1) * sh->y[2] + o2];
                for (int64_t cxl = 0; cxl < sh->cxg; ++cxl) {
                    const T *canvas = xp + (g * sh->cxg + cxl) * plane;
                    T *dwk = dw + (cy * sh->cxg + cxl) * sh->k_count;
                    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
                    for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
                    for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                        const int64_t j0 = o0 * sh->s[0] + k0 * sh->d[0];
                        const int64_t j1 = o1 * sh->s[1] + k1 * sh->d[1];
                        const int64_t j2 = o2 * sh->s[2] + k2 * sh->d[2];
                        dwk[(k0 * sh->k[1] + k1) * sh->k[2] + k2] +=
                            v * canvas[(j0 * P[1] + j1) * P[2] + j2];
                    }
                }
            }
        }
    }
}

/* ---- gather: the collection view ------------------------------------------------------- */

/*
 * The seed's version 2 starts from y stretched: s-1 zeros inserted between neighbours
 * ("fractional stride"), then padded by q = d(k-1) - p on each side (a negative q crops).
 * z[j] = y[o] where j = o*s + q; zeros elsewhere. The extent d(k-1) + |x| is exactly what
 * a stride-1 pass over |x| outputs reads.
 */
static void TC(stretch)(const tconv__shape *sh, const T *y_n, T *z)
{
    int64_t Z[3], q[3];
    stretched_extent(sh, Z, q);
    const int64_t plane = Z[0] * Z[1] * Z[2];
    memset(z, 0, (size_t)(sh->cy * plane) * sizeof(T));
    for (int64_t cy = 0; cy < sh->cy; ++cy)
    for (int64_t o0 = 0; o0 < sh->y[0]; ++o0)
    for (int64_t o1 = 0; o1 < sh->y[1]; ++o1)
    for (int64_t o2 = 0; o2 < sh->y[2]; ++o2) {
        const int64_t j0 = o0 * sh->s[0] + q[0], j1 = o1 * sh->s[1] + q[1];
        const int64_t j2 = o2 * sh->s[2] + q[2];
        if (j0 < 0 || j0 >= Z[0] || j1 < 0 || j1 >= Z[1] || j2 < 0 || j2 >= Z[2])
            continue; /* cropped away by a negative pad: reaches no output */
        z[cy * plane + (j0 * Z[1] + j1) * Z[2] + j2] =
            y_n[cy * sh->y_count + (o0 * sh->y[1] + o1) * sh->y[2] + o2];
    }
}

/*
 * apply_t, the seed's version 2: x = Cᵀ y as an ordinary stride-1 convolution (dilation
 * d) of the stretched y with the kernel flipped on every axis:
 *   x[cx][i] = Σ_cy Σ_k z[cy][i + k*d] · wf[cy][cx][k],  wf[k] = w[K-1-k].
 */
static void TC(gather_apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                               void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *y = a, *w = b;
    T *x = out;
    int64_t Z[3], q[3];
    stretched_extent(sh, Z, q);
    const int64_t plane = Z[0] * Z[1] * Z[2];
    T *z = ws;
    T *wf = (T *)ws + round_elems(sh->cy * plane, sizeof(T));
    TC(flip_kernel)(sh, w, wf);
    for (int64_t n = 0; n < sh->batch; ++n) {
        TC(stretch)(sh, y + n * sh->cy * sh->y_count, z);
        for (int64_t cx = 0; cx < sh->cx; ++cx) {
            const int64_t g = cx / sh->cxg, cxl = cx % sh->cxg;
            T *xc = x + (n * sh->cx + cx) * sh->x_count;
            for (int64_t i0 = 0; i0 < sh->x[0]; ++i0)
            for (int64_t i1 = 0; i1 < sh->x[1]; ++i1)
            for (int64_t i2 = 0; i2 < sh->x[2]; ++i2) {
                T acc = 0;
                for (int64_t cyl = 0; cyl < sh->cyg; ++cyl) {
                    const int64_t cy = g * sh->cyg + cyl;
                    const T *zc = z + cy * plane;
                    const T *wk = wf + (cy * sh->cxg + cxl) * sh->k_count;
                    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
                    for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
                    for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                        const int64_t j0 = i0 + k0 * sh->d[0], j1 = i1 + k1 * sh->d[1];
                        const int64_t j2 = i2 + k2 * sh->d[2];
                        acc += zc[(j0 * Z[1] + j1) * Z[2] + j2] *
                               wk[(k0 * sh->k[1] + k1) * sh->k[2] + k2];
                    }
                }
                xc[(i0 * sh->x[1] + i1) * sh->x[2] + i2] = acc;
            }
        }
    }
}

/* apply: every y element collects its window of the zero-padded x, y[o] = Σ w[k]·xp[o*s+k*d]. */
static void TC(gather_apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                             void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *x = a, *w = b;
    T *y = out, *xp = ws;
    int64_t P[3];
    padded_extent(sh, P);
    const int64_t plane = P[0] * P[1] * P[2];
    for (int64_t n = 0; n < sh->batch; ++n) {
        TC(pad_copy)(sh, x + n * sh->cx * sh->x_count, xp);
        for (int64_t cy = 0; cy < sh->cy; ++cy) {
            const int64_t g = cy / sh->cyg;
            T *yc = y + (n * sh->cy + cy) * sh->y_count;
            for (int64_t o0 = 0; o0 < sh->y[0]; ++o0)
            for (int64_t o1 = 0; o1 < sh->y[1]; ++o1)
            for (int64_t o2 = 0; o2 < sh->y[2]; ++o2) {
                T acc = 0;
                for (int64_t cxl = 0; cxl < sh->cxg; ++cxl) {
                    const T *canvas = xp + (g * sh->cxg + cxl) * plane;
                    const T *wk = w + (cy * sh->cxg + cxl) * sh->k_count;
                    for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
                    for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
                    for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                        const int64_t j0 = o0 * sh->s[0] + k0 * sh->d[0];
                        const int64_t j1 = o1 * sh->s[1] + k1 * sh->d[1];
                        const int64_t j2 = o2 * sh->s[2] + k2 * sh->d[2];
                        acc += canvas[(j0 * P[1] + j1) * P[2] + j2] *
                               wk[(k0 * sh->k[1] + k1) * sh->k[2] + k2];
                    }
                }
                yc[(o0 * sh->y[1] + o1) * sh->y[2] + o2] = acc;
            }
        }
    }
}

/*
 * wgrad in the collection view: each weight collects over the stretched y. Differentiating
 * the version-2 convolution x[i] = Σ z[i + k'd]·wf[k'] gives dwf[k'] = Σ_i x[i]·z[i + k'd],
 * and dW is dwf flipped back: dW[k] = dwf[K-1-k].
 */
static void TC(gather_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out,
                             void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out, *z = ws;
    int64_t Z[3], q[3];
    stretched_extent(sh, Z, q);
    const int64_t plane = Z[0] * Z[1] * Z[2];
    memset(dw, 0, (size_t)(sh->cy * sh->cxg * sh->k_count) * sizeof(T));
    for (int64_t n = 0; n < sh->batch; ++n) {
        TC(stretch)(sh, y + n * sh->cy * sh->y_count, z);
        for (int64_t cy = 0; cy < sh->cy; ++cy) {
            const int64_t g = cy / sh->cyg;
            const T *zc = z + cy * plane;
            for (int64_t cxl = 0; cxl < sh->cxg; ++cxl) {
                const T *xc = x + (n * sh->cx + g * sh->cxg + cxl) * sh->x_count;
                T *dwk = dw + (cy * sh->cxg + cxl) * sh->k_count;
                for (int64_t k0 = 0; k0 < sh->k[0]; ++k0)
                for (int64_t k1 = 0; k1 < sh->k[1]; ++k1)
                for (int64_t k2 = 0; k2 < sh->k[2]; ++k2) {
                    T acc = 0;
                    for (int64_t i0 = 0; i0 < sh->x[0]; ++i0)
                    for (int64_t i1 = 0; i1 < sh->x[1]; ++i1)
                    for (int64_t i2 = 0; i2 < sh->x[2]; ++i2) {
                        const int64_t j0 = i0 + k0 * sh->d[0], j1 = i1 + k1 * sh->d[1];
                        const int64_t j2 = i2 + k2 * sh->d[2];
                        acc += xc[(i0 * sh->x[1] + i1) * sh->x[2] + i2] *
                               zc[(j0 * Z[1] + j1) * Z[2] + j2];
                    }
                    /* flip back: the tap k' = (k0,k1,k2) of wf is tap K-1-k' of w */
                    const int64_t f = ((sh->k[0] - 1 - k0) * sh->k[1] + sh->k[1] - 1 - k1) *
                                          sh->k[2] + sh->k[2] - 1 - k2;
                    dwk[f] += acc;
                }
            }
        }
    }
}
