/*
 * The gemm algorithm: im2col / col2im + CBLAS GEMM, the production path.
 *
 * The batch is processed in chunks. A chunk is either several whole images folded into one
 * GEMM (small maps: one GEMM over images·|Sy| columns instead of thin per-image ones) or,
 * when one image's columns would not fit under the workspace bound, a range of an image's
 * lines. Chunks depend on the shape and the bound alone, never on the thread count.
 *
 * Three layouts skip work the general one does (tconv__gemm_path_of):
 *   tiled      the taps tile X exactly (kernel == stride, no padding, dilation 1): col2im
 *              is a permutation, written without accumulation;
 *   pointwise  1x1 kernel, stride 1, no padding: the tensors are the column matrices,
 *              no im2col or col2im at all;
 *   unit map   a 1x1 input map under the whole kernel (DCGAN's latent vector): x_n is
 *              W_gᵀ y_n laid out as it is, the layer a fully connected one, and the whole
 *              batch one GEMM.
 * The output's bias is added where the output is written, while it is in cache.
 */
#include "algorithms/gemm_plan.h"

#include "threads.h"
#include <string.h>

tconv__gemm_path tconv__gemm_path_of(const tconv__shape *sh)
{
    bool tiled = true, pointwise = true;
    for (int a = 0; a < 3; ++a) {
        const int64_t k = sh->k[a], s = sh->s[a], x = sh->x[a], y = sh->y[a];
        const bool unit_taps = sh->d[a] == 1 || k == 1, no_pad = sh->p[a] == 0;
        tiled = tiled && no_pad && unit_taps && ((k == s && x == y * s) || (y == 1 && x == k));
        pointwise = pointwise && no_pad && k == 1 && s == 1 && x == y;
    }
    if (tiled && sh->y_count == 1)
        return TCONV__PATH_UNIT_MAP;
    return pointwise ? TCONV__PATH_POINTWISE : tiled ? TCONV__PATH_TILED
                                                      : TCONV__PATH_GENERAL;
}

/*
 * Whether the fused backward pays with `segments` segments: enough tasks, and partial sums
 * of dW that cost less than the second im2col they save. Both are R long per element: the
 * columns a group's second im2col would write (N·|Sy| of them) against the partial weight
 * gradients added up at the end ((segments - 1)·C_y of them, each read and added).
 */
static bool fused_pays(const tconv__shape *sh, int64_t segments)
{
    return sh->groups * segments >= TCONV__MIN_FUSED_TASKS &&
           (segments - 1) * sh->cy <= sh->batch * sh->y_count;
}

/* Most columns per tile for the products whose tasks are tiles (apply, wgrad, both): at
 * most `most`, narrower while the tasks would be fewer than TCONV__MIN_TASKS. */
static int64_t task_width(const tconv__shape *sh, int64_t most)
{
    const int64_t columns = sh->batch * sh->y_count; /* of one group */
    const int64_t want = ceil_div(TCONV__MIN_TASKS, sh->groups);
    return max64(TCONV__MIN_WIDTH, min64(most, ceil_div(columns, want)));
}

/* Channels-first apply takes tiles of up to this many columns (its chunks of R keep each
 * GEMM's columns in cache): ResNet-50's 7x7 stem (64 x 147 rows of columns) ran 1.1 /
 * 1.4x faster at one / two threads in tiles of 3136 than of 512, 392 GEMMs whose per-call
 * costs two threads paid in turn, where OpenBLAS picks its own (SkylakeX) kernels and so
 * is the default provider; 1.02 / 1.06x with OPENBLAS_CORETYPE=Haswell, its GEMMs then on
 * dnnl_sgemm. Its stride-2 3x3 and 1x1 layers
 * and the transposed backward ran the same (Intel Xeon, float32). */
#define TCONV__APPLY_TILE_N ((int64_t)4096)

/*
 * The channels-last plan (the products of gemm_nhwc.c). Tiles are ranges of positions,
 * which are rows of Y (and of the column matrix); no packing, since a tile's rows are
 * contiguous whether it holds whole images or lines of one. The shared region holds the
 * weight in (tap, channel) order (wbuf) and, for wgrad, the partial sums of every segment
 * in that order. A pointwise layer, and a unit map without groups, need no columns at all:
 * x's rows are them (alias).
 */
