/*
 * Channels-last activations and strided input views, for every algorithm:
 *   - every algorithm x dtype x product on channels-last tensors against the float64
 *     gather oracle (computed channels-first; the test moves the channels with loops of
 *     its own), and the same bits for 1, 2 and 3 threads;
 *   - the layers with bias in channels-last against the channels-first float64 gather;
 *   - the adjoint identity ⟨C x, y⟩ = ⟨x, Cᵀ y⟩ with every tensor channels-last;
 *   - strided views (gaps, steps, a reversed axis, channels-last memory seen as a
 *     channels-first view) give the bits of the dense call;
 *   - views whose elements overlap, or whose offsets overflow, are refused untouched.
 */
#include "common.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP 120

static const tconv_dtype dtypes[] = {TCONV_F64, TCONV_F32};

/* A tensor whose values are given in float64 (exact in float32 too). */
static tensor tensor_from(const double *d, int64_t n)
{
    tensor t = tensor_new(n);
    for (int64_t i = 0; i < n; ++i)
        t.d[i] = d[i], t.f[i] = (float)d[i];
    return t;
}

/* The tensor moved channels-last (x_side: an X tensor, else a Y one). */
static tensor moved(const tconv_geometry *g, bool x_side, const tensor *t)
{
    double *d = malloc(sizeof(double) * (size_t)(t->n ? t->n : 1));
    channels_last(g, x_side, false, t->d, d);
    tensor m = tensor_from(d, t->n);
    free(d);
    return m;
}

static void product_operands(tconv_product p, tconv_tensor *a, tconv_tensor *b,
                             tconv_tensor *out)
{
    const tconv_tensor A[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    const tconv_tensor B[3] = {TCONV_TENSOR_WEIGHT, TCONV_TENSOR_WEIGHT, TCONV_TENSOR_X};
    const tconv_tensor O[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};
    *a = A[p], *b = B[p], *out = O[p];
}

static void run_product(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                        tconv_dtype dt, const tconv_options *opt, const tensor *a,
                        const tensor *b, tensor *out)
{
    tconv_error err = {0};
    const void *pa = tensor_data(a, dt), *pb = tensor_data(b, dt);
    const tconv_status s =
        tconv_product_run(g, p, algo, dt, pa, p == TCONV_WGRAD ? pb : NULL,
                          p == TCONV_WGRAD ? NULL : pb, tensor_data(out, dt), opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s %s product %d (layout %d): %s [%s]", tconv_algo_name(algo),
                 dt == TCONV_F64 ? "f64" : "f32", (int)p, (int)opt->layout, err.message,
                 describe(g));
    if (dt == TCONV_F32)
        tensor_f32_to_f64(out);
}

ParameterizedTestParameters(layouts, channels_last_products)
{
    static uint64_t seeds[SWEEP];
    for (int i = 0; i < SWEEP; ++i)
        seeds[i] = 5000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, SWEEP);
}

