/*
 * Teams of one (core/tasks.c): a call on one thread outside any parallel region runs its
 * products with no OpenMP region of its own, setting the GEMMs' thread count on the
 * caller's thread meanwhile. It must leave the caller's OpenMP thread count as it found
 * it and compute the bits a team computes; inside a caller's parallel region every
 * thread's call still gets a region of its own. Every kind of product region is drawn:
 * gemm's general, pointwise, unit-map and whole-batch paths, phase's loops (over bordered
 * copies too), both layouts
 * (channels-last adds the depthwise loops and the layout copies), both layers, forward
 * and backward, against the float64 oracle.
 */
#include "common.h"

#include <criterion/criterion.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Transposed-convolution geometries, one per kind of region (see the file comment). */
static tconv_geometry geometry(int kind)
{
    /* batch, in channels (Y), out channels (X), groups, input, kernel, stride, padding */
    static const int64_t rows[][8] = {
        {2, 8, 6, 1, 5, 3, 2, 1},   /* gemm: general (im2col / col2im) */
        {3, 8, 24, 1, 4, 1, 1, 0},  /* gemm: pointwise */
        {3, 6, 5, 1, 1, 3, 1, 0},   /* gemm: unit map */
        {2, 256, 4, 1, 2, 2, 1, 0}, /* gemm: backward's apply over the whole batch */
        {2, 3, 3, 3, 6, 3, 2, 1},   /* phase: depthwise loops */
        {2, 4, 4, 4, 9, 3, 1, 1},   /* phase: depthwise loops over bordered copies */
        {1, 2, 1, 1, 3, 3, 2, 1},   /* phase: the seed's layer */
    };
    const int64_t *r = rows[kind];
    const int64_t in[2] = {r[4], r[4]}, k[2] = {r[5], r[5]}, s[2] = {r[6], r[6]};
    const int64_t p[2] = {r[7], r[7]}, op[2] = {0, 0}, d[2] = {1, 1};
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, r[0], r[1], r[2], r[3], in, k, s, p, op,
                                                d, &err),
                 TCONV_OK, "%s", err.message);
    return g;
}
#define KINDS 7

/* The three outputs of a forward + backward of the transposed layer: x, grad_in, dW. */
typedef struct outputs {
    tensor x, gi, gw;
} outputs;

static outputs outputs_new(const tconv_geometry *g)
{
    outputs o = {tensor_new(numel(g, TCONV_TENSOR_X)), tensor_new(numel(g, TCONV_TENSOR_Y)),
                 tensor_new(numel(g, TCONV_TENSOR_WEIGHT))};
    return o;
}

static void outputs_free(outputs *o)
{
    tensor_free(&o->x), tensor_free(&o->gi), tensor_free(&o->gw);
}

/* Forward and backward in float32 with `threads` in `layout`, from channels-first operands
 * (laid out for the call and back by the test's own loops); outputs channels-first. */
