/*
 * The gemm algorithm for one element type (included by algo_gemm.c with T, TC and GEMM
 * defined). Per group g, with R = (C_x/g)·Πk rows of columns and W_g the [C_y/g][R] slice of
 * the weight ((C_y, C_x/g, k...) is already that matrix), chunk by chunk:
 *
 *   apply:    cols[R][width] = im2col(x);   y[C_y/g][width] = W_g · cols
 *   apply_t:  cols[R][width] = W_gᵀ · y;    x = col2im(cols)
 *   wgrad:    dW_g[C_y/g][R] += y · colsᵀ   with cols = im2col(x)
 *
 * Every step is shared by the whole team (worksharing loops, each closing with a barrier):
 * the GEMMs by their fixed tiles, im2col by rows, col2im by channels. Every output element
 * is thus computed by the same code in the same order for any thread count.
 */

/* The chunk that starts at image n0, line l0 (see plan_of). */
typedef struct TC(chunk) {
    int64_t n0, images, l0, l1, width;
} TC(chunk);

static TC(chunk) TC(chunk_at)(const tconv__shape *sh, const plan *pl, int64_t n0, int64_t l0)
{
    TC(chunk) k;
    k.n0 = n0;
    k.images = min64(pl->images, sh->batch - n0);
    k.l0 = l0;
    k.l1 = min64(sh->y[0] * sh->y[1], l0 + pl->lines);
    k.width = k.images > 1 ? k.images * sh->y_count : (k.l1 - k.l0) * sh->y[2];
    return k;
}

/* Copies the Y-side tensor of group g into pack[C_y/g][images·|Sy|] (to = true), or back
 * (to = false). Team-shared. */
static void TC(pack_y)(const tconv__shape *sh, const TC(chunk) *k, int64_t g, T *y, T *pack,
                       bool to)
{
    const int64_t Yc = sh->y_count;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < k->images * sh->cyg; ++t) {
        const int64_t i = t / sh->cyg, cy = t % sh->cyg;
        T *tensor = y + ((k->n0 + i) * sh->cy + g * sh->cyg + cy) * Yc;
        T *packed = pack + cy * k->width + i * Yc;
        if (to)
            memcpy(packed, tensor, (size_t)Yc * sizeof(T));
        else
            memcpy(tensor, packed, (size_t)Yc * sizeof(T));
    }
}

/* cols = im2col of group g of the chunk's images, rows shared by the team. When `pack` is
 * set, the same worksharing loop also packs y (the two are independent). */
static void TC(im2col_chunk)(const tconv__shape *sh, const plan *pl, const TC(chunk) *k,
                             int64_t g, const T *x, T *cols, const T *y, T *pack)
{
    const int64_t R = pl->R, Yc = sh->y_count;
    const int64_t rows = k->images * R, packs = pack ? k->images * sh->cyg : 0;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < rows + packs; ++t) {
        if (t < rows) {
            const int64_t i = t / R, r = t % R;
            const T *x_ng = x + ((k->n0 + i) * sh->cx + g * sh->cxg) * sh->x_count;
            TC(tconv__im2col_lines)(sh, x_ng, r, r + 1, k->l0, k->l1, cols + r * k->width + i * Yc,
                                    k->width);
        } else {
            const int64_t i = (t - rows) / sh->cyg, cy = (t - rows) % sh->cyg;
            memcpy(pack + cy * k->width + i * Yc,
                   y + ((k->n0 + i) * sh->cy + g * sh->cyg + cy) * Yc, (size_t)Yc * sizeof(T));
        }
    }
}

/* ---- pointwise layout: the tensors are the column matrices ----------------------------- */

/* One GEMM per (image, group), all their tiles in one worksharing loop:
 * apply y_ng = W_g · x_ng, apply_t x_ng = W_gᵀ · y_ng. */
static void TC(pointwise)(const tconv__ctx *c, tconv_product p, const T *in, const T *w, T *out)
{
    const tconv__shape *sh = &c->sh;
    const bool t_ = p == TCONV_APPLY_T;
    const int64_t Yc = sh->y_count, M = t_ ? sh->cxg : sh->cyg, K = t_ ? sh->cyg : sh->cxg;
    const int64_t per = tconv__tiles(M, TCONV__TILE_M) * tconv__tiles(Yc, TCONV__TILE_N);
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
#pragma omp for schedule(static)
        for (int64_t t = 0; t < sh->batch * sh->groups * per; ++t) {
            const int64_t n = t / per / sh->groups, g = t / per % sh->groups;
            TC(tconv__gemm_tile)(t_, false, M, Yc, K, w + g * sh->cyg * sh->cxg, sh->cxg,
                                 in + (n * K * sh->groups + g * K) * Yc, Yc, (T)0,
                                 out + (n * M * sh->groups + g * M) * Yc, Yc, t % per);
        }
    }
}

/* dW_g = Σ_n y_ng · x_ngᵀ: each tile of dW_g sums the batch in order. */
static void TC(pointwise_wgrad)(const tconv__ctx *c, const T *y, const T *x, T *dw)
{
    const tconv__shape *sh = &c->sh;
    const int64_t Yc = sh->y_count;
    const int64_t per = tconv__tiles(sh->cyg, TCONV__TILE_M) * tconv__tiles(sh->cxg, TCONV__TILE_N);
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
#pragma omp for schedule(static)
        for (int64_t t = 0; t < sh->groups * per; ++t) {
            const int64_t g = t / per;
            for (int64_t n = 0; n < sh->batch; ++n)
                TC(tconv__gemm_tile)(false, true, sh->cyg, sh->cxg, Yc,
                                     y + (n * sh->cy + g * sh->cyg) * Yc, Yc,
                                     x + (n * sh->cx + g * sh->cxg) * Yc, Yc, n ? (T)1 : (T)0,
                                     dw + g * sh->cyg * sh->cxg, sh->cxg, t % per);
        }
    }
}

