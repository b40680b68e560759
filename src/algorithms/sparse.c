/*
 * The sparse algorithm: the transformation matrix in CSR, with per non-zero its column,
 * the index of the weight it copies, and its value; applied with our own SpMM. Cᵀ y needs
 * the rows of Cᵀ, so apply_t builds the CSR of Cᵀ directly from the geometry (a second
 * structure) instead of scattering through C's rows: every output element is then one
 * thread's ordered sum, bit-identical for any thread count.
 */
#include "internal.h"

#include <string.h>

/* Where the CSR arrays lie in the workspace: byte offsets, each TCONV__ALIGN-aligned. */
typedef struct csr_layout {
    int64_t rows, nnz;
    size_t col, widx, val, total;
} csr_layout;

/* The CSR of C (apply, wgrad) or Cᵀ (apply_t); wgrad needs no values. False on overflow
 * (plan() has the non-zero count refused with its own message first). */
static bool layout_of(const tconv__ctx *c, tconv_product p, csr_layout *l)
{
    const tconv__shape *sh = &c->sh;
    l->rows = tconv__matrix_rows(sh, p == TCONV_APPLY_T);
    size_t b;
    int64_t n;
    l->total = 0;
    if (tconv__matrix_nnz(sh, &l->nnz, NULL) != TCONV_OK || !tconv__add(l->rows, 1, &n) ||
        !tconv__elem_bytes(n, TCONV_F64, &b) || !tconv__ws_add(&l->total, b)) /* row_ptr */
        return false;
    l->col = l->total;
    if (!tconv__elem_bytes(l->nnz, TCONV_F64, &b) || !tconv__ws_add(&l->total, b))
        return false;
    l->widx = l->total;
    if (!tconv__ws_add(&l->total, b))
        return false;
    l->val = l->total;
    return p == TCONV_WGRAD ||
           (tconv__elem_bytes(l->nnz, c->dtype, &b) && tconv__ws_add(&l->total, b));
}

/* int64 arrays share tconv__elem_bytes with float64: both are 8 bytes. */
_Static_assert(sizeof(int64_t) == sizeof(double), "int64_t and double differ in size");

#define TCONV_TEMPLATE "algorithms/sparse_tmpl.h"
#include "instantiate.h"

static tconv_status plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                         tconv_error *err)
{
    csr_layout l;
    tconv_error why;
    const tconv_status s = tconv__matrix_nnz(&c->sh, &l.nnz, &why);
    if (s != TCONV_OK)
        return tconv__fail(err, s, "sparse: %s", why.message);
    if (!layout_of(c, p, &l))
        return tconv__fail(err, TCONV_EOVERFLOW, "sparse: the CSR arrays of the transformation "
                           "matrix (%lld rows) have more bytes than size_t can count",
                           (long long)tconv__matrix_rows(&c->sh, p == TCONV_APPLY_T));
    tconv__plan_shared(pp, l.total, c->threads);
    return TCONV_OK;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

const tconv__algo tconv__algo_sparse = {TCONV_ALGO_SPARSE, "sparse", plan, apply, apply_t,
                                        wgrad, NULL, false, NULL};
