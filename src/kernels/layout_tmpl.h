/*
 * Tensor copies between layouts and views, for one element type (included by layout.c
 * through instantiate.h). Five logical axes (n, c, a0, a1, a2); the loops run in the
 * order of the destination's strides, largest outside, so the destination is written
 * front to back and its contiguous axis is the inner loop.
 *
 * When the source's densest axis is another one (channels-first to channels-last and
 * back), element-wise order would read the source one element per cache line: those two
 * axes are copied in square tiles instead, so that a tile's lines of both sides stay in
 * cache while it is transposed.
 */
TCONV__VECTOR_CLONES
void TC(tconv__copy_tensor)(const int64_t e[5], const T *src, const int64_t ss[5], T *dst,
                            const int64_t ds[5], int threads)
{
    int o[5];
    order_by_stride(e, ds, o);
    const int inner = o[4], across = densest_axis(e, ss);
    if (across >= 0 && across != inner && e[inner] > 1) {
        int p[3], n = 0; /* the other axes, in the destination's order */
        for (int i = 0; i < 5; ++i)
            if (o[i] != inner && o[i] != across)
                p[n++] = o[i];
        const int64_t e0 = e[p[0]], e1 = e[p[1]], e2 = e[p[2]];
        const int64_t eu = e[across], ev = e[inner];
        const int64_t su = ss[across], sv = ss[inner], du = ds[across], dv = ds[inner];
#pragma omp parallel for collapse(4) num_threads(threads) schedule(static)
        for (int64_t i0 = 0; i0 < e0; ++i0)
            for (int64_t i1 = 0; i1 < e1; ++i1)
                for (int64_t i2 = 0; i2 < e2; ++i2)
                    for (int64_t u0 = 0; u0 < eu; u0 += TCONV__COPY_TILE) {
                        const T *s = src + i0 * ss[p[0]] + i1 * ss[p[1]] + i2 * ss[p[2]];
                        T *d = dst + i0 * ds[p[0]] + i1 * ds[p[1]] + i2 * ds[p[2]];
                        const int64_t u1 = u0 + TCONV__COPY_TILE < eu ? u0 + TCONV__COPY_TILE : eu;
                        for (int64_t v0 = 0; v0 < ev; v0 += TCONV__COPY_TILE) {
                            const int64_t v1 =
                                v0 + TCONV__COPY_TILE < ev ? v0 + TCONV__COPY_TILE : ev;
                            int64_t ub = u0, vb = v0; /* blocks up to here: the rest below */
                            if (su == 1 && dv == 1) {
                                const int64_t W = 16 / (int64_t)sizeof(T);
                                ub = u0 + (u1 - u0) / W * W, vb = v0 + (v1 - v0) / W * W;
                                for (int64_t u = u0; u < ub; u += W)
                                    for (int64_t v = v0; v < vb; v += W)
                                        TC(tconv__block_t)(s + u + v * sv, sv, d + u * du + v, du);
                            }
                            for (int64_t u = u0; u < u1; ++u) /* what the blocks left */
                                for (int64_t v = u < ub ? vb : v0; v < v1; ++v)
                                    d[u * du + v * dv] = s[u * su + v * sv];
                        }
                    }
        return;
    }
    const int64_t e0 = e[o[0]], e1 = e[o[1]], e2 = e[o[2]], e3 = e[o[3]], e4 = e[o[4]];
    const int64_t s0 = ss[o[0]], s1 = ss[o[1]], s2 = ss[o[2]], s3 = ss[o[3]], s4 = ss[o[4]];
    const int64_t d0 = ds[o[0]], d1 = ds[o[1]], d2 = ds[o[2]], d3 = ds[o[3]], d4 = ds[o[4]];
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static)
    for (int64_t i0 = 0; i0 < e0; ++i0)
        for (int64_t i1 = 0; i1 < e1; ++i1)
            for (int64_t i2 = 0; i2 < e2; ++i2)
                for (int64_t i3 = 0; i3 < e3; ++i3) {
                    const T *s = src + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3;
                    T *d = dst + i0 * d0 + i1 * d1 + i2 * d2 + i3 * d3;
                    if (s4 == 1 && d4 == 1)
                        memcpy(d, s, (size_t)e4 * sizeof(T));
                    else
                        for (int64_t i4 = 0; i4 < e4; ++i4)
                            d[i4 * d4] = s[i4 * s4];
                }
}
