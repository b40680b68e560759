/*
 * The gemm algorithm's channels-last products for one element type (included by
 * gemm_nhwc.c through instantiate.h). In channels-last, Y is the matrix [N·|Sy|][C_y] and X
 * the matrix [N·|Sx|][C_x]: a position's channels are a row. Per group g, with R =
 * Πk·(C_x/g) columns in (tap, channel) order and W'_g[C_y/g][R] the weight in that order:
 *
 *   apply:    cols[P][R] = im2row(x);        y[P][C_y/g] = cols · W'_gᵀ
 *   apply_t:  cols[P][R] = y[P][C_y/g] · W'_g;   x = row2im(cols)
 *   wgrad:    dW'_g[C_y/g][R] += y[P]ᵀ · cols   with cols = im2row(x), then dW = dW'
 *             back in PyTorch's (C_x/g, tap) order
 *
 * for tiles of P positions (rows). No transposes, and row2im adds contiguous vectors of
 * channels. The cuts are the planner's (gemm.c), the tasks as in the channels-first
 * products: every output element is written by one task, in a fixed order.
 */

/* W'[cy][tap][cx] = W[cy][cx][tap], or with `transposed` W'ᵀ[tap][cx][cy] (every group's
 * C_y/g columns side by side), rows of W split among the team (a worksharing loop). */
static void TC(weight_by_tap)(const tconv__shape *sh, const T *w, bool transposed, T *w2)
{
    const int64_t K = sh->k_count, cxg = sh->cxg;
    /* element (cy, tap·C_x/g + cx) of W' lies at cy·r_step + (tap·C_x/g + cx)·e_step */
    const int64_t r_step = transposed ? 1 : K * cxg, e_step = transposed ? sh->cy : 1;
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < sh->cy; ++cy)
        if (!transposed) /* row cy: [C_x/g][K] -> [K][C_x/g] */
            TC(tconv__transpose)(cxg, K, w + cy * cxg * K, K, w2 + cy * r_step, cxg);
        else
            for (int64_t cx = 0; cx < cxg; ++cx)
                for (int64_t t = 0; t < K; ++t)
                    w2[cy * r_step + (t * cxg + cx) * e_step] = w[(cy * cxg + cx) * K + t];
}

/* The same, channel block by channel block: block (g, b) of channels c0..c1 is the matrix
 * [C_y/g][K·(c1 - c0)] at w2 + (g·C_y/g·K + ... ) (block_at), that apply_t multiplies by. */
static void TC(weight_by_block)(const tconv__shape *sh, const plan *pl, const T *w, T *w2)
{
    const int64_t K = sh->k_count, cxg = sh->cxg, cyg = sh->cyg;
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < sh->cy; ++cy) {
        const int64_t g = cy / cyg, cyl = cy % cyg;
        for (int64_t b = 0; b < pl->blocks; ++b) {
            const int64_t c0 = b * pl->per_block, c1 = min64(cxg, c0 + pl->per_block);
            T *row = w2 + g * cyg * pl->R + cyg * K * c0 + cyl * K * (c1 - c0);
            TC(tconv__transpose)(c1 - c0, K, w + (cy * cxg + c0) * K, K, row, c1 - c0);
        }
    }
}

/* First row (position) of a tile, among the N·|Sy| rows of Y. */
static int64_t TC(first_row)(const tconv__shape *sh, const tile *k)
{
    return k->n0 * sh->y_count + k->l0 * sh->y[2];
}

/* The tile as a span of X: its images, their stride, its lines. */
static tconv__span TC(span_nhwc)(const tconv__shape *sh, const tile *k)
{
    const tconv__span sp = {k->n1 - k->n0, sh->x_count * sh->cx, k->l0, k->l1, 0};
    return sp;
}

/* The columns of a tile for R's columns j0..j1: x's own rows when they are the columns
 * (alias: pointwise, or a unit map without groups), else im2row into cols. */
static const T *TC(columns)(const tconv__shape *sh, const plan *pl, const tile *k, int64_t g,
                            const T *x, int64_t j0, int64_t j1, T *cols, int64_t *ld)
{
    const int64_t row0 = TC(first_row)(sh, k);
    if (pl->alias) {
        *ld = pl->layout == TCONV__PATH_POINTWISE ? sh->cx : pl->R;
        return pl->layout == TCONV__PATH_POINTWISE ? x + row0 * sh->cx + g * sh->cxg + j0
                                                   : x + row0 * pl->R + j0;
    }
    const tconv__span sp = TC(span_nhwc)(sh, k);
    *ld = j1 - j0;
    TC(tconv__im2row)(sh, x + k->n0 * sh->x_count * sh->cx + g * sh->cxg, j0, j1, &sp, cols,
                      *ld);
    return cols;
}