static tconv_status plan_nhwc(const tconv__ctx *c, tconv_product p, plan *pl,
                              tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    if (sh->cx > TCONV__BLAS_INT_MAX || sh->cy > TCONV__BLAS_INT_MAX)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "gemm: a leading dimension exceeds the "
                           "BLAS integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    if (pl->layout == TCONV__PATH_UNIT_MAP && sh->groups > 1)
        pl->layout = TCONV__PATH_TILED; /* a group's channels are not a plain matrix */
    pl->alias = pl->layout == TCONV__PATH_POINTWISE || pl->layout == TCONV__PATH_UNIT_MAP;
    const int64_t K = sh->k_count, cyg = sh->cyg, R = pl->R;
    /* W' for apply and both when the kernel has taps (else W is in that order already);
     * apply_t's channel blocks of W' whenever it makes columns */
    pl->wbuf = (p != TCONV_WGRAD && K > 1) || (p == TCONV_APPLY_T && !pl->alias) ? sh->cy * R
                                                                                 : 0;
    /* W'ᵀ, so that B is untransposed: tconv's short kernel reads no other, and dnnl_sgemm
     * ran a transposed B of so few rows 0.7-0.9x as fast (speech_1d, Intel Xeon) */
    pl->by_column = p == TCONV_APPLY && !c->provider && R <= TCONV__SHORT_K &&
                    pl->layout != TCONV__PATH_UNIT_MAP;
    if (pl->by_column)
        pl->wbuf = sh->cy * R;
    if (p == TCONV__APPLY_WGRAD && pl->layout == TCONV__PATH_POINTWISE)
        pl->declined = true; /* nothing to share */
    if (sh->batch == 0)
        return TCONV_OK;
    const size_t size = tconv__dtype_size(c->dtype);
    const int64_t budget = budget_of(c);
    cut_columns(sh, p == TCONV_APPLY_T && !pl->alias ? TCONV__TILE_N
                                                    : task_width(sh, TCONV__TILE_N),
                pl);
    int64_t rows; /* of one position's columns in a thread's buffer */
    if (p == TCONV_APPLY_T) {
        const int64_t column_tasks = pl->folded ? pl->tiles
                                     : pl->layout == TCONV__PATH_TILED ? sh->batch * pl->tiles
                                                                       : sh->batch;
        const int64_t want = ceil_div(TCONV__MIN_TASKS, sh->groups * column_tasks);
        const int64_t most = max64(1, min64(sh->cxg, R / TCONV__MIN_ROWS));
        /* few images of one group cut into line tiles, whose row2im would run tile after
         * tile (their lines overlap): every tile's columns at once, then x gathered by
         * lines, in the same order, both cut across the team; the whole image's columns
         * must fit. (Folded tiles of small maps share the team by channel blocks: gathered
         * image by image, dcgan_2's 64-row GEMMs ran at a third of that.) */
        if (pl->layout == TCONV__PATH_GENERAL && sh->groups == 1 && !pl->folded &&
            sh->batch < TCONV__NHWC_LINE_TASKS &&
            after(after(0, pl->wbuf, size), sh->y_count * R, size) <= budget) {
            pl->by_lines = true;
            pl->blocks = 1, pl->per_block = sh->cxg;
            pl->shared = after(after(0, pl->wbuf, size), sh->y_count * R, size);
            pl->buffer = 0;
            pl->team = c->threads;
            return TCONV_OK;
        }
        pl->blocks = pl->layout == TCONV__PATH_UNIT_MAP ? 1 : min64(most, want);
        pl->per_block = ceil_div(sh->cxg, pl->blocks);
        if (pl->blocks > 1 && pl->per_block % 16) /* whole vectors of channels */
            pl->per_block = min64(sh->cxg, (pl->per_block + 15) / 16 * 16);
        pl->blocks = ceil_div(sh->cxg, pl->per_block);
        rows = pl->alias ? 0 : pl->per_block * K;
    } else if (p == TCONV_APPLY) {
        rows = pl->alias ? 0 : R;
    } else {
        pl->blocks = pl->alias ? 1 : ceil_div(R, TCONV__TILE_M);
        pl->per_block = ceil_div(R, pl->blocks);
        rows = pl->alias ? 0 : pl->per_block;
    }
    /* what stays beside the columns: W', and one partial weight gradient at least */
    const int64_t beside = pl->wbuf + (p == TCONV_WGRAD || p == TCONV__APPLY_WGRAD ? sh->cy * R
                                                                                   : 0);
    if (rows) {
        const int64_t fit = (budget - beside - 2 * (int64_t)(TCONV__ALIGN / size)) / rows;
        if (fit < sh->y[2])
            return tconv__fail(err, TCONV_EWORKSPACE, "gemm: workspace_limit = %zu bytes "
                               "cannot hold the weight and the columns of one line (%lld + "
                               "%lld x %lld elements of %zu bytes)", c->ws_limit,
                               (long long)beside, (long long)rows, (long long)sh->y[2], size);
        if (fit < pl->width)
            cut_columns(sh, fit, pl);
    }
    pl->buffer = after(0, rows * pl->width, size);
    /* R in one piece: chunks like channels-first's, in cache, measured 0.90-0.97x here */
    pl->chunk = R;
    if (p == TCONV_APPLY) { /* too few tiles: cut the output channels too */
        const int64_t tasks = sh->groups * all_tiles(sh, pl);
        const int64_t want = tasks < TCONV__MIN_TASKS ? ceil_div(TCONV__MIN_TASKS, tasks) : 1;
        pl->blocks = max64(1, min64(want, cyg / TCONV__MIN_ROWS));
        pl->per_block = ceil_div(cyg, pl->blocks);
        pl->blocks = ceil_div(cyg, pl->per_block);
    }
    pl->shared = after(0, pl->wbuf, size);
    if (p == TCONV_WGRAD || p == TCONV__APPLY_WGRAD) {
        /* every segment sums into its own partial dW in (tap, channel) order; the last
         * step adds them up in segment order into the caller's layout */
        const int64_t want = ceil_div(TCONV__MIN_TASKS,
                                      sh->groups * (p == TCONV_WGRAD ? pl->blocks : 1));
        const int64_t partial = sh->cy * R;
        pl->segments = min64(want, all_tiles(sh, pl));
        while (pl->segments > 1 && pl->shared + pl->segments * partial + pl->buffer > budget)
            --pl->segments;
        if (pl->shared + partial + pl->buffer > budget)
            return tconv__fail(err, TCONV_EWORKSPACE, "gemm: workspace_limit = %zu bytes "
                               "cannot hold the weight gradient (%lld elements of %zu bytes) "
                               "and the columns of one line", c->ws_limit, (long long)partial,
                               size);
        pl->shared += pl->segments * partial;
        if (p == TCONV__APPLY_WGRAD && !fused_pays(sh, pl->segments))
            pl->declined = true;
    }
    const int64_t room = pl->buffer ? (budget - pl->shared) / pl->buffer : c->threads;
    pl->team = (int)max64(1, min64(c->threads, room));
    return TCONV_OK;
}

