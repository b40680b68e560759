/*
 * The fast paths of gemm and phase, each on seeded random geometries drawn inside its
 * family, so that no path is left to the luck of the general sweep:
 *   - gemm's tiled layout (kernel == stride, or a 1x1 input map: col2im is a permutation),
 *   - gemm's pointwise layout (1x1 kernel, stride 1: no columns),
 *   - gemm's unit-map layout (a 1x1 input map: a fully connected layer over the batch),
 *   - batch folding (small maps: several images in one GEMM),
 *   - chunking under a small workspace_limit (an image cut into lines), and the refusal
 *     of a bound below one line,
 *   - phase's loops (depthwise-like layers; channels-last depthwise ones by the loops of
 *     kernels/depthwise.c) and its stride-1 GEMM written in place,
 *   - gemm's apply cut into blocks of rows (small maps, many output channels),
 *   - the transposed conv's backward with both GEMMs on the same columns (fused),
 *   - gemm's Winograd F(2x2, 3x3) convolution (channels-last 3x3, stride 1).
 * Each geometry first asserts that it takes the path it is meant to test; then every
 * product of gemm, phase and auto, in both precisions, is checked against the float64
 * oracle and for identical bits with 1, 2 and 3 threads, with the workspace never above
 * the bound.
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_FAMILY 40

static const tconv_algo algos[] = {TCONV_ALGO_AUTO, TCONV_ALGO_GEMM, TCONV_ALGO_PHASE};

/* The operands of product p: a, b and the output's tensor. */
static void operands(tconv_product p, tconv_tensor t[3])
{
    const tconv_tensor A[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    const tconv_tensor B[3] = {TCONV_TENSOR_WEIGHT, TCONV_TENSOR_WEIGHT, TCONV_TENSOR_X};
    const tconv_tensor O[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};
    t[0] = A[p], t[1] = B[p], t[2] = O[p];
}

/* Bytes of the channels-first copies a channels-last run of a channels-first algorithm
 * (phase) makes of its activations, outside the column bound. */
static size_t copies(const tconv_geometry *g, int p)
{
    (void)p;
    return (size_t)(numel(g, TCONV_TENSOR_X) + numel(g, TCONV_TENSOR_Y)) * sizeof(double) + 256;
}

/* A tensor's channels moved last when `last` (activations only); the weight as it is. */
static tensor laid_out(const tconv_geometry *g, tconv_tensor t, bool last, const tensor *src)
{
    tensor m = tensor_new(src->n);
    if (last && (t == TCONV_TENSOR_X || t == TCONV_TENSOR_Y))
        channels_last(g, t == TCONV_TENSOR_X, false, src->d, m.d);
    else
        memcpy(m.d, src->d, sizeof(double) * (size_t)src->n);
    for (int64_t i = 0; i < m.n; ++i)
        m.f[i] = (float)m.d[i];
    return m;
}

/* Runs product p in `layout` on channels-first operands; `out` comes back channels-first
 * (in float64, whatever the dtype). */
static void run(const tconv_geometry *g, tconv_product p, tconv_algo algo, tconv_dtype dt,
                const tensor *a, const tensor *b, tensor *out, int threads, size_t limit,
                tconv_layout layout)
{
    tconv_tensor t[3];
    operands(p, t);
    const bool last = layout == TCONV_LAYOUT_CHANNELS_LAST;
    tensor la = laid_out(g, t[0], last, a), lb = laid_out(g, t[1], last, b);
    tensor lo = tensor_new(out->n);
    tconv_options opt = {0};
    opt.num_threads = threads;
    opt.workspace_limit = limit;
    opt.layout = layout;
    tconv_error err = {0};
    size_t bytes = 0;
    cr_assert_eq(tconv_product_workspace_size(g, p, algo, dt, &opt, &bytes, &err), TCONV_OK,
                 "%s", err.message);
    /* the bound holds for the production algorithms (plus the slack that aligns a caller's
     * buffer, and in channels-last the channels-first copies of a channels-first one) */
    cr_assert(bytes <= (limit ? limit : TCONV_WORKSPACE_LIMIT_DEFAULT) + 64 +
                           (last ? copies(g, p) : 0),
              "%s product %d: workspace %zu bytes above the bound %zu [%s]",
              tconv_algo_name(algo), (int)p, bytes, limit, describe(g));
    const void *pa = tensor_data(&la, dt), *pb = tensor_data(&lb, dt);
    const tconv_status s =
        tconv_product_run(g, p, algo, dt, pa, p == TCONV_WGRAD ? pb : NULL,
                          p == TCONV_WGRAD ? NULL : pb, tensor_data(&lo, dt), &opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s product %d failed: %s [%s]", tconv_algo_name(algo), (int)p,
                 err.message, describe(g));
    if (dt == TCONV_F32)
        tensor_f32_to_f64(&lo);
    if (last && t[2] != TCONV_TENSOR_WEIGHT)
        channels_last(g, t[2] == TCONV_TENSOR_X, true, lo.d, out->d);
    else
        memcpy(out->d, lo.d, sizeof(double) * (size_t)out->n);
    /* the bits of the dtype, for the thread-count comparisons */
    for (int64_t i = 0; i < out->n; ++i)
        out->f[i] = (float)out->d[i];
    tensor_free(&la), tensor_free(&lb), tensor_free(&lo);
}

/* Every product of every fast algorithm against the oracle, and 1 = 2 = 3 threads, each
 * algorithm under its workspace bound (0: the default), in both layouts. */
static void check_all(const tconv_geometry *g, uint64_t seed, const size_t limits[3])
{
    rng r = {seed};
    for (int p = 0; p < 3; ++p) {
        tconv_tensor t[3];
        operands((tconv_product)p, t);
        tensor a = tensor_random(numel(g, t[0]), &r), b = tensor_random(numel(g, t[1]), &r);
        tensor aa = tensor_abs(&a), ab = tensor_abs(&b);
        tensor ref = tensor_new(numel(g, t[2])), bound = tensor_new(ref.n);
        tensor out = tensor_new(ref.n), one = tensor_new(ref.n);
        oracle(g, (tconv_product)p, a.d, b.d, ref.d);
        oracle(g, (tconv_product)p, aa.d, ab.d, bound.d);
        const int64_t L = reduction_length(g, (tconv_product)p);
        for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i)
            for (int d = 0; d < 4; ++d) {
                const tconv_dtype dt = d % 2 ? TCONV_F32 : TCONV_F64;
                const tconv_layout layout = (tconv_layout)(d / 2);
                /* a channels-first copy of each input for channels-last algorithms */
                /* gemm also keeps a copy of the weight under the bound: W_gᵀ for apply_t,
                 * and in channels-last the weight (or its gradient) in (tap, channel)
                 * order */
                const size_t weight =
                    (size_t)numel(g, TCONV_TENSOR_WEIGHT) * sizeof(double) + 2 * 64;
                const size_t limit = !limits ? 0
                                     : limits[i] + (algos[i] != TCONV_ALGO_PHASE ? weight : 0);
                char what[400];
                snprintf(what, sizeof what, "%s/%s/%s product %d limit %zu [%s]",
                         tconv_algo_name(algos[i]), d % 2 ? "f32" : "f64",
                         d / 2 ? "channels-last" : "channels-first", p, limit, describe(g));
                run(g, (tconv_product)p, algos[i], dt, &a, &b, &one, 1, limit, layout);
                expect_close(one.d, ref.d, bound.d, ref.n, L, dtype_eps(dt), what);
                const size_t bytes = (size_t)ref.n * (dt == TCONV_F64 ? 8 : 4);
                for (int threads = 2; threads <= 3; ++threads) {
                    run(g, (tconv_product)p, algos[i], dt, &a, &b, &out, threads, limit, layout);
                    cr_assert(memcmp(tensor_data(&one, dt), tensor_data(&out, dt), bytes) == 0,
                              "%s: %d threads differ from 1", what, threads);
                }
            }
        tensor_free(&a), tensor_free(&b), tensor_free(&aa), tensor_free(&ab);
        tensor_free(&ref), tensor_free(&bound), tensor_free(&out), tensor_free(&one);
    }
}

/* Both layers' forward with a bias (which gemm adds where it writes the output) against the
 * oracle plus the bias, in both precisions. */
static void check_bias(const tconv_geometry *g, uint64_t seed)
{
    rng r = {seed + 77};
    for (int conv = 0; conv < 2; ++conv) {
        const tconv_product p = conv ? TCONV_APPLY : TCONV_APPLY_T;
        const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
        const tconv_tensor out_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
        const int64_t channels = conv ? g->y_channels : g->x_channels;
        tensor in = tensor_random(numel(g, in_t), &r);
        tensor w = tensor_random(numel(g, TCONV_TENSOR_WEIGHT), &r);
        tensor b = tensor_random(channels, &r), ain = tensor_abs(&in), aw = tensor_abs(&w);
        tensor ref = tensor_new(numel(g, out_t)), bound = tensor_new(ref.n);
        tensor out = tensor_new(ref.n);
        oracle(g, p, in.d, w.d, ref.d);
        oracle(g, p, ain.d, aw.d, bound.d);
        const int64_t per = ref.n / (g->batch ? g->batch : 1) / channels;
        for (int64_t i = 0; i < ref.n; ++i) {
            ref.d[i] += b.d[i / per % channels];
            bound.d[i] += fabs(b.d[i / per % channels]);
        }
        for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i)
            for (int d = 0; d < 2; ++d) {
                const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                tconv_error err = {0};
                const tconv_status s =
                    conv ? tconv_conv_forward_ex(g, algos[i], dt, tensor_data(&in, dt),
                                                 tensor_data(&w, dt), tensor_data(&b, dt),
                                                 tensor_data(&out, dt), NULL, &err)
                         : tconv_convt_forward_ex(g, algos[i], dt, tensor_data(&in, dt),
                                                  tensor_data(&w, dt), tensor_data(&b, dt),
                                                  tensor_data(&out, dt), NULL, &err);
                cr_assert_eq(s, TCONV_OK, "%s", err.message);
                if (dt == TCONV_F32)
                    tensor_f32_to_f64(&out);
                char what[400];
                snprintf(what, sizeof what, "%s forward with bias, %s/%s [%s]",
                         conv ? "conv" : "convt", tconv_algo_name(algos[i]), d ? "f32" : "f64",
                         describe(g));
                expect_close(out.d, ref.d, bound.d, ref.n, reduction_length(g, p) + 1,
                             dtype_eps(dt), what);
            }
        tensor_free(&in), tensor_free(&w), tensor_free(&b), tensor_free(&ain), tensor_free(&aw);
        tensor_free(&ref), tensor_free(&bound), tensor_free(&out);
    }
}

/* A geometry's internal context, as the entry points build it. */
static tconv__ctx context(const tconv_geometry *g, size_t limit)
{
    tconv__ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    tconv__shape_from(g, &c.sh);
    c.dtype = TCONV_F32;
    c.threads = 1;
    c.ws_limit = limit ? limit : TCONV_WORKSPACE_LIMIT_DEFAULT;
    return c;
}

/* What a plan of `op` with `algo` in `layout` decided (tconv_plan_describe), into text. */
static void plan_text(const tconv_geometry *g, tconv_op op, tconv_algo algo,
                      tconv_layout layout, char *text, size_t size)
{
    const tconv_options o = {.layout = layout};
    tconv_plan *plan;
    tconv_error err = {0};
    cr_assert_eq(tconv_plan_create(&plan, g, op, 0, algo, TCONV_F32, &o, &err), TCONV_OK, "%s",
                 err.message);
    tconv_plan_describe(plan, text, size);
    tconv_plan_destroy(plan);
}

/* Random per-axis parameters for a family; the family sets what it must. */
typedef struct draw {
    int dims;
    int64_t batch, groups, cin, cout;
    int64_t in[3], k[3], s[3], p[3], op[3], d[3];
} draw;

static draw draw_common(rng *r)
{
    draw w;
    w.dims = (int)rng_int(r, 1, 3);
    w.groups = rng_int(r, 1, 2);
    w.batch = rng_int(r, 0, 3);
    w.cin = w.groups * rng_int(r, 1, 4);
    w.cout = w.groups * rng_int(r, 1, 4);
    for (int a = 0; a < 3; ++a) {
        w.in[a] = rng_int(r, 1, w.dims == 3 ? 3 : 5);
        w.k[a] = rng_int(r, 1, 3);
        w.s[a] = rng_int(r, 1, 3);
        w.p[a] = rng_int(r, 0, 2);
        w.d[a] = rng_int(r, 1, 2);
        w.op[a] = 0;
    }
    return w;
}

