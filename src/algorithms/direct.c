/* The reference algorithms: scatter (distribution view) and gather (collection view). */
#include "internal.h"

#include <string.h>

/* Extent of x padded by p on both sides: the distribution view's canvas. */
static void padded_extent(const tconv__shape *sh, int64_t P[3])
{
    for (int a = 0; a < 3; ++a)
        P[a] = sh->x[a] + 2 * sh->p[a];
}

/* Extent of the stretched, padded y of the collection view, and its left pad q. */
static void stretched_extent(const tconv__shape *sh, int64_t Z[3], int64_t q[3])
{
    for (int a = 0; a < 3; ++a) {
        q[a] = sh->d[a] * (sh->k[a] - 1) - sh->p[a];
        Z[a] = sh->x[a] + sh->d[a] * (sh->k[a] - 1);
    }
}

/* The y position o that reaches x position i through tap k on axis a, if any. */
static bool source_of(int64_t i, int64_t k, const tconv__shape *sh, int a, int64_t *o)
{
    const int64_t t = i + sh->p[a] - k * sh->d[a];
    if (t < 0 || t % sh->s[a])
        return false;
    *o = t / sh->s[a];
    return *o < sh->y[a];
}

/* `count` elements of `size` bytes, rounded up to whole TCONV__ALIGN blocks. */
static int64_t round_elems(int64_t count, size_t size)
{
    const int64_t per = (int64_t)(TCONV__ALIGN / size);
    return (count + per - 1) / per * per;
}

#define TCONV_TEMPLATE "algorithms/direct_tmpl.h"
#include "instantiate.h"

/* channels × Π extent elements, checked. */
static bool canvas_elems(int64_t channels, const int64_t E[3], int64_t *n)
{
    return tconv__mul(channels, E[0], n) && tconv__mul(*n, E[1], n) &&
           tconv__mul(*n, E[2], n);
}

/* The loops run on the calling thread: a team of one. */
static tconv_status plan_bytes(const tconv__ctx *c, int64_t elems, int64_t extra,
                               tconv__product_plan *pp, tconv_error *err, const char *name)
{
    size_t b = 0, e = 0;
    if (!tconv__elem_bytes(elems, c->dtype, &b) || !tconv__elem_bytes(extra, c->dtype, &e) ||
        !tconv__ws_add(&b, e))
        return tconv__fail(err, TCONV_EOVERFLOW, "%s: workspace size overflows", name);
    tconv__plan_shared(pp, b, 1);
    return TCONV_OK;
}

static tconv_status plan_scatter(const tconv__ctx *c, tconv_product p,
                                 tconv__product_plan *pp, tconv_error *err)
{
    int64_t P[3], n = 0;
    padded_extent(&c->sh, P);
    if (p != TCONV_APPLY && !canvas_elems(c->sh.cx, P, &n))
        return tconv__fail(err, TCONV_EOVERFLOW, "scatter: padded canvas size overflows");
    return plan_bytes(c, n, 0, pp, err, "scatter");
}

static tconv_status plan_gather(const tconv__ctx *c, tconv_product p,
                                tconv__product_plan *pp, tconv_error *err)
{
    int64_t E[3], q[3], n, extra = 0;
    if (p == TCONV_APPLY) {
        padded_extent(&c->sh, E);
        if (!canvas_elems(c->sh.cx, E, &n))
            return tconv__fail(err, TCONV_EOVERFLOW, "gather: padded input size overflows");
    } else {
        stretched_extent(&c->sh, E, q);
        if (!canvas_elems(c->sh.cy, E, &n))
            return tconv__fail(err, TCONV_EOVERFLOW, "gather: stretched input size overflows");
        if (p == TCONV_APPLY_T) /* room for the flipped kernel */
            extra = c->sh.cy * c->sh.cxg * c->sh.k_count;
    }
    return plan_bytes(c, n, extra, pp, err, "gather");
}

TCONV__DTYPE_DISPATCH(scatter_apply)
TCONV__DTYPE_DISPATCH(scatter_apply_t)
TCONV__DTYPE_DISPATCH(scatter_wgrad)
TCONV__DTYPE_DISPATCH(gather_apply)
TCONV__DTYPE_DISPATCH(gather_apply_t)
TCONV__DTYPE_DISPATCH(gather_wgrad)

const tconv__algo tconv__algo_scatter = {TCONV_ALGO_SCATTER, "scatter", plan_scatter,
                                         scatter_apply, scatter_apply_t, scatter_wgrad,
                                         NULL, false, NULL};
const tconv__algo tconv__algo_gather = {TCONV_ALGO_GATHER, "gather", plan_gather, gather_apply,
                                        gather_apply_t, gather_wgrad, NULL, false, NULL};