/* A small dW (ResNet's 1x1 layers: 64 x 256) was one 512 x 512 tile, one thread's work:
 * its tiles are halved along their longer side, down to TCONV__WGRAD_MIN_SIDE, until there
 * are TCONV__WGRAD_TASKS of them (a rule of the shape alone: the tiles, so the bits, never
 * depend on the thread count). */
#define TCONV__WGRAD_TASKS 4
#define TCONV__WGRAD_MIN_SIDE 64
void tconv__gemm_pointwise_wgrad_tile(const tconv__shape *sh, int64_t *tm, int64_t *tn)
{
    const int64_t M = sh->cyg, N = sh->cxg;
    int64_t m = min64(TCONV__TILE_M, M), n = min64(TCONV__TILE_N, N);
    while (sh->groups * tconv__tiles(M, m) * tconv__tiles(N, n) < TCONV__WGRAD_TASKS &&
           (m > TCONV__WGRAD_MIN_SIDE || n > TCONV__WGRAD_MIN_SIDE)) {
        if (n >= m)
            n = max64(TCONV__WGRAD_MIN_SIDE, tconv__tiles(n, 2 * 16) * 16);
        else
            m = max64(TCONV__WGRAD_MIN_SIDE, tconv__tiles(m, 2 * 16) * 16);
    }
    *tm = m, *tn = n;
}

