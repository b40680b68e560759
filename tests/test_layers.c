/*
 * The layer entry points: the seed's example worked by hand, forward and backward of both
 * layers against the float64 oracle plus a bias computed here, central finite differences
 * of all three gradients, caller workspaces, empty batches, and calls that must fail
 * without touching any output.
 */
#include "common.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const tconv_algo algos[] = {TCONV_ALGO_AUTO,    TCONV_ALGO_GEMM,   TCONV_ALGO_PHASE,
                                   TCONV_ALGO_DENSE,   TCONV_ALGO_SPARSE, TCONV_ALGO_SCATTER,
                                   TCONV_ALGO_GATHER};

/*
 * The seed's Figures 4-10: two 3x3 maps (tc_input), kernel 3, stride 2, padding 1, back
 * to one 5x5 map. Output size: (3-1)*2 - 2*1 + (3-1) + 1 = 5.
 *
 * Worked by hand. Along one axis, output position i receives input position o through tap
 * k when i = 2o - 1 + k:
 *   even i = 2m:   only k = 1, from o = m;
 *   odd  i = 2m+1: k = 0 from o = m+1, and k = 2 from o = m.
 * Channel 0 has the separable kernel [1 2 1]ᵀ[1 2 1], so each axis maps a row v to
 *   [2v0, v0+v1, 2v1, v1+v2, 2v2].
 * With input rows [1 2 3], [4 5 6], [7 8 9], the rows become
 *   [2 3 4 5 6], [8 9 10 11 12], [14 15 16 17 18],
 * and the same map down the columns gives
 *   [ 4  6  8 10 12]
 *   [10 12 14 16 18]
 *   [16 18 20 22 24]        i.e. 4 + 2j + 6i: four times the bilinear interpolation.
 *   [22 24 26 28 30]
 *   [28 30 32 34 36]
 * Channel 1 has only the centre tap (k = 1, 1): input (o0, o1) lands on (2o0, 2o1). Its
 * input is 100 at (0,0) and (2,2), adding 100 at (0,0) and (4,4). The bias adds 0.5.
 */
Test(layers, seed_example_by_hand)
{
    const int64_t in_size[2] = {3, 3}, kernel[2] = {3, 3}, stride[2] = {2, 2}, pad[2] = {1, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, 2, 1, 1, in_size, kernel, stride,
                                                pad, NULL, NULL, NULL),
                 TCONV_OK);
    cr_assert_eq(g.x_size[0], 5);
    cr_assert_eq(g.x_size[1], 5);
    const double in[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 0, 0, 0, 0, 0, 0, 0, 100};
    const double w[18] = {1, 2, 1, 2, 4, 2, 1, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    const double bias[1] = {0.5};
    const double expected[25] = {104.5, 6.5,  8.5,  10.5, 12.5, 10.5, 12.5, 14.5, 16.5,
                                 18.5,  16.5, 18.5, 20.5, 22.5, 24.5, 22.5, 24.5, 26.5,
                                 28.5,  30.5, 28.5, 30.5, 32.5, 34.5, 136.5};
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a) {
        double out[25];
        float in32[18], w32[18], b32[1] = {0.5f}, out32[25];
        for (int i = 0; i < 18; ++i)
            in32[i] = (float)in[i], w32[i] = (float)w[i];
        cr_assert_eq(tconv_convt_forward(&g, algos[a], TCONV_F64, in, w, bias, out), TCONV_OK);
        cr_assert_eq(tconv_convt_forward(&g, algos[a], TCONV_F32, in32, w32, b32, out32),
                     TCONV_OK);
        for (int i = 0; i < 25; ++i) {
            cr_assert_eq(out[i], expected[i], "%s f64: x[%d][%d] = %g, by hand %g",
                         tconv_algo_name(algos[a]), i / 5, i % 5, out[i], expected[i]);
            cr_assert_eq(out32[i], (float)expected[i], "%s f32: x[%d][%d] = %g, by hand %g",
                         tconv_algo_name(algos[a]), i / 5, i % 5, out32[i], expected[i]);
        }
    }
}

/* ---- layers against the oracle ------------------------------------------------------- */

#define LAYER_GEOMETRIES 60

/* sum over batch and space of t[n][c][...] for every channel: the bias gradient */
static void channel_sums(const double *t, int64_t batch, int64_t channels, int64_t count,
                         double *sums)
{
    for (int64_t c = 0; c < channels; ++c) {
        sums[c] = 0;
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t i = 0; i < count; ++i)
                sums[c] += t[(n * channels + c) * count + i];
    }
}