ParameterizedTest(uint64_t *seed, layouts, channels_last_products)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};
    tconv_algo algos[16];
    const int n_algos = all_algorithms(algos, 16);
    for (int p = 0; p < 3; ++p) {
        tconv_tensor ta, tb, to;
        product_operands((tconv_product)p, &ta, &tb, &to);
        tensor a = tensor_random(numel(&g, ta), &r), b = tensor_random(numel(&g, tb), &r);
        tensor aa = tensor_abs(&a), ab = tensor_abs(&b);
        tensor ref = tensor_new(numel(&g, to)), bound = tensor_new(ref.n);
        oracle(&g, (tconv_product)p, a.d, b.d, ref.d);
        oracle(&g, (tconv_product)p, aa.d, ab.d, bound.d);
        /* the activations channels-last; the weight as it is */
        tensor la = moved(&g, ta == TCONV_TENSOR_X, &a);
        tensor lb = tb == TCONV_TENSOR_WEIGHT ? tensor_from(b.d, b.n) : moved(&g, true, &b);
        tensor out = tensor_new(ref.n), back = tensor_new(ref.n);
        const int64_t L = reduction_length(&g, (tconv_product)p);
        for (int i = 0; i < n_algos; ++i)
            for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; ++j) {
                tconv_options opt = {.layout = TCONV_LAYOUT_CHANNELS_LAST};
                run_product(&g, (tconv_product)p, algos[i], dtypes[j], &opt, &la, &lb, &out);
                const double *got = out.d;
                if (to != TCONV_TENSOR_WEIGHT) {
                    channels_last(&g, to == TCONV_TENSOR_X, true, out.d, back.d);
                    got = back.d;
                }
                char what[160];
                snprintf(what, sizeof what, "channels-last %s/%s product %d [%s]",
                         tconv_algo_name(algos[i]), dtypes[j] == TCONV_F64 ? "f64" : "f32", p,
                         describe(&g));
                expect_close(got, ref.d, bound.d, ref.n, L, dtype_eps(dtypes[j]), what);
                if (algos[i] == TCONV_ALGO_DENSE || algos[i] == TCONV_ALGO_SPARSE)
                    continue;
                /* the thread count changes no bit, channels-last too */
                const size_t size = dtypes[j] == TCONV_F64 ? 8 : 4;
                void *one = malloc(size * (size_t)(ref.n ? ref.n : 1));
                memcpy(one, tensor_data(&out, dtypes[j]), size * (size_t)ref.n);
                for (int threads = 1; threads <= 3; ++threads) {
                    opt.num_threads = threads;
                    run_product(&g, (tconv_product)p, algos[i], dtypes[j], &opt, &la, &lb,
                                &out);
                    cr_assert(memcmp(one, tensor_data(&out, dtypes[j]), size * (size_t)ref.n) ==
                                  0,
                              "%s: %d threads give other bits [%s]", what, threads,
                              describe(&g));
                }
                free(one);
            }
        tensor_free(&a), tensor_free(&b), tensor_free(&aa), tensor_free(&ab);
        tensor_free(&ref), tensor_free(&bound), tensor_free(&la), tensor_free(&lb);
        tensor_free(&out), tensor_free(&back);
    }
}

/* ---- layers with bias ------------------------------------------------------------------ */

/* Every output of one layer call, in float64, channels-first. */
typedef struct layer_out {
    tensor out, gi, gw, gb;
} layer_out;

/* Forward and backward (all gradients) of g's layer with `layout`; the activations given
 * channels-first are moved in and the results moved back. */
static layer_out run_layer(const tconv_geometry *g, tconv_algo algo, tconv_dtype dt,
                           tconv_layout layout, const tensor *in, const tensor *w,
                           const tensor *bias, const tensor *go)
{
    const bool conv = g->layer == TCONV_LAYER_CONV;
    const bool last = layout == TCONV_LAYOUT_CHANNELS_LAST;
    tensor lin = last ? moved(g, conv, in) : tensor_from(in->d, in->n);
    tensor lgo = last ? moved(g, !conv, go) : tensor_from(go->d, go->n);
    layer_out r = {tensor_new(go->n), tensor_new(in->n), tensor_new(w->n),
                   tensor_new(bias->n)};
    const tconv_options opt = {.layout = layout};
    tconv_error err = {0};
    tconv_status s;
    if (conv)
        s = tconv_conv_forward_ex(g, algo, dt, tensor_data(&lin, dt), tensor_data(w, dt),
                                  tensor_data(bias, dt), tensor_data(&r.out, dt), &opt, &err);
    else
        s = tconv_convt_forward_ex(g, algo, dt, tensor_data(&lin, dt), tensor_data(w, dt),
                                   tensor_data(bias, dt), tensor_data(&r.out, dt), &opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s forward: %s [%s]", tconv_algo_name(algo), err.message,
                 describe(g));
    if (conv)
        s = tconv_conv_backward_ex(g, algo, dt, tensor_data(&lin, dt), tensor_data(w, dt),
                                   tensor_data(&lgo, dt), tensor_data(&r.gi, dt),
                                   tensor_data(&r.gw, dt), tensor_data(&r.gb, dt), &opt, &err);
    else
        s = tconv_convt_backward_ex(g, algo, dt, tensor_data(&lin, dt), tensor_data(w, dt),
                                    tensor_data(&lgo, dt), tensor_data(&r.gi, dt),
                                    tensor_data(&r.gw, dt), tensor_data(&r.gb, dt), &opt,
                                    &err);
    cr_assert_eq(s, TCONV_OK, "%s backward: %s [%s]", tconv_algo_name(algo), err.message,
                 describe(g));
    tensor *all[4] = {&r.out, &r.gi, &r.gw, &r.gb};
    for (int i = 0; i < 4 && dt == TCONV_F32; ++i)
        tensor_f32_to_f64(all[i]);
    if (last) {
        tensor t = tensor_new(r.out.n);
        channels_last(g, !conv, true, r.out.d, t.d);
        memcpy(r.out.d, t.d, sizeof(double) * (size_t)t.n);
        tensor_free(&t);
        t = tensor_new(r.gi.n);
        channels_last(g, conv, true, r.gi.d, t.d);
        memcpy(r.gi.d, t.d, sizeof(double) * (size_t)t.n);
        tensor_free(&t);
    }
    tensor_free(&lin), tensor_free(&lgo);
    return r;
}