/* The geometry of a draw, padding trimmed so that every output size stays positive. */
static void make(draw *w, tconv_geometry *g)
{
    for (int a = 0; a < w->dims; ++a) {
        const int64_t room = (w->in[a] - 1) * w->s[a] + w->d[a] * (w->k[a] - 1) + w->op[a];
        if (2 * w->p[a] > room)
            w->p[a] = room / 2;
    }
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed(g, w->dims, w->batch, w->cin, w->cout, w->groups,
                                                w->in, w->k, w->s, w->p, w->op, w->d, &err),
                 TCONV_OK, "%s", err.message);
}

/* A draw whose geometry must take gemm's `layout`: checked, then every product run. */
static void check_layout(draw *w, tconv__gemm_path layout, uint64_t seed)
{
    tconv_geometry g;
    make(w, &g);
    const tconv__ctx c = context(&g, 0);
    cr_assert_eq(tconv__gemm_path_of(&c.sh), layout, "[%s]", describe(&g));
    check_all(&g, seed, NULL);
    check_bias(&g, seed);
}

Test(fastpaths, tiled_layout)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 7919};
        draw w = draw_common(&r);
        for (int a = 0; a < w.dims; ++a) {
            w.p[a] = 0, w.d[a] = 1;
            if (a > 0 && rng_int(&r, 0, 3) == 0) /* one input position under a whole kernel */
                w.in[a] = 1, w.k[a] = rng_int(&r, 1, 4);
            else /* kernel == stride */
                w.k[a] = w.s[a] = rng_int(&r, 2, 3), w.in[a] = rng_int(&r, 2, 4);
        }
        check_layout(&w, TCONV__PATH_TILED, seed);
    }
}

Test(fastpaths, pointwise_layout)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 104729};
        draw w = draw_common(&r);
        for (int a = 0; a < w.dims; ++a) /* dilation is irrelevant to one tap */
            w.k[a] = 1, w.s[a] = 1, w.p[a] = 0, w.in[a] = rng_int(&r, a ? 1 : 2, 5);
        check_layout(&w, TCONV__PATH_POINTWISE, seed);
    }
}

Test(fastpaths, unit_map_layout)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 1299709};
        draw w = draw_common(&r);
        w.batch = rng_int(&r, 0, 6);
        for (int a = 0; a < w.dims; ++a)
            w.in[a] = 1, w.p[a] = 0, w.d[a] = 1, w.k[a] = rng_int(&r, 1, 4);
        check_layout(&w, TCONV__PATH_UNIT_MAP, seed);
    }
}

Test(fastpaths, batch_folding)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 15485863};
        draw w = draw_common(&r);
        w.batch = rng_int(&r, 2, 7);
        for (int a = 0; a < w.dims; ++a) {
            w.in[a] = rng_int(&r, 1, 3);
            w.op[a] = rng_int(&r, 0, (w.s[a] > w.d[a] ? w.s[a] : w.d[a]) - 1);
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        const tconv__gemm_path layout = tconv__gemm_path_of(&c.sh);
        if (layout == TCONV__PATH_POINTWISE || layout == TCONV__PATH_UNIT_MAP)
            continue; /* no columns to fold */
        cr_assert(tconv__gemm_images_per_tile(&c, TCONV_APPLY_T) >= 2, "no folding [%s]",
                  describe(&g));
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
}

/* The pointwise weight gradient of a dW too small for several 512 x 512 tiles (ResNet's
 * 1x1 layers) is cut into tiles down to 64 a side so that the team shares it: remainders
 * on both sides, against the oracle, and 1 = 2 = 3 threads bit for bit. */
Test(fastpaths, pointwise_wgrad_cut_for_the_team)
{
    int cut = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 4; ++seed) {
        rng r = {seed * 86028121};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2);
        w.groups = rng_int(&r, 0, 3) ? 1 : 2;
        w.cin = w.groups * rng_int(&r, 20, 140);
        w.cout = w.groups * rng_int(&r, 20, 140);
        w.batch = rng_int(&r, 1, 3);
        for (int a = 0; a < 3; ++a)
            w.in[a] = rng_int(&r, 1, w.dims == 1 ? 12 : 4), w.k[a] = w.s[a] = w.d[a] = 1,
            w.p[a] = w.op[a] = 0;
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert_eq(tconv__gemm_path_of(&c.sh), TCONV__PATH_POINTWISE, "[%s]", describe(&g));
        int64_t tm, tn;
        tconv__gemm_pointwise_wgrad_tile(&c.sh, &tm, &tn);
        const int64_t M = c.sh.cyg, N = c.sh.cxg;
        const int64_t tasks = c.sh.groups * ((M + tm - 1) / tm) * ((N + tn - 1) / tn);
        /* four tasks, or tiles already at 64 (or the whole side) both ways */
        cr_assert(tasks >= 4 || ((tm <= 64 || tm == M) && (tn <= 64 || tn == N)),
                  "%lld tasks of %lld x %lld [%s]", (long long)tasks, (long long)tm,
                  (long long)tn, describe(&g));
        cr_assert((tm >= 64 || tm == M) && (tn >= 64 || tn == N) && tm <= M && tn <= N,
                  "tile %lld x %lld [%s]", (long long)tm, (long long)tn, describe(&g));
        cut += tm < M || tn < N;
        check_all(&g, seed, NULL);
    }
    cr_assert(cut > 0, "no dW was cut");
}

/* apply_t of an image past TCONV__TILE_N columns whose columns all fit 1 MiB (few x
 * channels: a generator's RGB layer) takes a whole image per tile, so that col2im goes
 * through the phase plane; more x channels keep tiles of lines. Against the oracle. */
Test(fastpaths, apply_t_whole_images_of_few_channels)
{
    int taken[2] = {0};
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 179424673};
        draw w = draw_common(&r);
        w.dims = 2;
        w.groups = 1;
        w.batch = rng_int(&r, 1, 3);
        w.cin = rng_int(&r, 8, 12); /* y channels: past phase's loops */
        w.cout = rng_int(&r, 0, 1) ? rng_int(&r, 1, 3) : rng_int(&r, 16, 40); /* x */
        for (int a = 0; a < 2; ++a) {
            w.in[a] = rng_int(&r, 23, 34); /* 529 .. 1156 columns an image */
            w.k[a] = rng_int(&r, 2, 4), w.s[a] = rng_int(&r, 1, 2), w.d[a] = 1;
            w.p[a] = rng_int(&r, 0, 1), w.op[a] = 0;
            if (w.k[a] == w.s[a])
                ++w.k[a]; /* the general path, not the tiled one */
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__phase_uses_loops(&c.sh) || tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue;
        const bool fits = c.sh.cxg * c.sh.k_count * c.sh.y_count * 4 <= 1 << 20;
        const bool whole = tconv__gemm_images_per_tile(&c, TCONV_APPLY_T) > 0;
        cr_assert_eq(whole, fits, "whole images %d, %lld bytes of columns [%s]", whole,
                     (long long)(c.sh.cxg * c.sh.k_count * c.sh.y_count * 4), describe(&g));
        ++taken[whole];
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
    cr_assert(taken[0] > 0 && taken[1] > 0, "whole %d, lines %d", taken[1], taken[0]);
}

/* Bounds that leave room for `lines` lines of columns, and the alignment slack:
 * gemm's R = (C_x/g)·Πk rows plus C_y/g of Y2 positions; phase's at most (C_y/g)·Πk rows
 * plus Πs·C_x/g results of ⌈X2/s2⌉ positions, after the weights regrouped by phase. */
static void line_limits(const tconv__shape *sh, int64_t lines, size_t limits[3])
{
    const int64_t q2 = (sh->x[2] + sh->s[2] - 1) / sh->s[2];
    const int64_t phases = sh->s[0] * sh->s[1] * sh->s[2];
    const size_t gemm =
        (size_t)((sh->cxg * sh->k_count + sh->cyg) * lines * sh->y[2]) * sizeof(double);
    const size_t phase = (size_t)(sh->cx * sh->cyg * sh->k_count +
                                  (sh->cyg * sh->k_count + phases * sh->cxg) * lines * q2) *
                         sizeof(double);
    limits[1] = gemm + 4 * 64;
    limits[2] = phase + 4 * 64;
    limits[0] = limits[1] > limits[2] ? limits[1] : limits[2];
}

Test(fastpaths, chunks_under_a_small_workspace_limit)
{
    int cut = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 32452843};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 2, 3);
        for (int a = 0; a < w.dims; ++a) {
            w.in[a] = rng_int(&r, w.dims == 3 ? 3 : 4, w.dims == 3 ? 4 : 7);
            w.op[a] = rng_int(&r, 0, (w.s[a] > w.d[a] ? w.s[a] : w.d[a]) - 1);
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c0 = context(&g, 0);
        size_t limits[3];
        line_limits(&c0.sh, rng_int(&r, 1, 2), limits);
        const tconv__ctx c = context(&g, limits[1]);
        if (g.batch > 0 && tconv__gemm_path_of(&c.sh) != TCONV__PATH_POINTWISE &&
            tconv__gemm_images_per_tile(&c, TCONV_APPLY_T) == 0)
            ++cut;
        check_all(&g, seed, limits);
    }
    cr_assert(cut >= PER_FAMILY / 4, "only %d geometries were cut into line chunks", cut);
}

Test(fastpaths, a_bound_below_one_line_is_refused)
{
    const int64_t in[2] = {8, 8}, k[2] = {3, 3}, s[2] = {2, 2};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 2, 16, 16, 1, in, k, s, NULL, NULL, NULL,
                                                NULL),
                 TCONV_OK);
    tconv_options opt = {0};
    opt.workspace_limit = 256; /* one line of gemm's columns: 16·9 rows x 8 positions */
    const tconv_algo which[2] = {TCONV_ALGO_GEMM, TCONV_ALGO_PHASE};
    for (int i = 0; i < 2; ++i) {
        size_t bytes = 0;
        tconv_error err = {0};
        cr_assert_eq(tconv_workspace_size(&g, TCONV_CONVT_FORWARD, which[i], TCONV_F32, &opt,
                                          &bytes, &err),
                     TCONV_EWORKSPACE, "%s", tconv_algo_name(which[i]));
        cr_assert(strstr(err.message, "workspace_limit") != NULL, "message: %s", err.message);
    }
}

/* A draw of few channels per group, one y channel per group: phase's loops take it. */
static draw draw_depthwise_like(rng *r)
{
    draw w = draw_common(r);
    w.groups = rng_int(r, 1, 4);
    w.cin = w.groups * rng_int(r, 1, 2);
    w.cout = w.groups;
    return w;
}

Test(fastpaths, phase_loops_for_depthwise_layers)
{
    int depthwise = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 49979687};
        draw w = draw_depthwise_like(&r);
        /* strides 2, 4 and 8 have their own vector interleave when every phase has taps */
        static const int64_t strides[] = {1, 2, 3, 4, 8};
        for (int a = 0; a < w.dims; ++a) {
            w.s[a] = strides[rng_int(&r, 0, 4)];
            w.k[a] = rng_int(&r, 1, 2 * w.s[a]);
            w.op[a] = rng_int(&r, 0, (w.s[a] > w.d[a] ? w.s[a] : w.d[a]) - 1);
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert(tconv__phase_uses_loops(&c.sh), "[%s]", describe(&g));
        if (c.sh.cxg == 1 && c.sh.cyg == 1) { /* channels-last: the depthwise loops */
            char text[600];
            plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_LAST,
                      text, sizeof text);
            cr_assert(strstr(text, "channels-last depthwise loops") &&
                          !strstr(text, "computed channels-first"),
                      "%s [%s]", text, describe(&g));
            ++depthwise;
        }
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
    cr_assert(depthwise >= PER_FAMILY / 8, "only %d pure depthwise draws", depthwise);
}

/* The channels-last depthwise loops over as many channels as real layers have: the weight
 * gradient sums blocks of four 32-byte vectors of channels in registers, then the rest in
 * one to four vectors, the last one ending at the last channel (overlapping the one
 * before), under one vector one channel at a time; a position of at most 32 channels
 * sums in 64-, 32- or 16-byte vectors the same way, or in scalars. The channel counts
 * below sit on each side of every such width in float32 and float64; the rest are drawn
 * up to 80. Strides up to 8 with kernels up to twice the stride (FCN's x8 upsampling is
 * 16/8), padding and dilation along every axis. */
