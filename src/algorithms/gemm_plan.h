/*
 * The gemm algorithm's plan, shared by its channels-first products (gemm.c) and its
 * channels-last ones (gemm_nhwc.c): the constants of its cuts, the plan of one product,
 * and the tiles of columns. Private to src/algorithms/gemm*.c and
 * winograd.c (the gemm algorithm's Winograd branch).
 */
#ifndef TCONV_ALGORITHMS_GEMM_PLAN_H
#define TCONV_ALGORITHMS_GEMM_PLAN_H

#include "internal.h"

/* A product is cut into this many independent tasks at least (when the shape allows), so
 * that a team of up to this many threads is kept busy; decided by the shape alone. */
#define TCONV__MIN_TASKS 8
/* ... but a GEMM is not cut below this many rows, where BLAS loses its efficiency ... */
#define TCONV__MIN_ROWS 128
/* ... nor a tile of columns below this many. */
#define TCONV__MIN_WIDTH 64
/* Channels-last apply_t gathers x line by line (gemm_nhwc_tmpl.h) below this many images
 * cut into line tiles, whose row2im must otherwise run tile after tile. */
#define TCONV__NHWC_LINE_TASKS 4
/* apply makes a tile's columns and multiplies them in chunks of R's rows of at most this
 * many bytes (but TCONV__MIN_CHUNK rows at least): a chunk is still in L2 when the GEMM
 * packs it, where the whole tile (1.8 MB for a 3x3x3 layer of 32 channels) went out to
 * memory and came back. */
#define TCONV__CHUNK_BYTES ((int64_t)256 * 1024)
#define TCONV__MIN_CHUNK 64
/* Channels-first apply of a small batch of small maps (at most TCONV__WHOLE_COLUMNS
 * columns in all, which the tasks would cut into tiles narrower than TCONV__WHOLE_WIDTH):
 * the team makes the whole batch's columns once, then each task multiplies a block of
 * W_g's rows (at least TCONV__WHOLE_ROWS) by all of them. A tile per image and a GEMM per
 * (tile, row block), each making its own columns, gave dnnl_sgemm 256 x 49 x 4608 at 64
 * GFLOP/s where 128 x 196 x 4608 runs at 80 (ResNet-50's 7x7 layer, Zen 4, one thread:
 * 18-19 -> 13-14.7 ms for the layer). Only while the columns stay within
 * TCONV__WHOLE_BYTES: every row block's GEMM packs all of them again, and ResNet-50's 14x14
 * layer (7.2 MB of columns) ran 1.4x slower at two threads than in tiles of 98 columns. */
#define TCONV__WHOLE_COLUMNS 2048
#define TCONV__WHOLE_WIDTH 256
#define TCONV__WHOLE_ROWS 128
#define TCONV__WHOLE_BYTES ((int64_t)4 << 20)
/* The fused backward (apply and wgrad on the same columns) runs when its tasks, one per
 * segment of tiles, are at least this many; else the two products run one after the
 * other, each cut its own way. */
#define TCONV__MIN_FUSED_TASKS 4

static inline int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* ⌈a / b⌉ for a >= 0, b > 0, without forming a + b - 1 (which overflows for huge a). */
static inline int64_t ceil_div(int64_t a, int64_t b)
{
    return a == 0 ? 0 : (a - 1) / b + 1;
}

/*
 * One product's plan. The columns of a group (N·|Sy| of them) are cut into tiles: whole
 * images when a map is small (batch folding: one GEMM over several images, whose Y-side
 * data is then packed side by side), otherwise ranges of an image's lines. Each task works
 * on one tile (or a run of tiles) in buffers of its own thread:
 *   apply_t  GEMM tile[rows of whole x channels][width] = W_gᵀ · y, then col2im of that
 *            tile straight from cache (the tiled layout writes it as a permutation);
 *   apply    cols[R][width] = im2col(x), then rows of y = rows of W_g · cols (a few row
 *            blocks per tile when the tiles alone are too few tasks), R in chunks that
 *            stay in cache from im2col to the GEMM, summed into y in order;
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
    int64_t chunk;    /* apply: rows of R per im2col and GEMM step of a tile */
    int64_t segments; /* wgrad and both: partial sums over the tiles */
    bool declined;    /* both: too few tasks, the products run one after the other */
    int team;         /* threads that get buffers (the bound may leave fewer than asked) */
    int64_t buffer;   /* elements of one thread's buffers */
    int64_t pack;     /* ... of which the packed Y side of a folded tile comes first */
    int64_t pack_out; /* ... then (both) the folded tile's y before it is unpacked */
    int64_t shared;   /* elements shared by the team: partial sums of dW, and (channels-
                       * last) the weight in (tap, channel) order first */
    int64_t line;     /* apply_t of whole images: a phase plane of X0·X1·s2·⌈X2/s2⌉
                       * elements per thread, for col2im through it */
    bool alias;       /* channels-last: x's rows are the columns (no im2row or row2im) */
    bool by_column;   /* channels-last apply of a short reduction (R <= TCONV__SHORT_K):
                       * wbuf holds W'ᵀ, [R][C_y], so that B is untransposed (tconv's
                       * short product reads no other; dnnl_sgemm runs it faster) */
    bool whole;       /* channels-first apply: the whole batch's columns, shared (first in
                       * the shared region), made once; tasks are blocks of W_g's rows */
    bool by_lines;    /* channels-last apply_t of few images: the columns of a whole image
                       * (shared, after W'), then x gathered line by line */
    int64_t wbuf;     /* channels-last: elements of the rearranged weight */
} plan;

