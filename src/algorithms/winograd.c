/*
 * The gemm algorithm's Winograd branch: a channels-last 2-D product of a 3x3 kernel with
 * stride 1 and no dilation, apply (the convolution forward) or apply_t (its input
 * gradient, the transposed convolution's forward), as F(2x2, 3x3) (winograd_tmpl.h):
 * 16 GEMMs of transformed tiles instead of one im2col GEMM, 16 multiplications where the
 * columns make 36. It takes the layers whose tiles are many for their channels: U, the
 * transformed weight (16/9 of W), is written and read once per call, which a small map
 * does not repay (ResNet-50's 7x7 layer; see tconv__winograd_applies).
 */
#include "algorithms/gemm_plan.h"

#include "threads.h"

#include <string.h>

/* Both channel counts at least this: the transforms run on whole vectors of channels. */
#define TCONV__WINO_MIN_CHANNELS 16
/* At least TCONV__WINO_MIN_TILES 2x2 output tiles (the 16 GEMMs' rows), and tiles times
 * channel pairs at least TCONV__WINO_MIN_WORK: below, the call's fixed costs (U, 16 GEMM
 * calls per task) and GEMMs of a few rows outweigh what it saves. Measured (Intel Xeon,
 * float32, OPENBLAS_CORETYPE=Haswell, GEMMs on dnnl_sgemm, against channels-last im2col,
 * one / two threads): 512 -> 512 channels at 7x7, batch 1 (16 tiles), 0.70 / 0.70x; 256
 * at 7x7 0.79 / 0.66x; 128 at 8x8 0.88x at one thread; 32 -> 32 at 8x8 (16 tiles, 2^14)
 * 0.87x; from 64 tiles on it led: 64 channels at 16x16 1.63 / 1.0x, ResNet-50's 7x7
 * layer (batch 4, 64 tiles) 1.09 / 1.14x. (With OpenBLAS's SkylakeX kernels, the
 * variables unset, the batch-1 7x7 layer had led, 1.2x: dnnl_sgemm runs GEMMs of 16 rows
 * slower.) */
#define TCONV__WINO_MIN_TILES 64
#define TCONV__WINO_MIN_WORK ((double)(1 << 16))
/* A task's chunk of tiles: as many tiles as channels, within TCONV__WINO_MIN_CHUNK to
 * TCONV__WINO_MAX_CHUNK. Each task reads its block of U again (16·C_x·C_y elements for the
 * whole of it, past L2 from 256 channels), so a chunk's multiplications must outweigh that
 * read: VGG's 256 channels at 56x56 ran 1.2x faster in chunks of 196-256 tiles than of 32
 * (the first rule here, V and M within 1 MB), 64 channels best at 128 (Intel Xeon, one and
 * two threads, GEMMs on OpenBLAS's SkylakeX kernels; checked again on dnnl_sgemm with
 * the variables set: 64 channels best at 128 tiles, VGG's best at 256). A thread's V and
 * M stay within TCONV__WINO_TASK_BYTES (but a chunk keeps TCONV__WINO_LEAST_CHUNK tiles,
 * the GEMMs' rows). */
#define TCONV__WINO_MIN_CHUNK 128
#define TCONV__WINO_MAX_CHUNK 256
#define TCONV__WINO_LEAST_CHUNK 32
#define TCONV__WINO_TASK_BYTES ((int64_t)8 << 20)

typedef struct winoplan {
    bool transposed;           /* apply_t: y in, x out, the kernel flipped */
    int64_t cin, cout;         /* channels of the input and the output */
    int64_t in[2], out[2];     /* their maps */
    int64_t pad[2];            /* the correlation's padding: p, or 2 - p for apply_t */
    int64_t th, tw;            /* tiles per image along each axis */
    int64_t tiles;             /* over the batch */
    int64_t chunk, chunks;     /* tiles per task, and tasks along the tiles */
    int64_t blocks, per_block; /* of output channels */
    int64_t v_elems, m_elems, zero_elems, wt_elems; /* a thread's buffers, aligned */
} winoplan;

_Static_assert(sizeof(winoplan) <= TCONV__PLAN_DATA, "the Winograd plan outgrows its room");

/* The shape F(2x2, 3x3) computes: one group, a 2-D 3x3 kernel, stride 1, no dilation. */
static bool wino_shape(const tconv__shape *sh)
{
    const bool two_d = sh->x[0] == 1 && sh->y[0] == 1 && sh->k[0] == 1;
    const bool taps = sh->k[1] == 3 && sh->k[2] == 3 && sh->s[1] == 1 && sh->s[2] == 1 &&
                      sh->d[1] == 1 && sh->d[2] == 1;
    return two_d && taps && sh->groups == 1 && sh->cx >= TCONV__WINO_MIN_CHANNELS &&
           sh->cy >= TCONV__WINO_MIN_CHANNELS && sh->batch > 0;
}

