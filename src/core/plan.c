/*
 * Plans: every check and decision of a call made once, and the runs that follow them.
 *
 * A layer operation is one or two of the products (the table in layers.c); a plan
 * records, besides the context every product reads, which products its runs need and
 * each one's own plan (tiles, blocks, team, workspace), and how the caller's activations
 * reach them: an algorithm that computes channels-first gets channels-first copies of
 * channels-last inputs (and writes its output in the workspace, converted afterwards), and
 * a strided view is copied dense. Those copies live at the front of the workspace:
 *
 *   [ X-side input copy ][ Y-side input copy ][ output before conversion ][ products ]
 *
 * Every failure of a call is found at planning or among the run's own checks, before the
 * first write: a failed call leaves all outputs untouched.
 */
#include "core/plan.h"

#include "threads.h"

#include <stdio.h>
#include <string.h>

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

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        tconv_status s_ = (expr);                                                              \
        if (s_ != TCONV_OK)                                                                    \
            return s_;                                                                         \
    } while (0)

/* ---- input views ------------------------------------------------------------------------ */

/*
 * A view's strides over the five axes (unit axes added for 1-D and 2-D take stride 0), and
 * the check that distinct indices reach distinct elements: with the axes of extent > 1
 * sorted by |stride|, each stride must pass the reach of all smaller ones. (That accepts
 * every layout a framework makes; an interleaving that is still one-to-one but fails it is
 * refused too, with the same message.) Every offset fits in int64 and in bytes of size_t.
 */
static tconv_status check_view(const tconv__shape *sh, bool x_side, const int64_t *user,
                               size_t elem, int64_t st[5], const char *name, tconv_error *err)
{
    int64_t e[5];
    tconv__extents(sh, x_side, e);
    st[0] = user[0], st[1] = user[1];
    for (int a = 0; a < 3; ++a)
        st[2 + a] = a < sh->lead ? 0 : user[2 + a - sh->lead];
    int order[5], n = 0;
    for (int i = 0; i < 5; ++i)
        if (e[i] > 1)
            order[n++] = i;
    for (int i = 1; i < n; ++i) /* insertion sort by |stride| */
        for (int j = i; j > 0; --j) {
            const int64_t a = st[order[j - 1]], b = st[order[j]];
            if ((a < 0 ? -a : a) <= (b < 0 ? -b : b))
                break;
            const int t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }
    int64_t reach = 0; /* largest |offset| of the axes so far */
    for (int i = 0; i < n; ++i) {
        const int ax = order[i];
        const int64_t s = st[ax] < 0 ? -st[ax] : st[ax];
        if (st[ax] == INT64_MIN || s <= reach)
            return tconv__fail(err, TCONV_EINVAL, "options.%s_strides: the view's elements "
                               "overlap (stride %lld of dimension %d does not pass the "
                               "reach %lld of the smaller strides)", name, (long long)st[ax],
                               ax < 2 ? ax : ax - sh->lead,
                               (long long)reach);
        int64_t r;
        if (!tconv__mul(s, e[ax] - 1, &r) || !tconv__add(reach, r, &reach))
            return tconv__fail(err, TCONV_EOVERFLOW, "options.%s_strides: offsets overflow",
                               name);
    }
    int64_t bytes;
    if (!tconv__mul(reach + 1, (int64_t)elem, &bytes))
        return tconv__fail(err, TCONV_EOVERFLOW, "options.%s_strides: the view spans more "
                           "bytes than 64 bits count", name);
    return TCONV_OK;
}

/* Lowest and one past the highest offset a view reaches, in elements. */
static void view_range(const int64_t e[5], const int64_t st[5], int64_t *lo, int64_t *hi)
{
    *lo = 0, *hi = 1;
    for (int i = 0; i < 5; ++i) {
        const int64_t r = st[i] * (e[i] - 1); /* checked by check_view */
        if (r < 0)
            *lo += r;
        else
            *hi += r;
    }
}

/* ---- planning --------------------------------------------------------------------------- */

static bool add_region(size_t *at, size_t *total, int64_t elems, tconv_dtype dtype)
{
    size_t b;
    if (!tconv__elem_bytes(elems, dtype, &b))
        return false;
    *at = *total;
    return tconv__ws_add(total, b);
}

