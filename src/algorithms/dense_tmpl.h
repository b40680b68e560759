/*
 * The dense algorithm for one element type (included by algo_dense.c with T, TC and GEMM
 * defined). The images of the batch are the rows of row-major matrices, X[N][cols] and
 * Y[N][rows], so the batch is the other GEMM dimension:
 *
 *   apply:    Y[N][rows] = X[N][cols] · Cᵀ     (y_n = C x_n; C read through the transpose flag)
 *   apply_t:  X[N][cols] = Y[N][rows] · C      (x_n = Cᵀ y_n; C as stored)
 *   wgrad:    G[rows][cols] = Yᵀ · X = Σ_n y_n x_nᵀ  (dL/dC), then dW[w] = Σ G over the
 *             entries of C that copy w: the chain rule through "C copies W".
 */

/* out[N][m] = in[N][k] · Cᵀ (apply: y_n = C x_n) or in · C (apply_t: x_n = Cᵀ y_n), in
 * column blocks of out; the transpose flag reads C either way, never a copy. */
static void TC(multiply)(const tconv__ctx *c, bool transposed, const T *in, const void *w,
                         T *out, T *C)
{
    const tconv__shape *sh = &c->sh;
    const int64_t rows = tconv__matrix_rows(sh, false), cols = tconv__matrix_rows(sh, true);
    const int64_t m = transposed ? cols : rows, k = transposed ? rows : cols;
    if (sh->batch == 0)
        return;
    TC(tconv__dense_fill)(sh, false, c->threads, w, C);
#pragma omp parallel num_threads(c->threads)
    {
        tconv__team_member();
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < block_count(m); ++blk) {
            const int64_t o0 = blk * DENSE_BLOCK;
            MM(c, false, !transposed, sh->batch, block_len(m, blk), k, (T)1, in, k,
                 C + (transposed ? o0 : o0 * cols), cols, (T)0, out + o0, m);
        }
    }
}

/* y = C x */
static void TC(apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    TC(multiply)(c, false, a, b, out, ws);
}

/* x = Cᵀ y */
static void TC(apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    TC(multiply)(c, true, a, b, out, ws);
}

/* dW = Σ_n y_n ⊗ x_n, through the gradient of the whole matrix */
static void TC(wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const int64_t rows = tconv__matrix_rows(sh, false), cols = tconv__matrix_rows(sh, true);
    const T *y = a, *x = b;
    T *dw = out, *G = ws;
    memset(dw, 0, (size_t)(sh->cy * sh->cxg * sh->k_count) * sizeof(T));
    if (sh->batch == 0)
        return;
#pragma omp parallel num_threads(c->threads)
    {
        tconv__team_member();
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < block_count(rows); ++blk) {
            const int64_t r0 = blk * DENSE_BLOCK;
            MM(c, true, false, block_len(rows, blk), cols, sh->batch, (T)1, y + r0, rows, x,
                 cols, (T)0, G + r0 * cols, cols);
        }
        /* Rows of channel cy copy only weights of cy: one channel per task, its entries
         * summed in row order, so no two threads share a weight and the order is fixed. */
#pragma omp for schedule(static)
        for (int64_t cy = 0; cy < sh->cy; ++cy)
            for (int64_t r = cy * sh->y_count; r < (cy + 1) * sh->y_count; ++r) {
                tconv__row row;
                tconv__row_it it;
                tconv__matrix_row(sh, false, r, &row);
                for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it))
                    dw[it.w] += G[r * cols + it.col];
            }
    }
}