static void layer_free(layer_out *r)
{
    tensor_free(&r->out), tensor_free(&r->gi), tensor_free(&r->gw), tensor_free(&r->gb);
}

ParameterizedTestParameters(layouts, channels_last_layers)
{
    static uint64_t seeds[40];
    for (int i = 0; i < 40; ++i)
        seeds[i] = 7000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, 40);
}

ParameterizedTest(uint64_t *seed, layouts, channels_last_layers)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    const bool conv = g.layer == TCONV_LAYER_CONV;
    rng r = {*seed};
    tensor in = tensor_random(numel(&g, conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y), &r);
    tensor go = tensor_random(numel(&g, conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor b = tensor_random(numel(&g, conv ? TCONV_TENSOR_Y_BIAS : TCONV_TENSOR_X_BIAS), &r);
    tensor ain = tensor_abs(&in), ago = tensor_abs(&go), aw = tensor_abs(&w), ab = tensor_abs(&b);
    /* the oracle: gather in float64, channels-first; its bound: the same over |values| */
    layer_out ref = run_layer(&g, TCONV_ALGO_GATHER, TCONV_F64, TCONV_LAYOUT_CHANNELS_FIRST, &in,
                              &w, &b, &go);
    layer_out bound = run_layer(&g, TCONV_ALGO_GATHER, TCONV_F64, TCONV_LAYOUT_CHANNELS_FIRST,
                                &ain, &aw, &ab, &ago);
    const tconv_product fwd = conv ? TCONV_APPLY : TCONV_APPLY_T;
    const tconv_product data = conv ? TCONV_APPLY_T : TCONV_APPLY;
    const int64_t bias_terms = g.batch * (go.n / (g.batch ? g.batch : 1) / (b.n ? b.n : 1)) + 1;
    tconv_algo algos[16];
    const int n_algos = all_algorithms(algos, 16);
    for (int i = 0; i < n_algos; ++i)
        for (size_t j = 0; j < 2; ++j) {
            layer_out got = run_layer(&g, algos[i], dtypes[j], TCONV_LAYOUT_CHANNELS_LAST, &in,
                                      &w, &b, &go);
            char what[160];
            snprintf(what, sizeof what, "channels-last %s/%s layer [%s]",
                     tconv_algo_name(algos[i]), j ? "f32" : "f64", describe(&g));
            const double eps = dtype_eps(dtypes[j]);
            expect_close(got.out.d, ref.out.d, bound.out.d, ref.out.n,
                         reduction_length(&g, fwd) + 1, eps, what);
            expect_close(got.gi.d, ref.gi.d, bound.gi.d, ref.gi.n, reduction_length(&g, data),
                         eps, what);
            expect_close(got.gw.d, ref.gw.d, bound.gw.d, ref.gw.n,
                         reduction_length(&g, TCONV_WGRAD), eps, what);
            expect_close(got.gb.d, ref.gb.d, bound.gb.d, ref.gb.n, bias_terms, eps, what);
            layer_free(&got);
        }
    layer_free(&ref), layer_free(&bound);
    tensor_free(&in), tensor_free(&go), tensor_free(&w), tensor_free(&b);
    tensor_free(&ain), tensor_free(&ago), tensor_free(&aw), tensor_free(&ab);
}

/* ⟨C x, y⟩ = ⟨x, Cᵀ y⟩ with x and y channels-last, float64, every algorithm. */
ParameterizedTestParameters(layouts, channels_last_adjoint)
{
    static uint64_t seeds[SWEEP];
    for (int i = 0; i < SWEEP; ++i)
        seeds[i] = 9000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, SWEEP);
}

