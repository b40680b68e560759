/*
 * The dense algorithm: build the whole transformation matrix C of one image and multiply
 * by it with GEMM. A teaching and benchmark path: C has (C_y·|Sy|)·(C_x·|Sx|) entries, most
 * of them zeros, so its size is quadratic in the map and it is refused past
 * options.dense_limit rather than tried.
 */
#include "internal.h"

#include <string.h>

/*
 * Each GEMM is cut into fixed blocks of the output's long dimension, each block one
 * single-threaded BLAS call. The cut depends on the shape alone, so every output element
 * comes from the same call whatever the thread count: results are bit-identical.
 */
#define DENSE_BLOCK ((int64_t)256)

static int64_t block_count(int64_t n)
{
    return (n + DENSE_BLOCK - 1) / DENSE_BLOCK;
}

static int64_t block_len(int64_t n, int64_t b)
{
    return n - b * DENSE_BLOCK < DENSE_BLOCK ? n - b * DENSE_BLOCK : DENSE_BLOCK;
}

#define TCONV_TEMPLATE "algorithms/dense_tmpl.h"
#include "instantiate.h"

/* One rows x cols matrix of the dtype: C for apply and apply_t, its gradient dL/dC for
 * wgrad. Refused (TCONV_ETOOBIG) past the limit, with the bytes it would need. */
static tconv_status plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                         tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    const int64_t rows = tconv__matrix_rows(sh, false), cols = tconv__matrix_rows(sh, true);
    const char *what = p == TCONV_WGRAD ? "gradient dL/dC" : "matrix C";
    const char *type = c->dtype == TCONV_F64 ? "float64" : "float32";
    int64_t elems, exact;
    size_t need;
    if (!tconv__mul(rows, cols, &elems) ||
        !tconv__mul(elems, (int64_t)tconv__dtype_size(c->dtype), &exact) ||
        !tconv__elem_bytes(elems, c->dtype, &need))
        return tconv__fail(err, TCONV_ETOOBIG, "dense: the %lld x %lld %s would need more "
                           "than 2^63 bytes", (long long)rows, (long long)cols, what);
    if ((size_t)exact > c->dense_limit)
        return tconv__fail(err, TCONV_ETOOBIG, "dense: the %lld x %lld %s needs %lld bytes in "
                           "%s, more than the limit of %zu bytes (options.dense_limit; 0 "
                           "means the default, %zu MiB)", (long long)rows, (long long)cols,
                           what, (long long)exact, type, c->dense_limit,
                           TCONV__DENSE_LIMIT >> 20);
    if (rows > TCONV__BLAS_INT_MAX || cols > TCONV__BLAS_INT_MAX ||
        sh->batch > TCONV__BLAS_INT_MAX)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "dense: a GEMM dimension exceeds the BLAS "
                           "integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    tconv__plan_shared(pp, need, c->threads);
    return TCONV_OK;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

const tconv__algo tconv__algo_dense = {TCONV_ALGO_DENSE, "dense", plan, apply, apply_t, wgrad,
                                       NULL, false, NULL};