typedef struct layer_case {
    bool conv;
    tconv_tensor in_t, out_t;
    tconv_product fwd, data;
} layer_case;

static layer_case layer_of(bool conv)
{
    layer_case lc = {conv, conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y,
                     conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X, conv ? TCONV_APPLY : TCONV_APPLY_T,
                     conv ? TCONV_APPLY_T : TCONV_APPLY};
    return lc;
}

static tconv_status layer_forward(const layer_case *lc, const tconv_geometry *g, tconv_algo a,
                                  tconv_dtype dt, const void *in, const void *w, const void *b,
                                  void *out, const tconv_options *opt, tconv_error *err)
{
    return lc->conv ? tconv_conv_forward_ex(g, a, dt, in, w, b, out, opt, err)
                    : tconv_convt_forward_ex(g, a, dt, in, w, b, out, opt, err);
}

static tconv_status layer_backward(const layer_case *lc, const tconv_geometry *g, tconv_algo a,
                                   tconv_dtype dt, const void *in, const void *w,
                                   const void *gout, void *gin, void *gw, void *gb,
                                   const tconv_options *opt, tconv_error *err)
{
    return lc->conv ? tconv_conv_backward_ex(g, a, dt, in, w, gout, gin, gw, gb, opt, err)
                    : tconv_convt_backward_ex(g, a, dt, in, w, gout, gin, gw, gb, opt, err);
}

ParameterizedTestParameters(layers, against_oracle)
{
    static uint64_t seeds[LAYER_GEOMETRIES];
    for (int i = 0; i < LAYER_GEOMETRIES; ++i)
        seeds[i] = 20000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, LAYER_GEOMETRIES);
}

ParameterizedTest(uint64_t *seed, layers, against_oracle)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};
    for (int conv = 0; conv < 2; ++conv) {
        const layer_case lc = layer_of(conv);
        const int64_t out_c = conv ? g.y_channels : g.x_channels;
        const int64_t out_n = numel(&g, lc.out_t), count = out_n / (g.batch ? g.batch : 1) /
                                                             out_c;
        tensor in = tensor_random(numel(&g, lc.in_t), &r), w = tensor_random(
                                                               numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor b = tensor_random(out_c, &r), gout = tensor_random(out_n, &r);
        tensor ain = tensor_abs(&in), aw = tensor_abs(&w), agout = tensor_abs(&gout);

        /* expected: the oracle's products, and bias terms computed here */
        tensor fwd = tensor_new(out_n), fwd_bound = tensor_new(out_n);
        tensor gin = tensor_new(in.n), gin_bound = tensor_new(in.n);
        tensor gw = tensor_new(w.n), gw_bound = tensor_new(w.n);
        tensor gb = tensor_new(out_c), gb_bound = tensor_new(out_c);
        const bool with_bias = (*seed + (uint64_t)conv) % 2 == 0; /* half the cases */
        oracle(&g, lc.fwd, in.d, w.d, fwd.d);
        oracle(&g, lc.fwd, ain.d, aw.d, fwd_bound.d);
        for (int64_t i = 0; with_bias && i < out_n; ++i) {
            fwd.d[i] += b.d[(i / count) % out_c];
            fwd_bound.d[i] += fabs(b.d[(i / count) % out_c]);
        }
        oracle(&g, lc.data, gout.d, w.d, gin.d);
        oracle(&g, lc.data, agout.d, aw.d, gin_bound.d);
        oracle(&g, TCONV_WGRAD, conv ? gout.d : in.d, conv ? in.d : gout.d, gw.d);
        oracle(&g, TCONV_WGRAD, conv ? agout.d : ain.d, conv ? ain.d : agout.d, gw_bound.d);
        channel_sums(gout.d, g.batch, out_c, count, gb.d);
        channel_sums(agout.d, g.batch, out_c, count, gb_bound.d);
        const int64_t L_fwd = reduction_length(&g, lc.fwd) + 1;
        const int64_t L_data = reduction_length(&g, lc.data);
        const int64_t L_w = reduction_length(&g, TCONV_WGRAD), L_b = out_n / out_c + 1;

        for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a)
            for (int d = 0; d < 2; ++d) {
                const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                tensor o = tensor_new(out_n), gi = tensor_new(in.n), gwt = tensor_new(w.n),
                       gbt = tensor_new(out_c);
                tconv_error err = {0};
                cr_assert_eq(layer_forward(&lc, &g, algos[a], dt, tensor_data(&in, dt),
                                           tensor_data(&w, dt),
                                           with_bias ? tensor_data(&b, dt) : NULL,
                                           tensor_data(&o, dt), NULL, &err),
                             TCONV_OK, "%s", err.message);
                cr_assert_eq(layer_backward(&lc, &g, algos[a], dt, tensor_data(&in, dt),
                                            tensor_data(&w, dt), tensor_data(&gout, dt),
                                            tensor_data(&gi, dt), tensor_data(&gwt, dt),
                                            tensor_data(&gbt, dt), NULL, &err),
                             TCONV_OK, "%s", err.message);
                if (dt == TCONV_F32) {
                    tensor_f32_to_f64(&o), tensor_f32_to_f64(&gi);
                    tensor_f32_to_f64(&gwt), tensor_f32_to_f64(&gbt);
                }
                char what[400];
                const char *name = tconv_algo_name(algos[a]);
                const char *layer = conv ? "conv" : "convt";
                const double eps = dtype_eps(dt);
                snprintf(what, sizeof what, "%s %s/%d forward [%s]", layer, name, d, describe(&g));
                expect_close(o.d, fwd.d, fwd_bound.d, out_n, L_fwd, eps, what);
                snprintf(what, sizeof what, "%s %s/%d grad_input [%s]", layer, name, d,
                         describe(&g));
                expect_close(gi.d, gin.d, gin_bound.d, in.n, L_data, eps, what);
                snprintf(what, sizeof what, "%s %s/%d grad_weight [%s]", layer, name, d,
                         describe(&g));
                expect_close(gwt.d, gw.d, gw_bound.d, w.n, L_w, eps, what);
                snprintf(what, sizeof what, "%s %s/%d grad_bias [%s]", layer, name, d,
                         describe(&g));
                expect_close(gbt.d, gb.d, gb_bound.d, out_c, L_b, eps, what);
                tensor_free(&o), tensor_free(&gi), tensor_free(&gwt), tensor_free(&gbt);
            }
        tensor_free(&in), tensor_free(&w), tensor_free(&b), tensor_free(&gout);
        tensor_free(&ain), tensor_free(&aw), tensor_free(&agout);
        tensor_free(&fwd), tensor_free(&fwd_bound), tensor_free(&gin), tensor_free(&gin_bound);
        tensor_free(&gw), tensor_free(&gw_bound), tensor_free(&gb), tensor_free(&gb_bound);
    }
}

