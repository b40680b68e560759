/*
 * Layer entry points. They validate everything, plan and obtain the workspace, and only
 * then route to the three products:
 *
 *   conv forward              apply(x)                  + bias over y_channels
 *   conv backward-data        apply_t(grad_y)
 *   conv backward-weight      wgrad(y = grad_y, x = x)
 *   convt forward             apply_t(in)               + bias over x_channels
 *   convt backward-data       apply(grad_out)
 *   convt backward-weight     wgrad(y = in, x = grad_out)
 *   bias gradient             sum of the output gradient over batch and space
 *
 * Every failure is found before the first write, so a failed call leaves all outputs
 * untouched.
 */
#include "internal.h"

#include "threads.h"
#include <string.h>

typedef struct call {
    tconv__ctx ctx;
    const tconv__algo *algo;
    const tconv_options *opt;
    tconv_error *err;
    void *block; /* what we allocated, if anything */
    void *ws;    /* aligned workspace */
    atomic_int failed; /* a GEMM provider failed during the last product */
} call;

/*
 * Without an explicit thread count, a small problem runs on fewer threads: waking a team
 * costs microseconds, and far more when the cores are shared and threads spin-wait for
 * each other. One thread per TCONV__GRAIN multiply-adds, at most OpenMP's default. (The
 * thread count never changes the results, so this is a pure speed decision.)
 */
#define TCONV__GRAIN ((int64_t)1 << 18)

static int default_threads(const tconv__shape *sh)
{
    const int most = tconv__max_threads();
    /* multiply-adds of any one product: N · C_y · (C_x/g) · Πk · |Sy| */
    int64_t macs = 1;
    const int64_t factors[5] = {sh->batch, sh->cy, sh->cxg, sh->k_count, sh->y_count};
    for (int i = 0; i < 5; ++i)
        if (!tconv__mul(macs, factors[i], &macs))
            return most;
    const int64_t want = macs / TCONV__GRAIN + 1;
    return want < most ? (int)want : most;
}

static tconv_status begin(call *k, const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                          const tconv_options *opt, tconv_error *err)
{
    k->opt = opt;
    k->err = err;
    k->block = k->ws = NULL;
    tconv_status s = tconv_geometry_check(g, err);
    if (s != TCONV_OK)
        return s;
    if (dtype != TCONV_F32 && dtype != TCONV_F64)
        return tconv__fail(err, TCONV_EINVAL, "dtype = %d: must be TCONV_F32 or TCONV_F64",
                           (int)dtype);
    if (opt && (opt->num_threads < 0 || opt->num_threads > TCONV_MAX_THREADS))
        return tconv__fail(err, TCONV_EINVAL, "options.num_threads = %d: must be from 0 "
                           "(OpenMP's default) to TCONV_MAX_THREADS = %d", opt->num_threads,
                           TCONV_MAX_THREADS);
    if (opt && !opt->alloc != !opt->free)
        return tconv__fail(err, TCONV_EINVAL, "options.alloc and options.free must be set "
                           "together");
    if (opt && (opt->layout != TCONV_LAYOUT_CHANNELS_FIRST || opt->x_strides || opt->y_strides))
        return tconv__fail(err, TCONV_EUNSUPPORTED, "options.layout and strided views are "
                           "not implemented yet");
    k->ctx.g = g;
    k->ctx.dtype = dtype;
    tconv__shape_from(g, &k->ctx.sh);
    k->ctx.threads = opt && opt->num_threads > 0 ? opt->num_threads
                                                  : default_threads(&k->ctx.sh);
    k->ctx.dense_limit = opt && opt->dense_limit ? opt->dense_limit : TCONV__DENSE_LIMIT;
    k->ctx.ws_limit = opt && opt->workspace_limit ? opt->workspace_limit
                                                  : TCONV_WORKSPACE_LIMIT_DEFAULT;
    k->ctx.bias = NULL;
    atomic_init(&k->failed, 0);
    k->ctx.failed = &k->failed;
    tconv_status ps = tconv__provider_select(opt ? opt->provider : TCONV_PROVIDER_DEFAULT,
                                             dtype, &k->ctx.provider, err);
    if (ps != TCONV_OK)
        return ps;
    k->algo = tconv__algo_resolve(algo, &k->ctx);
    if (!k->algo)
        return tconv__fail(err, TCONV_EINVAL, "algo = %d: not an algorithm", (int)algo);
    return TCONV_OK;
}

