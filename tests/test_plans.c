/*
 * Plans (tconv_plan_*), the workspace rules and the overlap checks of every entry point:
 *   - a plan run many times gives what the one-shot entry point gives, bit for bit, and
 *     both match the float64 oracle;
 *   - a backward plan computes the gradients it was made for and refuses others;
 *   - the workspace size never decreases with the thread count, and a workspace of the
 *     size asked for N threads serves every run of at most N threads, at any alignment;
 *     one byte less than the one-thread size is refused, outputs untouched;
 *   - one plan runs from four threads at once, each with its own workspace;
 *   - every entry point refuses outputs that overlap an input or each other, naming both.
 */
#include "common.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ConvTranspose2d(16 -> 8, k4 s2 p1) at 7x7, batch 3: the example of a workspace
 * that depends on the thread count. */
static void dcgan_like(tconv_geometry *g)
{
    const int64_t in[2] = {7, 7}, k[2] = {4, 4}, s[2] = {2, 2}, p[2] = {1, 1};
    tconv_error err;
    cr_assert_eq(tconv_geometry_init_transposed(g, 2, 3, 16, 8, 1, in, k, s, p, NULL, NULL,
                                                &err),
                 TCONV_OK, "%s", err.message);
}

Test(plans, forward_runs_match_the_entry_point_and_the_oracle)
{
    tconv_geometry g;
    dcgan_like(&g);
    rng r = {7};
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor ay = tensor_abs(&y), aw = tensor_abs(&w);
    tensor ref = tensor_new(numel(&g, TCONV_TENSOR_X)), bound = tensor_new(ref.n);
    oracle(&g, TCONV_APPLY_T, y.d, w.d, ref.d);
    oracle(&g, TCONV_APPLY_T, ay.d, aw.d, bound.d);
    tconv_algo algos[16];
    const int n_algos = all_algorithms(algos, 16);
    for (int i = 0; i < n_algos; ++i) {
        tconv_plan *plan = NULL;
        tconv_error err;
        cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_FORWARD, 0, algos[i], TCONV_F32,
                                       NULL, &err),
                     TCONV_OK, "%s: %s", tconv_algo_name(algos[i]), err.message);
        char text[512];
        tconv_plan_describe(plan, text, sizeof text);
        cr_assert(strstr(text, "convt forward") && strstr(text, "float32"), "%s", text);
        if (algos[i] != TCONV_ALGO_AUTO)
            cr_assert(strstr(text, tconv_algo_name(algos[i])), "%s", text);
        float *once = malloc(sizeof(float) * (size_t)ref.n);
        float *run = malloc(sizeof(float) * (size_t)ref.n);
        cr_assert_eq(tconv_convt_forward_ex(&g, algos[i], TCONV_F32, y.f, w.f, NULL, once,
                                            NULL, &err),
                     TCONV_OK, "%s", err.message);
        for (int rep = 0; rep < 3; ++rep) {
            memset(run, 0xff, sizeof(float) * (size_t)ref.n); /* NaN: never read */
            cr_assert_eq(tconv_plan_forward(plan, y.f, w.f, NULL, run, NULL, 0, &err),
                         TCONV_OK, "%s", err.message);
            cr_assert(memcmp(once, run, sizeof(float) * (size_t)ref.n) == 0,
                      "%s: run %d differs from the entry point", tconv_algo_name(algos[i]),
                      rep);
        }
        tensor got = tensor_new(ref.n);
        memcpy(got.f, run, sizeof(float) * (size_t)ref.n);
        tensor_f32_to_f64(&got);
        expect_close(got.d, ref.d, bound.d, ref.n, reduction_length(&g, TCONV_APPLY_T),
                     dtype_eps(TCONV_F32), tconv_algo_name(algos[i]));
        tensor_free(&got);
        free(once), free(run);
        tconv_plan_destroy(plan);
    }
    tensor_free(&y), tensor_free(&w), tensor_free(&ay), tensor_free(&aw);
    tensor_free(&ref), tensor_free(&bound);
}