/* ---- finite differences ---------------------------------------------------------------- */

#define FD_GEOMETRIES 24
#define FD_PROBES 48

/* loss = ⟨forward(in, w, b), R⟩, float64 */
static double loss(const layer_case *lc, const tconv_geometry *g, tconv_algo algo,
                   const tensor *in, const tensor *w, const tensor *b, const tensor *R)
{
    tensor out = tensor_new(R->n);
    tconv_error err = {0};
    cr_assert_eq(layer_forward(lc, g, algo, TCONV_F64, in->d, w->d, b->d, out.d, NULL, &err),
                 TCONV_OK, "%s", err.message);
    const double l = dot(out.d, R->d, R->n);
    tensor_free(&out);
    return l;
}

/* Central difference of the loss along coordinate i of t, against the analytic gradient. */
static void probe(const layer_case *lc, const tconv_geometry *g, tconv_algo algo, tensor *t,
                  int64_t i, double analytic, const tensor *in, const tensor *w,
                  const tensor *b, const tensor *R, double magnitude, const char *what)
{
    const double h = 1e-3, keep = t->d[i];
    t->d[i] = keep + h;
    const double up = loss(lc, g, algo, in, w, b, R);
    t->d[i] = keep - h;
    const double down = loss(lc, g, algo, in, w, b, R);
    t->d[i] = keep;
    const double fd = (up - down) / (2 * h);
    /* rounding of the two losses, divided by 2h */
    const double tol = 1e-10 * (magnitude + 1);
    cr_assert(fabs(fd - analytic) <= tol, "%s[%lld]: analytic %.15g, central difference %.15g "
              "[%s]", what, (long long)i, analytic, fd, describe(g));
}

ParameterizedTestParameters(layers, finite_differences)
{
    static uint64_t seeds[FD_GEOMETRIES];
    for (int i = 0; i < FD_GEOMETRIES; ++i)
        seeds[i] = 30000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, FD_GEOMETRIES);
}