/* Columns of an apply_t tile: TCONV__TILE_N, or a whole image on the general path when
 * all its columns (R x |Sy|) take at most TCONV__WHOLE_IMAGE_BYTES: tiles of whole images
 * take col2im through the phase plane (contiguous adds), where tiles of lines add into x
 * with the stride along the last axis (DCGAN's last layer, 3 x channels of a 64x64 map
 * from 1024 columns an image: col2im_span was 45% of its forward under perf). Measured
 * (Intel Xeon, forward, 1 / 2 threads): 64 -> 3 channels k4 s2 at 32x32, batch 16, 1.75 /
 * 1.71x; at 64x64, batch 4 (768 KB of columns) 1.43 / 1.46x; 128 -> 8 at 32x32 1.37x;
 * 32 -> 3 k3 s2 at 48x48 1.8x. */
#define TCONV__WHOLE_IMAGE_BYTES ((double)(1 << 20))
static int64_t apply_t_width(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    const double bytes = (double)sh->cxg * (double)sh->k_count * (double)sh->y_count *
                         (double)tconv__dtype_size(c->dtype);
    return tconv__gemm_path_of(sh) == TCONV__PATH_GENERAL && sh->y_count > TCONV__TILE_N &&
                   bytes <= TCONV__WHOLE_IMAGE_BYTES
               ? sh->y_count
               : TCONV__TILE_N;
}

/* Channels-first apply over the whole batch's columns (see TCONV__WHOLE_COLUMNS), when
 * the shape asks for it and the columns and one y buffer per thread fit the bound
 * (`budget` elements). Fills the plan and says whether it did. */
static bool plan_whole(const tconv__ctx *c, plan *pl, int64_t budget)
{
    const tconv__shape *sh = &c->sh;
    const int64_t columns = sh->batch * sh->y_count, cyg = sh->cyg;
    if (sh->groups != 1 || pl->layout != TCONV__PATH_GENERAL || pl->width >= TCONV__WHOLE_WIDTH ||
        columns > TCONV__WHOLE_COLUMNS || cyg < 2 * TCONV__WHOLE_ROWS)
        return false;
    const size_t size = tconv__dtype_size(c->dtype);
    if (pl->R * columns > TCONV__WHOLE_BYTES / (int64_t)size)
        return false;
    const int64_t shared = after(0, pl->R * columns, size);
    const int64_t buffer = sh->batch > 1 ? after(0, cyg * columns, size) : 0;
    if (shared + buffer > budget)
        return false;
    pl->whole = true;
    pl->folded = true, pl->tiles = 1, pl->per_tile = sh->batch, pl->width = columns;
    pl->blocks = min64(TCONV__MIN_TASKS, cyg / TCONV__WHOLE_ROWS);
    pl->per_block = ceil_div(cyg, pl->blocks);
    pl->blocks = ceil_div(cyg, pl->per_block);
    pl->chunk = pl->R;
    pl->pack = buffer, pl->pack_out = 0, pl->line = 0;
    pl->buffer = buffer;
    pl->shared = shared;
    const int64_t room = buffer ? (budget - shared) / buffer : c->threads;
    pl->team = (int)max64(1, min64(c->threads, room));
    return true;
}