/* The input of one side: its view (if any) and whether a run copies it. */
static tconv_status plan_input(tconv_plan *pl, bool x_side, const tconv_options *opt,
                               tconv_error *err)
{
    tconv__input *in = x_side ? &pl->x_in : &pl->y_in;
    const int64_t *user = opt ? (x_side ? opt->x_strides : opt->y_strides) : NULL;
    const tconv__shape *sh = &pl->ctx.sh;
    in->view = user != NULL;
    if (in->view)
        CHECK(check_view(sh, x_side, user, tconv__dtype_size(pl->ctx.dtype), in->st,
                         x_side ? "x" : "y", err));
    else
        tconv__dense_strides(sh, x_side, pl->layout, in->st);
    int64_t dense[5];
    tconv__dense_strides(sh, x_side, pl->ctx.layout, dense);
    in->pack = memcmp(in->st, dense, sizeof dense) != 0;
    return TCONV_OK;
}

/* Which activation inputs (X side, Y side) and output (X side or Y side: *out_x; none:
 * false returned) the task has. */
static void task_tensors(const tconv_plan *pl, bool *x_input, bool *y_input, bool *has_out,
                         bool *out_x)
{
    *x_input = *y_input = *has_out = false;
    *out_x = false;
    switch (pl->task) {
    case TCONV__TASK_FORWARD:
        *x_input = pl->conv, *y_input = !pl->conv;
        *has_out = true, *out_x = !pl->conv;
        break;
    case TCONV__TASK_BACKWARD:
        /* conv: x (wgrad), grad_y; transposed: in = Y (wgrad), grad_out = X */
        *x_input = true, *y_input = true;
        *has_out = (pl->grads & TCONV_GRAD_INPUT) != 0, *out_x = pl->conv;
        break;
    case TCONV__TASK_PRODUCT:
        *x_input = pl->product != TCONV_APPLY_T;
        *y_input = pl->product != TCONV_APPLY;
        *has_out = pl->product != TCONV_WGRAD, *out_x = pl->product == TCONV_APPLY_T;
        break;
    }
}

static tconv_status check_options(const tconv_options *opt, tconv_error *err)
{
    if (!opt)
        return TCONV_OK;
    if (opt->num_threads < 0 || opt->num_threads > TCONV_MAX_THREADS)
        return tconv__fail(err, TCONV_EINVAL, "options.num_threads = %d: must be from 0 "
                           "(OpenMP's default) to TCONV_MAX_THREADS = %d", opt->num_threads,
                           TCONV_MAX_THREADS);
    if (!opt->alloc != !opt->free)
        return tconv__fail(err, TCONV_EINVAL, "options.alloc and options.free must be set "
                           "together");
    if (opt->layout != TCONV_LAYOUT_CHANNELS_FIRST && opt->layout != TCONV_LAYOUT_CHANNELS_LAST)
        return tconv__fail(err, TCONV_EINVAL, "options.layout = %d: must be "
                           "TCONV_LAYOUT_CHANNELS_FIRST or TCONV_LAYOUT_CHANNELS_LAST",
                           (int)opt->layout);
    return TCONV_OK;
}