static void run(const tconv_geometry *g, tconv_algo algo, tconv_layout layout, int threads,
                const tensor *in, const tensor *w, const tensor *go, outputs *o)
{
    const bool last = layout == TCONV_LAYOUT_CHANNELS_LAST;
    tensor lin = tensor_new(in->n), lgo = tensor_new(go->n);
    tensor lx = tensor_new(o->x.n), lgi = tensor_new(o->gi.n);
    if (last) {
        channels_last(g, false, false, in->d, lin.d);
        channels_last(g, true, false, go->d, lgo.d);
    } else {
        memcpy(lin.d, in->d, sizeof(double) * (size_t)in->n);
        memcpy(lgo.d, go->d, sizeof(double) * (size_t)go->n);
    }
    for (int64_t i = 0; i < lin.n; ++i)
        lin.f[i] = (float)lin.d[i];
    for (int64_t i = 0; i < lgo.n; ++i)
        lgo.f[i] = (float)lgo.d[i];
    const tconv_options opt = {.num_threads = threads, .layout = layout};
    tconv_error err = {0};
    cr_assert_eq(tconv_convt_forward_ex(g, algo, TCONV_F32, lin.f, w->f, NULL, lx.f, &opt, &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(tconv_convt_backward_ex(g, algo, TCONV_F32, lin.f, w->f, lgo.f, lgi.f,
                                         o->gw.f, NULL, &opt, &err),
                 TCONV_OK, "%s", err.message);
    tensor_f32_to_f64(&lx), tensor_f32_to_f64(&lgi), tensor_f32_to_f64(&o->gw);
    if (last) {
        channels_last(g, true, true, lx.d, o->x.d);
        channels_last(g, false, true, lgi.d, o->gi.d);
    } else {
        memcpy(o->x.d, lx.d, sizeof(double) * (size_t)lx.n);
        memcpy(o->gi.d, lgi.d, sizeof(double) * (size_t)lgi.n);
    }
    for (int64_t i = 0; i < o->x.n; ++i)
        o->x.f[i] = (float)o->x.d[i];
    for (int64_t i = 0; i < o->gi.n; ++i)
        o->gi.f[i] = (float)o->gi.d[i];
    tensor_free(&lin), tensor_free(&lgo), tensor_free(&lx), tensor_free(&lgi);
}

static bool same_bits(const outputs *a, const outputs *b)
{
    return memcmp(a->x.f, b->x.f, sizeof(float) * (size_t)a->x.n) == 0 &&
           memcmp(a->gi.f, b->gi.f, sizeof(float) * (size_t)a->gi.n) == 0 &&
           memcmp(a->gw.f, b->gw.f, sizeof(float) * (size_t)a->gw.n) == 0;
}

/* The float64 oracle of the three outputs, and their bounds. */
static void check_oracle(const tconv_geometry *g, const tensor *in, const tensor *w,
                         const tensor *go, const outputs *o, const char *what)
{
    tensor ain = tensor_abs(in), aw = tensor_abs(w), ago = tensor_abs(go);
    outputs ref = outputs_new(g), bound = outputs_new(g);
    oracle(g, TCONV_APPLY_T, in->d, w->d, ref.x.d);
    oracle(g, TCONV_APPLY_T, ain.d, aw.d, bound.x.d);
    oracle(g, TCONV_APPLY, go->d, w->d, ref.gi.d);
    oracle(g, TCONV_APPLY, ago.d, aw.d, bound.gi.d);
    oracle(g, TCONV_WGRAD, in->d, go->d, ref.gw.d);
    oracle(g, TCONV_WGRAD, ain.d, ago.d, bound.gw.d);
    const double eps = dtype_eps(TCONV_F32);
    expect_close(o->x.d, ref.x.d, bound.x.d, o->x.n, reduction_length(g, TCONV_APPLY_T), eps,
                 what);
    expect_close(o->gi.d, ref.gi.d, bound.gi.d, o->gi.n, reduction_length(g, TCONV_APPLY), eps,
                 what);
    expect_close(o->gw.d, ref.gw.d, bound.gw.d, o->gw.n, reduction_length(g, TCONV_WGRAD), eps,
                 what);
    outputs_free(&ref), outputs_free(&bound);
    tensor_free(&ain), tensor_free(&aw), tensor_free(&ago);
}

static const tconv_algo algos[] = {TCONV_ALGO_AUTO, TCONV_ALGO_GEMM, TCONV_ALGO_PHASE};

/* One thread outside any region: the caller's thread count (3) stays, the bits are a
 * team's of two, the values the oracle's. */
Test(teams, one_thread_keeps_the_callers_thread_count)
{
    omp_set_num_threads(3);
    for (int kind = 0; kind < KINDS; ++kind) {
        const tconv_geometry g = geometry(kind);
        rng r = {(uint64_t)kind * 7919 + 1};
        tensor in = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor go = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
        for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a)
            for (int l = 0; l < 2; ++l) {
                char what[300];
                snprintf(what, sizeof what, "%s %s [%s]", tconv_algo_name(algos[a]),
                         l ? "channels-last" : "channels-first", describe(&g));
                outputs one = outputs_new(&g), two = outputs_new(&g);
                run(&g, algos[a], (tconv_layout)l, 1, &in, &w, &go, &one);
                cr_assert_eq(omp_get_max_threads(), 3, "%s: the caller's count changed to %d",
                             what, omp_get_max_threads());
                run(&g, algos[a], (tconv_layout)l, 2, &in, &w, &go, &two);
                cr_assert(same_bits(&one, &two), "%s: one thread differs from two", what);
                check_oracle(&g, &in, &w, &go, &one, what);
                outputs_free(&one), outputs_free(&two);
            }
        tensor_free(&in), tensor_free(&w), tensor_free(&go);
    }
}

/* Inside a caller's region of two threads, each thread's one-thread call (a region of its
 * own, nested) gives the bits of a call outside, and the caller's count stays. */
Test(teams, inside_a_callers_region)
{
    omp_set_num_threads(2);
    for (int kind = 0; kind < KINDS; ++kind) {
        const tconv_geometry g = geometry(kind);
        rng r = {(uint64_t)kind * 104729 + 3};
        tensor in = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor go = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
        outputs outside = outputs_new(&g), inside[2] = {outputs_new(&g), outputs_new(&g)};
        run(&g, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, 1, &in, &w, &go, &outside);
        int counts[2] = {0, 0};
#pragma omp parallel num_threads(2)
        {
            const int t = omp_get_thread_num();
            run(&g, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, 1, &in, &w, &go, &inside[t]);
            counts[t] = omp_get_max_threads();
        }
        for (int t = 0; t < 2; ++t) {
            cr_assert(same_bits(&outside, &inside[t]), "thread %d differs [%s]", t,
                      describe(&g));
            cr_assert_eq(counts[t], omp_get_max_threads(),
                         "thread %d: the count changed [%s]", t, describe(&g));
        }
        cr_assert_eq(omp_get_max_threads(), 2, "the caller's count changed");
        outputs_free(&outside), outputs_free(&inside[0]), outputs_free(&inside[1]);
        tensor_free(&in), tensor_free(&w), tensor_free(&go);
    }
}
