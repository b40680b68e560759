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
/* One copy's geometry, for its tasks: the destination's axis order o (its contiguous axis
 * o[4]) and, when tiled, the source's densest axis `across` and the other three p[]. */
typedef struct TC(copy_args) {
    const int64_t *e, *ss, *ds;
    const T *src;
    T *dst;
    int o[5], p[3], inner, across;
    int64_t tiles; /* tiles of TCONV__COPY_TILE along `across` */
} TC(copy_args);

/* Task t of a tiled copy: one band of TCONV__COPY_TILE along `across` at the outer
 * indices of t, its inner axis in square tiles transposed. */
TCONV__VECTOR_CLONES
static void TC(copy_band)(const void *arg, int64_t t, int thread)
{
    const TC(copy_args) *op = arg;
    const int64_t *e = op->e, *ss = op->ss, *ds = op->ds;
    const int *p = op->p;
    const int64_t eu = e[op->across], ev = e[op->inner];
    const int64_t su = ss[op->across], sv = ss[op->inner];
    const int64_t du = ds[op->across], dv = ds[op->inner];
    const int64_t u0 = t % op->tiles * TCONV__COPY_TILE, rest = t / op->tiles;
    const int64_t i2 = rest % e[p[2]], i1 = rest / e[p[2]] % e[p[1]];
    const int64_t i0 = rest / e[p[2]] / e[p[1]];
    (void)thread;
    const T *s = op->src + i0 * ss[p[0]] + i1 * ss[p[1]] + i2 * ss[p[2]];
    T *d = op->dst + i0 * ds[p[0]] + i1 * ds[p[1]] + i2 * ds[p[2]];
    const int64_t u1 = u0 + TCONV__COPY_TILE < eu ? u0 + TCONV__COPY_TILE : eu;
    for (int64_t v0 = 0; v0 < ev; v0 += TCONV__COPY_TILE) {
        const int64_t v1 = v0 + TCONV__COPY_TILE < ev ? v0 + TCONV__COPY_TILE : ev;
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

/* Task t of an element-wise copy: the lines of the destination's two outer indices t. */
static void TC(copy_lines)(const void *arg, int64_t t, int thread)
{
    const TC(copy_args) *op = arg;
    const int64_t *e = op->e, *ss = op->ss, *ds = op->ds;
    const int *o = op->o;
    const int64_t i0 = t / e[o[1]], i1 = t % e[o[1]];
    const int64_t s4 = ss[o[4]], d4 = ds[o[4]], e4 = e[o[4]];
    (void)thread;
    for (int64_t i2 = 0; i2 < e[o[2]]; ++i2)
        for (int64_t i3 = 0; i3 < e[o[3]]; ++i3) {
            const T *s = op->src + i0 * ss[o[0]] + i1 * ss[o[1]] + i2 * ss[o[2]] + i3 * ss[o[3]];
            T *d = op->dst + i0 * ds[o[0]] + i1 * ds[o[1]] + i2 * ds[o[2]] + i3 * ds[o[3]];
            if (s4 == 1 && d4 == 1)
                memcpy(d, s, (size_t)e4 * sizeof(T));
            else
                for (int64_t i4 = 0; i4 < e4; ++i4)
                    d[i4 * d4] = s[i4 * s4];
        }
}

void TC(tconv__copy_tensor)(const int64_t e[5], const T *src, const int64_t ss[5], T *dst,
                            const int64_t ds[5], int threads)
{
    TC(copy_args) op = {e, ss, ds, src, dst, {0}, {0}, 0, 0, 0};
    order_by_stride(e, ds, op.o);
    op.inner = op.o[4], op.across = densest_axis(e, ss);
    const int64_t elements = e[0] * e[1] * e[2] * e[3] * e[4];
    const int team = tconv__pass_team(threads, elements);
    if (op.across >= 0 && op.across != op.inner && e[op.inner] > 1) {
        int n = 0; /* the other axes, in the destination's order */
        for (int i = 0; i < 5; ++i)
            if (op.o[i] != op.inner && op.o[i] != op.across)
                op.p[n++] = op.o[i];
        op.tiles = (e[op.across] + TCONV__COPY_TILE - 1) / TCONV__COPY_TILE;
        tconv__for_tasks(team, e[op.p[0]] * e[op.p[1]] * e[op.p[2]] * op.tiles, false,
                         TC(copy_band), &op);
        return;
    }
    tconv__for_tasks(team, e[op.o[0]] * e[op.o[1]], false, TC(copy_lines), &op);
}