/* Workspace for the products in `need` (run one after another, so the largest counts),
 * plus the slack that lets any caller buffer be aligned. */
static tconv_status plan(call *k, const bool need[3], size_t *bytes)
{
    size_t most = 0;
    for (int p = 0; p < 3; ++p) {
        if (!need[p])
            continue;
        size_t b = 0;
        tconv_status s = k->algo->plan(&k->ctx, (tconv_product)p, &b, k->err);
        if (s != TCONV_OK)
            return s;
        most = b > most ? b : most;
    }
    if (most && __builtin_add_overflow(most, TCONV__ALIGN, &most))
        return tconv__fail(k->err, TCONV_EOVERFLOW, "workspace size overflows");
    *bytes = most;
    return TCONV_OK;
}

static void *align_up(void *p)
{
    return (void *)(((uintptr_t)p + TCONV__ALIGN - 1) & ~(uintptr_t)(TCONV__ALIGN - 1));
}

static tconv_status acquire(call *k, const bool need[3])
{
    size_t bytes = 0;
    tconv_status s = plan(k, need, &bytes);
    if (s != TCONV_OK || bytes == 0)
        return s;
    const tconv_options *o = k->opt;
    if (o && o->workspace) {
        if (o->workspace_bytes < bytes)
            return tconv__fail(k->err, TCONV_EWORKSPACE, "workspace of %zu bytes is too small: "
                               "this call needs %zu (ask tconv_workspace_size)",
                               o->workspace_bytes, bytes);
        k->ws = align_up(o->workspace);
        return TCONV_OK;
    }
    k->block = tconv__alloc(o, bytes);
    if (!k->block)
        return tconv__fail(k->err, TCONV_ENOMEM, "could not allocate a workspace of %zu bytes",
                           bytes);
    k->ws = align_up(k->block);
    return TCONV_OK;
}

static void release(call *k)
{
    tconv__free(k->opt, k->block);
}

/* A tensor argument: NULL is accepted only for a tensor with no elements. */
static tconv_status need_tensor(const call *k, const void *p, tconv_tensor t, const char *name)
{
    if (!p && tconv_tensor_numel(k->ctx.g, t) > 0)
        return tconv__fail(k->err, TCONV_EINVAL, "%s is NULL", name);
    return TCONV_OK;
}

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        tconv_status s_ = (expr);                                                              \
        if (s_ != TCONV_OK)                                                                    \
            return s_;                                                                         \
    } while (0)

/*
 * An empty batch is the only way a tensor has no elements (channels and sizes are
 * positive), and such a tensor may be NULL. It is settled here, so no algorithm ever sees
 * an empty or NULL tensor: apply and apply_t have nothing to write, wgrad's sum is zero.
 */
static void run(call *k, tconv_product p, const void *a, const void *b, void *out)
{
    if (k->ctx.sh.batch == 0) {
        if (p == TCONV_WGRAD)
            memset(out, 0, (size_t)tconv_tensor_numel(k->ctx.g, TCONV_TENSOR_WEIGHT) *
                               tconv__dtype_size(k->ctx.dtype));
        return;
    }
    const tconv__product_fn fn[3] = {k->algo->apply, k->algo->apply_t, k->algo->wgrad};
    fn[p](&k->ctx, a, b, out, k->ws);
    if (atomic_load_explicit(k->ctx.failed, memory_order_relaxed)) {
        /* A provider failed somewhere in the product: every product overwrites its whole
         * output, so computing it again with a provider that cannot fail leaves no trace
         * of the failed one. */
        tconv__ctx again = k->ctx;
        again.provider = tconv__provider_fallback();
        again.failed = NULL;
        fn[p](&again, a, b, out, k->ws);
        atomic_store_explicit(k->ctx.failed, 0, memory_order_relaxed);
    }
}