ParameterizedTest(uint64_t *seed, layouts, channels_last_adjoint)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};
    tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor ax = tensor_abs(&x), ay = tensor_abs(&y), aw = tensor_abs(&w);
    tensor bound_y = tensor_new(y.n), cx = tensor_new(y.n), cty = tensor_new(x.n);
    oracle(&g, TCONV_APPLY, ax.d, aw.d, bound_y.d);
    const double mag = dot(bound_y.d, ay.d, y.n);
    const double terms = (double)(reduction_length(&g, TCONV_APPLY) * (y.n + 1) +
                                  reduction_length(&g, TCONV_APPLY_T) * (x.n + 1));
    const double tol = 2 * terms * dtype_eps(TCONV_F64) * mag + 1e-300;
    tensor lx = moved(&g, true, &x), ly = moved(&g, false, &y);
    const tconv_options opt = {.layout = TCONV_LAYOUT_CHANNELS_LAST};
    tconv_algo algos[16];
    const int n_algos = all_algorithms(algos, 16);
    for (int i = 0; i < n_algos; ++i) {
        run_product(&g, TCONV_APPLY, algos[i], TCONV_F64, &opt, &lx, &w, &cx);
        run_product(&g, TCONV_APPLY_T, algos[i], TCONV_F64, &opt, &ly, &w, &cty);
        const double lhs = dot(cx.d, ly.d, y.n), rhs = dot(lx.d, cty.d, x.n);
        cr_assert(fabs(lhs - rhs) <= tol, "%s: <Cx,y> = %.17g but <x,C^T y> = %.17g [%s]",
                  tconv_algo_name(algos[i]), lhs, rhs, describe(&g));
    }
    tensor_free(&x), tensor_free(&y), tensor_free(&w), tensor_free(&ax), tensor_free(&ay);
    tensor_free(&aw), tensor_free(&bound_y), tensor_free(&cx), tensor_free(&cty);
    tensor_free(&lx), tensor_free(&ly);
}

/* ---- strided views --------------------------------------------------------------------- */

/* The kinds of view the test makes of a dense tensor. */
typedef enum view_kind {
    VIEW_GAPS,       /* every dimension's stride padded: a slice of a larger tensor */
    VIEW_STEP,       /* every other element along the last axis */
    VIEW_REVERSED,   /* the last axis reversed (a negative stride) */
    VIEW_LAST_AS_CF, /* channels-last memory, described as a channels-first view */
    VIEW_KINDS
} view_kind;

/* A view of the channels-first tensor `t` (n, c, spatial...) of g: a buffer that holds the
 * same values at the view's offsets, the view's pointer, and its strides (dims + 2). */
typedef struct view {
    double *buf_d;
    float *buf_f;
    const void *at_d, *at_f;
    int64_t strides[TCONV_MAX_DIMS + 2];
} view;

