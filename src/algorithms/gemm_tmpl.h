/*
 * The gemm algorithm for one element type (included by algo_gemm.c with T, TC and GEMM
 * defined). Per group g, with R = (C_x/g)·Πk rows of columns and W_g the [C_y/g][R] slice of
 * the weight ((C_y, C_x/g, k...) is already that matrix), tile by tile of columns:
 *
 *   apply:    cols[R][width] = im2col(x);   y[C_y/g][width] = W_g · cols
 *   apply_t:  cols[R][width] = W_gᵀ · y;    x = col2im(cols)
 *   wgrad:    dW_g[C_y/g][R] += y · colsᵀ   with cols = im2col(x)
 *
 * The tasks (see plan_of) write disjoint outputs and run with buffers of their own, so the
 * team never waits for itself but at the very end. Every output element is computed by the
 * same code in the same order for any thread count. Tasks are handed out dynamically: on
 * shared cores a thread that runs ahead takes the next one, and which thread runs a task
 * never changes what it computes.
 */

/* The buffers of the calling thread: pack (the Y side of a folded tile) and cols. */
static void TC(thread_buffers)(const tconv__product_plan *pp, const plan *pl, T *ws, T **pack,
                               T **cols)
{
    *pack = tconv__thread_ws(pp, ws, tconv__thread_num());
    *cols = *pack + after(after(0, pl->pack, sizeof(T)), pl->pack_out, sizeof(T));
}

/* The Y side of group g on a tile as a matrix [C_y/g][width]: the tensor itself (leading
 * dimension |Sy|) for one image, else the images copied side by side into pack. */
static const T *TC(y_side)(const tconv__shape *sh, const tile *k, int64_t g, const T *y,
                           T *pack, int64_t *ld)
{
    const int64_t Yc = sh->y_count;
    const T *y_ng = y + (k->n0 * sh->cy + g * sh->cyg) * Yc + k->l0 * sh->y[2];
    if (k->n1 - k->n0 == 1) {
        *ld = Yc;
        return y_ng;
    }
    for (int64_t i = 0; i < k->n1 - k->n0; ++i)
        for (int64_t cy = 0; cy < sh->cyg; ++cy)
            memcpy(pack + cy * k->width + i * Yc, y_ng + (i * sh->cy + cy) * Yc,
                   (size_t)Yc * sizeof(T));
    *ld = k->width;
    return pack;
}

/* The columns of a tile as a span of the tensors. */
static tconv__span TC(span_of)(const tconv__shape *sh, const tile *k)
{
    const tconv__span sp = {k->n1 - k->n0, sh->cx * sh->x_count, k->l0, k->l1, k->width};
    return sp;
}

/* cols[rows r0..r1][width] = im2col of group g on a tile. */
static void TC(im2col_tile)(const tconv__shape *sh, const tile *k, int64_t g, const T *x,
                            int64_t r0, int64_t r1, T *cols)
{
    const tconv__span sp = TC(span_of)(sh, k);
    TC(tconv__im2col_span)(sh, x + (k->n0 * sh->cx + g * sh->cxg) * sh->x_count, r0, r1, &sp,
                           cols);
}

/* rows[m][0..n) += bias[m / per] for m < rows: the bias of the channel each run belongs to. */
static void TC(add_bias)(T *rows, int64_t count, int64_t n, int64_t ld, const T *bias, int64_t per)
{
    for (int64_t m = 0; m < count; ++m) {
        const T b = bias[m / per];
        for (int64_t j = 0; j < n; ++j)
            rows[m * ld + j] += b;
    }
}

/* ---- unit-map layout: one GEMM per group over the batch -------------------------------- */

/* With |Sy| = 1 and x = the kernel's extent, an image of x is the row W_gᵀ y_n of R values:
 *   apply_t  X[N][R] = Y[N][C_y/g] · W_g       apply  Y[N][C_y/g] = X[N][R] · W_gᵀ
 *   wgrad    dW_g = Yᵀ · X
 * with X the rows of x (leading dimension C_x·Πk) and Y those of y (leading dimension C_y). */