Test(plans, backward_computes_what_it_was_made_for)
{
    tconv_geometry g;
    dcgan_like(&g);
    rng r = {8};
    tensor in = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor go = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    const int64_t n_gi = numel(&g, TCONV_TENSOR_Y), n_gw = numel(&g, TCONV_TENSOR_WEIGHT);
    double *gi = malloc(sizeof(double) * (size_t)n_gi), *gw = malloc(sizeof(double) * n_gw);
    double gb[8];
    tconv_plan *plan;
    tconv_error err;
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_BACKWARD, TCONV_GRAD_WEIGHT,
                                   TCONV_ALGO_AUTO, TCONV_F64, NULL, &err),
                 TCONV_OK, "%s", err.message);
    /* a gradient the plan was not made for: refused, nothing written */
    memset(gi, SENTINEL, sizeof(double) * (size_t)n_gi);
    memset(gw, SENTINEL, sizeof(double) * (size_t)n_gw);
    cr_assert_eq(tconv_plan_backward(plan, in.d, w.d, go.d, gi, gw, NULL, NULL, 0, &err),
                 TCONV_EINVAL);
    cr_assert(strstr(err.message, "not made for"), "%s", err.message);
    cr_assert(untouched(gi, sizeof(double) * (size_t)n_gi) &&
              untouched(gw, sizeof(double) * (size_t)n_gw));
    /* the weight gradient alone: the oracle's */
    cr_assert_eq(tconv_plan_backward(plan, in.d, NULL, go.d, NULL, gw, NULL, NULL, 0, &err),
                 TCONV_OK, "%s", err.message);
    tensor ref = tensor_new(n_gw), bound = tensor_new(n_gw);
    tensor ain = tensor_abs(&in), ago = tensor_abs(&go);
    oracle(&g, TCONV_WGRAD, in.d, go.d, ref.d);
    oracle(&g, TCONV_WGRAD, ain.d, ago.d, bound.d);
    expect_close(gw, ref.d, bound.d, n_gw, reduction_length(&g, TCONV_WGRAD),
                 dtype_eps(TCONV_F64), "plan grad_weight");
    tconv_plan_destroy(plan);
    /* a forward plan is not a backward one */
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_FORWARD, 0, TCONV_ALGO_GEMM,
                                   TCONV_F64, NULL, &err),
                 TCONV_OK);
    cr_assert_eq(tconv_plan_backward(plan, in.d, w.d, go.d, NULL, gw, gb, NULL, 0, &err),
                 TCONV_EINVAL);
    tconv_plan_destroy(plan);
    cr_assert_eq(tconv_plan_create(&plan, &g, (tconv_op)9, 0, TCONV_ALGO_GEMM, TCONV_F64, NULL,
                                   &err),
                 TCONV_EINVAL);
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_BACKWARD, 8, TCONV_ALGO_GEMM,
                                   TCONV_F64, NULL, &err),
                 TCONV_EINVAL);
    free(gi), free(gw);
    tensor_free(&in), tensor_free(&w), tensor_free(&go), tensor_free(&ref);
    tensor_free(&bound), tensor_free(&ain), tensor_free(&ago);
}

