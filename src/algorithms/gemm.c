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
#include "internal.h"

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

/* A product is cut into this many independent tasks at least (when the shape allows), so
 * that a team of up to this many threads is kept busy; decided by the shape alone. */
#define TCONV__MIN_TASKS 8
/* ... but a GEMM is not cut below this many rows, where BLAS loses its efficiency ... */
#define TCONV__MIN_ROWS 128
/* ... nor a tile of columns below this many. */
#define TCONV__MIN_WIDTH 64
/* The fused backward (apply and wgrad on the same columns) runs when its tasks, one per
 * segment of tiles, are at least this many; else the two products run one after the
 * other, each cut its own way. */
#define TCONV__MIN_FUSED_TASKS 4

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/*
 * One product's plan. The columns of a group (N·|Sy| of them) are cut into tiles: whole
 * images when a map is small (batch folding: one GEMM over several images, whose Y-side
 * data is then packed side by side), otherwise ranges of an image's lines. Each task works
 * on one tile (or a run of tiles) in buffers of its own thread:
 *   apply_t  GEMM tile[rows of whole x channels][width] = W_gᵀ · y, then col2im of that
 *            tile straight from cache (the tiled layout writes it as a permutation);
 *   apply    cols[R][width] = im2col(x), then rows of y = rows of W_g · cols (a few row
 *            blocks per tile when the tiles alone are too few tasks);
 *   wgrad    cols[rows][width] = im2col(x) for a block of dW's columns, then
 *            dW_g[:, rows] += y · colsᵀ, tile after tile; with few blocks, the columns are
 *            also split into segments summed at the end in a fixed order;
 *   both     (apply and wgrad of the same x) per segment of tiles, per block of R rows:
 *            cols = im2col(x), y_tile += W_g[:, rows] · cols, dW_g[:, rows] += y'·colsᵀ.
 * Tiles are at most TCONV__TILE_N columns wide; apply, wgrad and both make them narrower
 * (down to TCONV__MIN_WIDTH) when the whole problem would otherwise be too few tasks.
 * Every cut depends on the shape and the workspace bound, never on the thread count.
 */
typedef struct plan {
    tconv__gemm_path layout;
    int64_t R;        /* rows of the column matrix: (C_x/g)·Πk */
    bool folded;      /* tiles hold whole images; otherwise lines of one image */
    int64_t per_tile; /* images (folded) or lines per tile */
    int64_t tiles;    /* tiles over the batch (folded) or per image */
    int64_t width;    /* most columns in a tile */
    int64_t blocks;   /* apply: row blocks of W_g; apply_t: x-channel blocks per group;
                       * wgrad and both: blocks of R */
    int64_t per_block;/* rows of W_g, x channels, or rows of R per block */
    int64_t segments; /* wgrad and both: partial sums over the tiles */
    bool declined;    /* both: too few tasks, the products run one after the other */
    int team;         /* threads that get buffers (the bound may leave fewer than asked) */
    int64_t buffer;   /* elements of one thread's buffers */
    int64_t pack;     /* ... of which the packed Y side of a folded tile comes first */
    int64_t pack_out; /* ... then (both) the folded tile's y before it is unpacked */
    int64_t shared;   /* elements shared by the team: partial sums of dW */
} plan;

/* Cuts the columns into tiles of at most `most` columns. */
static void cut_columns(const tconv__shape *sh, int64_t most, plan *pl)
{
    const int64_t Yc = sh->y_count, Y2 = sh->y[2], lines = sh->y[0] * sh->y[1];
    pl->folded = Yc <= most;
    if (pl->folded) {
        pl->tiles = ceil_div(sh->batch, max64(1, most / Yc));
        pl->per_tile = ceil_div(sh->batch, pl->tiles);
        pl->width = pl->per_tile * Yc;
    } else {
        pl->tiles = ceil_div(lines, max64(1, most / Y2));
        pl->per_tile = ceil_div(lines, pl->tiles);
        pl->width = pl->per_tile * Y2;
    }
}

/* Element offset of a region of `count` elements that follows one at `at`, aligned. */
static int64_t after(int64_t at, int64_t count, size_t size)
{
    const int64_t per = (int64_t)(TCONV__ALIGN / size);
    return at + (count + per - 1) / per * per;
}

/* Tiles of one group over the whole batch. */
static int64_t all_tiles(const tconv__shape *sh, const plan *pl)
{
    return pl->folded ? pl->tiles : sh->batch * pl->tiles;
}