/* Fills the plan of product p (apply or apply_t) for this context; false when the product,
 * the shape or the bound does not allow it. */
static bool plan_wino(const tconv__ctx *c, tconv_product p, winoplan *pl, int64_t *shared,
                      int64_t *buffer, int *team)
{
    const tconv__shape *sh = &c->sh;
    if (c->layout != TCONV_LAYOUT_CHANNELS_LAST || !wino_shape(sh) ||
        (p != TCONV_APPLY && p != TCONV_APPLY_T))
        return false;
    memset(pl, 0, sizeof *pl);
    pl->transposed = p == TCONV_APPLY_T;
    pl->cin = pl->transposed ? sh->cy : sh->cx;
    pl->cout = pl->transposed ? sh->cx : sh->cy;
    for (int a = 0; a < 2; ++a) {
        pl->in[a] = pl->transposed ? sh->y[a + 1] : sh->x[a + 1];
        pl->out[a] = pl->transposed ? sh->x[a + 1] : sh->y[a + 1];
        pl->pad[a] = pl->transposed ? 2 - sh->p[a + 1] : sh->p[a + 1];
    }
    /* U alone past the bound (or past int64_t): no Winograd, before any product overflows */
    if (16.0 * (double)sh->cx * (double)sh->cy * (double)tconv__dtype_size(c->dtype) >
        (double)c->ws_limit)
        return false;
    pl->th = ceil_div(pl->out[0], 2), pl->tw = ceil_div(pl->out[1], 2);
    pl->tiles = sh->batch * pl->th * pl->tw;
    if (pl->tiles < TCONV__WINO_MIN_TILES ||
        (double)pl->tiles * (double)sh->cx * (double)sh->cy < TCONV__WINO_MIN_WORK)
        return false;
    const size_t size = tconv__dtype_size(c->dtype);
    /* output channels in blocks when the chunks alone are too few tasks */
    const int64_t per_tile = 16 * (sh->cx + sh->cy) * (int64_t)size;
    pl->chunk = max64(TCONV__WINO_MIN_CHUNK, min64(TCONV__WINO_MAX_CHUNK, max64(sh->cx, sh->cy)));
    pl->chunk = min64(pl->chunk, max64(TCONV__WINO_LEAST_CHUNK, TCONV__WINO_TASK_BYTES / per_tile));
    pl->chunk = min64(pl->chunk, pl->tiles);
    pl->chunks = ceil_div(pl->tiles, pl->chunk);
    pl->chunk = ceil_div(pl->tiles, pl->chunks); /* balanced */
    const int64_t want = pl->chunks < TCONV__MIN_TASKS ? ceil_div(TCONV__MIN_TASKS, pl->chunks) : 1;
    pl->blocks = max64(1, min64(want, pl->cout / TCONV__MIN_WIDTH));
    pl->per_block = ceil_div(pl->cout, pl->blocks);
    pl->per_block = min64(pl->cout, (pl->per_block + 15) / 16 * 16); /* whole vectors */
    pl->blocks = ceil_div(pl->cout, pl->per_block);
    pl->v_elems = after(0, 16 * pl->chunk * pl->cin, size);
    pl->m_elems = after(0, 16 * pl->chunk * pl->per_block, size);
    pl->zero_elems = after(0, pl->cin, size);
    pl->wt_elems = after(0, 9 * sh->cx, size);
    *shared = after(0, 16 * sh->cx * sh->cy, size);
    *buffer = pl->v_elems + pl->m_elems + pl->zero_elems + pl->wt_elems;
    const int64_t budget = budget_of(c);
    if (*shared + *buffer > budget)
        return false;
    *team = (int)max64(1, min64(c->threads, (budget - *shared) / *buffer));
    return true;
}

bool tconv__winograd_applies(const tconv__ctx *c, tconv_product p)
{
    winoplan pl;
    int64_t shared, buffer;
    int team;
    return plan_wino(c, p, &pl, &shared, &buffer, &team);
}

bool tconv__winograd_plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp)
{
    winoplan pl;
    int64_t shared, buffer;
    int team;
    if (!plan_wino(c, p, &pl, &shared, &buffer, &team) ||
        !tconv__plan_ws(pp, c->dtype, shared, buffer, team))
        return false;
    memcpy(pp->data.bytes, &pl, sizeof pl);
    pp->path = TCONV__PATH_WINOGRAD;
    return true;
}

#define TCONV_TEMPLATE "algorithms/winograd_tmpl.h"
#include "instantiate.h"

TCONV__DTYPE_DISPATCH(wino_run)

void tconv__winograd_run(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                         const void *b, void *out, void *ws)
{
    wino_run(c, pp, a, b, out, ws);
}