tconv_status tconv__plan_init(tconv_plan *pl, const tconv_geometry *g, tconv__task task,
                              tconv_op op, tconv_product product, unsigned grads,
                              tconv_algo algo, tconv_dtype dtype, const tconv_options *opt,
                              tconv_error *err)
{
    CHECK(tconv_geometry_check(g, err));
    if (dtype != TCONV_F32 && dtype != TCONV_F64)
        return tconv__fail(err, TCONV_EINVAL, "dtype = %d: must be TCONV_F32 or TCONV_F64",
                           (int)dtype);
    CHECK(check_options(opt, err));
    memset(pl, 0, sizeof *pl);
    pl->g = *g;
    pl->task = task;
    pl->op = op;
    pl->product = product;
    pl->conv = task == TCONV__TASK_PRODUCT || op == TCONV_CONV_FORWARD ||
               op == TCONV_CONV_BACKWARD;
    pl->grads = grads & TCONV_GRAD_ALL ? grads & TCONV_GRAD_ALL : TCONV_GRAD_ALL;
    pl->layout = opt ? opt->layout : TCONV_LAYOUT_CHANNELS_FIRST;
    if (opt) {
        pl->alloc = opt->alloc, pl->free = opt->free, pl->alloc_ctx = opt->alloc_ctx;
    }

    tconv__ctx *c = &pl->ctx;
    c->g = &pl->g;
    c->dtype = dtype;
    tconv__shape_from(&pl->g, &c->sh);
    c->threads = opt && opt->num_threads > 0 ? opt->num_threads : default_threads(&c->sh);
    c->dense_limit = opt && opt->dense_limit ? opt->dense_limit : TCONV__DENSE_LIMIT;
    c->ws_limit = opt && opt->workspace_limit ? opt->workspace_limit
                                              : TCONV_WORKSPACE_LIMIT_DEFAULT;
    c->stream_bytes = tconv__stream_threshold();
    c->layout = pl->layout;
    CHECK(tconv__provider_select(opt ? opt->provider : TCONV_PROVIDER_DEFAULT, dtype,
                                 &c->provider, err));
    c->widest = tconv__provider_widest(dtype, &c->wide_faster);
    pl->algo = tconv__algo_resolve(algo, c);
    if (!pl->algo)
        return tconv__fail(err, TCONV_EINVAL, "algo = %d: not an algorithm", (int)algo);
    if (algo == TCONV_ALGO_AUTO) /* may compute in the other layout, on copies */
        c->layout = tconv__auto_layout(c, pl->algo, task == TCONV__TASK_FORWARD, pl->conv);
    if (!pl->algo->channels_last || !pl->algo->channels_last(c))
        c->layout = TCONV_LAYOUT_CHANNELS_FIRST; /* the products see channels-first */

    /* the products the runs need */
    if (task == TCONV__TASK_FORWARD) {
        pl->need[pl->conv ? TCONV_APPLY : TCONV_APPLY_T] = true;
    } else if (task == TCONV__TASK_BACKWARD) {
        const tconv_product data = pl->conv ? TCONV_APPLY_T : TCONV_APPLY;
        pl->need[data] = (pl->grads & TCONV_GRAD_INPUT) != 0;
        pl->need[TCONV_WGRAD] = (pl->grads & TCONV_GRAD_WEIGHT) != 0;
        pl->need[TCONV__APPLY_WGRAD] = !pl->conv && pl->algo->apply_wgrad &&
                                       pl->need[data] && pl->need[TCONV_WGRAD];
    } else {
        if ((unsigned)product > TCONV_WGRAD)
            return tconv__fail(err, TCONV_EINVAL, "product = %d: not a product", (int)product);
        pl->need[product] = true;
    }
    for (int p = 0; p < TCONV__PRODUCTS; ++p)
        if (pl->need[p])
            CHECK(pl->algo->plan(c, (tconv_product)p, &pl->pp[p], err));
    if (pl->need[TCONV__APPLY_WGRAD] && pl->pp[TCONV__APPLY_WGRAD].path == TCONV__PATH_DECLINED)
        pl->need[TCONV__APPLY_WGRAD] = false; /* the two products one after the other */

    /* how the activations reach the products */
    bool x_input, y_input, has_out, out_x;
    task_tensors(pl, &x_input, &y_input, &has_out, &out_x);
    if (x_input)
        CHECK(plan_input(pl, true, opt, err));
    if (y_input)
        CHECK(plan_input(pl, false, opt, err));
    const tconv_tensor xt = TCONV_TENSOR_X, yt = TCONV_TENSOR_Y;
    bool fits = true;
    if (x_input && pl->x_in.pack)
        fits = add_region(&pl->x_in.at, &pl->adapt_bytes, tconv__numel(g, xt), dtype);
    if (fits && y_input && pl->y_in.pack)
        fits = add_region(&pl->y_in.at, &pl->adapt_bytes, tconv__numel(g, yt), dtype);
    pl->out_via_ws = has_out && c->layout != pl->layout;
    if (fits && pl->out_via_ws)
        fits = add_region(&pl->out_at, &pl->adapt_bytes,
                          tconv__numel(g, out_x ? xt : yt), dtype);
    size_t total;
    if (!fits || !tconv__plan_bytes(pl, c->threads, &total))
        return tconv__fail(err, TCONV_EOVERFLOW, "workspace size overflows");
    return TCONV_OK;
}

bool tconv__plan_bytes(const tconv_plan *pl, int threads, size_t *bytes)
{
    if (threads <= 0 || threads > pl->ctx.threads)
        threads = pl->ctx.threads;
    size_t most = 0;
    for (int p = 0; p < TCONV__PRODUCTS; ++p) {
        if (!pl->need[p])
            continue;
        const tconv__product_plan *pp = &pl->pp[p];
        const size_t team = (size_t)(pp->team < threads ? pp->team : threads);
        size_t b;
        if (__builtin_mul_overflow(pp->per_thread, team, &b) ||
            __builtin_add_overflow(b, pp->shared, &b))
            return false;
        most = b > most ? b : most;
    }
    /* plus the slack that lets any caller buffer be aligned */
    if (__builtin_add_overflow(most, pl->adapt_bytes, &most) ||
        (most && __builtin_add_overflow(most, TCONV__ALIGN, &most)))
        return false;
    *bytes = most;
    return true;
}