/* rows[r][0..n) += bias[0..n) for `count` rows `ld` apart. */
static void TC(add_bias_rows)(T *rows, int64_t count, int64_t n, int64_t ld, const T *bias)
{
    for (int64_t r = 0; r < count; ++r)
        for (int64_t j = 0; j < n; ++j)
            rows[r * ld + j] += bias[j];
}

/* y = C x. Tasks: (group, tile, block of output channels). */
static void TC(nhwc_apply_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const T *x = op->a, *w = op->b;
    T *y = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)pp->data.bytes;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), B = pl->blocks, cyg = sh->cyg;
    const T *bias = c->bias;
    T *w2 = ws; /* W'ᵀ (by_column), or W' when the kernel has taps; else W is in order */
    const T *wt = sh->k_count > 1 ? w2 : w;
    T *cols = tconv__thread_ws(pp, ws, tconv__thread_num());
    if (pl->by_column || sh->k_count > 1) /* its closing barrier: W' is complete */
        TC(weight_by_tap)(sh, w, pl->by_column, w2);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * tiles * B; ++t) {
        const int64_t g = t / B / tiles, i = t / B % tiles, blk = t % B;
        const int64_t cy0 = blk * pl->per_block, cy1 = min64(cyg, cy0 + pl->per_block);
        const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                               pl->folded ? i : i % pl->tiles);
        int64_t ld;
        const T *a = TC(columns)(sh, pl, &k, g, x, 0, R, cols, &ld);
        T *yt = y + TC(first_row)(sh, &k) * sh->cy + g * cyg + cy0;
        const T *bias_b = bias ? bias + g * cyg + cy0 : NULL;
        if (pl->by_column) /* B = W'ᵀ's columns of the block */
            TC(tconv__mm_bias)(c, false, false, k.width, cy1 - cy0, R, a, ld,
                               w2 + g * cyg + cy0, sh->cy, bias_b, true, yt, sh->cy);
        else
            TC(tconv__mm_bias)(c, false, true, k.width, cy1 - cy0, R, a, ld,
                               wt + (g * cyg + cy0) * R, R, bias_b, true, yt, sh->cy);
    }
}

static void TC(nhwc_apply)(const tconv__ctx *c, const tconv__product_plan *pp, const T *x,
                           const T *w, T *y, T *ws)
{
    const tconv__region_args op = {c, pp, x, w, NULL, y, NULL, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(nhwc_apply_region), &op);
}

/* x = Cᵀ y gathered by lines (plan.by_lines: one group, few images): per image, the
 * columns of all its rows (tasks: runs of lines), then x's lines gathered from them
 * (tasks: runs of x lines). */
static void TC(nhwc_apply_t_lines_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const T *y = op->a, *w = op->b;
    T *x = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)pp->data.bytes;
    const int64_t R = pl->R, lines = sh->y[0] * sh->y[1], xlines = sh->x[0] * sh->x[1];
    /* runs of lines of at least TCONV__MIN_ROWS rows, TCONV__MIN_TASKS of them at most */
    const int64_t per = max64(ceil_div(lines, TCONV__MIN_TASKS),
                              ceil_div(TCONV__MIN_ROWS, sh->y[2]));
    const int64_t runs = ceil_div(lines, per);
    const int64_t xper = ceil_div(xlines, TCONV__MIN_TASKS), xruns = ceil_div(xlines, xper);
    T *w2 = ws, *cols = ws + after(0, pl->wbuf, sizeof(T));
    TC(weight_by_block)(sh, pl, w, w2);
    for (int64_t n = 0; n < sh->batch; ++n) {
#pragma omp for schedule(dynamic)
        for (int64_t r = 0; r < runs; ++r) {
            const int64_t l0 = r * per, l1 = min64(lines, l0 + per);
            const int64_t row0 = l0 * sh->y[2], rows = (l1 - l0) * sh->y[2];
            MM(c, false, false, rows, R, sh->cy, (T)1,
               y + (n * sh->y_count + row0) * sh->cy, sh->cy, w2, R, (T)0,
               cols + row0 * R, R);
        }
#pragma omp for schedule(dynamic)
        for (int64_t r = 0; r < xruns; ++r)
            TC(tconv__row2im_gather)(sh, cols, R, r * xper, min64(xlines, (r + 1) * xper),
                                     c->bias, x + n * sh->x_count * sh->cx);
    }
}

