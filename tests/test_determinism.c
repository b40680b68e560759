/*
 * Determinism: for every algorithm, every GEMM provider it can use, both layouts, both
 * layers, forward (with bias) and backward (all three gradients), both dtypes, the results
 * are the same bits with 1, 2, 3 and 8 threads (options.num_threads), with OpenMP's default
 * count, and from one run to the next. The outputs of the later runs start as NaN: a
 * product that read its output before writing it would carry the NaN into its result.
 *
 * Why it holds (see src/algo_gemm.c, src/bias_tmpl.h): every output element is written by
 * one thread, and every sum is taken in an order that depends on the shape alone: GEMM
 * tiles are cut by shape, never by thread count; col2im sums a channel's taps in a fixed
 * order; the weight gradient sums the batch in order inside one task; the bias gradient is
 * one sum per channel. The reference loops run on one thread. An algorithm that cannot
 * give this guarantee must say so in tconv.h and be listed here with the reason; none is.
 *
 * The geometries include shapes where the gemm path takes each of its branches: more
 * tasks (images × groups) than threads (one column buffer per thread), fewer (the team
 * shares each GEMM's tiles), and GEMMs of more than one 512-wide tile in each dimension.
 */
#include "common.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <string.h>

static const int thread_counts[] = {2, 3, 8, 0};

#define RANDOM_GEOMETRIES 14
#define GEOMETRIES (RANDOM_GEOMETRIES + 3)

static void geometry_for(int i, tconv_geometry *g)
{
    if (i < RANDOM_GEOMETRIES) {
        random_geometry(60000 + (uint64_t)i, g);
        return;
    }
    tconv_status s;
    if (i == RANDOM_GEOMETRIES) {
        /* one image, one group: fewer tasks than threads. R = 58·3·3 = 522 rows and
         * |Sy| = 23·23 = 529 columns: two tiles each way */
        const int64_t in[2] = {25, 25}, k[2] = {3, 3};
        s = tconv_geometry_init_conv(g, 2, 1, 58, 6, 1, in, k, NULL, NULL, NULL, NULL);
    } else if (i == RANDOM_GEOMETRIES + 1) {
        /* 5 images × 2 groups = 10 tasks: more than 8 threads, uneven split */
        const int64_t in[2] = {7, 9}, k[2] = {3, 2}, st[2] = {2, 3}, p[2] = {1, 0};
        s = tconv_geometry_init_transposed(g, 2, 5, 6, 4, 2, in, k, st, p, NULL, NULL, NULL);
    } else {
        /* 3-D, dilated, groups 3, 3 images: 9 tasks, between 8 and 3 threads */
        const int64_t in[3] = {5, 4, 6}, k[3] = {2, 3, 2}, d[3] = {2, 1, 2};
        s = tconv_geometry_init_conv(g, 3, 3, 6, 9, 3, in, k, NULL, NULL, d, NULL);
    }
    cr_assert_eq(s, TCONV_OK);
}

/* All outputs of one layer's forward and backward, in one dtype. */
typedef struct results {
    tensor fwd, gin, gw, gb;
} results;

static results results_new(const tconv_geometry *g, bool conv, bool nan)
{
    const int64_t nx = numel(g, TCONV_TENSOR_X), ny = numel(g, TCONV_TENSOR_Y);
    const int64_t c = conv ? g->y_channels : g->x_channels;
    results r = {tensor_new(conv ? ny : nx), tensor_new(conv ? nx : ny),
                 tensor_new(numel(g, TCONV_TENSOR_WEIGHT)), tensor_new(c)};
    tensor *all[4] = {&r.fwd, &r.gin, &r.gw, &r.gb};
    for (int i = 0; i < 4 && nan; ++i) {
        memset(all[i]->d, 0xff, sizeof(double) * (size_t)all[i]->n);
        memset(all[i]->f, 0xff, sizeof(float) * (size_t)all[i]->n);
    }
    return r;
}

/* One configuration: an algorithm, the provider its GEMMs go to, the layout. */
typedef struct config {
    tconv_algo algo;
    tconv_provider provider;
    tconv_layout layout;
} config;

static const char *config_name(const config *c)
{
    static _Thread_local char text[96];
    snprintf(text, sizeof text, "%s@%s/%s", tconv_algo_name(c->algo),
             tconv_provider_name(c->provider),
             c->layout == TCONV_LAYOUT_CHANNELS_LAST ? "channels-last" : "channels-first");
    return text;
}

static void results_free(results *r)
{
    tensor_free(&r->fwd), tensor_free(&r->gin), tensor_free(&r->gw), tensor_free(&r->gb);
}

/* Runs forward and backward; false if the algorithm refuses this geometry (it must then
 * say why and write nothing, which test_layers and the fuzzer check). */