static view make_view(const tconv_geometry *g, bool x_side, const tensor *t, view_kind kind)
{
    const int d = g->dims;
    int64_t ext[TCONV_MAX_DIMS + 2];
    ext[0] = g->batch, ext[1] = x_side ? g->x_channels : g->y_channels;
    for (int a = 0; a < d; ++a)
        ext[2 + a] = x_side ? g->x_size[a] : g->y_size[a];
    view v;
    /* strides, innermost first; `origin` is the offset of index 0 */
    int64_t st[TCONV_MAX_DIMS + 2], run = 1, origin = 0;
    if (kind == VIEW_LAST_AS_CF) {
        st[1] = 1, run = ext[1];
        for (int a = d - 1; a >= 0; --a)
            st[2 + a] = run, run *= ext[2 + a];
        st[0] = run, run *= ext[0];
    } else {
        for (int i = d + 1; i >= 0; --i) {
            const int64_t step = kind == VIEW_STEP && i == d + 1 ? 2 : 1;
            st[i] = run * step;
            run = st[i] * ext[i] + (kind == VIEW_GAPS ? 3 : 0);
        }
        if (kind == VIEW_REVERSED) {
            origin = st[d + 1] * (ext[d + 1] - 1);
            st[d + 1] = -st[d + 1];
        }
    }
    const int64_t span = run + 8;
    v.buf_d = malloc(sizeof(double) * (size_t)span);
    v.buf_f = malloc(sizeof(float) * (size_t)span);
    for (int64_t i = 0; i < span; ++i)
        v.buf_d[i] = 1e30, v.buf_f[i] = 1e30f; /* what a view never reaches */
    int64_t idx[TCONV_MAX_DIMS + 2] = {0};
    for (int64_t flat = 0; flat < t->n; ++flat) { /* channels-first order */
        int64_t rest = flat, off = origin;
        for (int i = d + 1; i >= 0; --i) {
            idx[i] = rest % ext[i];
            rest /= ext[i];
            off += idx[i] * st[i];
        }
        v.buf_d[off] = t->d[flat];
        v.buf_f[off] = t->f[flat];
    }
    v.at_d = v.buf_d + origin, v.at_f = v.buf_f + origin;
    memcpy(v.strides, st, sizeof st);
    return v;
}

static void view_free(view *v)
{
    free(v->buf_d), free(v->buf_f);
}

/* Conv forward and transposed-conv backward of the same geometry with the X-side input a
 * view, and the transposed-conv forward with its Y-side input a view: the dense call's
 * bits. */
ParameterizedTestParameters(layouts, strided_views)
{
    static uint64_t seeds[24];
    for (int i = 0; i < 24; ++i)
        seeds[i] = 11000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, 24);
}

ParameterizedTest(uint64_t *seed, layouts, strided_views)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    if (g.batch == 0)
        return; /* an empty batch has no view to speak of */
    rng r = {*seed};
    tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    const tconv_algo algos[3] = {TCONV_ALGO_AUTO, TCONV_ALGO_GEMM, TCONV_ALGO_GATHER};
    for (int k = 0; k < VIEW_KINDS; ++k)
        for (int ai = 0; ai < 3; ++ai)
            for (int j = 0; j < 2; ++j) {
                const tconv_dtype dt = dtypes[j];
                const size_t size = dt == TCONV_F64 ? 8 : 4;
                view vx = make_view(&g, true, &x, (view_kind)k);
                view vy = make_view(&g, false, &y, (view_kind)k);
                tensor dense_y = tensor_new(y.n), view_y = tensor_new(y.n);
                tensor dense_x = tensor_new(x.n), view_x = tensor_new(x.n);
                tensor dense_gw = tensor_new(w.n), view_gw = tensor_new(w.n);
                tconv_error err;
                const tconv_options plain = {0};
                tconv_options ox = {.x_strides = vx.strides}, oy = {.y_strides = vy.strides};
                const void *px = j ? vx.at_f : vx.at_d, *py = j ? vy.at_f : vy.at_d;
                cr_assert_eq(tconv_conv_forward_ex(&g, algos[ai], dt, tensor_data(&x, dt),
                                                   tensor_data(&w, dt), NULL,
                                                   tensor_data(&dense_y, dt), &plain, &err),
                             TCONV_OK, "%s", err.message);
                cr_assert_eq(tconv_conv_forward_ex(&g, algos[ai], dt, px, tensor_data(&w, dt),
                                                   NULL, tensor_data(&view_y, dt), &ox, &err),
                             TCONV_OK, "view %d: %s", k, err.message);
                cr_assert(memcmp(tensor_data(&dense_y, dt), tensor_data(&view_y, dt),
                                 size * (size_t)y.n) == 0,
                          "conv forward through view %d (%s) differs [%s]", k,
                          tconv_algo_name(algos[ai]), describe(&g));
                cr_assert_eq(tconv_convt_forward_ex(&g, algos[ai], dt, tensor_data(&y, dt),
                                                    tensor_data(&w, dt), NULL,
                                                    tensor_data(&dense_x, dt), &plain, &err),
                             TCONV_OK);
                cr_assert_eq(tconv_convt_forward_ex(&g, algos[ai], dt, py, tensor_data(&w, dt),
                                                    NULL, tensor_data(&view_x, dt), &oy, &err),
                             TCONV_OK, "view %d: %s", k, err.message);
                cr_assert(memcmp(tensor_data(&dense_x, dt), tensor_data(&view_x, dt),
                                 size * (size_t)x.n) == 0,
                          "convt forward through view %d differs [%s]", k, describe(&g));
                /* backward of the transposed conv: grad_out is X-shaped, in is Y-shaped */
                tconv_options both = {.x_strides = vx.strides, .y_strides = vy.strides};
                cr_assert_eq(tconv_convt_backward_ex(&g, algos[ai], dt, tensor_data(&y, dt),
                                                     tensor_data(&w, dt), tensor_data(&x, dt),
                                                     tensor_data(&dense_y, dt),
                                                     tensor_data(&dense_gw, dt), NULL, &plain,
                                                     &err),
                             TCONV_OK);
                cr_assert_eq(tconv_convt_backward_ex(&g, algos[ai], dt, py, tensor_data(&w, dt),
                                                     px, tensor_data(&view_y, dt),
                                                     tensor_data(&view_gw, dt), NULL, &both,
                                                     &err),
                             TCONV_OK, "view %d: %s", k, err.message);
                cr_assert(memcmp(tensor_data(&dense_y, dt), tensor_data(&view_y, dt),
                                 size * (size_t)y.n) == 0 &&
                              memcmp(tensor_data(&dense_gw, dt), tensor_data(&view_gw, dt),
                                     size * (size_t)w.n) == 0,
                          "convt backward through view %d differs [%s]", k, describe(&g));
                view_free(&vx), view_free(&vy);
                tensor_free(&dense_y), tensor_free(&view_y), tensor_free(&dense_x);
                tensor_free(&view_x), tensor_free(&dense_gw), tensor_free(&view_gw);
            }
    tensor_free(&x), tensor_free(&y), tensor_free(&w);
}