static tconv_status plan_of(const tconv__ctx *c, tconv_product p, plan *pl, tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    memset(pl, 0, sizeof *pl);
    pl->layout = tconv__gemm_path_of(sh);
    if (!tconv__mul(sh->cxg, sh->k_count, &pl->R) || pl->R > TCONV__BLAS_INT_MAX ||
        sh->y_count > TCONV__BLAS_INT_MAX || sh->cyg > TCONV__BLAS_INT_MAX)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "gemm: a GEMM dimension exceeds the BLAS "
                           "integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    pl->team = c->threads;
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        return plan_nhwc(c, p, pl, err);
    const bool direct = pl->layout == TCONV__PATH_POINTWISE ||
                        pl->layout == TCONV__PATH_UNIT_MAP;
    if (p == TCONV__APPLY_WGRAD && direct)
        pl->declined = true; /* no columns to share */
    const bool untransposed = tconv__gemm_prefers_untransposed(c, sh->cyg);
    if (p == TCONV_APPLY_T && pl->layout == TCONV__PATH_POINTWISE && sh->batch &&
        untransposed) {
        /* W_gᵀ once per call, read untransposed (see the general apply_t below) */
        pl->wbuf = sh->cy * pl->R;
        pl->shared = after(0, pl->wbuf, tconv__dtype_size(c->dtype));
    }
    if (direct || sh->batch == 0)
        return TCONV_OK;

    /* rows of one task's column tile, and elements per column of its buffers */
    const int64_t K = sh->k_count, cyg = sh->cyg;
    int64_t rows, per_column;
    cut_columns(sh, p == TCONV_APPLY_T ? apply_t_width(c)
                    : task_width(sh, p == TCONV_APPLY ? TCONV__APPLY_TILE_N : TCONV__TILE_N),
                pl);
    if (p == TCONV_APPLY_T) {
        const int64_t column_tasks = pl->folded ? pl->tiles
                                     : pl->layout == TCONV__PATH_TILED ? sh->batch * pl->tiles
                                                                       : sh->batch;
        pl->blocks = ceil_div(pl->R, TCONV__TILE_M);
        const int64_t want = ceil_div(TCONV__MIN_TASKS, sh->groups * column_tasks);
        const int64_t most = max64(1, min64(sh->cxg, pl->R / TCONV__MIN_ROWS));
        pl->blocks = max64(pl->blocks, min64(most, want));
        pl->per_block = ceil_div(sh->cxg, pl->blocks);
        pl->blocks = ceil_div(sh->cxg, pl->per_block);
        rows = pl->per_block * K;
        per_column = rows + cyg;
        /* For dnnl_sgemm, W_gᵀ made once per call so that every GEMM reads A untransposed:
         * a transposed block of rows R apart is the slow case of its packing (measured 29
         * against 81 GFLOP/s for 512 x 512 x 512 with R = 1024, 54 with R = 1152, where
         * OpenBLAS runs both at 80); OpenBLAS reads W_g as it is, which saves the pass. */
        pl->wbuf = untransposed ? sh->cy * pl->R : 0;
    } else if (p == TCONV_APPLY) {
        rows = pl->R;
        per_column = rows + cyg;
    } else {
        pl->blocks = ceil_div(pl->R, TCONV__TILE_M);
        pl->per_block = ceil_div(pl->R, pl->blocks);
        rows = pl->per_block;
        per_column = rows + (p == TCONV__APPLY_WGRAD ? 2 : 1) * cyg;
    }
    /* columns that fit under the bound, beside the transposed weight */
    const size_t size = tconv__dtype_size(c->dtype);
    const int64_t budget = budget_of(c) - after(0, pl->wbuf, size);
    const int64_t fit = budget > 0 ? budget / per_column : 0;
    if (fit < sh->y[2])
        return tconv__fail(err, TCONV_EWORKSPACE, "gemm: workspace_limit = %zu bytes cannot "
                           "hold the columns of one line (%lld rows x %lld positions of %zu "
                           "bytes)", c->ws_limit, (long long)rows, (long long)sh->y[2], size);
    if (fit < pl->width)
        cut_columns(sh, fit, pl);
    const bool multi = pl->folded && pl->per_tile > 1;
    pl->pack = multi ? cyg * pl->width : 0;
    pl->pack_out = multi && p == TCONV__APPLY_WGRAD ? cyg * pl->width : 0;
    const int64_t columns = after(after(after(0, pl->pack, size), pl->pack_out, size),
                                  rows * pl->width, size);
    if (p == TCONV_APPLY_T && pl->folded && pl->layout == TCONV__PATH_GENERAL) {
        /* the phase plane of col2im, when it fits beside the columns (else the span col2im
         * adds into x directly) */
        int64_t line;
        if (tconv__mul(sh->x[0], sh->x[1], &line) && tconv__mul(line, sh->s[2], &line) &&
            tconv__mul(line, ceil_div(sh->x[2], sh->s[2]), &line) && line <= budget - columns &&
            after(columns, line, size) <= budget)
            pl->line = line;
    }
    pl->buffer = after(columns, pl->line, size);
    if (p == TCONV_APPLY) { /* R in chunks that stay in cache (balanced) */
        const int64_t fit = max64(TCONV__MIN_CHUNK,
                                  TCONV__CHUNK_BYTES / ((int64_t)size * pl->width));
        pl->chunk = ceil_div(pl->R, ceil_div(pl->R, fit));
    }
    if (p == TCONV_APPLY && plan_whole(c, pl, budget))
        return TCONV_OK;
    if (p == TCONV_APPLY) { /* too few tiles: cut W_g's rows too */
        const int64_t tasks = sh->groups * all_tiles(sh, pl);
        const int64_t want = tasks < TCONV__MIN_TASKS ? ceil_div(TCONV__MIN_TASKS, tasks) : 1;
        pl->blocks = max64(1, min64(want, cyg / TCONV__MIN_ROWS));
        pl->per_block = ceil_div(cyg, pl->blocks);
        pl->blocks = ceil_div(cyg, pl->per_block);
    }
    if (p == TCONV_WGRAD || p == TCONV__APPLY_WGRAD) {
        /* wgrad: few blocks of dW, split the columns too; both: one task per segment */
        const int64_t want = ceil_div(TCONV__MIN_TASKS,
                                      sh->groups * (p == TCONV_WGRAD ? pl->blocks : 1));
        pl->segments = min64(want, all_tiles(sh, pl));
        int64_t partial = sh->cy * pl->R;
        while (pl->segments > 1 && (pl->segments - 1) * partial + pl->buffer > budget)
            --pl->segments;
        pl->shared = (pl->segments - 1) * partial;
        if (p == TCONV__APPLY_WGRAD && !fused_pays(sh, pl->segments))
            pl->declined = true;
    }
    const int64_t room = (budget - pl->shared) / after(0, pl->buffer, size);
    pl->team = (int)max64(1, min64(c->threads, room));
    if (pl->wbuf) /* the shared region: W_gᵀ first, then any partial sums */
        pl->shared += after(0, pl->wbuf, size);
    return TCONV_OK;
}

