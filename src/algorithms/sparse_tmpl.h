/*
 * The sparse algorithm for one element type (included by algo_sparse.c with T and TC
 * defined). M is C (apply) or Cᵀ (apply_t) in CSR; the batch's images are the rows of
 * in[N][cols of M] and out[N][rows of M]:
 *
 *   SpMM:   out[n][r] = Σ_{j in row r} val[j] · in[n][col[j]]
 *   wgrad:  dW[widx[j]] += Σ_n y[n][r] · x[n][col[j]]   for every non-zero j of C, row r
 */

/* Builds M's CSR in the workspace, values included. */
static void TC(build)(const tconv__ctx *c, tconv_product p, const T *w, void *ws,
                      csr_layout *l, int64_t **row_ptr, int64_t **col, T **val)
{
    layout_of(c, p, l); /* cannot fail: plan() checked it */
    char *base = ws;
    *row_ptr = ws;
    *col = (int64_t *)(base + l->col);
    int64_t *widx = (int64_t *)(base + l->widx);
    *val = (T *)(base + l->val);
    tconv__csr_build(&c->sh, p == TCONV_APPLY_T, c->threads, *row_ptr, *col, widx);
    T *v = *val;
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t j = 0; j < l->nnz; ++j)
        v[j] = w[widx[j]];
}

static void TC(spmm)(const tconv__ctx *c, tconv_product p, const void *a, const void *b,
                     void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *in = a;
    T *o = out, *val;
    int64_t *row_ptr, *col;
    csr_layout l;
    if (sh->batch == 0)
        return;
    TC(build)(c, p, b, ws, &l, &row_ptr, &col, &val);
    const int64_t in_len = tconv__matrix_rows(sh, p != TCONV_APPLY_T); /* columns of M */
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t r = 0; r < l.rows; ++r)
        for (int64_t n = 0; n < sh->batch; ++n) {
            const T *in_n = in + n * in_len;
            T acc = 0;
            for (int64_t j = row_ptr[r]; j < row_ptr[r + 1]; ++j)
                acc += val[j] * in_n[col[j]];
            o[n * l.rows + r] = acc;
        }
}

/* y = C x */
static void TC(apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    TC(spmm)(c, TCONV_APPLY, a, b, out, ws);
}

/* x = Cᵀ y, by the rows of Cᵀ */
static void TC(apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    TC(spmm)(c, TCONV_APPLY_T, a, b, out, ws);
}

/* dW: every non-zero of C adds its y·x products to the weight it copies. */
static void TC(wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a, const void *b, void *out, void *ws)
{
    (void)pp;
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out;
    memset(dw, 0, (size_t)(sh->cy * sh->cxg * sh->k_count) * sizeof(T));
    if (sh->batch == 0)
        return;
    csr_layout l;
    layout_of(c, TCONV_WGRAD, &l);
    int64_t *row_ptr = ws;
    int64_t *col = (int64_t *)((char *)ws + l.col), *widx = (int64_t *)((char *)ws + l.widx);
    tconv__csr_build(sh, false, c->threads, row_ptr, col, widx);
    const int64_t rows = l.rows, cols = tconv__matrix_rows(sh, true);
    /* Rows of channel cy copy only weights of cy: one channel per task, walked in row order,
     * so no two threads share a weight and every sum has one fixed order. */
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t cy = 0; cy < sh->cy; ++cy)
        for (int64_t r = cy * sh->y_count; r < (cy + 1) * sh->y_count; ++r)
            for (int64_t j = row_ptr[r]; j < row_ptr[r + 1]; ++j) {
                T acc = 0;
                for (int64_t n = 0; n < sh->batch; ++n)
                    acc += y[n * rows + r] * x[n * cols + col[j]];
                dw[widx[j]] += acc;
            }
}