Test(layouts, bad_views_and_layouts_are_refused)
{
    const int64_t in[2] = {5, 6}, k[2] = {3, 3};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 2, 3, 4, 1, in, k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    const int64_t nx = numel(&g, TCONV_TENSOR_X), ny = numel(&g, TCONV_TENSOR_Y);
    double *x = calloc((size_t)nx * 4, sizeof(double)), *w = calloc(200, sizeof(double));
    double *y = malloc(sizeof(double) * (size_t)ny);
    const int64_t cases[][4] = {
        {90, 30, 6, 0},   /* a zero stride on an axis of extent 6 */
        {90, 30, 1, 1},   /* two axes with the same stride */
        {90, 30, 6, 2},   /* rows of 6 read with step 2: rows overlap */
        {30, 20, 6, 1},   /* channels 20 apart: they overlap the rows of a channel */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const tconv_options o = {.x_strides = cases[i]};
        tconv_error err;
        memset(y, SENTINEL, sizeof(double) * (size_t)ny);
        cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, y, &o,
                                           &err),
                     TCONV_EINVAL, "case %zu", i);
        cr_assert(strstr(err.message, "x_strides") && strstr(err.message, "overlap"),
                  "case %zu: %s", i, err.message);
        cr_assert(untouched(y, sizeof(double) * (size_t)ny), "case %zu wrote", i);
    }
    const int64_t huge[4] = {INT64_MAX / 2, 30, 6, 1};
    const tconv_options o = {.x_strides = huge};
    tconv_error err;
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, y, &o, &err),
                 TCONV_EOVERFLOW, "%s", err.message);
    const tconv_options bad_layout = {.layout = (tconv_layout)7};
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, y,
                                       &bad_layout, &err),
                 TCONV_EINVAL);
    cr_assert(strstr(err.message, "options.layout"), "%s", err.message);
    /* an output inside the view's reach overlaps it, even between the view's elements */
    const int64_t gaps[4] = {200, 60, 12, 2};
    const tconv_options og = {.x_strides = gaps};
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, x + 1, &og,
                                       &err),
                 TCONV_EINVAL);
    cr_assert(strstr(err.message, "overlaps"), "%s", err.message);
    free(x), free(w), free(y);
}