/* ---- runs ------------------------------------------------------------------------------- */

/* One run: the plan's context with the run's threads, failure flag and workspace. */
typedef struct run {
    const tconv_plan *pl;
    tconv__ctx ctx;
    atomic_int failed;
    void *block;     /* what the run allocated, if anything */
    char *ws;        /* aligned workspace */
    tconv_error *err;
} run;

static void *align_up(void *p)
{
    return (void *)(((uintptr_t)p + TCONV__ALIGN - 1) & ~(uintptr_t)(TCONV__ALIGN - 1));
}

/* The workspace and the thread count it serves. */
static tconv_status begin_run(run *r, const tconv_plan *pl, void *workspace, size_t bytes,
                              tconv_error *err)
{
    r->pl = pl;
    r->ctx = pl->ctx;
    r->err = err;
    r->block = NULL;
    r->ws = NULL;
    atomic_init(&r->failed, 0);
    r->ctx.failed = &r->failed;
    size_t need;
    if (!tconv__plan_bytes(pl, pl->ctx.threads, &need)) /* checked at planning */
        return tconv__fail(err, TCONV_EOVERFLOW, "workspace size overflows");
    if (need == 0)
        return TCONV_OK;
    if (workspace) {
        int t = pl->ctx.threads;
        size_t b = need;
        while (t > 1 && b > bytes)
            tconv__plan_bytes(pl, --t, &b);
        if (b > bytes)
            return tconv__fail(err, TCONV_EWORKSPACE, "workspace of %zu bytes is too small: "
                               "this call needs %zu (ask tconv_workspace_size)", bytes, b);
        r->ctx.threads = t;
        r->ws = align_up(workspace);
        return TCONV_OK;
    }
    const tconv_options o = {.alloc = pl->alloc, .free = pl->free, .alloc_ctx = pl->alloc_ctx};
    r->block = tconv__alloc(&o, need);
    if (!r->block)
        return tconv__fail(err, TCONV_ENOMEM, "could not allocate a workspace of %zu bytes",
                           need);
    r->ws = align_up(r->block);
    return TCONV_OK;
}

static void end_run(run *r)
{
    const tconv_options o = {.alloc = r->pl->alloc, .free = r->pl->free,
                             .alloc_ctx = r->pl->alloc_ctx};
    tconv__free(&o, r->block);
}

/* A tensor argument: NULL is accepted only for a tensor with no elements. */
static tconv_status need_tensor(const tconv_plan *pl, const void *p, tconv_tensor t,
                                const char *name, tconv_error *err)
{
    if (!p && tconv__numel(&pl->g, t) > 0)
        return tconv__fail(err, TCONV_EINVAL, "%s is NULL", name);
    return TCONV_OK;
}

/* ---- overlap ---------------------------------------------------------------------------- */

/* The bytes [lo, hi) a tensor argument covers; empty for NULL. */
typedef struct extent {
    const char *name;
    uintptr_t lo, hi;
} extent;

static extent dense_extent(const tconv_plan *pl, const void *p, tconv_tensor t,
                           const char *name)
{
    extent e = {name, 0, 0};
    if (p) {
        e.lo = (uintptr_t)p;
        e.hi = e.lo + (uintptr_t)tconv__numel(&pl->g, t) *
                          tconv__dtype_size(pl->ctx.dtype);
    }
    return e;
}

/* An activation input: dense, or the range its view reaches. */
static extent input_extent(const tconv_plan *pl, const void *p, bool x_side, const char *name)
{
    const tconv__input *in = x_side ? &pl->x_in : &pl->y_in;
    if (!in->view || !p)
        return dense_extent(pl, p, x_side ? TCONV_TENSOR_X : TCONV_TENSOR_Y, name);
    int64_t e[5], lo, hi;
    tconv__extents(&pl->ctx.sh, x_side, e);
    view_range(e, in->st, &lo, &hi);
    const int64_t size = (int64_t)tconv__dtype_size(pl->ctx.dtype);
    const extent x = {name, (uintptr_t)p + (uintptr_t)(lo * size),
                      (uintptr_t)p + (uintptr_t)(hi * size)};
    return x;
}

static bool overlap(const extent *a, const extent *b)
{
    return a->lo < a->hi && b->lo < b->hi && a->lo < b->hi && b->lo < a->hi;
}