/* Most columns per tile for the products whose tasks are tiles (apply, wgrad, both). */
static int64_t task_width(const tconv__shape *sh)
{
    const int64_t columns = sh->batch * sh->y_count; /* of one group */
    const int64_t want = ceil_div(TCONV__MIN_TASKS, sh->groups);
    return max64(TCONV__MIN_WIDTH, min64(TCONV__TILE_N, ceil_div(columns, want)));
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
    const bool direct = pl->layout == TCONV__PATH_POINTWISE ||
                        pl->layout == TCONV__PATH_UNIT_MAP;
    if (p == TCONV__APPLY_WGRAD && direct)
        pl->declined = true; /* no columns to share */
    if (direct || sh->batch == 0)
        return TCONV_OK;

    /* rows of one task's column tile, and elements per column of its buffers */
    const int64_t K = sh->k_count, cyg = sh->cyg;
    int64_t rows, per_column;
    cut_columns(sh, p == TCONV_APPLY_T ? TCONV__TILE_N : task_width(sh), pl);
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
    } else if (p == TCONV_APPLY) {
        rows = pl->R;
        per_column = rows + cyg;
    } else {
        pl->blocks = ceil_div(pl->R, TCONV__TILE_M);
        pl->per_block = ceil_div(pl->R, pl->blocks);
        rows = pl->per_block;
        per_column = rows + (p == TCONV__APPLY_WGRAD ? 2 : 1) * cyg;
    }
    /* columns that fit under the bound (less the alignment of three buffers) */
    const size_t size = tconv__dtype_size(c->dtype);
    const int64_t budget = c->ws_limit > 4 * TCONV__ALIGN
                               ? (int64_t)((c->ws_limit - 4 * TCONV__ALIGN) / size) : 0;
    const int64_t fit = budget / per_column;
    if (fit < sh->y[2])
        return tconv__fail(err, TCONV_EWORKSPACE, "gemm: workspace_limit = %zu bytes cannot "
                           "hold the columns of one line (%lld rows x %lld positions of %zu "
                           "bytes)", c->ws_limit, (long long)rows, (long long)sh->y[2], size);
    if (fit < pl->width)
        cut_columns(sh, fit, pl);
    const bool multi = pl->folded && pl->per_tile > 1;
    pl->pack = multi ? cyg * pl->width : 0;
    pl->pack_out = multi && p == TCONV__APPLY_WGRAD ? cyg * pl->width : 0;
    pl->buffer = after(after(after(0, pl->pack, size), pl->pack_out, size), rows * pl->width,
                       size);
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
        if (p == TCONV__APPLY_WGRAD && sh->groups * pl->segments < TCONV__MIN_FUSED_TASKS)
            pl->declined = true;
    }
    const int64_t room = (budget - pl->shared) / after(0, pl->buffer, size);
    pl->team = (int)max64(1, min64(c->threads, room));
    return TCONV_OK;
}

#define TCONV_TEMPLATE "algorithms/gemm_tmpl.h"
#include "instantiate.h"

_Static_assert(sizeof(plan) <= TCONV__PLAN_DATA, "the gemm plan outgrows its room");

tconv_status tconv__gemm_plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                              tconv_error *err)
{
    plan *pl = (plan *)pp->data.bytes;
    tconv_status s = plan_of(c, p, pl, err);
    if (s != TCONV_OK)
        return s;
    pp->path = pl->declined ? TCONV__PATH_DECLINED : (int)pl->layout;
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

int64_t tconv__gemm_images_per_tile(const tconv__ctx *c, tconv_product p)
{
    plan pl;
    if (plan_of(c, p, &pl, NULL) != TCONV_OK || c->sh.batch == 0)
        return 0;
    return pl.folded ? pl.per_tile : 0;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

void tconv__gemm_apply(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws)
{
    apply(c, pp, a, b, out, ws);
}

void tconv__gemm_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws)
{
    wgrad(c, pp, a, b, out, ws);
}

void tconv__gemm_apply_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                             const void *b, const void *a2, void *out, void *out2, void *ws)
{
    if (c->dtype == TCONV_F64)
        apply_wgrad_f64(c, pp, a, b, a2, out, out2, ws);
    else
        apply_wgrad_f32(c, pp, a, b, a2, out, out2, ws);
}

const tconv__algo tconv__algo_gemm = {TCONV_ALGO_GEMM, "gemm", tconv__gemm_plan, apply,
                                      apply_t, wgrad, tconv__gemm_apply_wgrad, true,
                                      false};