static void TC(unit_map_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const tconv_product p = (tconv_product)op->product;
    const T *a = op->a, *b = op->b, *bias = c->bias;
    T *out = op->out;
    const int64_t R = sh->cxg * sh->k_count, N = sh->batch, cyg = sh->cyg;
    const int64_t ldx = sh->cx * sh->k_count, ldy = sh->cy;
    for (int64_t g = 0; g < sh->groups; ++g) {
        const T *w_g = (p == TCONV_WGRAD ? NULL : b + g * cyg * R);
        if (p == TCONV_APPLY_T)
            TC(tconv__mm_tiles)(c, false, false, N, R, cyg, a + g * cyg, ldy, w_g, R, (T)0,
                                out + g * R, ldx, true);
        else if (p == TCONV_APPLY)
            TC(tconv__mm_tiles)(c, false, true, N, cyg, R, a + g * R, ldx, w_g, R, (T)0,
                                out + g * cyg, ldy, true);
        else /* a = y, b = x */
            TC(tconv__mm_tiles)(c, true, false, cyg, R, N, a + g * cyg, ldy, b + g * R, ldx,
                                (T)0, out + g * cyg * R, R, true);
    }
    if (bias && p != TCONV_WGRAD) { /* a channel of x holds Πk values, of y one */
        const int64_t channels = p == TCONV_APPLY_T ? sh->cx : sh->cy;
        const int64_t per = p == TCONV_APPLY_T ? sh->k_count : 1;
#pragma omp for schedule(static)
        for (int64_t n = 0; n < N; ++n)
            TC(add_bias)(out + n * channels * per, channels, per, per, bias, 1);
    }
}

static void TC(unit_map)(const tconv__ctx *c, const tconv__product_plan *pp, tconv_product p,
                         const T *a, const T *b, T *out)
{
    const tconv__region_args op = {c, pp, a, b, NULL, out, NULL, NULL, (int)p, NULL};
    tconv__region(tconv__team(c, pp), TC(unit_map_region), &op);
}

/* wt[g][r][cy] = w[g·C_y/g + cy][r]: each group's W_gᵀ, in blocks of 64 rows of W, the
 * (group, block) pairs split among the team (a worksharing loop). */
static void TC(transpose_weight)(const tconv__shape *sh, int64_t R, const T *restrict w,
                                 T *restrict wt)
{
    enum { ROWS = 64 };
    const int64_t cyg = sh->cyg, blocks = (cyg + ROWS - 1) / ROWS;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < sh->groups * blocks; ++t) {
        const int64_t g = t / blocks, c0 = t % blocks * ROWS, nc = min64(ROWS, cyg - c0);
        TC(tconv__transpose)(nc, R, w + (g * cyg + c0) * R, R, wt + g * R * cyg + c0, cyg);
    }
}

/* ---- pointwise layout: the tensors are the column matrices ----------------------------- */

/* One GEMM per (image, group), all their tiles in one worksharing loop:
 * apply y_ng = W_g · x_ng, apply_t x_ng = W_gᵀ · y_ng. */
static void TC(pointwise_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const bool t_ = op->product == TCONV_APPLY_T;
    const int64_t Yc = sh->y_count, M = t_ ? sh->cxg : sh->cyg, K = t_ ? sh->cyg : sh->cxg;
    const int64_t width = pointwise_width(sh, M);
    const int64_t tn = tconv__tiles(Yc, width);
    const int64_t per = tconv__tiles(M, TCONV__TILE_M) * tn;
    const T *in = op->a, *w = op->b, *bias = c->bias;
    T *out = op->out;
    const plan *pl = (const plan *)op->pp->data.bytes;
    T *wt = op->ws; /* apply_t for dnnl_sgemm: W_gᵀ, so that every GEMM reads A untransposed */
    if (t_ && pl->wbuf)
        TC(transpose_weight)(sh, sh->cxg, w, wt);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->batch * sh->groups * per; ++t) {
        const int64_t n = t / per / sh->groups, g = t / per % sh->groups, tile = t % per;
        T *out_ng = out + (n * M * sh->groups + g * M) * Yc;
        const bool flat = t_ && pl->wbuf; /* W_gᵀ as made above */
        const T *a = flat ? wt + g * sh->cxg * sh->cyg : w + g * sh->cyg * sh->cxg;
        const int64_t i0 = tile / tn * TCONV__TILE_M, j0 = tile % tn * width;
        const bool ta = t_ && !flat;
        const int64_t lda = flat ? K : sh->cxg;
        TC(tconv__mm_bias)(c, ta, false, min64(TCONV__TILE_M, M - i0),
                           min64(width, Yc - j0), K, ta ? a + i0 : a + i0 * lda, lda,
                           in + (n * K * sh->groups + g * K) * Yc + j0, Yc,
                           bias ? bias + g * M + i0 : NULL, false, out_ng + i0 * Yc + j0, Yc);
    }
}