/* Every output against every input and every other output. */
static tconv_status check_overlap(const extent *outs, int n_out, const extent *ins, int n_in,
                                  tconv_error *err)
{
    for (int i = 0; i < n_out; ++i) {
        for (int j = 0; j < n_in; ++j)
            if (overlap(&outs[i], &ins[j]))
                return tconv__fail(err, TCONV_EINVAL, "output %s overlaps input %s (outputs "
                                   "must not share memory with any input)", outs[i].name,
                                   ins[j].name);
        for (int j = i + 1; j < n_out; ++j)
            if (overlap(&outs[i], &outs[j]))
                return tconv__fail(err, TCONV_EINVAL, "outputs %s and %s overlap",
                                   outs[i].name, outs[j].name);
    }
    return TCONV_OK;
}

/* ---- the steps of a run ----------------------------------------------------------------- */

#define COPY(r, e, src, ss, dst, ds)                                                           \
    ((r)->ctx.dtype == TCONV_F64                                                               \
         ? tconv__copy_tensor_f64(e, (const double *)(src), ss, (double *)(dst), ds,           \
                                  (r)->ctx.threads)                                            \
         : tconv__copy_tensor_f32(e, (const float *)(src), ss, (float *)(dst), ds,             \
                                  (r)->ctx.threads))

/* The input as the products read it: itself, or its dense copy in the workspace. */
static const void *input(run *r, bool x_side, const void *p)
{
    const tconv__input *in = x_side ? &r->pl->x_in : &r->pl->y_in;
    if (!in->pack || !p || r->ctx.sh.batch == 0) /* an empty batch has nothing to copy */
        return p;
    int64_t e[5], dense[5];
    tconv__extents(&r->ctx.sh, x_side, e);
    tconv__dense_strides(&r->ctx.sh, x_side, r->ctx.layout, dense);
    void *copy = r->ws + in->at;
    COPY(r, e, p, in->st, copy, dense);
    return copy;
}

/* Where the products write the activation output. */
static void *output(run *r, void *p)
{
    return r->pl->out_via_ws && p && r->ctx.sh.batch ? r->ws + r->pl->out_at : p;
}

/* The activation output in the caller's layout, from where the products wrote it. */
static void finish_output(run *r, bool x_side, void *p)
{
    if (!r->pl->out_via_ws || !p || r->ctx.sh.batch == 0)
        return;
    int64_t e[5], from[5], to[5];
    tconv__extents(&r->ctx.sh, x_side, e);
    tconv__dense_strides(&r->ctx.sh, x_side, r->ctx.layout, from);
    tconv__dense_strides(&r->ctx.sh, x_side, r->pl->layout, to);
    COPY(r, e, r->ws + r->pl->out_at, from, p, to);
}

/* The products' workspace. */
static void *product_ws(const run *r)
{
    return r->ws ? r->ws + r->pl->adapt_bytes : NULL;
}

/*
 * Runs one product (or the fused pair). An empty batch is settled here, so no algorithm
 * ever sees an empty or NULL tensor: apply and apply_t have nothing to write, wgrad's sum
 * is zero.
 */
static void product(run *r, int p, const void *a, const void *b, const void *a2, void *out,
                    void *out2)
{
    const tconv_plan *pl = r->pl;
    if (r->ctx.sh.batch == 0) {
        void *dw = p == TCONV_WGRAD ? out : p == TCONV__APPLY_WGRAD ? out2 : NULL;
        if (dw)
            memset(dw, 0, (size_t)tconv__numel(&pl->g, TCONV_TENSOR_WEIGHT) *
                              tconv__dtype_size(r->ctx.dtype));
        return;
    }
    const tconv__product_fn fn[3] = {pl->algo->apply, pl->algo->apply_t, pl->algo->wgrad};
    if (p == TCONV__APPLY_WGRAD)
        pl->algo->apply_wgrad(&r->ctx, &pl->pp[p], a, b, a2, out, out2, product_ws(r));
    else
        fn[p](&r->ctx, &pl->pp[p], a, b, out, product_ws(r));
}

/*
 * Whether the run must compute its products again: a provider failed somewhere in them.
 * The second time they run with a provider that cannot fail. Every product overwrites its
 * whole output, so nothing of the failed attempt remains, and a call's results are all of
 * one provider (the one asked for, or the fallback).
 */
static bool again(run *r)
{
    if (!r->ctx.failed || !atomic_load_explicit(&r->failed, memory_order_relaxed))
        return false;
    r->ctx.provider = tconv__provider_fallback();
    r->ctx.failed = NULL;
    return true;
}

/* ---- public runs ------------------------------------------------------------------------ */