Test(plans, workspace_serves_every_thread_count_up_to_its_own)
{
    tconv_geometry g;
    dcgan_like(&g);
    rng r = {9};
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    const size_t out_bytes = sizeof(float) * (size_t)numel(&g, TCONV_TENSOR_X);
    float *ref = malloc(out_bytes), *out = malloc(out_bytes);
    tconv_error err;
    const tconv_options one = {.num_threads = 1};
    cr_assert_eq(tconv_convt_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F32, y.f, w.f, NULL, ref,
                                        &one, &err),
                 TCONV_OK, "%s", err.message);
    tconv_plan *plan;
    const tconv_options four = {.num_threads = 4};
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_FORWARD, 0, TCONV_ALGO_GEMM,
                                   TCONV_F32, &four, &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(tconv_plan_threads(plan), 4);
    size_t prev = 0;
    for (int t = 1; t <= 4; ++t) {
        size_t bytes, legacy;
        cr_assert_eq(tconv_plan_workspace_size(plan, t, &bytes, &err), TCONV_OK);
        cr_assert(bytes >= prev, "workspace for %d threads (%zu) < for %d (%zu)", t, bytes,
                  t - 1, prev);
        prev = bytes;
        const tconv_options o = {.num_threads = t};
        cr_assert_eq(tconv_workspace_size(&g, TCONV_CONVT_FORWARD, TCONV_ALGO_GEMM, TCONV_F32,
                                          &o, &legacy, &err),
                     TCONV_OK);
        cr_assert_eq(legacy, bytes, "tconv_workspace_size and the plan disagree at %d threads",
                     t);
        /* a workspace of that size, misaligned on purpose, serves the four-thread plan */
        char *block = malloc(bytes + 1);
        memset(out, 0xff, out_bytes);
        cr_assert_eq(tconv_plan_forward(plan, y.f, w.f, NULL, out, block + 1, bytes, &err),
                     TCONV_OK, "%d threads' workspace: %s", t, err.message);
        cr_assert(memcmp(ref, out, out_bytes) == 0, "%d threads' workspace: other bits", t);
        /* and so does it the one-shot entry point asking for more threads */
        const tconv_options more = {.num_threads = 4, .workspace = block + 1,
                                    .workspace_bytes = bytes};
        cr_assert_eq(tconv_convt_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F32, y.f, w.f, NULL, out,
                                            &more, &err),
                     TCONV_OK, "%s", err.message);
        cr_assert(memcmp(ref, out, out_bytes) == 0);
        free(block);
    }
    size_t least;
    cr_assert_eq(tconv_plan_workspace_size(plan, 1, &least, &err), TCONV_OK);
    cr_assert(least > 0);
    char *block = malloc(least);
    memset(out, SENTINEL, out_bytes);
    cr_assert_eq(tconv_plan_forward(plan, y.f, w.f, NULL, out, block, least - 1, &err),
                 TCONV_EWORKSPACE);
    cr_assert(strstr(err.message, "too small"), "%s", err.message);
    cr_assert(untouched(out, out_bytes));
    cr_assert_eq(tconv_plan_workspace_size(plan, -1, &least, &err), TCONV_EINVAL);
    free(block);
    tconv_plan_destroy(plan);
    free(ref), free(out);
    tensor_free(&y), tensor_free(&w);
}

/* ---- one plan, four threads -------------------------------------------------------- */

typedef struct job {
    const tconv_plan *plan;
    const tensor *y, *w;
    float *out;
    size_t bytes;
    tconv_status status;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    char *ws = malloc(j->bytes);
    for (int rep = 0; rep < 5 && j->status == TCONV_OK; ++rep)
        j->status = tconv_plan_forward(j->plan, j->y->f, j->w->f, NULL, j->out, ws, j->bytes,
                                       NULL);
    free(ws);
    return NULL;
}

Test(plans, one_plan_runs_from_several_threads_at_once)
{
    tconv_geometry g;
    dcgan_like(&g);
    rng r = {10};
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    const size_t out_bytes = sizeof(float) * (size_t)numel(&g, TCONV_TENSOR_X);
    tconv_plan *plan;
    const tconv_options two = {.num_threads = 2};
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_FORWARD, 0, TCONV_ALGO_AUTO,
                                   TCONV_F32, &two, NULL),
                 TCONV_OK);
    size_t bytes;
    tconv_plan_workspace_size(plan, 0, &bytes, NULL);
    float *ref = malloc(out_bytes);
    cr_assert_eq(tconv_plan_forward(plan, y.f, w.f, NULL, ref, NULL, 0, NULL), TCONV_OK);
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; ++i) {
        jobs[i] = (job){plan, &y, &w, malloc(out_bytes), bytes, TCONV_OK};
        cr_assert_eq(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; ++i) {
        pthread_join(th[i], NULL);
        cr_assert_eq(jobs[i].status, TCONV_OK);
        cr_assert(memcmp(ref, jobs[i].out, out_bytes) == 0, "thread %d: other bits", i);
        free(jobs[i].out);
    }
    free(ref);
    tconv_plan_destroy(plan);
    tensor_free(&y), tensor_free(&w);
}

