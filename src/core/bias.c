/* Bias of either layer: added over the output, and its gradient summed over the output
 * gradient. */
#include "internal.h"

#include <string.h>

#define TCONV_TEMPLATE "core/bias_tmpl.h"
#include "instantiate.h"

void tconv__bias_add(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                     const void *bias, void *t)
{
    if (dtype == TCONV_F64)
        bias_add_f64(c, channels, count, bias, t);
    else
        bias_add_f32(c, channels, count, bias, t);
}

void tconv__bias_grad(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                      int64_t row, const void *g, void *grad_bias)
{
    if (dtype == TCONV_F64)
        bias_grad_f64(c, channels, count, row, g, grad_bias);
    else
        bias_grad_f32(c, channels, count, row, g, grad_bias);
}