#define TCONV_TEMPLATE "algorithms/gemm_tmpl.h"
#include "instantiate.h"

_Static_assert(sizeof(plan) <= TCONV__PLAN_DATA, "the gemm plan outgrows its room");

tconv_status tconv__gemm_plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                              tconv_error *err)
{
    if (tconv__winograd_plan(c, p, pp))
        return TCONV_OK;
    plan *pl = (plan *)pp->data.bytes;
    tconv_status s = plan_of(c, p, pl, err);
    if (s != TCONV_OK)
        return s;
    /* apply through Winograd beats sharing its columns with wgrad: the transposed
     * stride-1 backward (the transposed suite's stride1, 128 channels at 28x28, batch 8,
     * Intel Xeon, channels-last, OPENBLAS_CORETYPE=Haswell) ran 1.20 / 1.13x faster at one
     * / two threads apart than fused */
    if (p == TCONV__APPLY_WGRAD && tconv__winograd_applies(c, TCONV_APPLY))
        pl->declined = true;
    pp->path = pl->declined ? TCONV__PATH_DECLINED : pl->whole ? TCONV__PATH_WHOLE
                                                               : (int)pl->layout;
    if (!tconv__plan_ws(pp, c->dtype, pl->shared, pl->buffer, pl->team))
        return tconv__fail(err, TCONV_EOVERFLOW, "gemm: column buffer size overflows");
    return TCONV_OK;
}