/* ---- products --------------------------------------------------------------------------- */

static const tconv_tensor product_out[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};

tconv_status tconv_product_workspace_size(const tconv_geometry *g, tconv_product p,
                                          tconv_algo algo, tconv_dtype dtype,
                                          const tconv_options *opt, size_t *bytes,
                                          tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, algo, dtype, opt, err));
    if ((unsigned)p > TCONV_WGRAD)
        return tconv__fail(err, TCONV_EINVAL, "product = %d: not a product", (int)p);
    if (!bytes)
        return tconv__fail(err, TCONV_EINVAL, "bytes is NULL");
    bool need[3] = {false, false, false};
    need[p] = true;
    return plan(&k, need, bytes);
}

tconv_status tconv_product_run(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                               tconv_dtype dtype, const void *a, const void *b,
                               const void *weight, void *out, const tconv_options *opt,
                               tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, algo, dtype, opt, err));
    if ((unsigned)p > TCONV_WGRAD)
        return tconv__fail(err, TCONV_EINVAL, "product = %d: not a product", (int)p);
    const tconv_tensor a_kind[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    CHECK(need_tensor(&k, a, a_kind[p], "a"));
    if (p == TCONV_WGRAD)
        CHECK(need_tensor(&k, b, TCONV_TENSOR_X, "b"));
    else
        CHECK(need_tensor(&k, weight, TCONV_TENSOR_WEIGHT, "weight"));
    CHECK(need_tensor(&k, out, product_out[p], "out"));
    bool need[3] = {false, false, false};
    need[p] = true;
    CHECK(acquire(&k, need));
    run(&k, p, a, p == TCONV_WGRAD ? b : weight, out);
    release(&k);
    return TCONV_OK;
}

/* ---- layers ----------------------------------------------------------------------------- */

tconv_status tconv_algo_choose(const tconv_geometry *g, tconv_dtype dtype,
                               const tconv_options *opt, tconv_algo *out, tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, TCONV_ALGO_AUTO, dtype, opt, err));
    if (!out)
        return tconv__fail(err, TCONV_EINVAL, "out is NULL");
    *out = k.algo->id;
    return TCONV_OK;
}

tconv_status tconv_workspace_size(const tconv_geometry *g, tconv_op op, tconv_algo algo,
                                  tconv_dtype dtype, const tconv_options *opt, size_t *bytes,
                                  tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, algo, dtype, opt, err));
    if (!bytes)
        return tconv__fail(err, TCONV_EINVAL, "bytes is NULL");
    bool need[3] = {false, false, false};
    switch (op) {
    case TCONV_CONV_FORWARD:
        need[TCONV_APPLY] = true;
        break;
    case TCONV_CONV_BACKWARD:
        need[TCONV_APPLY_T] = need[TCONV_WGRAD] = true;
        break;
    case TCONV_CONVT_FORWARD:
        need[TCONV_APPLY_T] = true;
        break;
    case TCONV_CONVT_BACKWARD:
        need[TCONV_APPLY] = need[TCONV_WGRAD] = true;
        break;
    default:
        return tconv__fail(err, TCONV_EINVAL, "op = %d: not an operation", (int)op);
    }
    return plan(&k, need, bytes);
}

