/* The gemm algorithm: im2col / col2im + CBLAS GEMM, the production path. */
#include "internal.h"

#include <omp.h>
#include <string.h>

/*
 * GEMMs are cut into square tiles of at most TCONV__TILE rows and columns. The cut depends
 * on the shape alone, never on the thread count, so every output element is produced by
 * the same BLAS call whatever the number of threads: results are bit-identical.
 */
#define TCONV__TILE ((int64_t)512)

static int64_t tile_count(int64_t n)
{
    return (n + TCONV__TILE - 1) / TCONV__TILE;
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

static tconv_status plan(const tconv__ctx *c, tconv_product p, size_t *bytes, tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    int64_t R, per_thread;
    if (!tconv__mul(sh->cxg, sh->k_count, &R) || R > TCONV__BLAS_INT_MAX ||
        sh->y_count > TCONV__BLAS_INT_MAX || sh->cyg > TCONV__BLAS_INT_MAX)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "gemm: a GEMM dimension exceeds the BLAS "
                           "integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    const int64_t tasks = sh->batch * sh->groups;
    int64_t buffers = 1;
    if (p == TCONV_WGRAD) {
        per_thread = R < TCONV__TILE ? R : TCONV__TILE;
        buffers = sh->batch ? c->threads : 0;
    } else {
        per_thread = R;
        buffers = tasks == 0 ? 0 : tasks >= c->threads ? c->threads : 1;
    }
    int64_t elems;
    if (!tconv__mul(per_thread, sh->y_count, &elems) || !tconv__mul(elems, buffers, &elems) ||
        !tconv__elem_bytes(elems, c->dtype, bytes))
        return tconv__fail(err, TCONV_EOVERFLOW, "gemm: column buffer size overflows");
    return TCONV_OK;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

const tconv__algo tconv__algo_gemm = {TCONV_ALGO_GEMM, "gemm", plan, apply, apply_t, wgrad};