static void TC(pointwise)(const tconv__ctx *c, const tconv__product_plan *pp, tconv_product p,
                          const T *in, const T *w, T *out, T *ws)
{
    const tconv__region_args op = {c, pp, in, w, NULL, out, NULL, ws, (int)p, NULL};
    tconv__region(tconv__team(c, pp), TC(pointwise_region), &op);
}

/* dW_g = Σ_n y_ng · x_ngᵀ: each tile of dW_g (tconv__gemm_pointwise_wgrad_tile) sums the
 * batch in order. */
static void TC(pointwise_wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const T *y = op->a, *x = op->b;
    T *dw = op->out;
    const int64_t Yc = sh->y_count, M = sh->cyg, N = sh->cxg;
    int64_t tm, tn;
    tconv__gemm_pointwise_wgrad_tile(sh, &tm, &tn);
    const int64_t across = tconv__tiles(N, tn), per = tconv__tiles(M, tm) * across;
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * per; ++t) {
        const int64_t g = t / per, i0 = t % per / across * tm, j0 = t % per % across * tn;
        for (int64_t n = 0; n < sh->batch; ++n)
            TC(tconv__mm)(c, false, true, min64(tm, M - i0), min64(tn, N - j0), Yc, (T)1,
                          y + (n * sh->cy + g * M + i0) * Yc, Yc,
                          x + (n * sh->cx + g * N + j0) * Yc, Yc, n ? (T)1 : (T)0,
                          dw + g * M * N + i0 * N + j0, N);
    }
}

static void TC(pointwise_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const T *y,
                                const T *x, T *dw)
{
    const tconv__region_args op = {c, pp, y, x, NULL, dw, NULL, NULL, TCONV_WGRAD, NULL};
    tconv__region(tconv__team(c, pp), TC(pointwise_wgrad_region), &op);
}

/* ---- the three products ---------------------------------------------------------------- */

/* The rows y_rows[cy0..cy1) of a tile's y, written from a tile-shaped buffer whose row cy
 * is `ld` apart (the tensor itself for one image, or the packed images of a folded tile):
 * images unpacked. */
static void TC(store_y)(const tconv__shape *sh, const tile *k, int64_t g, int64_t cy0,
                        int64_t cy1, const T *buf, T *y)
{
    const int64_t Yc = sh->y_count;
    T *y_ng = y + (k->n0 * sh->cy + g * sh->cyg) * Yc + k->l0 * sh->y[2];
    if (k->n1 - k->n0 == 1)
        return; /* buf is the tensor */
    for (int64_t n = 0; n < k->n1 - k->n0; ++n)
        for (int64_t cy = cy0; cy < cy1; ++cy)
            memcpy(y_ng + (n * sh->cy + cy) * Yc, buf + cy * k->width + n * Yc,
                   (size_t)Yc * sizeof(T));
}

/* Where the GEMM of a tile writes y: the tensor itself for one image, else `pack`. */
static T *TC(y_target)(const tconv__shape *sh, const tile *k, int64_t g, T *pack, T *y,
                       int64_t *ld)
{
    if (k->n1 - k->n0 > 1) {
        *ld = k->width;
        return pack;
    }
    *ld = sh->y_count;
    return y + (k->n0 * sh->cy + g * sh->cyg) * sh->y_count + k->l0 * sh->y[2];
}

/* y = C x over the whole batch's columns (plan.whole; one group): the team makes them in
 * the shared region, rows of R split among it, then each task multiplies a block of W's
 * rows by all of them, into y through the thread's buffer. */
static void TC(apply_whole)(const tconv__region_args *op)
{
    enum { ROWS = 64 }; /* rows of R per im2col task */
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)op->pp->data.bytes;
    const int64_t R = pl->R;
    const tile k = tile_at(sh, pl, 0, 0);
    const T *x = op->a, *w = op->b, *bias = c->bias;
    T *y = op->out, *ws = op->ws;
    T *cols = ws; /* [R][width], the shared region */
    T *pack = tconv__thread_ws(op->pp, ws, tconv__thread_num()); /* the y of several images */