ParameterizedTest(uint64_t *seed, layers, finite_differences)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};
    for (int conv = 0; conv < 2; ++conv) {
        const layer_case lc = layer_of(conv);
        const int64_t out_c = conv ? g.y_channels : g.x_channels;
        tensor in = tensor_random(numel(&g, lc.in_t), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor b = tensor_random(out_c, &r), R = tensor_random(numel(&g, lc.out_t), &r);
        for (size_t a = 1; a < sizeof algos / sizeof algos[0]; ++a) {
            tensor gin = tensor_new(in.n), gw = tensor_new(w.n), gb = tensor_new(out_c);
            tconv_error err = {0};
            cr_assert_eq(layer_backward(&lc, &g, algos[a], TCONV_F64, in.d, w.d, R.d, gin.d,
                                        gw.d, gb.d, NULL, &err),
                         TCONV_OK, "%s", err.message);
            /* magnitude of the loss: bounds the rounding of each evaluation */
            double mag = 0;
            for (int64_t i = 0; i < R.n; ++i)
                mag += fabs(R.d[i]);
            mag *= (double)(reduction_length(&g, lc.fwd) + 1);
            struct {
                tensor *t;
                const tensor *grad;
                const char *name;
            } const parts[] = {{&in, &gin, "grad_input"}, {&w, &gw, "grad_weight"},
                               {&b, &gb, "grad_bias"}};
            for (size_t p = 0; p < 3; ++p) {
                const int64_t n = parts[p].t->n;
                for (int k = 0; k < FD_PROBES && k < n; ++k) {
                    const int64_t i = n <= FD_PROBES ? k : rng_int(&r, 0, n - 1);
                    probe(&lc, &g, algos[a], parts[p].t, i, parts[p].grad->d[i], &in, &w, &b, &R,
                          mag, parts[p].name);
                }
            }
            tensor_free(&gin), tensor_free(&gw), tensor_free(&gb);
        }
        tensor_free(&in), tensor_free(&w), tensor_free(&b), tensor_free(&R);
    }
}

/* Each gradient alone (the others NULL) equals the same gradient computed with all three. */
Test(layers, gradients_one_at_a_time)
{
    for (uint64_t seed = 40000; seed < 40020; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        rng r = {seed};
        tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor gy = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
        tensor gx = tensor_new(x.n), gw = tensor_new(w.n), gb = tensor_new(g.y_channels);
        tensor one = tensor_new(x.n > w.n ? x.n : w.n);
        cr_assert_eq(tconv_conv_backward(&g, TCONV_ALGO_GEMM, TCONV_F64, x.d, w.d, gy.d, gx.d,
                                         gw.d, gb.d),
                     TCONV_OK);
        cr_assert_eq(tconv_conv_backward(&g, TCONV_ALGO_GEMM, TCONV_F64, NULL, w.d, gy.d, one.d,
                                         NULL, NULL),
                     TCONV_OK);
        cr_assert(memcmp(one.d, gx.d, (size_t)x.n * sizeof(double)) == 0);
        cr_assert_eq(tconv_conv_backward(&g, TCONV_ALGO_GEMM, TCONV_F64, x.d, NULL, gy.d, NULL,
                                         one.d, NULL),
                     TCONV_OK);
        cr_assert(memcmp(one.d, gw.d, (size_t)w.n * sizeof(double)) == 0);
        cr_assert_eq(tconv_conv_backward(&g, TCONV_ALGO_GEMM, TCONV_F64, NULL, NULL, gy.d, NULL,
                                         NULL, one.d),
                     TCONV_OK);
        cr_assert(memcmp(one.d, gb.d, (size_t)g.y_channels * sizeof(double)) == 0);
        tensor_free(&x), tensor_free(&w), tensor_free(&gy), tensor_free(&gx);
        tensor_free(&gw), tensor_free(&gb), tensor_free(&one);
    }
}

/* ---- workspace and empty batches -------------------------------------------------------- */