static bool run_layer(const tconv_geometry *g, bool conv, const config *cf, tconv_dtype dt,
                      int threads, const tensor *in, const tensor *w, const tensor *bias,
                      const tensor *gout, results *r)
{
    const tconv_algo a = cf->algo;
    tconv_options opt = {0};
    opt.num_threads = threads;
    opt.provider = cf->provider;
    opt.layout = cf->layout;
    tconv_error err = {0};
    const void *pin = tensor_data(in, dt), *pw = tensor_data(w, dt);
    const void *pb = tensor_data(bias, dt), *pg = tensor_data(gout, dt);
    tconv_status s = conv ? tconv_conv_forward_ex(g, a, dt, pin, pw, pb, tensor_data(&r->fwd, dt),
                                                  &opt, &err)
                          : tconv_convt_forward_ex(g, a, dt, pin, pw, pb,
                                                   tensor_data(&r->fwd, dt), &opt, &err);
    if (s == TCONV_EUNSUPPORTED || s == TCONV_ETOOBIG)
        return false;
    cr_assert_eq(s, TCONV_OK, "%s forward: %s [%s]", config_name(cf), err.message,
                 describe(g));
    void *gi = tensor_data(&r->gin, dt), *gw = tensor_data(&r->gw, dt);
    void *gb = tensor_data(&r->gb, dt);
    s = conv ? tconv_conv_backward_ex(g, a, dt, pin, pw, pg, gi, gw, gb, &opt, &err)
             : tconv_convt_backward_ex(g, a, dt, pin, pw, pg, gi, gw, gb, &opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s backward: %s [%s]", config_name(cf), err.message,
                 describe(g));
    return true;
}

static void expect_same_bits(const tensor *want, const tensor *got, tconv_dtype dt,
                             const char *what, const config *cf, int threads,
                             const tconv_geometry *g)
{
    const size_t bytes = (size_t)want->n * (dt == TCONV_F64 ? sizeof(double) : sizeof(float));
    cr_assert(memcmp(tensor_data(want, dt), tensor_data(got, dt), bytes) == 0,
              "%s %s %s: %d threads differ from 1 thread [%s]", config_name(cf),
              dt == TCONV_F64 ? "f64" : "f32", what, threads, describe(g));
}

/* Every algorithm in both layouts; those that multiply with a GEMM (all but the reference
 * loops and sparse) with every BLAS provider this build has; the reference GEMM (plain
 * loops, slow under the sanitizers) with gemm alone, whose tiles every algorithm shares. */
ParameterizedTestParameters(determinism, any_thread_count)
{
    static config configs[256];
    tconv_algo algos[64];
    const int n = all_algorithms(algos, 64);
    size_t count = 0;
    for (int i = 0; i < n; ++i) {
        const bool gemms = algos[i] != TCONV_ALGO_SCATTER && algos[i] != TCONV_ALGO_GATHER &&
                           algos[i] != TCONV_ALGO_SPARSE;
        for (int p = 0; p < (gemms ? TCONV_PROVIDER_COUNT : 1); ++p)
            for (int l = 0; l < 2; ++l)
                if (tconv_provider_available((tconv_provider)p, TCONV_F32) &&
                    (p != TCONV_PROVIDER_REFERENCE || algos[i] == TCONV_ALGO_GEMM) &&
                    count < sizeof configs / sizeof configs[0])
                    configs[count++] = (config){algos[i], (tconv_provider)p, (tconv_layout)l};
    }
    return cr_make_param_array(config, configs, count);
}

ParameterizedTest(config *cf, determinism, any_thread_count)
{
    int compared = 0;
    for (int i = 0; i < GEOMETRIES; ++i) {
        tconv_geometry g;
        geometry_for(i, &g);
        for (int conv = 0; conv < 2; ++conv) {
            rng r = {61000 + (uint64_t)i};
            const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
            const tconv_tensor out_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
            tensor in = tensor_random(numel(&g, in_t), &r);
            tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
            tensor bias = tensor_random(conv ? g.y_channels : g.x_channels, &r);
            tensor gout = tensor_random(numel(&g, out_t), &r);
            for (int d = 0; d < 2; ++d) {
                const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                results one = results_new(&g, conv, false);
                if (!run_layer(&g, conv, cf, dt, 1, &in, &w, &bias, &gout, &one)) {
                    results_free(&one);
                    continue;
                }
                /* the same call again, then every other thread count */
                for (int t = -1; t < (int)(sizeof thread_counts / sizeof thread_counts[0]);
                     ++t) {
                    const int threads = t < 0 ? 1 : thread_counts[t];
                    results other = results_new(&g, conv, true);
                    cr_assert(run_layer(&g, conv, cf, dt, threads, &in, &w, &bias, &gout,
                                        &other),
                              "%s refused with %d threads what it ran with 1",
                              config_name(cf), threads);
                    expect_same_bits(&one.fwd, &other.fwd, dt, "forward", cf, threads, &g);
                    expect_same_bits(&one.gin, &other.gin, dt, "grad_input", cf, threads, &g);
                    expect_same_bits(&one.gw, &other.gw, dt, "grad_weight", cf, threads, &g);
                    expect_same_bits(&one.gb, &other.gb, dt, "grad_bias", cf, threads, &g);
                    results_free(&other);
                    ++compared;
                }
                results_free(&one);
            }
            tensor_free(&in), tensor_free(&w), tensor_free(&bias), tensor_free(&gout);
        }
    }
    cr_assert(compared > 0, "%s ran no geometry", config_name(cf));
}