#pragma omp for schedule(static)
    for (int64_t r0 = 0; r0 < R; r0 += ROWS)
        TC(im2col_tile)(sh, &k, 0, x, r0, min64(R, r0 + ROWS), cols + r0 * k.width);
#pragma omp for schedule(dynamic)
    for (int64_t blk = 0; blk < pl->blocks; ++blk) {
        const int64_t cy0 = blk * pl->per_block, cy1 = min64(sh->cyg, cy0 + pl->per_block);
        int64_t ld;
        T *dst = TC(y_target)(sh, &k, 0, pack, y, &ld);
        TC(tconv__mm_bias)(c, false, false, cy1 - cy0, k.width, R, w + cy0 * R, R, cols,
                           k.width, bias ? bias + cy0 : NULL, false, dst + cy0 * ld, ld);
        TC(store_y)(sh, &k, 0, cy0, cy1, dst, y);
    }
}

/* y = C x tile by tile. Tasks: (group, tile, block of W_g's rows). */
static void TC(apply_tiles)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)op->pp->data.bytes;
    const T *x = op->a, *w = op->b, *bias = c->bias;
    T *y = op->out;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), B = pl->blocks;
    T *pack, *cols;
    TC(thread_buffers)(op->pp, pl, op->ws, &pack, &cols);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * tiles * B; ++t) {
        const int64_t g = t / B / tiles, i = t / B % tiles, blk = t % B;
        const int64_t cy0 = blk * pl->per_block, cy1 = min64(sh->cyg, cy0 + pl->per_block);
        const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                                       pl->folded ? i : i % pl->tiles);
        int64_t ld;
        T *dst = TC(y_target)(sh, &k, g, pack, y, &ld);
        const T *w_rows = w + (g * sh->cyg + cy0) * R;
        for (int64_t r0 = 0; r0 < R; r0 += pl->chunk) { /* chunks of R, in order */
            const int64_t r1 = min64(R, r0 + pl->chunk);
            TC(im2col_tile)(sh, &k, g, x, r0, r1, cols);
            if (r0 == 0)
                TC(tconv__mm_bias)(c, false, false, cy1 - cy0, k.width, r1, w_rows, R, cols,
                                   k.width, bias ? bias + g * sh->cyg + cy0 : NULL, false,
                                   dst + cy0 * ld, ld);
            else
                MM(c, false, false, cy1 - cy0, k.width, r1 - r0, (T)1, w_rows + r0, R, cols,
                   k.width, (T)1, dst + cy0 * ld, ld);
        }
        TC(store_y)(sh, &k, g, cy0, cy1, dst, y);
    }
}

/* y = C x: over the whole batch's columns, or tile by tile. */
static void TC(apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                      const void *b, void *out, void *ws)
{
    const T *x = a, *w = b;
    T *y = out;
    const plan *pl = (const plan *)pp->data.bytes;
    if (pl->layout == TCONV__PATH_POINTWISE) {
        TC(pointwise)(c, pp, TCONV_APPLY, x, w, y, ws);
        return;
    }
    if (pl->layout == TCONV__PATH_UNIT_MAP) {
        TC(unit_map)(c, pp, TCONV_APPLY, x, w, y);
        return;
    }
    const tconv__region_args op = {c, pp, x, w, NULL, y, NULL, ws, TCONV_APPLY, NULL};
    tconv__region(tconv__team(c, pp), pl->whole ? TC(apply_whole) : TC(apply_tiles), &op);
}

/* Sums the partial weight gradients of segments 1..S-1 into dW in segment order (after
 * the barrier that completes them). */
static void TC(sum_partials)(int64_t S, int64_t per_segment, const T *partial, T *dw)
{
    if (S < 2)
        return;
#pragma omp for schedule(static)
    for (int64_t e = 0; e < per_segment; ++e)
        for (int64_t seg = 1; seg < S; ++seg)
            dw[e] += partial[(seg - 1) * per_segment + e];
}

/*
 * y = C x and dW = Σ y' ⊗ x at once (the transposed conv's backward: x = grad_out,
 * y = grad_in, y' = its input): both GEMMs read the same columns, made once. Tasks: (group,
 * segment of tiles); per tile and block of R's rows: cols = im2col, y_tile += W_g[:, rows]
 * · cols, dW_seg[:, rows] += y'_tile · colsᵀ.
 */