/* A caller workspace of exactly the queried size works, even when it is not aligned. */
Test(layers, caller_workspace)
{
    for (uint64_t seed = 50000; seed < 50030; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        rng r = {seed};
        tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor x1 = tensor_new(numel(&g, TCONV_TENSOR_X)), x2 = tensor_new(x1.n);
        for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a) {
            size_t bytes = 0;
            tconv_error err = {0};
            cr_assert_eq(tconv_workspace_size(&g, TCONV_CONVT_FORWARD, algos[a], TCONV_F64, NULL,
                                              &bytes, &err),
                         TCONV_OK, "%s", err.message);
            unsigned char *block = malloc(bytes + 1);
            tconv_options opt = {0};
            opt.workspace = block + 1; /* deliberately misaligned */
            opt.workspace_bytes = bytes;
            cr_assert_eq(tconv_convt_forward_ex(&g, algos[a], TCONV_F64, y.d, w.d, NULL, x1.d,
                                                &opt, &err),
                         TCONV_OK, "%s", err.message);
            cr_assert_eq(tconv_convt_forward(&g, algos[a], TCONV_F64, y.d, w.d, NULL, x2.d),
                         TCONV_OK);
            cr_assert(memcmp(x1.d, x2.d, (size_t)x1.n * sizeof(double)) == 0);
            free(block);
        }
        tensor_free(&y), tensor_free(&w), tensor_free(&x1), tensor_free(&x2);
    }
}

/* An empty batch is valid: empty outputs, zero weight and bias gradients. */
Test(layers, empty_batch)
{
    const int64_t in_size[2] = {4, 5}, k[2] = {3, 2}, s[2] = {2, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 0, 4, 6, 2, in_size, k, s, NULL, NULL,
                                                NULL, NULL),
                 TCONV_OK);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_X), 0);
    double w[4 * 3 * 3 * 2], gw[4 * 3 * 3 * 2], gb[6];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; ++i)
        w[i] = 1.0, gw[i] = 7.0;
    for (int i = 0; i < 6; ++i)
        gb[i] = 7.0;
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a) {
        cr_assert_eq(tconv_convt_forward(&g, algos[a], TCONV_F64, NULL, w, NULL, NULL),
                     TCONV_OK);
        cr_assert_eq(tconv_convt_backward(&g, algos[a], TCONV_F64, NULL, w, NULL, NULL, gw, gb),
                     TCONV_OK);
        for (size_t i = 0; i < sizeof gw / sizeof gw[0]; ++i)
            cr_assert_eq(gw[i], 0.0);
        for (int i = 0; i < 6; ++i)
            cr_assert_eq(gb[i], 0.0);
    }
}

/* ---- failures leave every output untouched ---------------------------------------------- */


static void *failing_alloc(void *ctx, size_t bytes)
{
    (void)ctx, (void)bytes;
    return NULL;
}

static void never_free(void *ctx, void *p)
{
    (void)ctx, (void)p;
    cr_assert_fail("free called for an allocation that never succeeded");
}