/* Forward of either layer: out = product(in) + bias over the out tensor's channels. */
static tconv_status forward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                            tconv_product p, const void *in, const void *weight,
                            const void *bias, void *out, const tconv_options *opt,
                            tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, algo, dtype, opt, err));
    const bool conv = p == TCONV_APPLY;
    CHECK(need_tensor(&k, in, conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y, "input"));
    CHECK(need_tensor(&k, weight, TCONV_TENSOR_WEIGHT, "weight"));
    CHECK(need_tensor(&k, out, conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X, "output"));
    bool need[3] = {false, false, false};
    need[p] = true;
    CHECK(acquire(&k, need));
    if (tconv__fuses_bias(k.algo))
        k.ctx.bias = bias;
    run(&k, p, in, weight, out);
    if (bias && !tconv__fuses_bias(k.algo))
        tconv__bias_add(&k.ctx, dtype, conv ? k.ctx.sh.cy : k.ctx.sh.cx,
                        conv ? k.ctx.sh.y_count : k.ctx.sh.x_count, bias, out);
    release(&k);
    return TCONV_OK;
}

/*
 * Backward of either layer. `data` is the product that carries the output gradient back
 * to the input (apply_t for the conv, apply for the transposed conv); the weight gradient
 * is wgrad with the Y-side and X-side tensors in their places.
 */
static tconv_status backward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                             bool conv, const void *in, const void *weight,
                             const void *grad_out, void *grad_in, void *grad_weight,
                             void *grad_bias, const tconv_options *opt, tconv_error *err)
{
    call k;
    CHECK(begin(&k, g, algo, dtype, opt, err));
    const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
    const tconv_tensor out_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
    const tconv_product data = conv ? TCONV_APPLY_T : TCONV_APPLY;
    if (!grad_in && !grad_weight && !grad_bias)
        return TCONV_OK;
    CHECK(need_tensor(&k, grad_out, out_t, "grad_output"));
    if (grad_in) {
        CHECK(need_tensor(&k, weight, TCONV_TENSOR_WEIGHT, "weight"));
        CHECK(need_tensor(&k, grad_in, in_t, "grad_input"));
    }
    if (grad_weight)
        CHECK(need_tensor(&k, in, in_t, "input"));
    bool need[3] = {false, false, false};
    need[data] = grad_in != NULL;
    need[TCONV_WGRAD] = grad_weight != NULL;
    CHECK(acquire(&k, need));
    if (grad_in)
        run(&k, data, grad_out, weight, grad_in);
    if (grad_weight) /* wgrad(a = Y-side tensor, b = X-side tensor) */
        run(&k, TCONV_WGRAD, conv ? grad_out : in, conv ? in : grad_out, grad_weight);
    if (grad_bias)
        tconv__bias_grad(&k.ctx, dtype, conv ? k.ctx.sh.cy : k.ctx.sh.cx,
                         conv ? k.ctx.sh.y_count : k.ctx.sh.x_count, grad_out, grad_bias);
    release(&k);
    return TCONV_OK;
}

tconv_status tconv_conv_forward_ex(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                   const void *x, const void *weight, const void *bias, void *y,
                                   const tconv_options *opt, tconv_error *err)
{
    return forward(g, algo, dtype, TCONV_APPLY, x, weight, bias, y, opt, err);
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
    return forward(g, algo, dtype, TCONV_APPLY_T, in, weight, bias, out, opt, err);
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
    return backward(g, algo, dtype, true, x, weight, grad_y, grad_x, grad_weight, grad_bias,
                    opt, err);
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
    return backward(g, algo, dtype, false, in, weight, grad_out, grad_in, grad_weight,
                    grad_bias, opt, err);
}

tconv_status tconv_convt_backward(const tconv_geometry *g, tconv_algo algo, tconv_dtype dtype,
                                  const void *in, const void *weight, const void *grad_out,
                                  void *grad_in, void *grad_weight, void *grad_bias)
{
    return tconv_convt_backward_ex(g, algo, dtype, in, weight, grad_out, grad_in, grad_weight,
                                   grad_bias, NULL, NULL);
}
