/*
 * A GEMM provider that fails leaves no trace. This program defines dnnl_sgemm itself, so
 * the library's onednn provider calls this one (the executable's definition comes before
 * libdnnl.so's), which passes the call on to oneDNN's or, when told to, scribbles NaN over
 * part of C and returns an error, as a dnnl_sgemm that ran out of memory half-way might.
 * A call in which a failure happened must then give exactly the bits of the openblas
 * provider (its products are computed again by the fallback, whole), and a call without
 * one exactly the bits of oneDNN.
 */
#define _GNU_SOURCE
#include "common.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Calls seen, and which of them fail: from the first_failure-th on, every fail_every-th
 * (0: none). The test's own state, not the library's. */
static atomic_long calls;
static long first_failure = -1, fail_every;

static bool fails(long k);

typedef dnnl_status_t (*sgemm_fn)(char, char, dnnl_dim_t, dnnl_dim_t, dnnl_dim_t, float,
                                  const float *, dnnl_dim_t, const float *, dnnl_dim_t, float,
                                  float *, dnnl_dim_t);

dnnl_status_t dnnl_sgemm(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K,
                         float alpha, const float *A, dnnl_dim_t lda, const float *B,
                         dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc)
{
    const long k = atomic_fetch_add(&calls, 1);
    if (fails(k)) {
        for (dnnl_dim_t j = 0; j < N && M > 0; ++j) /* a partial write: row 0 */
            C[j] = NAN;
        return dnnl_out_of_memory;
    }
    sgemm_fn real = (sgemm_fn)(uintptr_t)dlsym(RTLD_NEXT, "dnnl_sgemm");
    cr_assert(real, "no dnnl_sgemm after this one: %s", dlerror());
    return real(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Whether call k fails. */
static bool fails(long k)
{
    return first_failure >= 0 && k >= first_failure &&
           (fail_every <= 1 || (k - first_failure) % fail_every == 0);
}

/* The calls of a layer: forward, the input gradient, the weight gradient, and both
 * gradients in one call (two products, or the transposed conv's fused pair). */
enum { STEP_FORWARD, STEP_GRAD_INPUT, STEP_GRAD_WEIGHT, STEP_BOTH, STEPS };

static float *step(const tconv_geometry *g, bool conv, int which, tconv_algo algo,
                   tconv_provider p, const tensor *in, const tensor *w, const tensor *b,
                   const tensor *go, size_t *count, bool *failed)
{
    const size_t n_out = (size_t)go->n, n_in = (size_t)in->n, n_w = (size_t)w->n;
    *count = which == STEP_FORWARD ? n_out : which == STEP_GRAD_INPUT ? n_in
             : which == STEP_GRAD_WEIGHT ? n_w : n_in + n_w;
    float *out = malloc(sizeof(float) * *count);
    memset(out, 0xff, sizeof(float) * *count);
    const tconv_options o = {.provider = p, .num_threads = 2};
    tconv_error err;
    const long before = atomic_load(&calls);
    tconv_status s;
    if (which == STEP_FORWARD)
        s = conv ? tconv_conv_forward_ex(g, algo, TCONV_F32, in->f, w->f, b->f, out, &o, &err)
                 : tconv_convt_forward_ex(g, algo, TCONV_F32, in->f, w->f, b->f, out, &o, &err);
    else {
        float *gi = which == STEP_GRAD_WEIGHT ? NULL : out;
        float *gw = which == STEP_GRAD_INPUT ? NULL : which == STEP_BOTH ? out + n_in : out;
        s = conv ? tconv_conv_backward_ex(g, algo, TCONV_F32, in->f, w->f, go->f, gi, gw, NULL,
                                          &o, &err)
                 : tconv_convt_backward_ex(g, algo, TCONV_F32, in->f, w->f, go->f, gi, gw, NULL,
                                           &o, &err);
    }
    cr_assert_eq(s, TCONV_OK, "%s", err.message);
    const long after = atomic_load(&calls);
    *failed = false;
    for (long k = before; k < after; ++k)
        *failed = *failed || fails(k);
    return out;
}

/* Each step with failures injected: exactly openblas's bits where a failure happened,
 * exactly the failure-free onednn bits elsewhere. */
static void check_fallback(long first, long every)
{
    const int64_t in_size[2] = {6, 5}, k[2] = {4, 3}, st[2] = {2, 1}, pad[2] = {1, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 3, 40, 36, 1, in_size, k, st, pad, NULL,
                                                NULL, NULL),
                 TCONV_OK);
    const tconv_algo algos[4] = {TCONV_ALGO_GEMM, TCONV_ALGO_PHASE, TCONV_ALGO_DENSE,
                                 TCONV_ALGO_AUTO};
    const tconv_provider providers[2] = {TCONV_PROVIDER_ONEDNN, TCONV_PROVIDER_DEFAULT};
    int fell_back = 0;
    for (int conv = 0; conv < 2; ++conv) {
        rng r = {(uint64_t)(31 + conv)};
        tensor in = tensor_random(numel(&g, conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y), &r);
        tensor go = tensor_random(numel(&g, conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor b = tensor_random(conv ? g.y_channels : g.x_channels, &r);
        for (int a = 0; a < 4; ++a)
            for (int which = 0; which < STEPS; ++which)
                for (int p = 0; p < 2; ++p) {
                    size_t n;
                    bool failed;
                    first_failure = -1;
                    float *openblas = step(&g, conv, which, algos[a], TCONV_PROVIDER_OPENBLAS,
                                           &in, &w, &b, &go, &n, &failed);
                    float *clean = step(&g, conv, which, algos[a], providers[p], &in, &w, &b,
                                        &go, &n, &failed);
                    atomic_store(&calls, 0);
                    first_failure = first, fail_every = every;
                    float *got = step(&g, conv, which, algos[a], providers[p], &in, &w, &b,
                                      &go, &n, &failed);
                    fell_back += failed;
                    cr_assert(memcmp(failed ? openblas : clean, got, sizeof(float) * n) == 0,
                              "%s@%s %s step %d: %s", tconv_algo_name(algos[a]),
                              tconv_provider_name(providers[p]), conv ? "conv" : "convt",
                              which, failed ? "a failed product left other bits than "
                                              "openblas's" : "other bits without a failure");
                    free(openblas), free(clean), free(got);
                }
        tensor_free(&in), tensor_free(&go), tensor_free(&w), tensor_free(&b);
    }
    cr_assert(fell_back > 0, "no injected failure reached the library");
}

Test(provider_failure, first_call_fails)
{
    check_fallback(0, 0);
}

Test(provider_failure, every_call_fails)
{
    check_fallback(0, 1);
}

Test(provider_failure, a_later_call_fails_after_partial_writes)
{
    check_fallback(1, 3);
}

/* Without failures the onednn provider is what the call computes with: its results are
 * within float32 rounding of openblas's (they need not be the same bits). */
Test(provider_failure, no_failure_uses_onednn)
{
    first_failure = -1;
    atomic_store(&calls, 0);
    const int64_t in_size[2] = {8, 8}, k[2] = {3, 3};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 2, 32, 48, 1, in_size, k, NULL, NULL, NULL,
                                          NULL),
                 TCONV_OK);
    rng r = {5};
    tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    float *y = malloc(sizeof(float) * (size_t)numel(&g, TCONV_TENSOR_Y));
    const tconv_options o = {.provider = TCONV_PROVIDER_ONEDNN};
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F32, x.f, w.f, NULL, y, &o,
                                       NULL),
                 TCONV_OK);
    cr_assert(atomic_load(&calls) > 0, "the onednn provider did not call dnnl_sgemm");
    free(y);
    tensor_free(&x), tensor_free(&w);
}