/* Every way a layer call can be refused, each with its status, and outputs untouched. */
Test(layers, refusals_touch_nothing)
{
    const int64_t in_size[2] = {3, 4}, k[2] = {3, 3}, s[2] = {2, 2}, p[2] = {1, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 2, 4, 2, 2, in_size, k, s, p, NULL, NULL,
                                                NULL),
                 TCONV_OK);
    const int64_t nx = tconv_tensor_numel(&g, TCONV_TENSOR_X);
    const int64_t ny = tconv_tensor_numel(&g, TCONV_TENSOR_Y);
    const int64_t nw = tconv_tensor_numel(&g, TCONV_TENSOR_WEIGHT);
    double *in = calloc((size_t)ny, sizeof(double)), *w = calloc((size_t)nw, sizeof(double));
    double *gout = calloc((size_t)nx, sizeof(double)), *b = calloc(2, sizeof(double));
    double *out = malloc((size_t)nx * 8), *gin = malloc((size_t)ny * 8);
    double *gw = malloc((size_t)nw * 8), *gb = malloc(2 * 8);

    tconv_geometry tampered = g;
    tampered.x_size[1] += 1; /* would write past the caller's buffer if trusted */
    tconv_geometry bad_layer = g;
    bad_layer.layer = (tconv_layer)7;
    size_t need = 0;
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_GEMM, TCONV_F64, NULL,
                                      &need, NULL),
                 TCONV_OK);
    cr_assert(need > 0);
    unsigned char small[64];
    tconv_options tiny = {0}, failing = {0}, negative = {0}, half_hooks = {0};
    tiny.workspace = small;
    tiny.workspace_bytes = sizeof small;
    failing.alloc = failing_alloc;
    failing.free = never_free;
    negative.num_threads = -1;
    half_hooks.alloc = failing_alloc;

    struct {
        const char *what;
        const tconv_geometry *g;
        int algo, dtype;
        const void *in, *w, *gout;
        const tconv_options *opt;
        tconv_status expect;
    } const cases[] = {
        {"NULL geometry", NULL, 1, 1, in, w, gout, NULL, TCONV_EINVAL},
        {"tampered geometry", &tampered, 1, 1, in, w, gout, NULL, TCONV_EINVAL},
        {"unknown layer", &bad_layer, 1, 1, in, w, gout, NULL, TCONV_EINVAL},
        {"unknown algorithm", &g, 99, 1, in, w, gout, NULL, TCONV_EINVAL},
        {"negative algorithm", &g, -1, 1, in, w, gout, NULL, TCONV_EINVAL},
        {"unknown dtype", &g, 1, 5, in, w, gout, NULL, TCONV_EINVAL},
        {"NULL input", &g, 1, 1, NULL, w, gout, NULL, TCONV_EINVAL},
        {"NULL weight", &g, 1, 1, in, NULL, gout, NULL, TCONV_EINVAL},
        {"NULL grad_output", &g, 1, 1, in, w, NULL, NULL, TCONV_EINVAL},
        {"workspace too small", &g, 1, 1, in, w, gout, &tiny, TCONV_EWORKSPACE},
        {"allocation fails", &g, 1, 1, in, w, gout, &failing, TCONV_ENOMEM},
        {"negative thread count", &g, 1, 1, in, w, gout, &negative, TCONV_EINVAL},
        {"alloc without free", &g, 1, 1, in, w, gout, &half_hooks, TCONV_EINVAL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        memset(out, SENTINEL, (size_t)nx * 8);
        memset(gin, SENTINEL, (size_t)ny * 8);
        memset(gw, SENTINEL, (size_t)nw * 8);
        memset(gb, SENTINEL, 2 * 8);
        tconv_error err = {0};
        tconv_status s = tconv_convt_backward_ex(cases[c].g, (tconv_algo)cases[c].algo,
                                                 (tconv_dtype)cases[c].dtype, cases[c].in,
                                                 cases[c].w, cases[c].gout, gin, gw, gb,
                                                 cases[c].opt, &err);
        cr_assert_eq(s, cases[c].expect, "%s: got %s (%s)", cases[c].what, tconv_status_name(s),
                     err.message);
        cr_assert_eq(err.status, s, "%s: error record not filled", cases[c].what);
        cr_assert(strlen(err.message) > 0, "%s: empty message", cases[c].what);
        if (cases[c].in && cases[c].gout) {
            s = tconv_convt_forward_ex(cases[c].g, (tconv_algo)cases[c].algo,
                                       (tconv_dtype)cases[c].dtype, cases[c].in, cases[c].w, b,
                                       out, cases[c].opt, &err);
            cr_assert_neq(s, TCONV_OK, "%s: forward accepted", cases[c].what);
        }
        cr_assert(untouched(out, (size_t)nx * 8), "%s: forward output written", cases[c].what);
        cr_assert(untouched(gin, (size_t)ny * 8), "%s: grad_input written", cases[c].what);
        cr_assert(untouched(gw, (size_t)nw * 8), "%s: grad_weight written", cases[c].what);
        cr_assert(untouched(gb, 2 * 8), "%s: grad_bias written", cases[c].what);
    }
    /* NULL outputs where data is needed */
    cr_assert_eq(tconv_convt_forward(&g, TCONV_ALGO_GEMM, TCONV_F64, in, w, NULL, NULL),
                 TCONV_EINVAL);
    cr_assert_eq(tconv_workspace_size(&g, (tconv_op)9, TCONV_ALGO_GEMM, TCONV_F64, NULL, &need,
                                      NULL),
                 TCONV_EINVAL);
    cr_assert_eq(tconv_product_run(&g, (tconv_product)3, TCONV_ALGO_GEMM, TCONV_F64, in, NULL, w,
                                   out, NULL, NULL),
                 TCONV_EINVAL);
    free(in), free(w), free(gout), free(b), free(out), free(gin), free(gw), free(gb);
}

/* A GEMM dimension past CBLAS's int is refused up front, not truncated. */
Test(layers, gemm_refuses_blas_int_overflow)
{
    /* 3-D kernel of 2000x2000x1000 taps: one column-matrix row count of 4e9 > 2^31-1 */
    const int64_t size[3] = {2000, 2000, 1000}, k[3] = {2000, 2000, 1000};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 3, 0, 1, 1, 1, size, k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    size_t bytes;
    tconv_error err = {0};
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_F32, NULL,
                                      &bytes, &err),
                 TCONV_EUNSUPPORTED);
    cr_assert(strstr(err.message, "BLAS") != NULL, "message: %s", err.message);
}