Test(fastpaths, channels_last_depthwise_on_many_channels)
{
    /* up to 32 in registers of 1 to 4 vectors; above, runs of 4 vectors of 64 bytes (64
     * float32 channels, 32 float64) in registers, then the rest built in the output */
    static const int64_t widths[] = {1,  2,  3,  4,  5,  7,  8,  9,  12, 15, 16, 17, 20, 21,
                                     24, 31, 32, 33, 40, 47, 48, 63, 64, 65, 96, 129, 150};
    const int n_widths = (int)(sizeof widths / sizeof widths[0]);
    int blocks = 0;
    for (uint64_t seed = 1; seed <= (uint64_t)n_widths + PER_FAMILY / 4; ++seed) {
        rng r = {seed * 2654435761u};
        draw w = draw_common(&r);
        w.dims = 2, w.batch = rng_int(&r, 1, 2);
        w.groups = w.cin = w.cout =
            seed <= (uint64_t)n_widths ? widths[seed - 1] : rng_int(&r, 1, 80);
        for (int a = 0; a < 2; ++a) {
            w.in[a] = rng_int(&r, 1, 5), w.op[a] = 0;
            if (seed % 3 == 0) /* an upsampling layer's stride and kernel */
                w.s[a] = rng_int(&r, 2, 8), w.k[a] = rng_int(&r, 1, 2 * w.s[a]), w.d[a] = 1;
            else
                w.k[a] = rng_int(&r, 1, 3);
        }
        tconv_geometry g;
        make(&w, &g);
        char text[600];
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert(strstr(text, "channels-last depthwise loops") &&
                      !strstr(text, "computed channels-first"),
                  "%s [%s]", text, describe(&g));
        blocks += w.groups >= 32;
        check_all(&g, seed, NULL);
    }
    cr_assert(blocks >= 2, "only %d draws with a block of channels", blocks);
}

/* phase's weight gradient sums each tap over rows as wide as a real layer's, in register
 * blocks of 16 lanes, half a block and a scalar rest per row: widths from 1 to 70 cover
 * every mix of them (the draws above stay under 10). Against the oracle, every layout and
 * thread count. */
Test(fastpaths, phase_wgrad_on_wide_rows)
{
    int bordered = 0, planes = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 4; ++seed) {
        rng r = {seed * 15485863};
        draw w = draw_depthwise_like(&r);
        w.dims = 2, w.batch = rng_int(&r, 1, 2);
        w.in[0] = rng_int(&r, 1, 4), w.in[1] = rng_int(&r, 1, 70);
        for (int a = 0; a < 2; ++a) /* up to 25 taps: passes of 9 in the bordered form */
            w.s[a] = rng_int(&r, 1, 2), w.k[a] = rng_int(&r, 1, 5), w.op[a] = 0, w.d[a] = 1;
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert(tconv__phase_uses_loops(&c.sh), "[%s]", describe(&g));
        /* stride 1 on the last axis: one y vector for nine taps over a bordered x */
        char text[600];
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_PHASE, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        const bool over_border = c.sh.s[2] == 1;
        cr_assert_eq(strstr(text, "wgrad: phase loops over a bordered copy") != NULL,
                     over_border, "%s [%s]", text, describe(&g));
        ++*(over_border ? &bordered : &planes);
        check_all(&g, seed, NULL);
    }
    cr_assert(bordered > 0 && planes > 0, "bordered %d, phase planes %d", bordered, planes);
}

/* The conv direction's loops (apply) with stride 1 on the last axis read a bordered copy
 * of each x channel and sum each output's taps in registers, and the transposed direction
 * (apply_t) with every stride 1 does the same over y with the kernel flipped; other
 * strides keep the phase planes. All against the oracle, with bias, in every layout and
 * thread count. */
Test(fastpaths, phase_apply_over_a_bordered_copy)
{
    int taken[2] = {0}, taken_t[2] = {0};
    for (uint64_t seed = 1; seed <= PER_FAMILY; ++seed) {
        rng r = {seed * 15485863};
        draw w = draw_depthwise_like(&r);
        for (int a = 0; a < w.dims; ++a) {
            w.s[a] = rng_int(&r, 0, 2) ? 1 : rng_int(&r, 2, 3);
            w.k[a] = rng_int(&r, 1, 5);
            w.in[a] = rng_int(&r, 1, 40 / (w.dims * w.dims));
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert(tconv__phase_uses_loops(&c.sh), "[%s]", describe(&g));
        char text[600];
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_PHASE, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        const bool bordered = c.sh.s[2] == 1;
        cr_assert_eq(strstr(text, "phase loops over a bordered copy") != NULL, bordered,
                     "%s [%s]", text, describe(&g));
        ++taken[bordered];
        /* apply_t (the transposed forward): with every stride 1 and p <= (K-1)·d, the
         * flipped kernel over a bordered y */
        bool flipped = c.sh.x_count > 0;
        for (int a = 0; a < 3; ++a)
            flipped = flipped && c.sh.s[a] == 1 && c.sh.p[a] <= (c.sh.k[a] - 1) * c.sh.d[a];
        plan_text(&g, TCONV_CONVT_FORWARD, TCONV_ALGO_PHASE, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "phase loops over a bordered copy") != NULL, flipped,
                     "%s [%s]", text, describe(&g));
        ++taken_t[flipped];
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
    cr_assert(taken[0] > 0 && taken[1] > 0, "bordered %d, phase planes %d", taken[1], taken[0]);
    cr_assert(taken_t[0] > 0 && taken_t[1] > 0, "apply_t: flipped %d, phase planes %d",
              taken_t[1], taken_t[0]);
}

/* The bordered rows of real widths: padded_rows sums blocks of up to 4 vectors of 64 bytes
 * (32 in rows narrower than that), the last block ending at the row's end over the vector
 * before it (3 + 2 when 5 are left), rows under 32 bytes lane by lane, and a 2-D 3x3
 * kernel without dilation on the last axis two rows at a time where the rows have stride
 * 1 and no dilation; output rows of 1 to 140 wide and 1 to 3 high (float64 vectors hold 8
 * or 4, float32 16 or 8) cover every mix, with and without a second input channel per
 * output (the sums then continue from the output, so an overlapped lane added twice
 * would show), strided and dilated rows, against the oracle with bias, both directions.
 * (The draws above stay under 10 wide.) */
Test(fastpaths, phase_bordered_rows_in_vectors)
{
    int unrolled = 0, other = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 32452843};
        draw w = draw_depthwise_like(&r);
        w.dims = 2, w.batch = rng_int(&r, 1, 2);
        w.in[0] = rng_int(&r, 1, 3), w.in[1] = rng_int(&r, 1, 140);
        const bool k33 = rng_int(&r, 0, 3) > 0;
        for (int a = 0; a < 2; ++a) {
            w.k[a] = k33 ? 3 : rng_int(&r, 1, 5);
            w.d[a] = rng_int(&r, 0, 2) ? 1 : 2;
            w.s[a] = a == 1 ? 1 : rng_int(&r, 1, 2);
            w.p[a] = rng_int(&r, 0, (w.k[a] - 1) * w.d[a]);
            w.op[a] = 0;
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        char text[600];
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_PHASE, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert(strstr(text, "phase loops over a bordered copy"), "%s [%s]", text,
                  describe(&g));
        if (c.sh.k[0] == 1 && c.sh.k[1] == 3 && c.sh.k[2] == 3 && c.sh.d[2] == 1)
            ++unrolled;
        else
            ++other;
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
    cr_assert(unrolled >= PER_FAMILY / 8 && other > 0, "3x3 draws %d, others %d", unrolled,
              other);
}

/* Every way padded_rows cuts a row, each width once: 1 to 140 wide (float32 vectors hold
 * 16 or 8, float64 8 or 4: the last block of 1 to 4 vectors, 3 + 2 for 5 left, 32-byte
 * vectors, lanes), 1 to 3 rows, the 3x3 kernel (two rows at a time) and a 3x5 one, with
 * two input channels per output in both directions, so that the sums continue from the
 * output and an overlapped lane added twice shows. */
Test(fastpaths, phase_bordered_rows_every_split)
{
    static const int64_t widths[] = {1,  3,  4,  7,  8,  9,  12, 15, 16, 17,  24,  31, 32, 33,
                                     36, 40, 41, 48, 56, 63, 64, 65, 72, 80, 81, 97, 129, 140};
    int checked = 0;
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i)
        for (int64_t rows = 1; rows <= 3; ++rows)
            for (int wide = 0; wide < 2; ++wide) {
                const int64_t in[2] = {rows, widths[i]}, k[2] = {3, wide ? 5 : 3};
                const int64_t s[2] = {1, 1}, p[2] = {1, wide ? 2 : 1}, op[2] = {0, 0};
                const int64_t d[2] = {1, 1};
                tconv_geometry g;
                tconv_error err = {0};
                cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, 2, 2, 1, in, k, s, p, op,
                                                            d, &err),
                             TCONV_OK, "%s", err.message);
                char text[600];
                plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_PHASE,
                          TCONV_LAYOUT_CHANNELS_FIRST, text, sizeof text);
                cr_assert(strstr(text, "phase loops over a bordered copy"), "%s [%s]", text,
                          describe(&g));
                plan_text(&g, TCONV_CONVT_FORWARD, TCONV_ALGO_PHASE,
                          TCONV_LAYOUT_CHANNELS_FIRST, text, sizeof text);
                cr_assert(strstr(text, "phase loops over a bordered copy"), "%s [%s]", text,
                          describe(&g));
                check_all(&g, (uint64_t)(i * 6 + (size_t)rows * 2 + (size_t)wide), NULL);
                ++checked;
            }
    cr_assert_eq(checked, 28 * 3 * 2);
}

/* A 3x3 kernel of stride 1 and padding 1 on maps of at least 5 rows, each at least a
 * 64-byte vector wide, reads its interior rows in place (rows_in_place), only the two
 * rows at each edge through the bordered copy: the widths cut every way (float32
 * vectors hold 16, float64 8), 5 to 8 rows (one interior row, and pairs with and without
 * a single one left), two input channels per output in both directions, against the
 * oracle with bias and for 1 = 2 = 3 threads. Then the masks: a row's first vector reads
 * the row before's last element for its left taps, and its last vector the next row's
 * first for the right taps, lanes that the border would hold at zero; an infinity placed
 * in both is read by no output it does not reach (a product with zero would have
 * turned it into NaN, and a missing mask into an infinity one column over). */
