/*
 * Layer entry points: each plans on its own stack and runs the plan once (src/core/plan.c),
 * so a call and a plan made once and run many times are the same code path.
 *
 *   conv forward              apply(x)                  + bias over y_channels
 *   conv backward-data        apply_t(grad_y)
 *   conv backward-weight      wgrad(y = grad_y, x = x)
 *   convt forward             apply_t(in)               + bias over x_channels
 *   convt backward-data       apply(grad_out)
 *   convt backward-weight     wgrad(y = in, x = grad_out)
 *   bias gradient             sum of the output gradient over batch and space
 */
#include "core/plan.h"

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        tconv_status s_ = (expr);                                                              \
        if (s_ != TCONV_OK)                                                                    \
            return s_;                                                                         \
    } while (0)

static void *ws_of(const tconv_options *opt, size_t *bytes)
{
    *bytes = opt && opt->workspace ? opt->workspace_bytes : 0;
    return opt ? opt->workspace : NULL;
}

/* ---- products --------------------------------------------------------------------------- */

tconv_status tconv_product_workspace_size(const tconv_geometry *g, tconv_product p,
                                          tconv_algo algo, tconv_dtype dtype,
                                          const tconv_options *opt, size_t *bytes,
                                          tconv_error *err)
{
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, TCONV__TASK_PRODUCT, TCONV_CONV_FORWARD, p, 0, algo, dtype,
                           opt, err));
    if (!bytes)
        return tconv__fail(err, TCONV_EINVAL, "bytes is NULL");
    tconv__plan_bytes(&pl, pl.ctx.threads, bytes);
    return TCONV_OK;
}

tconv_status tconv_product_run(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                               tconv_dtype dtype, const void *a, const void *b,
                               const void *weight, void *out, const tconv_options *opt,
                               tconv_error *err)
{
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, TCONV__TASK_PRODUCT, TCONV_CONV_FORWARD, p, 0, algo, dtype,
                           opt, err));
    size_t bytes;
    void *ws = ws_of(opt, &bytes);
    return tconv__plan_product(&pl, a, b, weight, out, ws, bytes, err);
}

/* ---- layers ----------------------------------------------------------------------------- */

tconv_status tconv_algo_choose(const tconv_geometry *g, tconv_dtype dtype,
                               const tconv_options *opt, tconv_algo *out, tconv_error *err)
{
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, TCONV__TASK_FORWARD, TCONV_CONVT_FORWARD, TCONV_APPLY, 0,
                           TCONV_ALGO_AUTO, dtype, opt, err));
    if (!out)
        return tconv__fail(err, TCONV_EINVAL, "out is NULL");
    *out = pl.algo->id;
    return TCONV_OK;
}

tconv_status tconv_workspace_size(const tconv_geometry *g, tconv_op op, tconv_algo algo,
                                  tconv_dtype dtype, const tconv_options *opt, size_t *bytes,
                                  tconv_error *err)
{
    tconv__task task;
    if (!tconv__task_of(op, &task)) {
        CHECK(tconv_geometry_check(g, err));
        return tconv__fail(err, TCONV_EINVAL, "op = %d: not an operation", (int)op);
    }
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, task, op, TCONV_APPLY, TCONV_GRAD_ALL, algo, dtype, opt,
                           err));
    if (!bytes)
        return tconv__fail(err, TCONV_EINVAL, "bytes is NULL");
    tconv__plan_bytes(&pl, pl.ctx.threads, bytes);
    return TCONV_OK;
}

static tconv_status forward(const tconv_geometry *g, tconv_op op, tconv_algo algo,
                            tconv_dtype dtype, const void *in, const void *weight,
                            const void *bias, void *out, const tconv_options *opt,
                            tconv_error *err)
{
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, TCONV__TASK_FORWARD, op, TCONV_APPLY, 0, algo, dtype, opt,
                           err));
    size_t bytes;
    void *ws = ws_of(opt, &bytes);
    return tconv_plan_forward(&pl, in, weight, bias, out, ws, bytes, err);
}