tconv_status tconv_plan_forward(const tconv_plan *pl, const void *in, const void *weight,
                                const void *bias, void *out, void *workspace,
                                size_t workspace_bytes, tconv_error *err)
{
    if (!pl)
        return tconv__fail(err, TCONV_EINVAL, "plan is NULL");
    if (pl->task != TCONV__TASK_FORWARD)
        return tconv__fail(err, TCONV_EINVAL, "tconv_plan_forward: the plan is for a "
                           "backward operation");
    const bool conv = pl->conv;
    const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
    const tconv_tensor out_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
    const tconv_tensor bias_t = conv ? TCONV_TENSOR_Y_BIAS : TCONV_TENSOR_X_BIAS;
    CHECK(need_tensor(pl, in, in_t, "input", err));
    CHECK(need_tensor(pl, weight, TCONV_TENSOR_WEIGHT, "weight", err));
    CHECK(need_tensor(pl, out, out_t, "output", err));
    const extent outs[1] = {dense_extent(pl, out, out_t, "output")};
    const extent ins[3] = {input_extent(pl, in, conv, "input"),
                           dense_extent(pl, weight, TCONV_TENSOR_WEIGHT, "weight"),
                           dense_extent(pl, bias, bias_t, "bias")};
    CHECK(check_overlap(outs, 1, ins, 3, err));
    run r;
    CHECK(begin_run(&r, pl, workspace, workspace_bytes, err));
    const tconv_product p = conv ? TCONV_APPLY : TCONV_APPLY_T;
    const void *a = input(&r, conv, in);
    void *o = output(&r, out);
    if (pl->algo->fuses_bias)
        r.ctx.bias = bias;
    do
        product(&r, p, a, weight, NULL, o, NULL);
    while (again(&r));
    if (bias && !pl->algo->fuses_bias)
        tconv__bias_add(&r.ctx, r.ctx.dtype, conv ? r.ctx.sh.cy : r.ctx.sh.cx,
                        conv ? r.ctx.sh.y_count : r.ctx.sh.x_count, bias, o);
    finish_output(&r, !conv, out);
    end_run(&r);
    return TCONV_OK;
}

/*
 * Backward of either layer. `data` is the product that carries the output gradient back
 * to the input (apply_t for the conv, apply for the transposed conv); the weight gradient
 * is wgrad with the Y-side and X-side tensors in their places. The transposed conv's two
 * read the same columns of grad_out: an algorithm with the fused product builds them once.
 */
