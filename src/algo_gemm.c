/*
 * The gemm algorithm: im2col / col2im + CBLAS GEMM, the production path.
 *
 * The batch is processed in chunks. A chunk is either several whole images folded into one
 * GEMM (small maps: one GEMM over images·|Sy| columns instead of thin per-image ones) or,
 * when one image's columns would not fit under the workspace bound, a range of an image's
 * lines. Chunks depend on the shape and the bound alone, never on the thread count.
 *
 * Two layouts skip work the general one does (tconv__gemm_layout_of):
 *   tiled      the taps tile X exactly (kernel == stride, no padding, dilation 1; or a
 *              1x1 input map): col2im is a permutation, written without accumulation;
 *   pointwise  1x1 kernel, stride 1, no padding: the tensors are the column matrices,
 *              no im2col or col2im at all.
 */
#include "internal.h"

#include <omp.h>
#include <string.h>

/* Batch folding stops once a GEMM has this many columns: enough for BLAS to run at full
 * speed, few enough that the column buffer stays in cache between GEMM and col2im. */
#define TCONV__FOLD_COLUMNS ((int64_t)1024)

tconv__gemm_layout tconv__gemm_layout_of(const tconv__shape *sh)
{
    bool tiled = true, pointwise = true;
    for (int a = 0; a < 3; ++a) {
        const int64_t k = sh->k[a], s = sh->s[a], x = sh->x[a], y = sh->y[a];
        const bool unit_taps = sh->d[a] == 1 || k == 1, no_pad = sh->p[a] == 0;
        tiled = tiled && no_pad && unit_taps && ((k == s && x == y * s) || (y == 1 && x == k));
        pointwise = pointwise && no_pad && k == 1 && s == 1 && x == y;
    }
    return pointwise ? TCONV__LAYOUT_POINTWISE : tiled ? TCONV__LAYOUT_TILED
                                                      : TCONV__LAYOUT_GENERAL;
}

/*
 * One product's plan. Per chunk the workspace holds
 *   cols[R][width]        the column matrix, R = (C_x/g)·Πk, width = images·|Sy| or
 *                         lines·Y2;
 *   pack[C_y/g][width]    the Y-side matrix of a folded chunk (images side by side); an
 *                         unfolded chunk reads and writes the tensor itself.
 */
typedef struct plan {
    tconv__gemm_layout layout;
    int64_t R;      /* rows of the column matrix */
    int64_t images; /* images per chunk */
    int64_t lines;  /* lines per chunk: all of them unless an image is cut */
    int64_t cols;   /* elements of the column buffer */
    int64_t pack;   /* elements of the folded Y-side buffer */
} plan;

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static tconv_status plan_of(const tconv__ctx *c, plan *pl, tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    const int64_t Yc = sh->y_count, Y2 = sh->y[2], lines = sh->y[0] * sh->y[1];
    memset(pl, 0, sizeof *pl);
    pl->layout = tconv__gemm_layout_of(sh);
    if (!tconv__mul(sh->cxg, sh->k_count, &pl->R) || pl->R > TCONV__BLAS_INT_MAX ||
        Yc > TCONV__BLAS_INT_MAX || sh->cyg > TCONV__BLAS_INT_MAX)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "gemm: a GEMM dimension exceeds the BLAS "
                           "integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    pl->images = 1;
    pl->lines = lines;
    if (pl->layout == TCONV__LAYOUT_POINTWISE || sh->batch == 0)
        return TCONV_OK;

    /* elements that fit under the bound, less the alignment of two buffers */
    const size_t size = tconv__dtype_size(c->dtype);
    const int64_t budget = c->ws_limit > 2 * TCONV__ALIGN
                               ? (int64_t)((c->ws_limit - 2 * TCONV__ALIGN) / size) : 0;
    const int64_t per_folded = pl->R + sh->cyg; /* elements per column of a folded chunk */
    int64_t fold = min64(sh->batch, (TCONV__FOLD_COLUMNS + Yc - 1) / Yc);
    fold = min64(fold, min64(budget / per_folded / Yc, TCONV__BLAS_INT_MAX / Yc));
    if (fold >= 2) {
        pl->images = fold;
        pl->cols = pl->R * fold * Yc;
        pl->pack = sh->cyg * fold * Yc;
        return TCONV_OK;
    }
    pl->lines = min64(lines, budget / pl->R / Y2);
    if (pl->lines == 0)
        return tconv__fail(err, TCONV_EWORKSPACE, "gemm: workspace_limit = %zu bytes cannot hold "
                           "the columns of one line (%lld rows x %lld positions of %zu bytes)",
                           c->ws_limit, (long long)pl->R, (long long)Y2, size);
    pl->cols = pl->R * pl->lines * Y2;
    return TCONV_OK;
}

/* Offset, in elements, of the pack buffer: after the column buffer, aligned. */
static int64_t pack_offset(const plan *pl, size_t size)
{
    const int64_t per = (int64_t)(TCONV__ALIGN / size);
    return (pl->cols + per - 1) / per * per;
}

#define T float
#define TC(name) name##_f32
#define GEMM tconv__gemm_f32
#include "algo_gemm_tmpl.h"
#undef T
#undef TC
#undef GEMM

#define T double
#define TC(name) name##_f64
#define GEMM tconv__gemm_f64
#include "algo_gemm_tmpl.h"
#undef T
#undef TC
#undef GEMM

tconv_status tconv__gemm_plan(const tconv__ctx *c, tconv_product p, size_t *bytes,
                              tconv_error *err)
{
    (void)p; /* the three products lay out their chunks alike */
    plan pl;
    tconv_status s = plan_of(c, &pl, err);
    if (s != TCONV_OK)
        return s;
    size_t cols = 0, pack = 0;
    *bytes = 0;
    if (!tconv__elem_bytes(pl.cols, c->dtype, &cols) ||
        !tconv__elem_bytes(pl.pack, c->dtype, &pack) || !tconv__ws_add(bytes, cols) ||
        !tconv__ws_add(bytes, pack))
        return tconv__fail(err, TCONV_EOVERFLOW, "gemm: column buffer size overflows");
    return TCONV_OK;
}

int64_t tconv__gemm_images_per_chunk(const tconv__ctx *c, tconv_product p)
{
    (void)p;
    plan pl;
    if (plan_of(c, &pl, NULL) != TCONV_OK || c->sh.batch == 0)
        return 0;
    return pl.lines < c->sh.y[0] * c->sh.y[1] ? 0 : pl.images;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

void tconv__gemm_apply(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    apply(c, a, b, out, ws);
}

void tconv__gemm_wgrad(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    wgrad(c, a, b, out, ws);
}

const tconv__algo tconv__algo_gemm = {TCONV_ALGO_GEMM, "gemm", tconv__gemm_plan, apply,
                                      apply_t, wgrad};
