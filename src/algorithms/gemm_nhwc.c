/*
 * The gemm algorithm on channels-last tensors: its own GEMM formulation (see
 * gemm_nhwc_tmpl.h), planned by gemm.c's planner, reached through gemm.c's products.
 */
#include "algorithms/gemm_plan.h"

#include "threads.h"

#include <string.h>

#define TCONV_TEMPLATE "algorithms/gemm_nhwc_tmpl.h"
#include "instantiate.h"

void tconv__gemm_nhwc_apply(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                            const void *b, void *out, void *ws)
{
    if (c->dtype == TCONV_F64)
        nhwc_apply_f64(c, pp, a, b, out, ws);
    else
        nhwc_apply_f32(c, pp, a, b, out, ws);
}

void tconv__gemm_nhwc_apply_t(const tconv__ctx *c, const tconv__product_plan *pp,
                              const void *a, const void *b, void *out, void *ws)
{
    if (c->dtype == TCONV_F64)
        nhwc_apply_t_f64(c, pp, a, b, out, ws);
    else
        nhwc_apply_t_f32(c, pp, a, b, out, ws);
}

void tconv__gemm_nhwc_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                            const void *b, void *out, void *ws)
{
    if (c->dtype == TCONV_F64)
        nhwc_wgrad_f64(c, pp, a, b, out, ws);
    else
        nhwc_wgrad_f32(c, pp, a, b, out, ws);
}

void tconv__gemm_nhwc_apply_wgrad(const tconv__ctx *c, const tconv__product_plan *pp,
                                  const void *a, const void *b, const void *a2, void *out,
                                  void *out2, void *ws)
{
    if (c->dtype == TCONV_F64)
        nhwc_apply_wgrad_f64(c, pp, a, b, a2, out, out2, ws);
    else
        nhwc_apply_wgrad_f32(c, pp, a, b, a2, out, out2, ws);
}