tconv_status tconv_plan_backward(const tconv_plan *pl, const void *in, const void *weight,
                                 const void *grad_out, void *grad_in, void *grad_weight,
                                 void *grad_bias, void *workspace, size_t workspace_bytes,
                                 tconv_error *err)
{
    if (!pl)
        return tconv__fail(err, TCONV_EINVAL, "plan is NULL");
    if (pl->task != TCONV__TASK_BACKWARD)
        return tconv__fail(err, TCONV_EINVAL, "tconv_plan_backward: the plan is for a "
                           "forward operation");
    const bool conv = pl->conv;
    const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
    const tconv_tensor out_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
    const tconv_tensor bias_t = conv ? TCONV_TENSOR_Y_BIAS : TCONV_TENSOR_X_BIAS;
    const unsigned asked = (grad_in ? TCONV_GRAD_INPUT : 0) |
                           (grad_weight ? TCONV_GRAD_WEIGHT : 0) |
                           (grad_bias ? TCONV_GRAD_BIAS : 0);
    if (asked & ~pl->grads)
        return tconv__fail(err, TCONV_EINVAL, "a gradient was asked for that the plan was not "
                           "made for (plan: %s%s%s)",
                           pl->grads & TCONV_GRAD_INPUT ? "input " : "",
                           pl->grads & TCONV_GRAD_WEIGHT ? "weight " : "",
                           pl->grads & TCONV_GRAD_BIAS ? "bias" : "");
    if (!asked)
        return TCONV_OK;
    CHECK(need_tensor(pl, grad_out, out_t, "grad_output", err));
    if (grad_in) {
        CHECK(need_tensor(pl, weight, TCONV_TENSOR_WEIGHT, "weight", err));
        CHECK(need_tensor(pl, grad_in, in_t, "grad_input", err));
    }
    if (grad_weight)
        CHECK(need_tensor(pl, in, in_t, "input", err));
    const extent outs[3] = {dense_extent(pl, grad_in, in_t, "grad_input"),
                            dense_extent(pl, grad_weight, TCONV_TENSOR_WEIGHT, "grad_weight"),
                            dense_extent(pl, grad_bias, bias_t, "grad_bias")};
    const extent ins[3] = {input_extent(pl, grad_weight ? in : NULL, conv, "input"),
                           dense_extent(pl, grad_in ? weight : NULL, TCONV_TENSOR_WEIGHT,
                                        "weight"),
                           input_extent(pl, grad_out, !conv, "grad_output")};
    CHECK(check_overlap(outs, 3, ins, 3, err));
    run r;
    CHECK(begin_run(&r, pl, workspace, workspace_bytes, err));
    const void *go = input(&r, !conv, grad_out);
    const void *x_or_y = grad_weight ? input(&r, conv, in) : NULL;
    void *gi = output(&r, grad_in);
    const tconv_product data = conv ? TCONV_APPLY_T : TCONV_APPLY;
    /* a convolution's bias gradient sums grad_y, which its weight gradient reads: where
     * that product sums it too, no pass of its own over grad_y */
    const bool fused = grad_in && grad_weight && pl->need[TCONV__APPLY_WGRAD];
    const bool bias_in_wgrad = conv && grad_bias && grad_weight && !fused &&
                               r.ctx.sh.batch > 0 && pl->pp[TCONV_WGRAD].sums_bias;
    r.ctx.grad_bias = bias_in_wgrad ? grad_bias : NULL;
    do {
        if (fused) {
            product(&r, TCONV__APPLY_WGRAD, go, weight, x_or_y, gi, grad_weight);
            continue;
        }
        if (grad_in)
            product(&r, data, go, weight, NULL, gi, NULL);
        if (grad_weight) /* wgrad(a = Y-side tensor, b = X-side tensor) */
            product(&r, TCONV_WGRAD, conv ? go : x_or_y, conv ? x_or_y : go, NULL,
                    grad_weight, NULL);
    } while (again(&r));
    if (grad_bias && !bias_in_wgrad)
        tconv__bias_grad(&r.ctx, r.ctx.dtype, conv ? r.ctx.sh.cy : r.ctx.sh.cx,
                         conv ? r.ctx.sh.y_count : r.ctx.sh.x_count,
                         conv ? r.ctx.sh.y[2] : r.ctx.sh.x[2], go, grad_bias);
    finish_output(&r, conv, grad_in);
    end_run(&r);
    return TCONV_OK;
}