static void TC(nhwc_apply_t_lines)(const tconv__ctx *c, const tconv__product_plan *pp,
                                   const T *y, const T *w, T *x, T *ws)
{
    const tconv__region_args op = {c, pp, y, w, NULL, x, NULL, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(nhwc_apply_t_lines_region), &op);
}

/* x = Cᵀ y. Tasks: (group, block of x channels, tile), or (group, block, image) running
 * the image's line tiles in order when row2im adds them together. */
static void TC(nhwc_apply_t_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const T *y = op->a, *w = op->b;
    T *x = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)pp->data.bytes;
    const int64_t K = sh->k_count, cyg = sh->cyg, cxg = sh->cxg;
    const bool tiled = pl->layout == TCONV__PATH_TILED, alias = pl->alias;
    const bool in_order = !pl->folded && !tiled && !alias;
    const int64_t columns = pl->folded ? pl->tiles : in_order ? sh->batch : sh->batch * pl->tiles;
    const int64_t tasks = sh->groups * pl->blocks * columns;
    const T *bias = c->bias;
    T *w2 = ws;
    T *cols = tconv__thread_ws(pp, ws, tconv__thread_num());
    if (alias && K > 1)
        TC(weight_by_tap)(sh, w, false, w2);
    else if (!alias)
        TC(weight_by_block)(sh, pl, w, w2);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t g = t / columns / pl->blocks, blk = t / columns % pl->blocks;
        const int64_t i = t % columns, c0 = blk * pl->per_block;
        const int64_t c1 = min64(cxg, c0 + pl->per_block), nb = c1 - c0;
        const int64_t first = in_order ? 0 : pl->folded ? i : i % pl->tiles;
        const int64_t last = in_order ? pl->tiles : first + 1;
        const int64_t n = pl->folded ? 0 : in_order ? i : i / pl->tiles;
        const T *bias_g = bias ? bias + g * cxg : NULL;
        for (int64_t lt = first; lt < last; ++lt) {
            const tile k = tile_at(sh, pl, n, lt);
            const int64_t row0 = TC(first_row)(sh, &k);
            const T *yt = y + row0 * sh->cy + g * cyg;
            if (pl->layout == TCONV__PATH_POINTWISE) { /* x's rows are the result */
                T *xt = x + row0 * sh->cx + g * cxg + c0;
                TC(tconv__mm_bias)(c, false, false, k.width, nb, cyg, yt, sh->cy,
                                   w + g * cyg * cxg + c0, cxg, bias_g ? bias_g + c0 : NULL,
                                   true, xt, sh->cx);
                continue;
            }
            if (alias) { /* a unit map without groups: x_n = y_n · W' */
                T *xt = x + row0 * pl->R;
                MM(c, false, false, k.width, pl->R, cyg, (T)1, yt, sh->cy, K > 1 ? w2 : w,
                   pl->R, (T)0, xt, pl->R);
                for (int64_t r = 0; bias && r < k.width * K; ++r)
                    TC(add_bias_rows)(xt + r * sh->cx, 1, sh->cx, 0, bias);
                continue;
            }
            MM(c, false, false, k.width, K * nb, cyg, (T)1, yt, sh->cy,
               w2 + g * cyg * pl->R + cyg * K * c0, K * nb, (T)0, cols, K * nb);
            const tconv__span sp = TC(span_nhwc)(sh, &k);
            T *x_g = x + k.n0 * sh->x_count * sh->cx + g * cxg;
            if (tiled)
                TC(tconv__row2im_tiled)(sh, cols, K * nb, c0, c1, &sp, bias_g, x_g);
            else
                TC(tconv__row2im)(sh, cols, K * nb, c0, c1, &sp, k.l0 == 0, bias_g, x_g);
        }
    }
}

static void TC(nhwc_apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const T *y,
                             const T *w, T *x, T *ws)
{
    const plan *pl = (const plan *)pp->data.bytes;
    if (pl->by_lines) {
        TC(nhwc_apply_t_lines)(c, pp, y, w, x, ws);
        return;
    }
    const tconv__region_args op = {c, pp, y, w, NULL, x, NULL, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(nhwc_apply_t_region), &op);
}

/* dW[cy][cx][tap] = Σ over segments, in order, of part[seg][cy][tap][cx] (after the
 * barrier that completes the partial sums). */