Test(fastpaths, phase_interior_rows_in_place)
{
    static const int64_t widths[] = {8, 9, 15, 16, 17, 31, 32, 33, 48, 56, 63, 64, 65, 80, 97, 129};
    const int64_t k[2] = {3, 3}, s[2] = {1, 1}, p[2] = {1, 1};
    int checked = 0;
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i)
        for (int64_t rows = 4; rows <= 8; ++rows) {
            const int64_t in[2] = {rows, widths[i]};
            tconv_geometry g;
            tconv_error err = {0};
            cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, 2, 2, 1, in, k, s, p, NULL,
                                                        NULL, &err),
                         TCONV_OK, "%s", err.message);
            for (int d = 0; d < 2; ++d) {
                const tconv_dtype dt = d ? TCONV_F64 : TCONV_F32;
                const bool expected = rows >= 5 && widths[i] * (d ? 8 : 4) >= 64;
                /* conv apply, convt apply (through the flipped kernel), conv wgrad */
                const tconv_op ops[3] = {TCONV_CONV_FORWARD, TCONV_CONVT_FORWARD,
                                         TCONV_CONV_BACKWARD};
                for (int o = 0; o < 3; ++o) {
                    tconv_plan *plan = NULL;
                    tconv_options opt = {0};
                    opt.num_threads = 1;
                    cr_assert_eq(tconv_plan_create(&plan, &g, ops[o], 0, TCONV_ALGO_PHASE, dt,
                                                   &opt, &err),
                                 TCONV_OK, "%s", err.message);
                    char text[600];
                    tconv_plan_describe(plan, text, sizeof text);
                    tconv_plan_destroy(plan);
                    const char *wgrad = strstr(text, "wgrad:");
                    const char *at = o == 2 ? wgrad : text;
                    cr_assert(o < 2 || wgrad, "%s", text);
                    cr_assert_eq(strstr(at, "edge rows, the others in place") != NULL,
                                 expected, "%s [%s]", text, describe(&g));
                    checked += expected;
                }
            }
            check_all(&g, (uint64_t)(i * 8 + (size_t)rows), NULL);
            check_bias(&g, (uint64_t)(i * 8 + (size_t)rows));
        }
    cr_assert(checked > 0);

    /* one channel of 6 x 40, weights and input 1 but for infinities at (3, 0) and (3, 39) */
    const int64_t H = 6, W = 40, in[2] = {H, W};
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 1, 1, 1, 1, in, k, s, p, NULL, &err),
                 TCONV_OK, "%s", err.message);
    for (int conv = 0; conv < 2; ++conv)
        for (int d = 0; d < 2; ++d) {
            double x[6 * 40], y[6 * 40], w[9];
            float xf[6 * 40], yf[6 * 40], wf[9];
            for (int j = 0; j < 9; ++j)
                w[j] = 1, wf[j] = 1;
            for (int j = 0; j < H * W; ++j) {
                const bool inf = j == 3 * W || j == 3 * W + W - 1;
                x[j] = inf ? INFINITY : 1;
                xf[j] = (float)x[j];
            }
            const bool f64 = d == 1;
            tconv_options opt = {0};
            opt.num_threads = 1;
            const tconv_status st =
                conv ? tconv_conv_forward_ex(&g, TCONV_ALGO_PHASE, f64 ? TCONV_F64 : TCONV_F32,
                                             f64 ? (void *)x : (void *)xf,
                                             f64 ? (void *)w : (void *)wf, NULL,
                                             f64 ? (void *)y : (void *)yf, &opt, &err)
                     : tconv_convt_forward_ex(&g, TCONV_ALGO_PHASE,
                                              f64 ? TCONV_F64 : TCONV_F32,
                                              f64 ? (void *)x : (void *)xf,
                                              f64 ? (void *)w : (void *)wf, NULL,
                                              f64 ? (void *)y : (void *)yf, &opt, &err);
            cr_assert_eq(st, TCONV_OK, "%s", err.message);
            for (int64_t r = 0; r < H; ++r)
                for (int64_t q = 0; q < W; ++q) {
                    const double v = f64 ? y[r * W + q] : (double)yf[r * W + q];
                    const bool reached = r >= 2 && r <= 4 && (q <= 1 || q >= W - 2);
                    /* a 1 inside the map per tap, 0 in the padding */
                    const double taps = (double)((r > 0) + 1 + (r < H - 1)) *
                                        (double)((q > 0) + 1 + (q < W - 1));
                    cr_assert(reached ? isinf(v) && v > 0 : v == taps,
                              "%s %s: (%lld, %lld) is %g", conv ? "conv" : "convt",
                              f64 ? "f64" : "f32", (long long)r, (long long)q, v);
                }
        }

    /* The weight gradient, grad_y 1: one infinity in x at (3, 0) reaches the taps of
     * columns 0 and 1 only (column 2 would read it from one element before the row), one
     * at (3, W-1) those of columns 1 and 2; the others count the positions they read. */
    for (int side = 0; side < 2; ++side)
        for (int d = 0; d < 2; ++d) {
            double x[6 * 40], dy[6 * 40], w[9] = {0}, dw[9];
            float xf[6 * 40], dyf[6 * 40], wf[9] = {0}, dwf[9];
            for (int j = 0; j < H * W; ++j) {
                x[j] = j == 3 * W + (side ? W - 1 : 0) ? INFINITY : 1;
                xf[j] = (float)x[j];
                dy[j] = 1, dyf[j] = 1;
            }
            const bool f64 = d == 1;
            tconv_options opt = {0};
            opt.num_threads = 1;
            const tconv_status st = tconv_conv_backward_ex(
                &g, TCONV_ALGO_PHASE, f64 ? TCONV_F64 : TCONV_F32, f64 ? (void *)x : (void *)xf,
                f64 ? (void *)w : (void *)wf, f64 ? (void *)dy : (void *)dyf, NULL,
                f64 ? (void *)dw : (void *)dwf, NULL, &opt, &err);
            cr_assert_eq(st, TCONV_OK, "%s", err.message);
            for (int a1 = 0; a1 < 3; ++a1)
                for (int a2 = 0; a2 < 3; ++a2) {
                    const double v = f64 ? dw[a1 * 3 + a2] : (double)dwf[a1 * 3 + a2];
                    const bool reached = side ? a2 >= 1 : a2 <= 1;
                    const double positions = (double)((H - (a1 != 1)) * (W - (a2 != 1)));
                    cr_assert(reached ? isinf(v) && v > 0 : v == positions,
                              "wgrad %s, infinity at column %d: tap (%d, %d) is %g",
                              f64 ? "f64" : "f32", side ? (int)W - 1 : 0, a1, a2, v);
                }
        }
}

Test(fastpaths, phase_stride_one_in_place)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 86028121};
        draw w = draw_common(&r);
        w.dims = 2;
        w.batch = rng_int(&r, 1, 2);
        w.cin = w.groups * rng_int(&r, 3, 5);
        w.cout = w.groups * rng_int(&r, 3, 5);
        for (int a = 0; a < 2; ++a) {
            w.s[a] = 1;
            w.in[a] = rng_int(&r, 23, 30); /* maps big enough not to fold */
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert(!tconv__phase_uses_loops(&c.sh), "[%s]", describe(&g));
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
}

Test(fastpaths, apply_cut_into_row_blocks)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 2750159};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2);
        w.batch = 1, w.groups = 1;
        w.cin = rng_int(&r, 256, 400); /* the transposed layer's input: C_y of the conv */
        w.cout = rng_int(&r, 2, 6);
        for (int a = 0; a < w.dims; ++a)
            w.in[a] = rng_int(&r, 1, 3), w.s[a] = rng_int(&r, 1, 2), w.k[a] = rng_int(&r, 2, 3);
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue;
        cr_assert(tconv__gemm_apply_blocks(&c) >= 2, "apply not cut into row blocks [%s]",
                  describe(&g));
        check_all(&g, seed, NULL);
    }
}

/* A convolution of a few small maps with many output channels (ResNet-50's 7x7 layers):
 * channels-first apply makes the whole batch's columns once and multiplies blocks of W's
 * rows by all of them, one image or several (through the thread's buffer). */
Test(fastpaths, apply_over_the_whole_batch)
{
    int taken = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 4; ++seed) {
        rng r = {seed * 6700417};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2), w.groups = 1;
        w.batch = rng_int(&r, 1, 4);
        w.cin = rng_int(&r, 256, 400); /* the transposed layer's input: C_y of the conv */
        w.cout = rng_int(&r, 1, 5);
        for (int a = 0; a < w.dims; ++a)
            w.in[a] = rng_int(&r, 2, 7), w.k[a] = rng_int(&r, 2, 3), w.s[a] = rng_int(&r, 1, 2);
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue;
        cr_assert(tconv__gemm_apply_whole(&c), "apply not over the whole batch [%s]",
                  describe(&g));
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
        ++taken;
    }
    cr_assert(taken >= PER_FAMILY / 8, "only %d shapes drawn", taken);
}

/* A convolution whose column tiles outgrow the cache: channels-first apply makes and
 * multiplies them in chunks of R's rows, summed into y one after the other. */
Test(fastpaths, apply_in_chunks_of_r)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY / 20; ++seed) {
        rng r = {seed * 7919};
        draw w = draw_common(&r);
        /* long 1-D lines: tiles of 512 columns, and R = 3·C_x rows of them past the chunk */
        w.dims = 1, w.groups = 1, w.batch = 1;
        w.cin = rng_int(&r, 2, 3); /* the transposed layer's input: C_y of the conv */
        w.cout = rng_int(&r, 45, 60); /* R = C_x · Πk of the conv's columns */
        w.in[0] = rng_int(&r, 4100, 4300), w.s[0] = 1, w.k[0] = 3, w.p[0] = 1, w.op[0] = 0;
        w.d[0] = 1;
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        cr_assert_geq(tconv__gemm_apply_chunks(&c), 2, "apply not cut into chunks of R [%s]",
                      describe(&g));
        check_all(&g, seed, NULL);
    }
}

/* A convolution of few input channels and taps (R = C_x/g · Πk <= 16: a speech front end,
 * a first layer) in channels-last: apply multiplies by W'ᵀ, which tconv's short product
 * reads, and writes each output row once with its bias. */
Test(fastpaths, channels_last_apply_of_a_short_reduction)
{
    int taken = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 4; ++seed) {
        rng r = {seed * 104729};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2), w.groups = rng_int(&r, 1, 2);
        w.batch = rng_int(&r, 1, 2);
        w.cin = w.groups * rng_int(&r, 16, 24); /* C_y of the conv: one block of columns */
        w.cout = w.groups * rng_int(&r, 1, 2);
        for (int a = 0; a < w.dims; ++a)
            w.in[a] = rng_int(&r, 2, 12), w.k[a] = rng_int(&r, 1, 3), w.op[a] = 0;
        tconv_geometry g;
        make(&w, &g);
        tconv__ctx c = context(&g, 0);
        c.layout = TCONV_LAYOUT_CHANNELS_LAST;
        if (c.sh.cxg * c.sh.k_count > TCONV__SHORT_K)
            continue;
        cr_assert(tconv__gemm_nhwc_by_column(&c), "[%s]", describe(&g));
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
        ++taken;
    }
    cr_assert(taken >= PER_FAMILY / 8, "only %d short reductions drawn", taken);
}

/* A layer's backward case: its input, the output's gradient and the weight drawn from
 * `r`, and the oracle's input and weight gradients with their bounds (the same products
 * over absolute values). The convolution's input gradient is apply_t of grad_y, the
 * transposed convolution's apply of grad_out; both weight gradients are wgrad(Y-side,
 * X-side). */
typedef struct backward_case {
    tensor in, grad, w;
    tensor ref_gi, ref_gw, bound_gi, bound_gw;
} backward_case;

static backward_case backward_case_new(const tconv_geometry *g, bool conv, rng *r)
{
    backward_case k;
    const tconv_tensor in_t = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
    const tconv_tensor grad_t = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
    const tconv_product data = conv ? TCONV_APPLY_T : TCONV_APPLY;
    k.in = tensor_random(numel(g, in_t), r);
    k.grad = tensor_random(numel(g, grad_t), r);
    k.w = tensor_random(numel(g, TCONV_TENSOR_WEIGHT), r);
    tensor ain = tensor_abs(&k.in), agrad = tensor_abs(&k.grad), aw = tensor_abs(&k.w);
    const tensor *ys = conv ? &k.grad : &k.in, *xs = conv ? &k.in : &k.grad;
    const tensor *ays = conv ? &agrad : &ain, *axs = conv ? &ain : &agrad;
    k.ref_gi = tensor_new(k.in.n), k.ref_gw = tensor_new(k.w.n);
    k.bound_gi = tensor_new(k.in.n), k.bound_gw = tensor_new(k.w.n);
    oracle(g, data, k.grad.d, k.w.d, k.ref_gi.d);
    oracle(g, data, agrad.d, aw.d, k.bound_gi.d);
    oracle(g, TCONV_WGRAD, ys->d, xs->d, k.ref_gw.d);
    oracle(g, TCONV_WGRAD, ays->d, axs->d, k.bound_gw.d);
    tensor_free(&ain), tensor_free(&agrad), tensor_free(&aw);
    return k;
}

static void backward_case_free(backward_case *k)
{
    tensor_free(&k->in), tensor_free(&k->grad), tensor_free(&k->w);
    tensor_free(&k->ref_gi), tensor_free(&k->ref_gw), tensor_free(&k->bound_gi);
    tensor_free(&k->bound_gw);
}

/* The transposed conv's backward, both gradients in one call, against the oracle and for
 * the same bits with 1, 2 and 3 threads. */