static void TC(apply_wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const T *x = op->a, *w = op->b, *yp = op->a2;
    T *y = op->out, *dw = op->out2;
    const plan *pl = (const plan *)op->pp->data.bytes;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), S = pl->segments;
    const int64_t per_segment = sh->cy * R;
    T *partial = op->ws; /* the shared region */
    T *pack, *cols;
    TC(thread_buffers)(op->pp, pl, op->ws, &pack, &cols);
    T *pack_out = pack + after(0, pl->pack, sizeof(T));
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * S; ++t) {
        const int64_t g = t / S, seg = t % S;
        T *dst = (seg ? partial + (seg - 1) * per_segment : dw) + g * sh->cyg * R;
        for (int64_t i = seg * tiles / S; i < (seg + 1) * tiles / S; ++i) {
            const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                                           pl->folded ? i : i % pl->tiles);
            int64_t ld_in, ld;
            const T *yside = TC(y_side)(sh, &k, g, yp, pack, &ld_in);
            T *yo = TC(y_target)(sh, &k, g, pack_out, y, &ld);
            for (int64_t blk = 0; blk < pl->blocks; ++blk) {
                const int64_t r0 = blk * pl->per_block, r1 = min64(R, r0 + pl->per_block);
                TC(im2col_tile)(sh, &k, g, x, r0, r1, cols);
                MM(c, false, false, sh->cyg, k.width, r1 - r0, (T)1, w + g * sh->cyg * R + r0,
                   R, cols, k.width, blk ? (T)1 : (T)0, yo, ld);
                MM(c, false, true, sh->cyg, r1 - r0, k.width, (T)1, yside, ld_in, cols,
                   k.width, i == seg * tiles / S ? (T)0 : (T)1, dst + r0, R);
            }
            TC(store_y)(sh, &k, g, 0, sh->cyg, yo, y);
        }
    }
    TC(sum_partials)(S, per_segment, partial, dw);
}

static void TC(apply_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                            const void *b, const void *a2, void *out, void *out2, void *ws)
{
    const tconv__region_args op = {c, pp, a, b, a2, out, out2, ws, TCONV__APPLY_WGRAD, NULL};
    tconv__region(tconv__team(c, pp), TC(apply_wgrad_region), &op);
}

/* x = Cᵀ y over the tiles (the region of apply_t below). */
static void TC(apply_t_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)op->pp->data.bytes;
    const T *y = op->a, *w = op->b;
    T *x = op->out, *ws = op->ws;
    const T *bias = c->bias;
    const bool tiled = pl->layout == TCONV__PATH_TILED;
    const bool in_order = !pl->folded && !tiled; /* an image's line tiles add up */
    const int64_t K = sh->k_count, R = pl->R;
    const int64_t columns = pl->folded ? pl->tiles : in_order ? sh->batch : sh->batch * pl->tiles;
    const int64_t tasks = sh->groups * pl->blocks * columns;
    T *wt = ws; /* W_gᵀ of every group: [g][R][C_y/g], in the shared region */
    T *pack, *cols;
    TC(thread_buffers)(op->pp, pl, ws, &pack, &cols);
    if (pl->wbuf)
        TC(transpose_weight)(sh, R, w, wt); /* its closing barrier: W_gᵀ is complete */
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t g = t / columns / pl->blocks, blk = t / columns % pl->blocks;
        const int64_t i = t % columns, c0 = blk * pl->per_block;
        const int64_t nch = min64(sh->cxg, c0 + pl->per_block) - c0;
        const int64_t first = in_order ? 0 : pl->folded ? i : i % pl->tiles;
        const int64_t last = in_order ? pl->tiles : first + 1;
        const int64_t n = pl->folded ? 0 : in_order ? i : i / pl->tiles;
        for (int64_t lt = first; lt < last; ++lt) {
            const tile k = tile_at(sh, pl, n, lt);
            int64_t ld;
            const T *yside = TC(y_side)(sh, &k, g, y, pack, &ld);
            if (pl->wbuf) /* W_gᵀ made above */
                MM(c, false, false, nch * K, k.width, sh->cyg, (T)1,
                   wt + (g * R + c0 * K) * sh->cyg, sh->cyg, yside, ld, (T)0, cols,
                   k.width);
            else
                MM(c, true, false, nch * K, k.width, sh->cyg, (T)1,
                   w + g * sh->cyg * R + c0 * K, R, yside, ld, (T)0, cols, k.width);
            const T *bias_c = bias ? bias + g * sh->cxg + c0 : NULL;
            T *x_c = x + (k.n0 * sh->cx + g * sh->cxg + c0) * sh->x_count;
            const tconv__span sp = TC(span_of)(sh, &k);
            if (tiled)
                TC(tconv__col2im_tiled)(sh, cols, 0, nch, &sp, bias_c, x_c);
            else if (pl->line) /* whole images: each x element written once */
                TC(tconv__col2im_lines)(sh, cols, 0, nch, &sp, bias_c,
                                        cols + after(0, pl->per_block * K * pl->width,
                                                     sizeof(T)),
                                        x_c);
            else
                TC(tconv__col2im_span)(sh, cols, 0, nch, &sp, k.l0 == 0, bias_c, x_c);
        }
    }
}