/* ---- plans and the allocator -------------------------------------------------------- */

static int refusals;

static void *refuse(void *ctx, size_t bytes)
{
    (void)ctx, (void)bytes;
    ++refusals;
    return NULL;
}

static void never(void *ctx, void *p)
{
    (void)ctx, (void)p;
    cr_assert_fail("free called for memory never allocated");
}

Test(plans, create_asks_the_allocator_and_fails_cleanly)
{
    tconv_geometry g;
    dcgan_like(&g);
    const tconv_options o = {.alloc = refuse, .free = never};
    tconv_plan *plan = (tconv_plan *)&g; /* must stay as it is */
    tconv_error err;
    refusals = 0;
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_FORWARD, 0, TCONV_ALGO_GEMM,
                                   TCONV_F32, &o, &err),
                 TCONV_ENOMEM);
    cr_assert_eq(refusals, 1);
    cr_assert_eq((void *)plan, (void *)&g);
    cr_assert_eq(tconv_plan_create(NULL, &g, TCONV_CONVT_FORWARD, 0, TCONV_ALGO_GEMM,
                                   TCONV_F32, NULL, &err),
                 TCONV_EINVAL);
    cr_assert_eq(tconv_plan_forward(NULL, NULL, NULL, NULL, NULL, NULL, 0, &err), TCONV_EINVAL);
    tconv_plan_destroy(NULL);
}

/* ---- overlap ------------------------------------------------------------------------ */

/*
 * One buffer for every tensor of a call, so that a test can place an output on top of an
 * input. Each tensor gets its own slot, far enough apart; `alias` moves one output slot
 * onto another tensor's (shifted by `shift` elements).
 */
typedef struct arena {
    double *base;
    size_t slot; /* elements per slot */
} arena;

static arena arena_new(const tconv_geometry *g)
{
    int64_t most = 1;
    for (int t = 0; t <= TCONV_TENSOR_Y_BIAS; ++t)
        most = numel(g, (tconv_tensor)t) > most ? numel(g, (tconv_tensor)t) : most;
    arena a = {calloc(8 * (size_t)most, sizeof(double)), (size_t)most};
    rng r = {11};
    for (size_t i = 0; i < 8 * a.slot; ++i)
        a.base[i] = rng_value(&r);
    return a;
}

static double *slot(const arena *a, int i, int shift)
{
    return a->base + (size_t)i * a->slot + shift;
}

/* The call gets (out on top of `on`, shifted): refused, with both names in the message. */
static void expect_overlap(tconv_status s, const tconv_error *err, const char *out_name,
                           const char *in_name, const char *what)
{
    cr_assert_eq(s, TCONV_EINVAL, "%s: status %s", what, tconv_status_name(s));
    cr_assert(strstr(err->message, out_name) && strstr(err->message, in_name),
              "%s: message '%s' does not name %s and %s", what, err->message, out_name,
              in_name);
}