/* A backward call plans only the gradients it is asked for. */
static tconv_status backward(const tconv_geometry *g, tconv_op op, tconv_algo algo,
                             tconv_dtype dtype, const void *in, const void *weight,
                             const void *grad_out, void *grad_in, void *grad_weight,
                             void *grad_bias, const tconv_options *opt, tconv_error *err)
{
    const unsigned grads = (grad_in ? TCONV_GRAD_INPUT : 0) |
                           (grad_weight ? TCONV_GRAD_WEIGHT : 0) |
                           (grad_bias ? TCONV_GRAD_BIAS : 0);
    tconv_plan pl;
    CHECK(tconv__plan_init(&pl, g, TCONV__TASK_BACKWARD, op, TCONV_APPLY,
                           grads ? grads : TCONV_GRAD_BIAS, algo, dtype, opt, err));
    size_t bytes;
    void *ws = ws_of(opt, &bytes);
    return tconv_plan_backward(&pl, in, weight, grad_out, grad_in, grad_weight, grad_bias, ws,
                               bytes, err);
}

tconv_status tconv_conv_forward_ex(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                   const void *x, const void *weight, const void *bias, void *y,
                                   const tconv_options *opt, tconv_error *err)
{
    return forward(g, TCONV_CONV_FORWARD, algo, dtype, x, weight, bias, y, opt, err);
}

tconv_status tconv_conv_forward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                const void *x, const void *weight, const void *bias, void *y)
{
    return tconv_conv_forward_ex(g, algo, dtype, x, weight, bias, y, NULL, NULL);
}

tconv_status tconv_convt_forward_ex(const tconv_geometry *g, tconv_algo algo,
                                    tconv_dtype dtype, const void *in, const void *weight,
                                    const void *bias, void *out, const tconv_options *opt,
                                    tconv_error *err)
{
    return forward(g, TCONV_CONVT_FORWARD, algo, dtype, in, weight, bias, out, opt, err);
}

tconv_status tconv_convt_forward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                 const void *in, const void *weight, const void *bias,
                                 void *out)
{
    return tconv_convt_forward_ex(g, algo, dtype, in, weight, bias, out, NULL, NULL);
}

tconv_status tconv_conv_backward_ex(const tconv_geometry *g, tconv_algo algo,
                                    tconv_dtype dtype, const void *x, const void *weight,
                                    const void *grad_y, void *grad_x, void *grad_weight,
                                    void *grad_bias, const tconv_options *opt,
                                    tconv_error *err)
{
    return backward(g, TCONV_CONV_BACKWARD, algo, dtype, x, weight, grad_y, grad_x,
                    grad_weight, grad_bias, opt, err);
}

tconv_status tconv_conv_backward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                 const void *x, const void *weight, const void *grad_y,
                                 void *grad_x, void *grad_weight, void *grad_bias)
{
    return tconv_conv_backward_ex(g, algo, dtype, x, weight, grad_y, grad_x, grad_weight,
                                  grad_bias, NULL, NULL);
}

tconv_status tconv_convt_backward_ex(const tconv_geometry *g, tconv_algo algo,
                                     tconv_dtype dtype, const void *in, const void *weight,
                                     const void *grad_out, void *grad_in, void *grad_weight,
                                     void *grad_bias, const tconv_options *opt,
                                     tconv_error *err)
{
    return backward(g, TCONV_CONVT_BACKWARD, algo, dtype, in, weight, grad_out, grad_in,
                    grad_weight, grad_bias, opt, err);
}

tconv_status tconv_convt_backward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                  const void *in, const void *weight, const void *grad_out,
                                  void *grad_in, void *grad_weight, void *grad_bias)
{
    return tconv_convt_backward_ex(g, algo, dtype, in, weight, grad_out, grad_in, grad_weight,
                                   grad_bias, NULL, NULL);
}