/* Elements of the bound's budget for plan buffers of the dtype (less some alignment). */
static inline int64_t budget_of(const tconv__ctx *c)
{
    const size_t size = tconv__dtype_size(c->dtype);
    return c->ws_limit > 4 * TCONV__ALIGN ? (int64_t)((c->ws_limit - 4 * TCONV__ALIGN) / size)
                                          : 0;
}

/* Columns per GEMM of the channels-first pointwise products (M rows of output channels
 * per group): whole images, cut (to no fewer than TCONV__TILE_N columns) only while the
 * tasks would be fewer than TCONV__MIN_TASKS. Tiles of 512 made ResNet-50's 1x1 expand
 * (256 x 3136 x 64 per image, batch 4) seven GEMMs an image, each packing its B again:
 * in halves of an image it ran 1.05 / 1.18x faster at one / two threads, MobileNet's
 * pointwise layer (batch 8, whole images) 1.1x, where OpenBLAS picks its own (SkylakeX)
 * kernels and so is the default provider; with OPENBLAS_CORETYPE=Haswell, the GEMMs on
 * dnnl_sgemm, 1.0 / 1.05x and 1.0 / 1.06-1.1x (Intel Xeon, float32). */
static inline int64_t pointwise_width(const tconv__shape *sh, int64_t M)
{
    const int64_t tasks = sh->batch * sh->groups * tconv__tiles(M, TCONV__TILE_M);
    const int64_t cuts =
        tasks >= TCONV__MIN_TASKS ? 1 : ceil_div(TCONV__MIN_TASKS, max64(1, tasks));
    return max64(min64(TCONV__TILE_N, sh->y_count), ceil_div(sh->y_count, cuts));
}

/* Cuts the columns into tiles of at most `most` columns. */
static inline void cut_columns(const tconv__shape *sh, int64_t most, plan *pl)
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
static inline int64_t after(int64_t at, int64_t count, size_t size)
{
    const int64_t per = (int64_t)(TCONV__ALIGN / size);
    return at + (count + per - 1) / per * per;
}

/* Tiles of one group over the whole batch. */
static inline int64_t all_tiles(const tconv__shape *sh, const plan *pl)
{
    return pl->folded ? pl->tiles : sh->batch * pl->tiles;
}

/* The columns of tile t of a group: images n0..n1 and lines l0..l1 of each. */
typedef struct tile {
    int64_t n0, n1, l0, l1, width;
} tile;

/* Tile t of the folded enumeration, or line tile t of image n. */
static inline tile tile_at(const tconv__shape *sh, const plan *pl, int64_t n, int64_t t)
{
    tile k;
    const int64_t lines = sh->y[0] * sh->y[1];
    if (pl->folded) {
        k.n0 = t * pl->per_tile;
        k.n1 = min64(sh->batch, k.n0 + pl->per_tile);
        k.l0 = 0, k.l1 = lines;
        k.width = (k.n1 - k.n0) * sh->y_count;
    } else {
        k.n0 = n, k.n1 = n + 1;
        k.l0 = t * pl->per_tile;
        k.l1 = min64(lines, k.l0 + pl->per_tile);
        k.width = (k.l1 - k.l0) * sh->y[2];
    }
    return k;
}


/* The channels-last products (gemm_nhwc.c), planned by the same planner. */
void tconv__gemm_nhwc_apply(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                            const void *b, void *out, void *ws);
void tconv__gemm_nhwc_apply_t(const tconv__ctx *c, const tconv__product_plan *pp,
                              const void *a, const void *b, void *out, void *ws);
void tconv__gemm_nhwc_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                            const void *b, void *out, void *ws);
void tconv__gemm_nhwc_apply_wgrad(const tconv__ctx *c, const tconv__product_plan *pp,
                                  const void *a, const void *b, const void *a2, void *out,
                                  void *out2, void *ws);

#endif /* TCONV_ALGORITHMS_GEMM_PLAN_H */