/* ---- the three products ---------------------------------------------------------------- */

/* y = C x */
static void TC(apply)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *x = a, *w = b;
    T *y = out;
    plan pl;
    plan_of(c, &pl, NULL);
    if (pl.layout == TCONV__LAYOUT_POINTWISE) {
        TC(pointwise)(c, TCONV_APPLY, x, w, y);
        return;
    }
    T *cols = ws, *pack = cols + pack_offset(&pl, sizeof(T));
    const int64_t R = pl.R, Yc = sh->y_count, lines = sh->y[0] * sh->y[1];
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        for (int64_t n0 = 0; n0 < sh->batch; n0 += pl.images)
        for (int64_t l0 = 0; l0 < lines; l0 += pl.lines)
        for (int64_t g = 0; g < sh->groups; ++g) {
            const TC(chunk) k = TC(chunk_at)(sh, &pl, n0, l0);
            TC(im2col_chunk)(sh, &pl, &k, g, x, cols, NULL, NULL);
            const bool folded = k.images > 1;
            T *y_ng = y + (k.n0 * sh->cy + g * sh->cyg) * Yc + k.l0 * sh->y[2];
            TC(tconv__gemm_tiles)(false, false, sh->cyg, k.width, R, w + g * sh->cyg * R, R,
                                  cols, k.width, (T)0, folded ? pack : y_ng,
                                  folded ? k.width : Yc, true);
            if (folded)
                TC(pack_y)(sh, &k, g, y, pack, false);
        }
    }
}

/* x = Cᵀ y */
static void TC(apply_t)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *y = a, *w = b;
    T *x = out;
    plan pl;
    plan_of(c, &pl, NULL);
    if (pl.layout == TCONV__LAYOUT_POINTWISE) {
        TC(pointwise)(c, TCONV_APPLY_T, y, w, x);
        return;
    }
    T *cols = ws, *pack = cols + pack_offset(&pl, sizeof(T));
    const int64_t R = pl.R, Yc = sh->y_count, lines = sh->y[0] * sh->y[1];
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        for (int64_t n0 = 0; n0 < sh->batch; n0 += pl.images)
        for (int64_t l0 = 0; l0 < lines; l0 += pl.lines)
        for (int64_t g = 0; g < sh->groups; ++g) {
            const TC(chunk) k = TC(chunk_at)(sh, &pl, n0, l0);
            const bool folded = k.images > 1;
            if (folded)
                TC(pack_y)(sh, &k, g, (T *)y, pack, true);
            const T *y_ng = y + (k.n0 * sh->cy + g * sh->cyg) * Yc + k.l0 * sh->y[2];
            TC(tconv__gemm_tiles)(true, false, R, k.width, sh->cyg, w + g * sh->cyg * R, R,
                                  folded ? pack : y_ng, folded ? k.width : Yc, (T)0, cols,
                                  k.width, true);
#pragma omp for schedule(static)
            for (int64_t t = 0; t < k.images * sh->cxg; ++t) {
                const int64_t i = t / sh->cxg, ch = t % sh->cxg;
                T *x_ng = x + ((k.n0 + i) * sh->cx + g * sh->cxg) * sh->x_count;
                const T *cols_i = cols + i * Yc;
                if (pl.layout == TCONV__LAYOUT_TILED)
                    TC(tconv__col2im_tiled)(sh, cols_i, k.width, ch, ch + 1, k.l0, k.l1, x_ng);
                else
                    TC(tconv__col2im_lines)(sh, cols_i, k.width, ch, ch + 1, k.l0, k.l1,
                                            k.l0 == 0, x_ng);
            }
        }
    }
}

/* dW = Σ_n y_n ⊗ x_n: each tile of dW_g sums the chunks in order. */
static void TC(wgrad)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out;
    plan pl;
    plan_of(c, &pl, NULL);
    if (sh->batch == 0) {
        memset(dw, 0, (size_t)(sh->cy * pl.R) * sizeof(T));
        return;
    }
    if (pl.layout == TCONV__LAYOUT_POINTWISE) {
        TC(pointwise_wgrad)(c, y, x, dw);
        return;
    }
    T *cols = ws, *pack = cols + pack_offset(&pl, sizeof(T));
    const int64_t R = pl.R, Yc = sh->y_count, lines = sh->y[0] * sh->y[1];
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        for (int64_t n0 = 0; n0 < sh->batch; n0 += pl.images)
        for (int64_t l0 = 0; l0 < lines; l0 += pl.lines) {
            const TC(chunk) k = TC(chunk_at)(sh, &pl, n0, l0);
            const bool folded = k.images > 1, first = n0 == 0 && l0 == 0;
            for (int64_t g = 0; g < sh->groups; ++g) {
                TC(im2col_chunk)(sh, &pl, &k, g, x, cols, y, folded ? pack : NULL);
                const T *y_ng = y + (k.n0 * sh->cy + g * sh->cyg) * Yc + k.l0 * sh->y[2];
                TC(tconv__gemm_tiles)(false, true, sh->cyg, R, k.width, folded ? pack : y_ng,
                                      folded ? k.width : Yc, cols, k.width,
                                      first ? (T)0 : (T)1, dw + g * sh->cyg * R, R, true);
            }
        }
    }
}