static void TC(weight_from_taps)(const tconv__shape *sh, int64_t S, const T *part, T *dw)
{
    const int64_t K = sh->k_count, cxg = sh->cxg, per = sh->cy * K * cxg;
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < sh->cy; ++cy)
        for (int64_t cx = 0; cx < cxg; ++cx)
            for (int64_t t = 0; t < K; ++t) {
                const int64_t at = (cy * K + t) * cxg + cx;
                T sum = part[at];
                for (int64_t seg = 1; seg < S; ++seg)
                    sum += part[seg * per + at];
                dw[(cy * cxg + cx) * K + t] = sum;
            }
}

/* dW = Σ y ⊗ x. Tasks: (group, block of R, segment of tiles), each into its segment's
 * partial sum. */
static void TC(nhwc_wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const T *y = op->a, *x = op->b;
    T *dw = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)pp->data.bytes;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), S = pl->segments, cyg = sh->cyg;
    T *part = ws + after(0, pl->wbuf, sizeof(T));
    T *cols = tconv__thread_ws(pp, ws, tconv__thread_num());
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * pl->blocks * S; ++t) {
        const int64_t g = t / S / pl->blocks, blk = t / S % pl->blocks, seg = t % S;
        const int64_t r0 = blk * pl->per_block, r1 = min64(R, r0 + pl->per_block);
        T *dst = part + seg * sh->cy * R + g * cyg * R + r0;
        for (int64_t i = seg * tiles / S; i < (seg + 1) * tiles / S; ++i) {
            const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                                   pl->folded ? i : i % pl->tiles);
            int64_t ld;
            const T *b = TC(columns)(sh, pl, &k, g, x, r0, r1, cols, &ld);
            MM(c, true, false, cyg, r1 - r0, k.width, (T)1,
               y + TC(first_row)(sh, &k) * sh->cy + g * cyg, sh->cy, b, ld,
               i == seg * tiles / S ? (T)0 : (T)1, dst, R);
        }
    }
    TC(weight_from_taps)(sh, S, part, dw);
}

static void TC(nhwc_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const T *y,
                           const T *x, T *dw, T *ws)
{
    const tconv__region_args op = {c, pp, y, x, NULL, dw, NULL, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(nhwc_wgrad_region), &op);
}

/* y = C x and dW = Σ y' ⊗ x at once, on the same columns. Tasks: (group, segment of
 * tiles); per tile and block of R: y_tile += cols · W'_g[:, block]ᵀ, dW'_seg[:, block] +=
 * y'_tileᵀ · cols. */
static void TC(nhwc_apply_wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const T *x = op->a, *w = op->b, *yp = op->a2;
    T *y = op->out, *dw = op->out2, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const plan *pl = (const plan *)pp->data.bytes;
    const int64_t R = pl->R, tiles = all_tiles(sh, pl), S = pl->segments, cyg = sh->cyg;
    T *w2 = ws, *part = ws + after(0, pl->wbuf, sizeof(T));
    const T *wt = sh->k_count > 1 ? w2 : w;
    T *cols = tconv__thread_ws(pp, ws, tconv__thread_num());
    if (sh->k_count > 1)
        TC(weight_by_tap)(sh, w, false, w2);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < sh->groups * S; ++t) {
        const int64_t g = t / S, seg = t % S;
        T *dst = part + seg * sh->cy * R + g * cyg * R;
        for (int64_t i = seg * tiles / S; i < (seg + 1) * tiles / S; ++i) {
            const tile k = tile_at(sh, pl, pl->folded ? 0 : i / pl->tiles,
                                   pl->folded ? i : i % pl->tiles);
            const int64_t row0 = TC(first_row)(sh, &k);
            for (int64_t blk = 0; blk < pl->blocks; ++blk) {
                const int64_t r0 = blk * pl->per_block, r1 = min64(R, r0 + pl->per_block);
                int64_t ld;
                const T *b = TC(columns)(sh, pl, &k, g, x, r0, r1, cols, &ld);
                MM(c, false, true, k.width, cyg, r1 - r0, (T)1, b, ld,
                   wt + g * cyg * R + r0, R, blk ? (T)1 : (T)0,
                   y + row0 * sh->cy + g * cyg, sh->cy);
                MM(c, true, false, cyg, r1 - r0, k.width, (T)1,
                   yp + row0 * sh->cy + g * cyg, sh->cy, b, ld,
                   i == seg * tiles / S ? (T)0 : (T)1, dst + r0, R);
            }
        }
    }
    TC(weight_from_taps)(sh, S, part, dw);
}

static void TC(nhwc_apply_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp,
                                 const T *x, const T *w, const T *yp, T *y, T *dw, T *ws)
{
    const tconv__region_args op = {c, pp, x, w, yp, y, dw, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(nhwc_apply_wgrad_region), &op);
}