/* x = Cᵀ y. Tasks: (group, block of x channels, tile), or, when images are cut into line
 * tiles that col2im adds together, (group, block, image) running its tiles in order. */
static void TC(apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                   const void *b, void *out, void *ws)
{
    const T *y = a, *w = b;
    T *x = out;
    const plan *pl = (const plan *)pp->data.bytes;
    if (pl->layout == TCONV__PATH_POINTWISE) {
        TC(pointwise)(c, pp, TCONV_APPLY_T, y, w, x, ws);
        return;
    }
    if (pl->layout == TCONV__PATH_UNIT_MAP) {
        TC(unit_map)(c, pp, TCONV_APPLY_T, y, w, x);
        return;
    }
    const tconv__region_args op = {c, pp, y, w, NULL, x, NULL, ws, TCONV_APPLY_T, NULL};
    tconv__region(tconv__team(c, pp), TC(apply_t_region), &op);
}

/* dW over the tiles (the region of wgrad below). */
static void TC(wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)op->pp->data.bytes;
    const T *y = op->a, *x = op->b;
    T *dw = op->out;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), S = pl->segments;
    const int64_t per_segment = sh->cy * R;
    T *partial = op->ws; /* the shared region */
    T *pack, *cols;
    TC(thread_buffers)(op->pp, pl, op->ws, &pack, &cols);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * pl->blocks * S; ++t) {
        const int64_t g = t / S / pl->blocks, blk = t / S % pl->blocks, seg = t % S;
        const int64_t r0 = blk * pl->per_block, r1 = min64(R, r0 + pl->per_block);
        T *dst = (seg ? partial + (seg - 1) * per_segment : dw) + g * sh->cyg * R + r0;
        for (int64_t i = seg * tiles / S; i < (seg + 1) * tiles / S; ++i) {
            const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                                           pl->folded ? i : i % pl->tiles);
            TC(im2col_tile)(sh, &k, g, x, r0, r1, cols);
            int64_t ld;
            const T *yside = TC(y_side)(sh, &k, g, y, pack, &ld);
            MM(c, false, true, sh->cyg, r1 - r0, k.width, (T)1, yside, ld, cols, k.width,
               i == seg * tiles / S ? (T)0 : (T)1, dst, R);
        }
    }
    TC(sum_partials)(S, per_segment, partial, dw); /* after the loop's barrier */
}

/* dW = Σ_n y_n ⊗ x_n. Tasks: (group, block of dW's columns, segment of tiles); each sums
 * its tiles in order; segments after the first land in partial sums that are added to dW
 * in segment order at the end. */
static void TC(wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                   const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out;
    const plan *pl = (const plan *)pp->data.bytes;
    if (sh->batch == 0) {
        memset(dw, 0, (size_t)(sh->cy * pl->R) * sizeof(T));
        return;
    }
    if (pl->layout == TCONV__PATH_POINTWISE) {
        TC(pointwise_wgrad)(c, pp, y, x, dw);
        return;
    }
    if (pl->layout == TCONV__PATH_UNIT_MAP) {
        TC(unit_map)(c, pp, TCONV_WGRAD, y, x, dw);
        return;
    }
    const tconv__region_args op = {c, pp, y, x, NULL, dw, NULL, ws, TCONV_WGRAD, NULL};
    tconv__region(tconv__team(c, pp), TC(wgrad_region), &op);
}