int64_t tconv__gemm_apply_blocks(const tconv__ctx *c)
{
    plan pl;
    if (plan_of(c, TCONV_APPLY, &pl, NULL) != TCONV_OK || c->sh.batch == 0)
        return 0;
    return pl.layout == TCONV__PATH_POINTWISE || pl.layout == TCONV__PATH_UNIT_MAP ? 1
                                                                                   : pl.blocks;
}

bool tconv__gemm_apply_whole(const tconv__ctx *c)
{
    plan pl;
    return c->layout == TCONV_LAYOUT_CHANNELS_FIRST &&
           plan_of(c, TCONV_APPLY, &pl, NULL) == TCONV_OK && c->sh.batch > 0 && pl.whole;
}

int64_t tconv__gemm_apply_chunks(const tconv__ctx *c)
{
    plan pl;
    if (plan_of(c, TCONV_APPLY, &pl, NULL) != TCONV_OK || c->sh.batch == 0 || pl.alias ||
        pl.layout == TCONV__PATH_POINTWISE || pl.layout == TCONV__PATH_UNIT_MAP)
        return 0;
    return ceil_div(pl.R, pl.chunk);
}

int64_t tconv__gemm_images_per_tile(const tconv__ctx *c, tconv_product p)
{
    plan pl;
    if (plan_of(c, p, &pl, NULL) != TCONV_OK || c->sh.batch == 0)
        return 0;
    return pl.folded ? pl.per_tile : 0;
}

bool tconv__gemm_nhwc_by_lines(const tconv__ctx *c)
{
    plan pl;
    return c->layout == TCONV_LAYOUT_CHANNELS_LAST &&
           plan_of(c, TCONV_APPLY_T, &pl, NULL) == TCONV_OK && pl.by_lines;
}

bool tconv__gemm_nhwc_by_column(const tconv__ctx *c)
{
    plan pl;
    return c->layout == TCONV_LAYOUT_CHANNELS_LAST &&
           plan_of(c, TCONV_APPLY, &pl, NULL) == TCONV_OK && pl.by_column;
}

/* The products by layout and dtype. */
void tconv__gemm_apply(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws)
{
    if (pp->path == TCONV__PATH_WINOGRAD)
        tconv__winograd_run(c, pp, a, b, out, ws);
    else if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        tconv__gemm_nhwc_apply(c, pp, a, b, out, ws);
    else if (c->dtype == TCONV_F64)
        apply_f64(c, pp, a, b, out, ws);
    else
        apply_f32(c, pp, a, b, out, ws);
}

static void apply_t(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                    const void *b, void *out, void *ws)
{
    if (pp->path == TCONV__PATH_WINOGRAD)
        tconv__winograd_run(c, pp, a, b, out, ws);
    else if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        tconv__gemm_nhwc_apply_t(c, pp, a, b, out, ws);
    else if (c->dtype == TCONV_F64)
        apply_t_f64(c, pp, a, b, out, ws);
    else
        apply_t_f32(c, pp, a, b, out, ws);
}

void tconv__gemm_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws)
{
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        tconv__gemm_nhwc_wgrad(c, pp, a, b, out, ws);
    else if (c->dtype == TCONV_F64)
        wgrad_f64(c, pp, a, b, out, ws);
    else
        wgrad_f32(c, pp, a, b, out, ws);
}

void tconv__gemm_apply_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                             const void *b, const void *a2, void *out, void *out2, void *ws)
{
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        tconv__gemm_nhwc_apply_wgrad(c, pp, a, b, a2, out, out2, ws);
    else if (c->dtype == TCONV_F64)
        apply_wgrad_f64(c, pp, a, b, a2, out, out2, ws);
    else
        apply_wgrad_f32(c, pp, a, b, a2, out, out2, ws);
}

/* Every shape: the channels-last formulation of gemm_nhwc.c. */
static bool takes_channels_last(const tconv__ctx *c)
{
    (void)c;
    return true;
}

const tconv__algo tconv__algo_gemm = {TCONV_ALGO_GEMM,         "gemm",
                                      tconv__gemm_plan,        tconv__gemm_apply,
                                      apply_t,                 tconv__gemm_wgrad,
                                      tconv__gemm_apply_wgrad, true,
                                      takes_channels_last};