Test(plans, every_entry_point_refuses_overlapping_outputs)
{
    tconv_geometry g;
    dcgan_like(&g);
    arena A = arena_new(&g);
    /* slots: 0 x, 1 y, 2 weight, 3 bias, 4 outputs ... */
    double *x = slot(&A, 0, 0), *y = slot(&A, 1, 0), *w = slot(&A, 2, 0), *b = slot(&A, 3, 0);
    tconv_error err;
    const size_t bytes = 8 * A.slot * sizeof(double);
    double *keep = malloc(bytes);
    memcpy(keep, A.base, bytes);
#define SAME_ARENA() cr_assert(memcmp(keep, A.base, bytes) == 0, "a refused call wrote")
    /* forward: output = input, output inside the weight, output over the bias */
    expect_overlap(tconv_convt_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, y, w, NULL, y, NULL,
                                          &err),
                   &err, "output", "input", "convt forward, out = in");
    expect_overlap(tconv_convt_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, y, w, b, w + 5, NULL,
                                          &err),
                   &err, "output", "weight", "convt forward, out inside weight");
    expect_overlap(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, b, b - 3, NULL,
                                         &err),
                   &err, "output", "bias", "conv forward, out over bias");
    expect_overlap(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, x + 1,
                                         NULL, &err),
                   &err, "output", "input", "conv forward, out = in + 1");
    /* backward: each gradient against each input, and gradients against each other */
    double *gi = slot(&A, 4, 0), *gw = slot(&A, 5, 0), *gb = slot(&A, 6, 0);
    expect_overlap(tconv_conv_backward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, y, y, gw, gb,
                                          NULL, &err),
                   &err, "grad_input", "grad_output", "conv backward, grad_x = grad_y");
    expect_overlap(tconv_conv_backward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, y, gi, x + 7,
                                          gb, NULL, &err),
                   &err, "grad_weight", "input", "conv backward, grad_w inside x");
    expect_overlap(tconv_convt_backward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, y, w, x, gi, gw,
                                           gi + 2, NULL, &err),
                   &err, "grad_input", "grad_bias", "convt backward, grad_b inside grad_in");
    expect_overlap(tconv_convt_backward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, y, w, x, gi, w, NULL,
                                           NULL, &err),
                   &err, "grad_weight", "weight", "convt backward, grad_w = w");
    expect_overlap(tconv_convt_backward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, y, w, x, gw + 1, gw,
                                           NULL, NULL, &err),
                   &err, "grad_input", "grad_weight", "convt backward, grad_in over grad_w");
    /* the products */
    expect_overlap(tconv_product_run(&g, TCONV_APPLY, TCONV_ALGO_GEMM, TCONV_F64, x, NULL, w,
                                     x, NULL, &err),
                   &err, "out", "a", "apply, out = a");
    expect_overlap(tconv_product_run(&g, TCONV_APPLY_T, TCONV_ALGO_GATHER, TCONV_F64, y, NULL,
                                     w, w, NULL, &err),
                   &err, "out", "weight", "apply_t, out = weight");
    expect_overlap(tconv_product_run(&g, TCONV_WGRAD, TCONV_ALGO_SPARSE, TCONV_F64, y, x, NULL,
                                     x + 3, NULL, &err),
                   &err, "out", "b", "wgrad, out inside b");
    /* plans */
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONVT_BACKWARD, 0, TCONV_ALGO_PHASE,
                                   TCONV_F64, NULL, &err),
                 TCONV_OK);
    expect_overlap(tconv_plan_backward(plan, y, w, x, gi, gw, gw, NULL, 0, &err), &err,
                   "grad_weight", "grad_bias", "plan backward, grad_w = grad_b");
    tconv_plan_destroy(plan);
    cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONV_FORWARD, 0, TCONV_ALGO_SCATTER,
                                   TCONV_F64, NULL, &err),
                 TCONV_OK);
    expect_overlap(tconv_plan_forward(plan, x, w, NULL, x, NULL, 0, &err), &err, "output",
                   "input", "plan forward, out = in");
    tconv_plan_destroy(plan);
    SAME_ARENA();
    /* adjacent is not overlapping: the output right after the input */
    double *after = x + numel(&g, TCONV_TENSOR_X);
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, after, NULL,
                                       &err),
                 TCONV_OK, "%s", err.message);
#undef SAME_ARENA
    free(keep);
    free(A.base);
}