static void check_backward(const tconv_geometry *g, uint64_t seed)
{
    rng r = {seed + 91};
    backward_case k = backward_case_new(g, false, &r);
    const tensor in = k.in, go = k.grad, w = k.w;
    const tensor ref_gi = k.ref_gi, ref_gw = k.ref_gw, bound_gi = k.bound_gi,
                 bound_gw = k.bound_gw;
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i)
        for (int d = 0; d < 4; ++d) {
            const tconv_dtype dt = d % 2 ? TCONV_F32 : TCONV_F64;
            const bool last = d / 2;
            const size_t size = d % 2 ? 4 : 8;
            tensor gi = tensor_new(in.n), gw = tensor_new(w.n);
            tensor gi1 = tensor_new(in.n), gw1 = tensor_new(w.n);
            tensor lin = laid_out(g, TCONV_TENSOR_Y, last, &in);
            tensor lgo = laid_out(g, TCONV_TENSOR_X, last, &go);
            for (int threads = 1; threads <= 3; ++threads) {
                const tconv_options o = {.num_threads = threads, .layout = (tconv_layout)last};
                tconv_error err;
                cr_assert_eq(tconv_convt_backward_ex(g, algos[i], dt, tensor_data(&lin, dt),
                                                     tensor_data(&w, dt), tensor_data(&lgo, dt),
                                                     tensor_data(&gi, dt), tensor_data(&gw, dt),
                                                     NULL, &o, &err),
                             TCONV_OK, "%s", err.message);
                if (threads == 1) {
                    memcpy(tensor_data(&gi1, dt), tensor_data(&gi, dt), size * (size_t)in.n);
                    memcpy(tensor_data(&gw1, dt), tensor_data(&gw, dt), size * (size_t)w.n);
                    if (d % 2)
                        tensor_f32_to_f64(&gi), tensor_f32_to_f64(&gw);
                    if (last) {
                        tensor t = tensor_new(in.n);
                        channels_last(g, false, true, gi.d, t.d);
                        memcpy(gi.d, t.d, sizeof(double) * (size_t)in.n);
                        tensor_free(&t);
                    }
                    char what[400];
                    snprintf(what, sizeof what, "fused backward %s/%s/%s [%s]",
                             tconv_algo_name(algos[i]), d % 2 ? "f32" : "f64",
                             last ? "channels-last" : "channels-first", describe(g));
                    expect_close(gi.d, ref_gi.d, bound_gi.d, in.n,
                                 reduction_length(g, TCONV_APPLY), dtype_eps(dt), what);
                    expect_close(gw.d, ref_gw.d, bound_gw.d, w.n,
                                 reduction_length(g, TCONV_WGRAD), dtype_eps(dt), what);
                    continue;
                }
                cr_assert(memcmp(tensor_data(&gi1, dt), tensor_data(&gi, dt),
                                 size * (size_t)in.n) == 0 &&
                              memcmp(tensor_data(&gw1, dt), tensor_data(&gw, dt),
                                     size * (size_t)w.n) == 0,
                          "fused backward %s: %d threads differ [%s]",
                          tconv_algo_name(algos[i]), threads, describe(g));
            }
            tensor_free(&gi), tensor_free(&gw), tensor_free(&gi1), tensor_free(&gw1);
            tensor_free(&lin), tensor_free(&lgo);
        }
    backward_case_free(&k);
}

Test(fastpaths, fused_backward)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 67867967};
        draw w = draw_common(&r);
        w.dims = 2;
        w.batch = rng_int(&r, 4, 9);
        w.groups = rng_int(&r, 1, 2);
        w.cin = w.groups * rng_int(&r, 2, 6);
        w.cout = w.groups * rng_int(&r, 2, 6);
        for (int a = 0; a < 2; ++a)
            w.in[a] = rng_int(&r, 6, 9), w.k[a] = rng_int(&r, 2, 4), w.d[a] = 1;
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL &&
            tconv__gemm_path_of(&c.sh) != TCONV__PATH_TILED)
            continue;
        for (int last = 0; last < 2; ++last) {
            char text[600];
            plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_GEMM, (tconv_layout)last, text,
                      sizeof text);
            cr_assert(strstr(text, "apply+wgrad") && !strstr(text, "computed channels-first"),
                      "not fused natively: %s [%s]", text, describe(&g));
        }
        check_backward(&g, seed);
    }
}

/* One or two groups of `cxg` x channels each (the transposed convolution's output) and 1
 * to `most` y channels each, over a batch of 1 to 3. */
static void draw_channels(rng *r, draw *w, int64_t cxg, int64_t most)
{
    w->groups = rng_int(r, 0, 2) ? 1 : 2;
    w->cout = w->groups * cxg;
    w->cin = w->groups * rng_int(r, 1, most);
    w->batch = rng_int(r, 1, 3);
}

/* The products gemm's Winograd branch takes in channels-last: apply (the convolution
 * forward) or, if `transposed`, apply_t (its input gradient, the transposed forward) of a
 * 2-D layer of one group, a 3x3 kernel, stride 1, no dilation, 16 channels or more on
 * both sides, with at least 64 2x2 output tiles (of y, or of x) whose number times the
 * channel pairs reaches 2^16 (winograd.c), under the default workspace bound. */
static bool winograd_expected(const tconv_geometry *g, bool transposed)
{
    if (g->dims != 2 || g->groups != 1 || g->x_channels < 16 || g->y_channels < 16 ||
        g->batch == 0)
        return false;
    for (int a = 0; a < 2; ++a)
        if (g->kernel[a] != 3 || g->stride[a] != 1 || g->dilation[a] != 1)
            return false;
    const int64_t *out = transposed ? g->x_size : g->y_size;
    const double tiles = (double)g->batch * (double)((out[0] + 1) / 2) *
                         (double)((out[1] + 1) / 2);
    return tiles >= 64 && tiles * (double)g->x_channels * (double)g->y_channels >= 65536;
}

/* auto's channels-first backward goes through channels-last copies where its input
 * gradient takes the Winograd branch (the convolution's apply_t, the transposed
 * convolution's apply), but for the whole-batch maps (as the convolution forward). */
static bool conv_backward_detour_expected(const tconv__ctx *c)
{
    return winograd_expected(c->g, true) && !tconv__gemm_apply_whole(c);
}

static bool convt_backward_detour_expected(const tconv__ctx *c)
{
    return winograd_expected(c->g, false) && !tconv__gemm_apply_whole(c);
}

/* auto's rule for a channels-first convolution forward through channels-last copies (see
 * auto_conv_forward_detours_for_small_maps and winograd_convolution), under the default
 * workspace bound: where the Winograd branch takes it, and for small maps on the general
 * path; neither where the whole batch's columns make one matrix. */
static bool conv_detour_expected(const tconv__ctx *c)
{
    if (tconv__gemm_apply_whole(c))
        return false;
    return winograd_expected(c->g, false) ||
           (tconv__gemm_path_of(&c->sh) == TCONV__PATH_GENERAL && c->sh.cxg >= 16 &&
            c->sh.cyg >= 16 && c->sh.y_count <= 256);
}

/* Whether a channels-last forward plan of `algo` computes on channels-first copies. */
static bool detours(const tconv_geometry *g, tconv_algo algo)
{
    char text[600];
    plan_text(g, TCONV_CONVT_FORWARD, algo, TCONV_LAYOUT_CHANNELS_LAST, text, sizeof text);
    return strstr(text, "computed channels-first") != NULL;
}

/* auto's channels-last rule for gemm: channels-first copies for 2 to 15 x channels per
 * group and for a unit map whose weight outweighs the activations, its own formulation
 * otherwise; an explicit gemm always its own. Both routes against the oracle. */
Test(fastpaths, auto_channels_last_detours)
{
    static const int64_t per_group[] = {1, 2, 3, 15, 16, 17};
    int routes[2][2] = {{0}}; /* [unit map][detour] */
    int few[2] = {0};         /* 2..15 channels per group: [their taps merge into runs] */
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 7919};
        draw w = draw_common(&r);
        const int64_t cxg = per_group[rng_int(&r, 0, 5)];
        const bool unit = rng_int(&r, 0, 1);
        draw_channels(&r, &w, cxg, 12);
        for (int a = 0; a < w.dims; ++a) {
            if (unit)
                w.in[a] = 1, w.p[a] = 0, w.d[a] = 1, w.s[a] = 1, w.k[a] = rng_int(&r, 2, 3);
            else if (w.in[a] == 1)
                w.in[a] = 2; /* no unit map by accident */
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__phase_uses_loops(&c.sh))
            continue; /* phase's, not gemm's */
        const double weight = (double)c.sh.cy * (double)c.sh.cxg * (double)c.sh.k_count;
        const double acts = (double)c.sh.batch * ((double)c.sh.cx * (double)c.sh.x_count +
                                                  (double)c.sh.cy * (double)c.sh.y_count);
        const bool unit_map = tconv__gemm_path_of(&c.sh) == TCONV__PATH_UNIT_MAP;
        const bool merge = tconv__taps_merge(&c.sh);
        const bool expect = (cxg > 1 && cxg < 16 && !merge) ||
                            (unit_map && c.sh.groups == 1 && weight > acts);
        cr_assert_eq(detours(&g, TCONV_ALGO_AUTO), expect, "auto [%s]", describe(&g));
        cr_assert(!detours(&g, TCONV_ALGO_GEMM), "gemm [%s]", describe(&g));
        ++routes[unit_map][expect];
        if (cxg > 1 && cxg < 16)
            ++few[merge];
        check_all(&g, seed, NULL);
    }
    for (int u = 0; u < 2; ++u)
        for (int d = 0; d < 2; ++d)
            cr_assert(routes[u][d] > 0, "no draw with unit map %d, detour %d", u, d);
    cr_assert(few[0] > 0 && few[1] > 0, "few channels: %d unmerged, %d merged", few[0], few[1]);
}

/* auto's channels-last rule for apply (a convolution's forward, a transposed one's input
 * gradient): channels-first copies where channels-first runs apply over the whole batch's
 * columns (small maps of many channels), channels-last's own formulation otherwise; an
 * explicit gemm always its own. Both routes against the oracle, 1 = 2 = 3 threads: every
 * product, the transposed backward and the convolution forward through their entry
 * points. */
Test(fastpaths, auto_channels_last_whole_batch_detours)
{
    int routes[2] = {0};
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 15487469};
        draw w = draw_common(&r);
        w.dims = 2, w.groups = 1, w.batch = rng_int(&r, 1, 4);
        /* y channels (the transposed input's): at least 256 for the whole-batch path */
        w.cin = seed % 2 ? rng_int(&r, 256, 300) : rng_int(&r, 16, 40);
        w.cout = rng_int(&r, 16, 40);
        for (int a = 0; a < 2; ++a) {
            w.in[a] = rng_int(&r, 2, seed % 4 < 2 ? 6 : 20), w.k[a] = rng_int(&r, 2, 3);
            w.s[a] = rng_int(&r, 1, 2), w.d[a] = 1, w.op[a] = 0;
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue; /* a 1x1 map or kernel by accident */
        const bool expect = tconv__gemm_apply_whole(&c); /* c: channels-first */
        char text[600];
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-first") != NULL, expect,
                     "conv forward: %s [%s]", text, describe(&g));
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-first") != NULL, expect,
                     "transposed backward: %s [%s]", text, describe(&g));
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert(!strstr(text, "computed"), "gemm: %s [%s]", text, describe(&g));
        ++routes[expect];
        check_all(&g, seed, NULL);
        check_backward(&g, seed);
        /* the convolution forward through the entry point, channels-last in and out */
        tconv_error err = {0};
        rng r2 = {seed + 31};
        tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r2);
        tensor wt = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r2);
        tensor ax = tensor_abs(&x), aw = tensor_abs(&wt);
        tensor ref = tensor_new(numel(&g, TCONV_TENSOR_Y)), bound = tensor_new(ref.n);
        oracle(&g, TCONV_APPLY, x.d, wt.d, ref.d);
        oracle(&g, TCONV_APPLY, ax.d, aw.d, bound.d);
        tensor lx = laid_out(&g, TCONV_TENSOR_X, true, &x);
        for (int d = 0; d < 2; ++d) {
            const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
            tensor y = tensor_new(ref.n), one = tensor_new(ref.n), back = tensor_new(ref.n);
            for (int threads = 1; threads <= 3; ++threads) {
                const tconv_options o = {.num_threads = threads,
                                         .layout = TCONV_LAYOUT_CHANNELS_LAST};
                cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_AUTO, dt, tensor_data(&lx, dt),
                                                   tensor_data(&wt, dt), NULL,
                                                   tensor_data(threads == 1 ? &one : &y, dt), &o,
                                                   &err),
                             TCONV_OK, "%s", err.message);
                if (threads > 1)
                    cr_assert(memcmp(tensor_data(&one, dt), tensor_data(&y, dt),
                                     (size_t)ref.n * (d ? 4 : 8)) == 0,
                              "conv forward: %d threads differ [%s]", threads, describe(&g));
            }
            if (d)
                tensor_f32_to_f64(&one);
            channels_last(&g, false, true, one.d, back.d);
            expect_close(back.d, ref.d, bound.d, ref.n, reduction_length(&g, TCONV_APPLY),
                         dtype_eps(dt), "channels-last conv forward");
            tensor_free(&y), tensor_free(&one), tensor_free(&back);
        }
        tensor_free(&x), tensor_free(&wt), tensor_free(&ax), tensor_free(&aw);
        tensor_free(&ref), tensor_free(&bound), tensor_free(&lx);
    }
    cr_assert(routes[0] > 0 && routes[1] > 0, "routes: native %d, copies %d", routes[0],
              routes[1]);
}