tconv_status tconv__plan_product(const tconv_plan *pl, const void *a, const void *b,
                                 const void *weight, void *out, void *workspace,
                                 size_t workspace_bytes, tconv_error *err)
{
    const tconv_product p = pl->product;
    const tconv_tensor a_kind[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    const tconv_tensor out_kind[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};
    CHECK(need_tensor(pl, a, a_kind[p], "a", err));
    if (p == TCONV_WGRAD)
        CHECK(need_tensor(pl, b, TCONV_TENSOR_X, "b", err));
    else
        CHECK(need_tensor(pl, weight, TCONV_TENSOR_WEIGHT, "weight", err));
    CHECK(need_tensor(pl, out, out_kind[p], "out", err));
    const extent outs[1] = {dense_extent(pl, out, out_kind[p], "out")};
    const extent ins[2] = {input_extent(pl, a, p == TCONV_APPLY, "a"),
                           p == TCONV_WGRAD ? input_extent(pl, b, true, "b")
                                            : dense_extent(pl, weight, TCONV_TENSOR_WEIGHT,
                                                           "weight")};
    CHECK(check_overlap(outs, 1, ins, 2, err));
    run r;
    CHECK(begin_run(&r, pl, workspace, workspace_bytes, err));
    const void *aa = input(&r, p == TCONV_APPLY, a);
    const void *bb = p == TCONV_WGRAD ? input(&r, true, b) : weight;
    void *o = p == TCONV_WGRAD ? out : output(&r, out);
    do
        product(&r, p, aa, bb, NULL, o, NULL);
    while (again(&r));
    if (p != TCONV_WGRAD)
        finish_output(&r, p == TCONV_APPLY_T, out);
    end_run(&r);
    return TCONV_OK;
}

/* ---- public plan objects ---------------------------------------------------------------- */

bool tconv__task_of(tconv_op op, tconv__task *task)
{
    switch (op) {
    case TCONV_CONV_FORWARD:
    case TCONV_CONVT_FORWARD:
        *task = TCONV__TASK_FORWARD;
        return true;
    case TCONV_CONV_BACKWARD:
    case TCONV_CONVT_BACKWARD:
        *task = TCONV__TASK_BACKWARD;
        return true;
    }
    return false;
}

tconv_status tconv_plan_create(tconv_plan **plan, const tconv_geometry *g, tconv_op op,
                               unsigned grads, tconv_algo algo, tconv_dtype dtype,
                               const tconv_options *opt, tconv_error *err)
{
    if (!plan)
        return tconv__fail(err, TCONV_EINVAL, "plan is NULL");
    tconv__task task;
    if (!tconv__task_of(op, &task))
        return tconv__fail(err, TCONV_EINVAL, "op = %d: not an operation", (int)op);
    if (grads & ~TCONV_GRAD_ALL)
        return tconv__fail(err, TCONV_EINVAL, "grads = %#x: only TCONV_GRAD_INPUT, _WEIGHT "
                           "and _BIAS bits", grads);
    tconv_plan local;
    CHECK(tconv__plan_init(&local, g, task, op, TCONV_APPLY, grads, algo, dtype, opt, err));
    const tconv_options o = {.alloc = local.alloc, .free = local.free,
                             .alloc_ctx = local.alloc_ctx};
    tconv_plan *pl = tconv__alloc(&o, sizeof *pl);
    if (!pl)
        return tconv__fail(err, TCONV_ENOMEM, "could not allocate a plan of %zu bytes",
                           sizeof *pl);
    *pl = local;
    pl->ctx.g = &pl->g; /* the copy's own geometry */
    *plan = pl;
    return TCONV_OK;
}

void tconv_plan_destroy(tconv_plan *plan)
{
    if (!plan)
        return;
    const tconv_options o = {.alloc = plan->alloc, .free = plan->free,
                             .alloc_ctx = plan->alloc_ctx};
    tconv__free(&o, plan);
}

tconv_status tconv_plan_workspace_size(const tconv_plan *plan, int threads, size_t *bytes,
                                       tconv_error *err)
{
    if (!plan || !bytes)
        return tconv__fail(err, TCONV_EINVAL, "%s is NULL", plan ? "bytes" : "plan");
    if (threads < 0)
        return tconv__fail(err, TCONV_EINVAL, "threads = %d: must be >= 0", threads);
    tconv__plan_bytes(plan, threads, bytes); /* checked at planning */
    return TCONV_OK;
}

int tconv_plan_threads(const tconv_plan *plan)
{
    return plan ? plan->ctx.threads : 0;
}

tconv_algo tconv_plan_algo(const tconv_plan *plan)
{
    return plan ? plan->algo->id : TCONV_ALGO_AUTO;
}

size_t tconv_plan_describe(const tconv_plan *pl, char *buf, size_t size)
{
    static const char *const ops[4] = {"conv forward", "conv backward", "convt forward",
                                       "convt backward"};
    static const char *const products[TCONV__PRODUCTS] = {"apply", "apply_t", "wgrad",
                                                          "apply+wgrad"};
    if (!pl) {
        const int n = snprintf(buf, buf ? size : 0, "(no plan)");
        return n < 0 ? 0 : (size_t)n;
    }
    char steps[512] = "";
    size_t at = 0;
    for (int p = 0; p < TCONV__PRODUCTS && at < sizeof steps; ++p)
        if (pl->need[p]) {
            const int n = snprintf(steps + at, sizeof steps - at, "%s%s: %s (team %d)",
                                   at ? ", " : "", products[p],
                                   tconv__path_name(pl->algo, pl->pp[p].path),
                                   pl->pp[p].team);
            at += n > 0 ? (size_t)n : 0;
        }
    size_t ws = 0;
    tconv__plan_bytes(pl, pl->ctx.threads, &ws);
    const char *lay[2] = {"channels-first", "channels-last"};
    char prov[64];
    snprintf(prov, sizeof prov, "%s", pl->ctx.provider ? tconv__provider_name_of(pl->ctx.provider)
                                                       : "default");
    const int n = snprintf(
        buf, buf ? size : 0, "%s, %s, %s%s%s, algorithm %s: %s; provider %s; %d threads; "
        "workspace %zu bytes",
        pl->task == TCONV__TASK_PRODUCT ? products[pl->product] : ops[pl->op],
        pl->ctx.dtype == TCONV_F64 ? "float64" : "float32", lay[pl->layout],
        pl->ctx.layout == pl->layout ? ""
        : pl->ctx.layout == TCONV_LAYOUT_CHANNELS_FIRST ? " (computed channels-first)"
                                                          : " (computed channels-last)",
        pl->x_in.view || pl->y_in.view ? ", strided input" : "", pl->algo->name, steps, prov,
        pl->ctx.threads, ws);
    return n < 0 ? 0 : (size_t)n;
}