/* Whether a channels-first transposed forward plan of `algo` computes on channels-last
 * copies. */
static bool detours_to_last(const tconv_geometry *g, tconv_algo algo)
{
    char text[600];
    plan_text(g, TCONV_CONVT_FORWARD, algo, TCONV_LAYOUT_CHANNELS_FIRST, text, sizeof text);
    return strstr(text, "computed channels-last") != NULL;
}

/* The channels-first forward (the transposed layer's, or the convolution's if `conv`)
 * through the public entry point, with a bias, against the oracle plus the bias, and
 * 1 = 2 = 3 threads bit for bit, in both dtypes. */
static void check_layer_forward_threads(const tconv_geometry *g, uint64_t seed, bool conv)
{
    rng r = {seed + 55};
    const tconv_product p = conv ? TCONV_APPLY : TCONV_APPLY_T;
    const int64_t channels = conv ? g->y_channels : g->x_channels;
    tensor in = tensor_random(numel(g, conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(g, TCONV_TENSOR_WEIGHT), &r);
    tensor b = tensor_random(channels, &r), ain = tensor_abs(&in), aw = tensor_abs(&w);
    tensor ref = tensor_new(numel(g, conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X));
    tensor bound = tensor_new(ref.n), out = tensor_new(ref.n), one = tensor_new(ref.n);
    oracle(g, p, in.d, w.d, ref.d);
    oracle(g, p, ain.d, aw.d, bound.d);
    const int64_t per = ref.n / (g->batch ? g->batch : 1) / channels;
    for (int64_t i = 0; i < ref.n; ++i) {
        ref.d[i] += b.d[i / per % channels];
        bound.d[i] += fabs(b.d[i / per % channels]);
    }
    for (int d = 0; d < 2; ++d) {
        const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
        const size_t bytes = (size_t)ref.n * (d ? 4 : 8);
        for (int threads = 1; threads <= 3; ++threads) {
            tensor *o = threads == 1 ? &one : &out;
            const tconv_options opt = {.num_threads = threads};
            tconv_error err = {0};
            tconv_status (*const run)(const tconv_geometry *, tconv_algo, tconv_dtype,
                                      const void *, const void *, const void *, void *,
                                      const tconv_options *, tconv_error *) =
                conv ? tconv_conv_forward_ex : tconv_convt_forward_ex;
            cr_assert_eq(run(g, TCONV_ALGO_AUTO, dt, tensor_data(&in, dt), tensor_data(&w, dt),
                             tensor_data(&b, dt), tensor_data(o, dt), &opt, &err),
                         TCONV_OK, "%s", err.message);
            if (threads > 1)
                cr_assert(memcmp(tensor_data(&one, dt), tensor_data(&out, dt), bytes) == 0,
                          "%s: %d threads differ from 1 [%s]", d ? "f32" : "f64", threads,
                          describe(g));
        }
        if (dt == TCONV_F32)
            tensor_f32_to_f64(&one);
        char what[400];
        snprintf(what, sizeof what, "auto channels-first %s forward, %s [%s]",
                 conv ? "conv" : "convt", d ? "f32" : "f64", describe(g));
        expect_close(one.d, ref.d, bound.d, ref.n, reduction_length(g, p) + 1, dtype_eps(dt),
                     what);
    }
    tensor_free(&in), tensor_free(&w), tensor_free(&b), tensor_free(&ain), tensor_free(&aw);
    tensor_free(&ref), tensor_free(&bound), tensor_free(&out), tensor_free(&one);
}

static void check_forward_threads(const tconv_geometry *g, uint64_t seed)
{
    check_layer_forward_threads(g, seed, false);
}

/* The channels-first convolution backward through the public entry point with auto
 * (grad_x and grad_weight) against the oracle, and 1 = 2 = 3 threads bit for bit, in both
 * dtypes. */
static void check_conv_backward_threads(const tconv_geometry *g, uint64_t seed)
{
    rng r = {seed + 66};
    backward_case k = backward_case_new(g, true, &r);
    const tensor x = k.in, gy = k.grad, w = k.w;
    tensor gx = tensor_new(x.n), gw = tensor_new(w.n);
    tensor gx1 = tensor_new(x.n), gw1 = tensor_new(w.n);
    for (int d = 0; d < 2; ++d) {
        const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
        const size_t size = d ? 4 : 8;
        for (int threads = 1; threads <= 3; ++threads) {
            const tconv_options o = {.num_threads = threads};
            tconv_error err = {0};
            tensor *ox = threads == 1 ? &gx1 : &gx, *ow = threads == 1 ? &gw1 : &gw;
            cr_assert_eq(tconv_conv_backward_ex(g, TCONV_ALGO_AUTO, dt, tensor_data(&x, dt),
                                                tensor_data(&w, dt), tensor_data(&gy, dt),
                                                tensor_data(ox, dt), tensor_data(ow, dt), NULL,
                                                &o, &err),
                         TCONV_OK, "%s", err.message);
            if (threads > 1)
                cr_assert(memcmp(tensor_data(&gx1, dt), tensor_data(&gx, dt),
                                 size * (size_t)x.n) == 0 &&
                              memcmp(tensor_data(&gw1, dt), tensor_data(&gw, dt),
                                     size * (size_t)w.n) == 0,
                          "%s: %d threads differ from 1 [%s]", d ? "f32" : "f64", threads,
                          describe(g));
        }
        if (dt == TCONV_F32)
            tensor_f32_to_f64(&gx1), tensor_f32_to_f64(&gw1);
        char what[400];
        snprintf(what, sizeof what, "auto channels-first conv backward, %s [%s]",
                 d ? "f32" : "f64", describe(g));
        expect_close(gx1.d, k.ref_gi.d, k.bound_gi.d, x.n,
                     reduction_length(g, TCONV_APPLY_T), dtype_eps(dt), what);
        expect_close(gw1.d, k.ref_gw.d, k.bound_gw.d, w.n, reduction_length(g, TCONV_WGRAD),
                     dtype_eps(dt), what);
    }
    backward_case_free(&k);
    tensor_free(&gx), tensor_free(&gw), tensor_free(&gx1), tensor_free(&gw1);
}

/* auto's channels-first rule for the transposed forward: channels-last copies on gemm's
 * general path with at least 16 x channels per group, the caller's layout on the tiled
 * path and with fewer channels; an explicit gemm never detours, nor any other operation.
 * Both routes against the oracle (with a bias), 1 = 2 = 3 threads. */
Test(fastpaths, auto_channels_first_detours)
{
    static const int64_t per_group[] = {1, 8, 15, 16, 17, 24};
    int routes[2][2] = {{0}}; /* [tiled][detour] */
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 104729};
        draw w = draw_common(&r);
        const int64_t cxg = per_group[rng_int(&r, 0, 5)];
        const bool tiled = rng_int(&r, 0, 2) == 0;
        draw_channels(&r, &w, cxg, 6);
        for (int a = 0; a < w.dims; ++a) {
            if (tiled)
                w.s[a] = w.k[a] = rng_int(&r, 2, 3), w.p[a] = 0, w.d[a] = 1, w.op[a] = 0;
            else if (w.in[a] == 1)
                w.in[a] = 2; /* no unit map by accident */
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__phase_uses_loops(&c.sh))
            continue; /* phase's, not gemm's */
        const tconv__gemm_path path = tconv__gemm_path_of(&c.sh);
        if (path != TCONV__PATH_GENERAL && path != TCONV__PATH_TILED)
            continue; /* 1x1 kernels drawn on the general side */
        const bool expect = path == TCONV__PATH_GENERAL && c.sh.cxg >= 16;
        cr_assert_eq(detours_to_last(&g, TCONV_ALGO_AUTO), expect, "auto [%s]", describe(&g));
        cr_assert(!detours_to_last(&g, TCONV_ALGO_GEMM), "gemm [%s]", describe(&g));
        char text[600];
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed") != NULL, convt_backward_detour_expected(&c),
                     "backward: %s [%s]", text, describe(&g));
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-last") != NULL, conv_detour_expected(&c),
                     "conv forward: %s [%s]", text, describe(&g));
        ++routes[path == TCONV__PATH_TILED][expect];
        check_forward_threads(&g, seed);
    }
    cr_assert(routes[0][0] > 0 && routes[0][1] > 0 && routes[1][0] > 0,
              "routes: general %d/%d, tiled %d", routes[0][0], routes[0][1], routes[1][0]);
}

/* auto's channels-first rule for the convolution forward: channels-last copies on gemm's
 * general path for output maps of at most 256 positions with at least 16 channels per
 * group on both sides, but where the whole batch's columns make one matrix; never for an
 * explicit gemm, nor for the backward. Both routes against the oracle (with a bias),
 * 1 = 2 = 3 threads. */
Test(fastpaths, auto_conv_forward_detours_for_small_maps)
{
    static const int64_t per_group[] = {8, 15, 16, 17, 24};
    int routes[2] = {0}; /* [detour] */
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 15485863};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2);
        w.groups = rng_int(&r, 0, 2) ? 1 : 2;
        w.cin = w.groups * per_group[rng_int(&r, 0, 4)];   /* conv output: y */
        w.cout = w.groups * per_group[rng_int(&r, 0, 4)];  /* conv input: x */
        w.batch = rng_int(&r, 1, 3);
        const bool small = rng_int(&r, 0, 1);
        for (int a = 0; a < w.dims; ++a) {
            w.k[a] = rng_int(&r, 2, 3), w.s[a] = rng_int(&r, 1, 2), w.d[a] = 1, w.op[a] = 0;
            w.p[a] = rng_int(&r, 0, 1);
            w.in[a] = small ? rng_int(&r, 2, w.dims == 1 ? 200 : 14)
                            : rng_int(&r, w.dims == 1 ? 300 : 17, w.dims == 1 ? 600 : 20);
        }
        tconv_geometry g;
        make(&w, &g);
        const tconv__ctx c = context(&g, 0);
        if (tconv__phase_uses_loops(&c.sh) || tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue;
        const bool expect = conv_detour_expected(&c);
        char text[600];
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-last") != NULL, expect, "auto: %s [%s]",
                     text, describe(&g));
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert(!strstr(text, "computed"), "gemm: %s [%s]", text, describe(&g));
        plan_text(&g, TCONV_CONV_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed") != NULL, conv_backward_detour_expected(&c),
                     "backward: %s [%s]", text, describe(&g));
        ++routes[expect];
        check_layer_forward_threads(&g, seed, true);
    }
    cr_assert(routes[0] > 0 && routes[1] > 0, "routes: native %d, detour %d", routes[0],
              routes[1]);
}

/* gemm's Winograd branch: 3x3 stride-1 convolutions of 16 to 40 channels on maps of 2 to
 * 20 positions a side (odd sizes leave partial tiles), padding 0 to 2, taken by the
 * channels-last apply and apply_t where the rule says (winograd_expected) and never
 * channels-first; every product against the oracle, 1 = 2 = 3 threads, both forwards with
 * a bias and both backwards through auto's channels-first detours too (the transposed
 * one's apply apart from its wgrad: Winograd rather than fused). Under a bound one byte
 * short of its workspace (U, 16 C_x C_y elements, and a thread's tiles) the forward takes
 * im2col instead. */
Test(fastpaths, winograd_convolution)
{
    static const int64_t channels[] = {16, 17, 24, 33, 40};
    int routes[2] = {0}, routes_t[2] = {0}; /* apply, apply_t: [Winograd] */
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 2654435761u};
        draw w = draw_common(&r);
        w.dims = 2, w.groups = 1;
        w.cin = channels[rng_int(&r, 0, 4)];  /* conv output: y */
        w.cout = channels[rng_int(&r, 0, 4)]; /* conv input: x */
        w.batch = rng_int(&r, 1, 3);
        for (int a = 0; a < 2; ++a) {
            w.k[a] = 3, w.s[a] = 1, w.d[a] = 1, w.op[a] = 0;
            w.p[a] = rng_int(&r, 0, 2);
            w.in[a] = rng_int(&r, 2, 20);
        }
        tconv_geometry g;
        make(&w, &g);
        const bool expect = winograd_expected(&g, false);
        const bool expect_t = winograd_expected(&g, true);
        char text[600];
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "Winograd") != NULL, expect, "channels-last: %s [%s]", text,
                     describe(&g));
        plan_text(&g, TCONV_CONVT_FORWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "Winograd") != NULL, expect_t, "apply_t: %s [%s]", text,
                     describe(&g));
        plan_text(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert(!strstr(text, "Winograd"), "channels-first: %s [%s]", text, describe(&g));
        const tconv__ctx c = context(&g, 0);
        plan_text(&g, TCONV_CONV_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-last") != NULL,
                     conv_backward_detour_expected(&c), "backward: %s [%s]", text,
                     describe(&g));
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_AUTO, TCONV_LAYOUT_CHANNELS_FIRST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "computed channels-last") != NULL,
                     convt_backward_detour_expected(&c), "transposed backward: %s [%s]", text,
                     describe(&g));
        /* the transposed backward's apply through Winograd, not fused with its wgrad */
        plan_text(&g, TCONV_CONVT_BACKWARD, TCONV_ALGO_GEMM, TCONV_LAYOUT_CHANNELS_LAST, text,
                  sizeof text);
        cr_assert_eq(strstr(text, "apply: Winograd") != NULL, expect,
                     "transposed backward, channels-last: %s [%s]", text, describe(&g));
        if (expect) { /* a bound just under what Winograd takes: im2col's instead */
            tconv_options o = {.layout = TCONV_LAYOUT_CHANNELS_LAST, .num_threads = 1};
            tconv_error err = {0};
            size_t bytes = 0;
            cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM,
                                              TCONV_F32, &o, &bytes, &err),
                         TCONV_OK, "%s", err.message);
            cr_assert(bytes >= (size_t)16 * (size_t)(g.x_channels * g.y_channels) * 4,
                      "workspace %zu without U [%s]", bytes, describe(&g));
            o.workspace_limit = bytes - 1;
            tconv_plan *plan;
            cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONV_FORWARD, 0, TCONV_ALGO_GEMM,
                                           TCONV_F32, &o, &err),
                         TCONV_OK, "%s", err.message);
            tconv_plan_describe(plan, text, sizeof text);
            tconv_plan_destroy(plan);
            cr_assert(!strstr(text, "Winograd") && strstr(text, "im2col"), "bound %zu: %s [%s]",
                      bytes - 1, text, describe(&g));
        }
        ++routes[expect];
        ++routes_t[expect_t];
        check_all(&g, seed, NULL);
        check_layer_forward_threads(&g, seed, true);
        check_layer_forward_threads(&g, seed, false);
        check_conv_backward_threads(&g, seed);
        check_backward(&g, seed);
    }
    cr_assert(routes[0] > 0 && routes[1] > 0, "routes: im2col %d, Winograd %d", routes[0],
              routes[1]);
    cr_assert(routes_t[0] > 0 && routes_t[1] > 0, "apply_t routes: col2im %d, Winograd %d",
              routes_t[0], routes_t[1]);
}

/* Winograd's blocks of output channels on a map too small for several chunks of tiles:
 * 321 output channels (the convolution's y, or the transposed one's x) on a 16x16 map (64
 * tiles, one chunk) cut into blocks of 80 leave a last block of 1, narrower than any
 * vector, written lane by lane. Both products against the oracle, 1 = 2 = 3 threads, both
 * layouts. */
Test(fastpaths, winograd_narrow_last_block)
{
    for (int t = 0; t < 2; ++t) {
        const int64_t in[2] = {16, 16}, k[2] = {3, 3}, st[2] = {1, 1}, p[2] = {1, 1};
        const int64_t cy = t ? 17 : 321, cx = t ? 321 : 17;
        tconv_geometry g;
        tconv_error err = {0};
        cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, cy, cx, 1, in, k, st, p, NULL,
                                                    NULL, &err),
                     TCONV_OK, "%s", err.message);
        char text[600];
        plan_text(&g, t ? TCONV_CONVT_FORWARD : TCONV_CONV_FORWARD, TCONV_ALGO_GEMM,
                  TCONV_LAYOUT_CHANNELS_LAST, text, sizeof text);
        cr_assert(strstr(text, "Winograd"), "%s [%s]", text, describe(&g));
        check_all(&g, 31 + (uint64_t)t, NULL);
    }
}

/* ... and only while the copies (Y in, X out) fit the workspace bound. */
Test(fastpaths, auto_channels_first_detour_within_the_bound)
{
    const int64_t in[2] = {4, 4}, k[2] = {4, 4}, s[2] = {2, 2}, p[2] = {1, 1};
    const int64_t op[2] = {0, 0}, d[2] = {1, 1};
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 3, 32, 16, 1, in, k, s, p, op, d, &err),
                 TCONV_OK, "%s", err.message);
    /* 3 images of 16 x 8 x 8 out and 32 x 4 x 4 in, float32 */
    const size_t copies = (size_t)3 * (16 * 64 + 32 * 16) * sizeof(float);
    for (int over = 0; over < 2; ++over) {
        tconv__ctx c = context(&g, copies + (size_t)over);
        cr_assert_eq(tconv__auto_layout(&c, &tconv__algo_gemm, true, false),
                     TCONV_LAYOUT_CHANNELS_LAST, "bound %zu", c.ws_limit);
        c = context(&g, copies - 1 - (size_t)over);
        cr_assert_eq(tconv__auto_layout(&c, &tconv__algo_gemm, true, false),
                     TCONV_LAYOUT_CHANNELS_FIRST, "bound %zu", c.ws_limit);
    }
}

/* Channels-last apply_t of a few images of one group whose lines overlap (the kernel
 * larger than the stride) computes every tile's columns first, then gathers x line by
 * line across the team; four images or more, folded images, or groups keep their
 * own cuts. Both against the oracle, 1 = 2 = 3 threads, in both layouts. */
Test(fastpaths, channels_last_apply_t_gathered_by_lines)
{
    int taken[2] = {0};
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 334214459};
        draw w = draw_common(&r);
        w.dims = (int)rng_int(&r, 1, 2);
        w.batch = rng_int(&r, 1, 5);
        w.groups = rng_int(&r, 0, 3) ? 1 : 2;
        w.cin = w.groups * rng_int(&r, 2, 6);
        w.cout = w.groups * rng_int(&r, 16, 20); /* past phase's loops */
        const bool large = rng_int(&r, 0, 1); /* images past one tile: cut into lines */
        for (int a = 0; a < w.dims; ++a) {
            w.in[a] = !large ? rng_int(&r, 2, 6) : w.dims == 1 ? rng_int(&r, 520, 700)
                                                                : rng_int(&r, 23, 28);
            w.s[a] = rng_int(&r, 1, 2);
            w.k[a] = w.s[a] + rng_int(&r, 1, 2); /* overlapping taps */
        }
        tconv_geometry g;
        make(&w, &g);
        tconv__ctx c = context(&g, 0);
        c.layout = TCONV_LAYOUT_CHANNELS_LAST;
        if (tconv__gemm_path_of(&c.sh) != TCONV__PATH_GENERAL)
            continue;
        const bool by_lines = tconv__gemm_nhwc_by_lines(&c);
        const bool folded = tconv__gemm_images_per_tile(&c, TCONV_APPLY_T) > 0;
        cr_assert_eq(by_lines, w.groups == 1 && !folded && w.batch < 4,
                     "batch %lld, groups %lld, folded %d [%s]", (long long)w.batch,
                     (long long)w.groups, folded, describe(&g));
        ++taken[by_lines];
        check_all(&g, seed, NULL);
        check_bias(&g, seed);
    }
    cr_assert(taken[0] > 0 && taken[1] > 0, "by lines %d, by tiles %d", taken[1], taken[0]);
}

/* The bias gradient of a channels-first output sums each row of a plane in lanes of whole
 * 32-byte vectors and a rest (kernels/bias_sum_tmpl.h): rows of 1 to 200 positions (1-D)
 * or 1 to 14 cover whole vectors, rests and rows shorter than a vector, over images in
 * order. Against sums taken here in float64, and the same bits for 1, 2 and 3 threads,
 * both layouts. */
Test(fastpaths, bias_gradient_in_lanes)
{
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 67867967};
        const int dims = (int)rng_int(&r, 1, 2);
        const int64_t batch = rng_int(&r, 0, 3), cin = rng_int(&r, 1, 3);
        const int64_t cout = rng_int(&r, 1, 5);
        int64_t in[2] = {rng_int(&r, 1, dims == 1 ? 200 : 14), rng_int(&r, 1, 14)};
        const int64_t k[2] = {1, 1}, s[2] = {1, 1}, p[2] = {0, 0};
        tconv_geometry g;
        tconv_error err = {0};
        cr_assert_eq(tconv_geometry_init_conv(&g, dims, batch, cin, cout, 1, in, k, s, p,
                                              NULL, &err),
                     TCONV_OK, "%s", err.message);
        const int64_t count = numel(&g, TCONV_TENSOR_Y) / (batch ? batch * cout : 1);
        tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        tensor gy = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
        double ref[5] = {0}, bound[5] = {0};
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t c = 0; c < cout; ++c)
                for (int64_t i = 0; i < count; ++i) {
                    const double v = gy.d[(n * cout + c) * count + i];
                    ref[c] += v, bound[c] += fabs(v);
                }
        for (int d = 0; d < 4; ++d) {
            const tconv_dtype dt = d % 2 ? TCONV_F32 : TCONV_F64;
            const bool last = d / 2;
            tensor lx = laid_out(&g, TCONV_TENSOR_X, last, &x);
            tensor lgy = laid_out(&g, TCONV_TENSOR_Y, last, &gy);
            tensor gb = tensor_new(cout), gb1 = tensor_new(cout);
            for (int threads = 1; threads <= 3; ++threads) {
                const tconv_options o = {.num_threads = threads, .layout = (tconv_layout)last};
                cr_assert_eq(tconv_conv_backward_ex(&g, TCONV_ALGO_AUTO, dt,
                                                    tensor_data(&lx, dt), tensor_data(&w, dt),
                                                    tensor_data(&lgy, dt), NULL, NULL,
                                                    tensor_data(&gb, dt), &o, &err),
                             TCONV_OK, "%s", err.message);
                const size_t bytes = (size_t)cout * (d % 2 ? 4 : 8);
                if (threads == 1) {
                    memcpy(tensor_data(&gb1, dt), tensor_data(&gb, dt), bytes);
                    if (d % 2)
                        tensor_f32_to_f64(&gb);
                    char what[300];
                    snprintf(what, sizeof what, "grad_bias %s/%s [%s]", d % 2 ? "f32" : "f64",
                             last ? "channels-last" : "channels-first", describe(&g));
                    expect_close(gb.d, ref, bound, cout, batch * count, dtype_eps(dt), what);
                } else {
                    cr_assert(memcmp(tensor_data(&gb1, dt), tensor_data(&gb, dt), bytes) == 0,
                              "grad_bias: %d threads differ [%s]", threads, describe(&g));
                }
            }
            tensor_free(&lx), tensor_free(&lgy), tensor_free(&gb), tensor_free(&gb1);
        }
        tensor_free(&x), tensor_free(&w), tensor_free(&gy);
    }
}

/* A convolution's bias gradient summed by phase's bordered weight gradient from the grad_y
 * planes it reads (plan: sums_bias), not by a pass of its own: depthwise-like layers with
 * and without a second x channel per group, against float64 sums, with grad_weight against
 * the oracle, asked with and without grad_input, the same bits for 1, 2 and 3 threads,
 * both dtypes, phase and auto; and the same bits as the bias pass gives it alone. */
Test(fastpaths, phase_wgrad_sums_the_bias_gradient)
{
    int summed = 0;
    for (uint64_t seed = 1; seed <= PER_FAMILY / 2; ++seed) {
        rng r = {seed * 49979687};
        draw w = draw_depthwise_like(&r);
        w.dims = 2, w.batch = rng_int(&r, 1, 3);
        for (int a = 0; a < 2; ++a) {
            w.in[a] = rng_int(&r, 1, 30), w.k[a] = rng_int(&r, 1, 3), w.op[a] = 0;
            w.s[a] = a == 1 ? 1 : rng_int(&r, 1, 2);
        }
        tconv_geometry g; /* a transposed layer's geometry (no output padding) is its
                           * convolution's: x in, y out */
        make(&w, &g);
        tconv_error err = {0};
        tconv__ctx c = context(&g, 0);
        tconv__product_plan pp;
        memset(&pp, 0, sizeof pp);
        cr_assert_eq(tconv__algo_phase.plan(&c, TCONV_WGRAD, &pp, &err), TCONV_OK, "%s",
                     err.message);
        cr_assert(pp.sums_bias, "[%s]", describe(&g));
        backward_case bc = backward_case_new(&g, true, &r);
        const int64_t cy = g.y_channels, count = numel(&g, TCONV_TENSOR_Y) / (g.batch * cy);
        double ref[16] = {0}, bound[16] = {0};
        cr_assert(cy <= 16);
        for (int64_t n = 0; n < g.batch; ++n)
            for (int64_t ch = 0; ch < cy; ++ch)
                for (int64_t i = 0; i < count; ++i) {
                    const double v = bc.grad.d[(n * cy + ch) * count + i];
                    ref[ch] += v, bound[ch] += fabs(v);
                }
        static const tconv_algo which[2] = {TCONV_ALGO_PHASE, TCONV_ALGO_AUTO};
        for (int i = 0; i < 2; ++i)
            for (int d = 0; d < 4; ++d) {
                const tconv_dtype dt = d % 2 ? TCONV_F32 : TCONV_F64;
                const bool with_gi = d / 2;
                const size_t size = d % 2 ? 4 : 8;
                tensor gi = tensor_new(bc.in.n), gw = tensor_new(bc.w.n);
                tensor gb = tensor_new(cy), gw1 = tensor_new(bc.w.n), gb1 = tensor_new(cy);
                for (int threads = 1; threads <= 3; ++threads) {
                    const tconv_options o = {.num_threads = threads};
                    cr_assert_eq(tconv_conv_backward_ex(&g, which[i], dt, tensor_data(&bc.in, dt),
                                                        tensor_data(&bc.w, dt),
                                                        tensor_data(&bc.grad, dt),
                                                        with_gi ? tensor_data(&gi, dt) : NULL,
                                                        tensor_data(&gw, dt),
                                                        tensor_data(&gb, dt), &o, &err),
                                 TCONV_OK, "%s", err.message);
                    if (threads > 1) {
                        cr_assert(memcmp(tensor_data(&gw1, dt), tensor_data(&gw, dt),
                                         size * (size_t)bc.w.n) == 0 &&
                                      memcmp(tensor_data(&gb1, dt), tensor_data(&gb, dt),
                                             size * (size_t)cy) == 0,
                                  "%d threads differ [%s]", threads, describe(&g));
                        continue;
                    }
                    memcpy(tensor_data(&gw1, dt), tensor_data(&gw, dt), size * (size_t)bc.w.n);
                    memcpy(tensor_data(&gb1, dt), tensor_data(&gb, dt), size * (size_t)cy);
                    if (d % 2)
                        tensor_f32_to_f64(&gw), tensor_f32_to_f64(&gb);
                    char what[400];
                    snprintf(what, sizeof what, "%s/%s%s [%s]", tconv_algo_name(which[i]),
                             d % 2 ? "f32" : "f64", with_gi ? " with grad_input" : "",
                             describe(&g));
                    expect_close(gb.d, ref, bound, cy, g.batch * count, dtype_eps(dt), what);
                    expect_close(gw.d, bc.ref_gw.d, bc.bound_gw.d, bc.w.n,
                                 reduction_length(&g, TCONV_WGRAD), dtype_eps(dt), what);
                }
                tensor_free(&gi), tensor_free(&gw), tensor_free(&gb);
                tensor_free(&gw1), tensor_free(&gb1);
            }
        /* grad_bias alone: no weight gradient to sum it, its own pass, the same bits */
        tensor gb = tensor_new(cy), with = tensor_new(cy), gw = tensor_new(bc.w.n);
        for (int d = 0; d < 2; ++d) {
            const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
            const tconv_options o = {.num_threads = 2};
            cr_assert_eq(tconv_conv_backward_ex(&g, TCONV_ALGO_PHASE, dt, tensor_data(&bc.in, dt),
                                                tensor_data(&bc.w, dt), tensor_data(&bc.grad, dt),
                                                NULL, NULL, tensor_data(&gb, dt), &o, &err),
                         TCONV_OK, "%s", err.message);
            cr_assert_eq(tconv_conv_backward_ex(&g, TCONV_ALGO_PHASE, dt, tensor_data(&bc.in, dt),
                                                tensor_data(&bc.w, dt), tensor_data(&bc.grad, dt),
                                                NULL, tensor_data(&gw, dt),
                                                tensor_data(&with, dt), &o, &err),
                         TCONV_OK, "%s", err.message);
            cr_assert(memcmp(tensor_data(&gb, dt), tensor_data(&with, dt),
                             (size_t)cy * (d ? 4 : 8)) == 0,
                      "%s: grad_bias alone differs from grad_bias with grad_weight [%s]",
                      d ? "f32" : "f64", describe(&g));
        }
        tensor_free(&with), tensor_free(&gw);
        tensor_free(&gb);
        backward_case_free(&bc);
        ++summed;
    }
    cr_assert_eq(summed, PER_FAMILY / 2);
}

/* Phase product p of g in dtype dt through an internal context whose streaming threshold
 * is `stream` bytes (the library takes the machine's: tconv__stream_threshold), on
 * `threads` threads; says whether the plan streamed its output. The output in `out`
 * (float64, whatever the dtype; the dtype's own bits in out->f or out->d too). */
static bool run_phase_with_threshold(const tconv_geometry *g, tconv_product p, tconv_dtype dt,
                                     const tensor *a, const tensor *b, tensor *out,
                                     int threads, size_t stream)
{
    tconv__ctx c = context(g, 0);
    c.dtype = dt;
    c.threads = threads;
    c.stream_bytes = stream;
    tconv__product_plan pp;
    memset(&pp, 0, sizeof pp);
    tconv_error err = {0};
    cr_assert_eq(tconv__algo_phase.plan(&c, p, &pp, &err), TCONV_OK, "%s", err.message);
    const int team = pp.team < threads ? pp.team : threads;
    void *ws = aligned_alloc(64, (pp.shared + pp.per_thread * (size_t)team + 64) / 64 * 64);
    cr_assert(ws != NULL);
    const tconv__product_fn fn =
        p == TCONV_APPLY ? tconv__algo_phase.apply : tconv__algo_phase.apply_t;
    fn(&c, &pp, tensor_data(a, dt), tensor_data(b, dt), tensor_data(out, dt), ws);
    free(ws);
    if (dt == TCONV_F32)
        tensor_f32_to_f64(out);
    return strstr(tconv__path_name(&tconv__algo_phase, pp.path), "streamed") != NULL;
}

/* phase's bordered rows stream their output past the caches, from a per-thread buffer,
 * when the layer's activations take at least the machine's threshold (half the
 * last-level cache, 8 MiB at least): a depthwise 3x3 layer of 32 channels at 256x256
 * (16.8 MB of float32 activations) streams where the threshold allows, a quarter of the
 * map never does, and neither does the large one under a workspace bound that holds the
 * bordered copy but not the buffer. With the threshold at its 8 MiB floor, both
 * directions stream, against the oracle, the same bits for 1 and 2 threads; above the
 * layer, in place, the same bits as streamed. */
Test(fastpaths, phase_streams_a_large_output)
{
    for (int big = 0; big < 2; ++big) {
        const int64_t side = big ? 256 : 128, in[2] = {side, side}, k[2] = {3, 3};
        const int64_t s[2] = {1, 1}, p[2] = {1, 1};
        tconv_geometry g;
        tconv_error err = {0};
        cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, 32, 32, 32, in, k, s, p, NULL,
                                                    NULL, &err),
                     TCONV_OK, "%s", err.message);
        const size_t bytes = (size_t)(numel(&g, TCONV_TENSOR_X) + numel(&g, TCONV_TENSOR_Y)) * 4;
        const bool streams = bytes >= tconv__stream_threshold();
        cr_assert(tconv__stream_threshold() >= (size_t)TCONV__STREAM_BYTES);
        const tconv_op ops[2] = {TCONV_CONV_FORWARD, TCONV_CONVT_FORWARD};
        for (int o = 0; o < 2; ++o) {
            char text[600];
            plan_text(&g, ops[o], TCONV_ALGO_PHASE, TCONV_LAYOUT_CHANNELS_FIRST, text,
                      sizeof text);
            cr_assert_eq(strstr(text, "output streamed past the caches") != NULL, streams,
                         "%s [%s] (%zu bytes, threshold %zu)", text, describe(&g), bytes,
                         tconv__stream_threshold());
        }
        if (!big)
            continue;
        { /* a bound with room for the bordered copy (258x258) but not for the buffer too:
           * the output is written in place, the loops kept */
            const tconv_options o = {.num_threads = 1, .workspace_limit = 400 * 1024};
            tconv_plan *plan;
            char text[600];
            cr_assert_eq(tconv_plan_create(&plan, &g, TCONV_CONV_FORWARD, 0, TCONV_ALGO_PHASE,
                                           TCONV_F32, &o, &err),
                         TCONV_OK, "%s", err.message);
            tconv_plan_describe(plan, text, sizeof text);
            tconv_plan_destroy(plan);
            cr_assert(strstr(text, "phase loops over a bordered copy") &&
                          !strstr(text, "streamed"),
                      "%s [%s]", text, describe(&g));
        }
        rng r = {77};
        for (int pi = 0; pi < 2; ++pi) {
            const tconv_product prod = pi ? TCONV_APPLY_T : TCONV_APPLY;
            tconv_tensor t[3];
            operands(prod, t);
            tensor a = tensor_random(numel(&g, t[0]), &r), b = tensor_random(numel(&g, t[1]), &r);
            tensor aa = tensor_abs(&a), ab = tensor_abs(&b);
            tensor ref = tensor_new(numel(&g, t[2])), bound = tensor_new(ref.n);
            tensor one = tensor_new(ref.n), two = tensor_new(ref.n), kept = tensor_new(ref.n);
            oracle(&g, prod, a.d, b.d, ref.d);
            oracle(&g, prod, aa.d, ab.d, bound.d);
            for (int d = 0; d < 2; ++d) {
                const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                const size_t n = (size_t)ref.n * (d ? 4 : 8);
                cr_assert(run_phase_with_threshold(&g, prod, dt, &a, &b, &one, 1,
                                                   TCONV__STREAM_BYTES),
                          "product %d not streamed at the 8 MiB floor", (int)prod);
                expect_close(one.d, ref.d, bound.d, ref.n, reduction_length(&g, prod),
                             dtype_eps(dt), pi ? "streamed apply_t" : "streamed apply");
                run_phase_with_threshold(&g, prod, dt, &a, &b, &two, 2, TCONV__STREAM_BYTES);
                cr_assert(memcmp(tensor_data(&one, dt), tensor_data(&two, dt), n) == 0,
                          "streamed product %d: 2 threads differ from 1", (int)prod);
                cr_assert(!run_phase_with_threshold(&g, prod, dt, &a, &b, &kept, 2, 4 * bytes),
                          "product %d streamed above its activations", (int)prod);
                cr_assert(memcmp(tensor_data(&one, dt), tensor_data(&kept, dt), n) == 0,
                          "product %d: in place differs from streamed", (int)prod);
            }
            tensor_free(&a), tensor_free(&b), tensor_free(&aa), tensor_free(&ab);
            tensor_free(&ref), tensor_free(&bound), tensor_free(&one), tensor_free(&two);
            tensor_free(&kept);
        }
    }
}
