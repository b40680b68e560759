/*
 * libFuzzer harness for every public entry point.
 *
 * The input bytes choose a geometry (any int64 for every field, absurd, negative and
 * overflowing values included; conv, transposed, output_size form, or a valid geometry
 * edited by hand afterwards), an entry point, an algorithm (any id, valid or not, so that
 * algorithms added later are fuzzed without touching this file), a dtype, options
 * (thread count, caller workspace exact / short / misaligned, an allocator that fails on
 * the n-th call, byte limits, the GEMM provider (any id), the layout: channels-last runs
 * get the harness's own channels-last copies of the tensors) and tiny tensors; a layer
 * call goes through the one-shot entry point or a plan made for it. A caller workspace
 * serves a call when it holds what the query says one thread needs (the call then runs on
 * as many threads as it serves). Every call must end in one of two ways:
 *   - a status other than TCONV_OK, with its message, and every output byte as it was
 *     (outputs are filled with a sentinel before the call);
 *   - TCONV_OK, with every output within the dot-product error bound of tests/common.c
 *     (2·L·eps·(|C|·|x|)) of a float64 reference computed here, from the index relation
 *     i = o·s - p + k·d alone. The float64 `gather` algorithm, the test suites' oracle, is
 *     one of the algorithms fuzzed, so it is checked against this independent loop too.
 * Anything else aborts with a message; libFuzzer keeps the input.
 *
 * Geometries whose tensors are too large to allocate are refused by the harness before it
 * allocates (MAX_ELEMS, MAX_MACS): for those only the calls that need no tensor run
 * (geometry checks, workspace queries, formatting).
 *
 * OpenMP. clang compiles the library's parallel regions against LLVM's libomp, while
 * Debian's OpenBLAS (OpenMP build) was linked against GCC's libgomp. libomp exports the
 * GOMP_* and omp_* entry points under libgomp's symbol versions and is loaded first, so it
 * serves OpenBLAS's calls as well: one runtime in the process, and the thread count the
 * library sets for BLAS inside its regions reaches BLAS. LLVMFuzzerInitialize checks this
 * (tests/openmp_runtime.c). The fuzzed calls thus run the real parallel regions (one
 * column buffer per thread, tiles shared by a team) with up to MAX_RUN_THREADS threads,
 * under ASan; a build without OpenMP would have left the per-thread split of the
 * workspace unfuzzed.
 */
#include "openmp_runtime.h"

#include <tconv/tconv.h>

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ELEMS 2048                /* per tensor */
#define MAX_MACS ((int64_t)1 << 17)   /* multiply-adds of one reference product */
#define HOOK_LIMIT ((size_t)16 << 20) /* bytes the harness's allocator grants */
#define MAX_RUN_THREADS 8             /* thread counts actually run (larger: refusal only) */
#define SENTINEL 0xA5

#define REQUIRE(cond, ...)                                                                     \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_layers: %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* ---- reading the input -------------------------------------------------------------------- */

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t take(input *in)
{
    if (!in->n)
        return 0;
    --in->n;
    return *in->p++;
}

static uint64_t take64(input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = v << 8 | take(in);
    return v;
}

/* Values at the edges of int64 arithmetic: products of two or three of them overflow. */
static const int64_t specials[16] = {
    0, -1, INT64_MIN, INT64_MAX, INT64_MAX / 2, (int64_t)1 << 31, ((int64_t)1 << 31) - 1,
    (int64_t)1 << 32, (int64_t)1 << 62, 3037000500 /* ~ 2^31.5 */, 2097152 /* 2^21 */,
    -((int64_t)1 << 62), INT32_MAX, 65536, 1000003, -2};

/* A size-like value: usually one that makes a small tensor, sometimes anything. */
static int64_t take_value(input *in)
{
    const uint8_t t = take(in);
    if (t < 128)
        return 1 + t % 4;
    if (t < 160)
        return (int64_t)(t % 8) - 1;
    if (t < 192)
        return specials[t % 16];
    if (t < 224)
        return 5 + t % 27;
    return (int64_t)take64(in);
}

/* v + d with wrap-around: the harness shifts ranges without undefined behaviour. */
static int64_t shift(int64_t v, int64_t d)
{
    return (int64_t)((uint64_t)v + (uint64_t)d);
}

/* ---- the harness's allocator: counts, fails on the n-th call, refuses big blocks ------------ */

typedef struct hook {
    int calls, fail_at; /* fail_at 0: never */
    bool failed;
    int64_t live;
} hook;

static void *hook_alloc(void *ctx, size_t bytes)
{
    hook *h = ctx;
    ++h->calls;
    if (h->calls == h->fail_at || bytes > HOOK_LIMIT) {
        h->failed = true;
        return NULL;
    }
    void *p = malloc(bytes);
    REQUIRE(p, "harness out of memory (%zu bytes)", bytes);
    ++h->live;
    return p;
}

static void hook_free(void *ctx, void *p)
{
    hook *h = ctx;
    REQUIRE(p, "the library freed NULL through the hook");
    --h->live;
    free(p);
}

/* ---- sizes, checked ------------------------------------------------------------------------ */

typedef __int128 wide;

/* The three-axis view of a geometry the reference loops use (leading unit axes). */
typedef struct view {
    int64_t batch, groups, cx, cy, cxg, cyg;
    int64_t X[3], Y[3], K[3], S[3], P[3], D[3];
    int64_t xn, yn, kn; /* spatial counts */
} view;

/* Spatial counts (xn, yn, kn) are left to the caller, once it knows they are small. */
static void view_of(const tconv_geometry *g, view *v)
{
    v->batch = g->batch;
    v->groups = g->groups;
    v->cx = g->x_channels;
    v->cy = g->y_channels;
    v->cxg = g->x_channels / g->groups;
    v->cyg = g->y_channels / g->groups;
    v->xn = v->yn = v->kn = 1;
    for (int a = 0; a < 3; ++a) {
        const int u = a - (3 - g->dims);
        v->X[a] = u < 0 ? 1 : g->x_size[u];
        v->Y[a] = u < 0 ? 1 : g->y_size[u];
        v->K[a] = u < 0 ? 1 : g->kernel[u];
        v->S[a] = u < 0 ? 1 : g->stride[u];
        v->P[a] = u < 0 ? 0 : g->padding[u];
        v->D[a] = u < 0 ? 1 : g->dilation[u];
    }
}

/* Element counts in 128 bits, so that the harness never overflows deciding what to run. */
static wide numel_wide(const tconv_geometry *g, tconv_tensor t)
{
    wide n;
    const int64_t *sizes;
    switch (t) {
    case TCONV_TENSOR_X:
        n = (wide)g->batch * g->x_channels, sizes = g->x_size;
        break;
    case TCONV_TENSOR_Y:
        n = (wide)g->batch * g->y_channels, sizes = g->y_size;
        break;
    default:
        n = (wide)g->y_channels * (g->x_channels / g->groups), sizes = g->kernel;
    }
    for (int a = 0; a < g->dims; ++a) {
        if (n == 0)
            return 0;
        n *= sizes[a];
        if (n > ((wide)1 << 80) || n < 0)
            return (wide)1 << 80;
    }
    return n;
}

/* ---- the float64 reference: every connection o <- (k) -> i, walked once ------------------- */

typedef enum which { APPLY, APPLY_T, WGRAD } which;

/*
 * apply:   out = y,  y[n][co][o]  += w[co][ci][k] · x[n][g·cxg+ci][i]
 * apply_t: out = x,  x[n][cx][i]  += w[co][ci][k] · y[n][co][o]
 * wgrad:   out = dw, dw[co][ci][k] += y[n][co][o] · x[n][g·cxg+ci][i]
 * with i = o·s - p + k·d on every axis, inside [0, X). `mag` takes absolute values, which
 * gives |C|·|x|, the bound of the error analysis.
 */
static void reference(const view *v, which p, const double *a, const double *b, double *out,
                      int64_t out_n, bool mag)
{
    memset(out, 0, (size_t)out_n * sizeof(double));
    for (int64_t n = 0; n < v->batch; ++n)
    for (int64_t co = 0; co < v->cy; ++co) {
        const int64_t grp = co / v->cyg;
        for (int64_t o0 = 0; o0 < v->Y[0]; ++o0)
        for (int64_t o1 = 0; o1 < v->Y[1]; ++o1)
        for (int64_t o2 = 0; o2 < v->Y[2]; ++o2)
        for (int64_t k0 = 0; k0 < v->K[0]; ++k0)
        for (int64_t k1 = 0; k1 < v->K[1]; ++k1)
        for (int64_t k2 = 0; k2 < v->K[2]; ++k2) {
            const int64_t o[3] = {o0, o1, o2}, k[3] = {k0, k1, k2};
            int64_t i[3];
            bool inside = true;
            for (int ax = 0; ax < 3; ++ax) {
                const wide ii = (wide)o[ax] * v->S[ax] - v->P[ax] + (wide)k[ax] * v->D[ax];
                inside = inside && ii >= 0 && ii < v->X[ax];
                i[ax] = inside ? (int64_t)ii : 0;
            }
            if (!inside)
                continue;
            const int64_t yo = ((n * v->cy + co) * v->Y[0] + o0) * v->Y[1] * v->Y[2] +
                               o1 * v->Y[2] + o2;
            const int64_t sp = (i[0] * v->X[1] + i[1]) * v->X[2] + i[2];
            const int64_t kk = (k0 * v->K[1] + k1) * v->K[2] + k2;
            for (int64_t ci = 0; ci < v->cxg; ++ci) {
                const int64_t xi = (n * v->cx + grp * v->cxg + ci) * v->xn + sp;
                const int64_t wi = (co * v->cxg + ci) * v->kn + kk;
                double t;
                switch (p) {
                case APPLY: /* a = x, b = w */
                    t = a[xi] * b[wi];
                    out[yo] += mag ? fabs(t) : t;
                    break;
                case APPLY_T: /* a = y, b = w */
                    t = a[yo] * b[wi];
                    out[xi] += mag ? fabs(t) : t;
                    break;
                case WGRAD: /* a = y, b = x */
                    t = a[yo] * b[xi];
                    out[wi] += mag ? fabs(t) : t;
                    break;
                }
            }
        }
    }
}

/* ---- tensors ------------------------------------------------------------------------------ */

/* One tensor in both precisions (values exact in float32), or an output buffer. */
typedef struct buf {
    int64_t n;
    double *d;
    float *f;
} buf;

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static buf buf_new(int64_t n, uint64_t *seed)
{
    buf t = {n, malloc((size_t)n * sizeof(double) + 1), malloc((size_t)n * sizeof(float) + 1)};
    REQUIRE(t.d && t.f, "harness out of memory");
    for (int64_t i = 0; i < n; ++i) {
        t.d[i] = seed ? (double)(int64_t)(mix(seed) >> 40) / (double)(1 << 23) - 1.0 : 0.0;
        t.f[i] = (float)t.d[i];
    }
    return t;
}

static void buf_free(buf *t)
{
    free(t->d);
    free(t->f);
}

static void *buf_data(const buf *t, tconv_dtype dt)
{
    return dt == TCONV_F64 ? (void *)t->d : (void *)t->f;
}

static size_t buf_bytes(const buf *t, tconv_dtype dt)
{
    return (size_t)t->n * (dt == TCONV_F64 ? sizeof(double) : sizeof(float));
}

/* The tensor moved channels-last ((N, C, S) -> (N, S, C), or back), both precisions. */
static void move_channels(const buf *src, int64_t batch, int64_t channels, bool back, buf *dst)
{
    const int64_t count = batch && channels ? src->n / batch / channels : 0;
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t c = 0; c < channels; ++c)
            for (int64_t i = 0; i < count; ++i) {
                const int64_t first = (n * channels + c) * count + i;
                const int64_t last = (n * count + i) * channels + c;
                dst->d[back ? first : last] = src->d[back ? last : first];
                dst->f[back ? first : last] = src->f[back ? last : first];
            }
}

static void fill_sentinel(buf *t)
{
    memset(t->d, SENTINEL, (size_t)t->n * sizeof(double));
    memset(t->f, SENTINEL, (size_t)t->n * sizeof(float));
}

static bool is_sentinel(const void *p, size_t bytes)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < bytes; ++i)
        if (c[i] != SENTINEL)
            return false;
    return true;
}

/* got (the library's, in its dtype) against ref within 2·L·eps·bound. */
static void expect_close(const buf *got, tconv_dtype dt, const double *ref, const double *bound,
                         int64_t L, const char *what, const char *geometry)
{
    const double eps = dt == TCONV_F64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
    for (int64_t i = 0; i < got->n; ++i) {
        const double v = dt == TCONV_F64 ? got->d[i] : (double)got->f[i];
        const double tol = 2 * (double)L * eps * bound[i] + 1e-300;
        REQUIRE(fabs(v - ref[i]) <= tol, "%s[%lld] = %.17g, reference %.17g (bound %.3g) [%s]",
                what, (long long)i, v, ref[i], tol, geometry);
    }
}

/* ---- one case ----------------------------------------------------------------------------- */

typedef enum entry {
    CONV_FORWARD,
    CONV_BACKWARD,
    CONVT_FORWARD,
    CONVT_BACKWARD,
    PRODUCT_APPLY,
    PRODUCT_APPLY_T,
    PRODUCT_WGRAD,
    ENTRY_COUNT
} entry;

static void check_refusal(tconv_status s, const tconv_error *err, const char *what)
{
    REQUIRE(s > TCONV_OK && s < TCONV_STATUS_COUNT, "%s: status %d is not a status", what,
            (int)s);
    REQUIRE(strcmp(tconv_status_name(s), "?") != 0 &&
                strcmp(tconv_status_str(s), "unknown status") != 0,
            "%s: status %d has no name", what, (int)s);
    REQUIRE(err->status == s, "%s: error record holds %d, call returned %d", what,
            (int)err->status, (int)s);
    REQUIRE(memchr(err->message, '\0', sizeof err->message) && err->message[0] != '\0',
            "%s: %s without a message", what, tconv_status_name(s));
}

/* Draws and makes the geometry. false: refused (and checked); nothing more to run. */
static bool make_geometry(input *in, tconv_geometry *g)
{
    const uint8_t form = take(in);
    const uint8_t dims_byte = take(in);
    const int dims = dims_byte < 240 ? 1 + dims_byte % 3 : (int)dims_byte - 244;
    const int64_t batch = shift(take_value(in), -1), cin = take_value(in), cout = take_value(in);
    const int64_t groups = take(in) < 200 ? 1 : take_value(in);
    int64_t size[3], out[3], k[3], s[3], p[3], op[3], d[3];
    for (int a = 0; a < 3; ++a) {
        size[a] = take_value(in);
        k[a] = take_value(in);
        s[a] = take_value(in);
        p[a] = shift(take_value(in), -1);
        op[a] = shift(take_value(in), -1);
        d[a] = take_value(in);
        out[a] = shift(take_value(in), 2);
    }
    /* NULL for an optional array means PyTorch's defaults */
    const uint8_t nulls = take(in);
    const int64_t *ps = nulls & 1 ? NULL : s, *pp = nulls & 2 ? NULL : p;
    const int64_t *pd = nulls & 4 ? NULL : d, *pop = nulls & 8 ? NULL : op;

    tconv_geometry before;
    memset(g, SENTINEL, sizeof *g);
    memcpy(&before, g, sizeof before);
    tconv_error err;
    memset(&err, 0, sizeof err);
    tconv_status st;
    switch (form % 4) {
    case 0:
        st = tconv_geometry_init_conv(g, dims, batch, cin, cout, groups, size, k, ps, pp, pd,
                                      &err);
        break;
    case 1:
        st = tconv_geometry_init_transposed(g, dims, batch, cin, cout, groups, size, k, ps, pp,
                                            pop, pd, &err);
        break;
    default:
        st = tconv_geometry_init_transposed_output_size(g, dims, batch, cin, cout, groups, size,
                                                        out, k, ps, pp, pd, &err);
    }
    if (st != TCONV_OK) {
        check_refusal(st, &err, "geometry init");
        REQUIRE(memcmp(g, &before, sizeof before) == 0, "a refused init wrote the geometry");
        REQUIRE(tconv_geometry_check(g, NULL) != TCONV_OK, "sentinel geometry accepted");
        return false;
    }
    REQUIRE(tconv_geometry_check(g, &err) == TCONV_OK, "a made geometry fails its check: %s",
            err.message);
    if (form % 4 == 3) { /* edit one field by hand: the entry points must notice or agree */
        const uint8_t field = take(in);
        const int a = take(in) % 3;
        const int64_t v = take_value(in);
        int64_t *arrays[7] = {g->x_size, g->y_size, g->kernel, g->stride, g->padding,
                              g->output_padding, g->dilation};
        switch (field % 12) {
        case 7:
            g->batch = v;
            break;
        case 8:
            g->groups = v;
            break;
        case 9:
            g->x_channels = v;
            break;
        case 10:
            g->y_channels = v;
            break;
        case 11:
            g->dims = (int)v;
            break;
        default:
            arrays[field % 12 % 7][a] = v;
        }
        if (tconv_geometry_check(g, &err) != TCONV_OK) {
            check_refusal(err.status, &err, "geometry check");
            return true; /* entry points must refuse it as well */
        }
    }
    return true;
}

/* Channel sums of t[n][c][count]: the bias gradient (mag: of |t|). */
static void channel_sums(const double *t, int64_t batch, int64_t channels, int64_t count,
                         double *sums, bool mag)
{
    for (int64_t c = 0; c < channels; ++c) {
        sums[c] = 0;
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t i = 0; i < count; ++i) {
                const double x = t[(n * channels + c) * count + i];
                sums[c] += mag ? fabs(x) : x;
            }
    }
}

static int64_t at_least_1(int64_t n)
{
    return n > 0 ? n : 1;
}

/* One output of a successful call against the reference; an output not asked for must
 * keep its sentinel. */
static void check_output(const buf *got, tconv_dtype dt, bool asked, const view *v, which p,
                         const double *a, const double *b, const double *bias, int64_t bias_c,
                         int64_t bias_count, int64_t L, const char *what, const char *text)
{
    if (!asked) {
        REQUIRE(is_sentinel(buf_data(got, dt), buf_bytes(got, dt)), "%s written, not asked [%s]",
                what, text);
        return;
    }
    double *ref = malloc((size_t)got->n * sizeof(double) + 1);
    double *bound = malloc((size_t)got->n * sizeof(double) + 1);
    REQUIRE(ref && bound, "harness out of memory");
    reference(v, p, a, b, ref, got->n, false);
    reference(v, p, a, b, bound, got->n, true);
    if (bias)
        for (int64_t i = 0; i < got->n; ++i) {
            ref[i] += bias[(i / bias_count) % bias_c];
            bound[i] += fabs(bias[(i / bias_count) % bias_c]);
        }
    expect_close(got, dt, ref, bound, at_least_1(L) + (bias != NULL), what, text);
    free(ref);
    free(bound);
}

static void check_results(const tconv_geometry *g, const view *v, entry e, tconv_product prod,
                          tconv_dtype dt, const buf *in, const buf *w, const buf *gout,
                          const buf *x, const buf *bias, const buf *o1, const buf *o2,
                          const buf *o3, bool gin, bool gw, bool gb, const char *text)
{
    const int64_t L_apply = v->cxg * v->kn, L_apply_t = v->cyg * v->kn;
    const int64_t L_wgrad = v->batch * v->yn;
    const double *bd = bias ? bias->d : NULL;
    switch (e) {
    case CONV_FORWARD:
        check_output(o1, dt, true, v, APPLY, in->d, w->d, bd, g->y_channels, v->yn, L_apply,
                     "conv forward", text);
        break;
    case CONVT_FORWARD:
        check_output(o1, dt, true, v, APPLY_T, in->d, w->d, bd, g->x_channels, v->xn, L_apply_t,
                     "convt forward", text);
        break;
    case CONV_BACKWARD:
    case CONVT_BACKWARD: {
        const bool conv = e == CONV_BACKWARD;
        check_output(o1, dt, gin, v, conv ? APPLY_T : APPLY, gout->d, w->d, NULL, 0, 1,
                     conv ? L_apply_t : L_apply, "grad_input", text);
        /* wgrad(a = the Y-side tensor, b = the X-side tensor) */
        check_output(o2, dt, gw, v, WGRAD, conv ? gout->d : in->d, conv ? in->d : gout->d, NULL,
                     0, 1, L_wgrad, "grad_weight", text);
        const int64_t c = conv ? g->y_channels : g->x_channels, count = conv ? v->yn : v->xn;
        if (!gb) {
            REQUIRE(is_sentinel(buf_data(o3, dt), buf_bytes(o3, dt)), "grad_bias written [%s]",
                    text);
            break;
        }
        double ref[MAX_ELEMS], bound[MAX_ELEMS];
        channel_sums(gout->d, v->batch, c, count, ref, false);
        channel_sums(gout->d, v->batch, c, count, bound, true);
        expect_close(o3, dt, ref, bound, at_least_1(v->batch * count), "grad_bias", text);
        break;
    }
    default: {
        const which p = prod == TCONV_APPLY ? APPLY : prod == TCONV_APPLY_T ? APPLY_T : WGRAD;
        const int64_t L = p == APPLY ? L_apply : p == APPLY_T ? L_apply_t : L_wgrad;
        check_output(o1, dt, true, v, p, in->d, p == WGRAD ? x->d : w->d, NULL, 0, 1, L,
                     "product", text);
    }
    }
}

static void fuzz_one(input *in)
{
    tconv_geometry g;
    if (!make_geometry(in, &g))
        return;
    const bool valid = tconv_geometry_check(&g, NULL) == TCONV_OK;

    char text[480];
    const size_t text_size = take(in) % sizeof text;
    memset(text, SENTINEL, sizeof text);
    const size_t len = tconv_geometry_format(&g, text, text_size);
    REQUIRE(text_size == 0 || (len < text_size && text[len] == '\0'), "format overran");
    tconv_geometry_format(&g, text, sizeof text);

    const entry e = (entry)(take(in) % ENTRY_COUNT);
    const uint8_t algo_byte = take(in);
    const tconv_algo algo = algo_byte < 250 ? (tconv_algo)(algo_byte % (TCONV_ALGO_COUNT + 4) - 2)
                                            : (tconv_algo)(int)take64(in);
    const char *algo_name = tconv_algo_name(algo);
    REQUIRE(algo_name != NULL, "tconv_algo_name returned NULL");
    if (strcmp(algo_name, "?") != 0) { /* a known algorithm round-trips through its name */
        tconv_algo back = (tconv_algo)-7;
        REQUIRE(tconv_algo_from_name(algo_name, &back) == TCONV_OK && back == algo,
                "algorithm %d does not round-trip through \"%s\"", (int)algo, algo_name);
    }
    const uint8_t dt_byte = take(in);
    const tconv_dtype dt =
        dt_byte < 252 ? (tconv_dtype)(dt_byte & 1) : (tconv_dtype)(dt_byte - 250);
    const uint8_t mask = take(in); /* grads wanted, bias, a NULL input */
    const uint8_t opt_mode = take(in);
    const uint8_t thr = take(in);
    int threads = thr < 240 ? thr % 5 : thr < 248 ? thr % 9 : (int)take64(in);
    if (thr >= 248 && threads >= 0 && threads <= MAX_RUN_THREADS)
        threads = -threads - 1; /* the raw draw is only for rejection */
    hook h = {0, take(in) % 4, false, 0};
    tconv_options opt;
    memset(&opt, 0, sizeof opt);
    opt.num_threads = threads;
    const uint8_t limits = take(in);
    opt.workspace_limit = limits & 1 ? (size_t)take_value(in) : 0;
    opt.dense_limit = limits & 2 ? (size_t)take_value(in) : 0;
    opt.alloc = hook_alloc; /* dropped below when the C library's malloc is safe to use */
    opt.free = hook_free;
    opt.alloc_ctx = &h;
    const uint8_t ws_mode = take(in), ws_shift = take(in) % 64;
    uint64_t seed = take64(in);
    /* read last, so that inputs from before these options mean what they meant: bit 0
     * channels-last, bits 1-3 the provider (ids past the last one too), bit 4 a plan */
    const uint8_t extra = take(in);
    const bool last = (extra & 1) && opt_mode % 4 >= 2, via_plan = extra & 16; /* options given */
    opt.layout = last ? TCONV_LAYOUT_CHANNELS_LAST : TCONV_LAYOUT_CHANNELS_FIRST;
    opt.provider = (tconv_provider)(extra >> 1 & 7);
    {   /* the call, for the messages */
        const size_t at = strlen(text);
        snprintf(text + at, sizeof text - at, "; entry %d, %s %s, %s, provider %d%s, %d threads, mode %d", (int)e,
                 tconv_algo_name(algo), dt == TCONV_F64 ? "f64" : "f32",
                 last ? "channels-last" : "channels-first", (int)opt.provider,
                 via_plan ? ", plan" : "", threads, opt_mode % 4);
        /* the workspace, once it is known (below) */
    }
    const char *prov_name = tconv_provider_name(opt.provider);
    if (strcmp(prov_name, "?") != 0) {
        tconv_provider back = (tconv_provider)-1;
        REQUIRE(tconv_provider_from_name(prov_name, &back) == TCONV_OK && back == opt.provider,
                "provider %d does not round-trip through \"%s\"", (int)opt.provider,
                prov_name);
    }

    /* 0: plain entry point, 1: _ex without options, 2: options, 3: options + workspace */
    const int mode = opt_mode % 4;
    const tconv_options *popt = mode >= 2 ? &opt : NULL;
    const bool layer = e <= CONVT_BACKWARD;
    const tconv_product prod = layer ? TCONV_APPLY : (tconv_product)(e - PRODUCT_APPLY);

    /* the workspace query, with the options the call will use */
    size_t need = 0;
    tconv_error qerr;
    memset(&qerr, 0, sizeof qerr);
    const tconv_op op = (tconv_op)e;
    tconv_status qs = layer ? tconv_workspace_size(&g, op, algo, dt, popt, &need, &qerr)
                            : tconv_product_workspace_size(&g, prod, algo, dt, popt, &need,
                                                           &qerr);
    /* what one thread needs: the least workspace a call accepts */
    size_t need1 = need;
    if (qs == TCONV_OK && popt) {
        tconv_options one = opt;
        one.num_threads = 1;
        const tconv_status s1 =
            layer ? tconv_workspace_size(&g, op, algo, dt, &one, &need1, NULL)
                  : tconv_product_workspace_size(&g, prod, algo, dt, &one, &need1, NULL);
        REQUIRE(s1 == TCONV_OK && need1 <= need, "one thread needs %zu bytes (%s), %d need %zu",
                need1, tconv_status_name(s1), threads, need);
    }
    if (qs != TCONV_OK)
        check_refusal(qs, &qerr, "workspace query");
    if (valid && popt && (threads < 0 || threads > TCONV_MAX_THREADS))
        REQUIRE(qs == TCONV_EINVAL, "options.num_threads = %d accepted (%s) [%s]", threads,
                tconv_status_name(qs), text);
    /* Without the harness's allocator the library calls malloc, which must be known small.
     * A backward call computing fewer than all three gradients needs at most what the
     * query reports, but when the query refuses, its need is unknown (gather, say, asks
     * 32 GB for grad_weight alone with dilation 2^31 while another gradient overflows):
     * such calls run only with the harness's allocator. */
    const bool backward_call = e == CONV_BACKWARD || e == CONVT_BACKWARD;
    const bool need_known = qs == TCONV_OK || !backward_call || (mask & 7) == 7;
    if (mode < 2 && (!need_known || need > HOOK_LIMIT))
        return;
    if (qs == TCONV_OK && need <= HOOK_LIMIT && (limits & 4)) {
        opt.alloc = NULL;
        opt.free = NULL;
    }
    if (opt_mode >= 0xF0) { /* now and then, an operation or product that does not exist */
        REQUIRE(tconv_workspace_size(&g, (tconv_op)(4 + opt_mode % 7), algo, dt, popt, &need,
                                     NULL) != TCONV_OK, "unknown operation accepted");
        REQUIRE(tconv_product_workspace_size(&g, (tconv_product)(3 + opt_mode % 5), algo, dt,
                                             popt, &need, NULL) != TCONV_OK,
                "unknown product accepted");
        return;
    }

    /* Tensors: refuse what is too large to allocate or to check, before allocating. */
    if (!valid) {
        /* the entry point must refuse before looking at any tensor: give it none */
        tconv_error err;
        memset(&err, 0, sizeof err);
        const tconv_status s = tconv_conv_forward_ex(&g, algo, dt, NULL, NULL, NULL, NULL, popt,
                                                     &err);
        REQUIRE(s != TCONV_OK, "an invalid geometry was accepted");
        check_refusal(s, &err, "invalid geometry");
        return;
    }
    const wide nx = numel_wide(&g, TCONV_TENSOR_X), ny = numel_wide(&g, TCONV_TENSOR_Y);
    const wide nw = numel_wide(&g, TCONV_TENSOR_WEIGHT);
    REQUIRE(tconv_tensor_numel(&g, TCONV_TENSOR_X) == (int64_t)nx &&
                tconv_tensor_numel(&g, TCONV_TENSOR_Y) == (int64_t)ny &&
                tconv_tensor_numel(&g, TCONV_TENSOR_WEIGHT) == (int64_t)nw &&
                tconv_tensor_numel(&g, TCONV_TENSOR_X_BIAS) == g.x_channels &&
                tconv_tensor_numel(&g, TCONV_TENSOR_Y_BIAS) == g.y_channels,
            "tensor_numel disagrees with the geometry [%s]", text);
    if (nx > MAX_ELEMS || ny > MAX_ELEMS || nw > MAX_ELEMS || g.x_channels > MAX_ELEMS ||
        g.y_channels > MAX_ELEMS || threads > MAX_RUN_THREADS)
        return;
    /* spatial counts are bounded now that every tensor is (batch 0 aside) */
    if (g.batch == 0) {
        wide xs = 1, ys = 1;
        for (int a = 0; a < g.dims; ++a)
            xs *= g.x_size[a], ys *= g.y_size[a];
        if (xs > MAX_ELEMS || ys > MAX_ELEMS)
            return;
    }
    view v;
    view_of(&g, &v);
    v.xn = v.X[0] * v.X[1] * v.X[2];
    v.yn = v.Y[0] * v.Y[1] * v.Y[2];
    v.kn = v.K[0] * v.K[1] * v.K[2];
    if (ny * v.cxg * v.kn > MAX_MACS) /* connections the reference walks */
        return;

    /* which tensors a call reads (a, b, bias) and writes (o1 = forward / grad_in,
     * o2 = grad_weight, o3 = grad_bias) */
    const bool conv = e == CONV_FORWARD || e == CONV_BACKWARD;
    const bool backward = e == CONV_BACKWARD || e == CONVT_BACKWARD;
    const int64_t in_n = (int64_t)(conv ? nx : ny), out_n = (int64_t)(conv ? ny : nx);
    const int64_t out_c = conv ? g.y_channels : g.x_channels;
    buf in_t = buf_new(layer ? in_n : (int64_t)(prod == TCONV_APPLY ? nx : ny), &seed);
    buf w_t = buf_new((int64_t)nw, &seed);
    buf gout = buf_new(out_n, &seed);      /* backward: grad of the layer's output */
    buf x_t = buf_new((int64_t)nx, &seed); /* wgrad product: b */
    buf bias = buf_new(out_c, &seed);
    int64_t o1_n = layer ? (backward ? in_n : out_n)
                         : (int64_t)(prod == TCONV_APPLY ? ny : prod == TCONV_APPLY_T ? nx : nw);
    buf o1 = buf_new(o1_n, NULL), o2 = buf_new((int64_t)nw, NULL), o3 = buf_new(out_c, NULL);
    fill_sentinel(&o1), fill_sentinel(&o2), fill_sentinel(&o3);
    /* copies of the inputs: a call must not change them */
    buf keep[5] = {buf_new(in_t.n, NULL), buf_new(w_t.n, NULL), buf_new(gout.n, NULL),
                   buf_new(x_t.n, NULL), buf_new(bias.n, NULL)};
    const buf *inputs[5] = {&in_t, &w_t, &gout, &x_t, &bias};
    for (int i = 0; i < 5; ++i) {
        memcpy(keep[i].d, inputs[i]->d, (size_t)inputs[i]->n * sizeof(double));
        memcpy(keep[i].f, inputs[i]->f, (size_t)inputs[i]->n * sizeof(float));
    }

    const bool want_gin = mask & 1, want_gw = mask & 2, want_gb = mask & 4;
    const bool use_bias = mask & 8;
    const int null_input = mask >> 4 & 7; /* 1..3: that input is passed as NULL */
    void *pin = null_input == 1 ? NULL : buf_data(&in_t, dt);
    void *pw = null_input == 2 ? NULL : buf_data(&w_t, dt);
    void *pgout = null_input == 3 ? NULL : buf_data(&gout, dt);
    void *px = null_input == 3 ? NULL : buf_data(&x_t, dt);
    void *pbias = use_bias ? buf_data(&bias, dt) : NULL;
    void *po1 = buf_data(&o1, dt), *po2 = buf_data(&o2, dt), *po3 = buf_data(&o3, dt);
    /* channels-last: the call gets channels-last copies of the activations, and writes its
     * activation output into one, moved back before the checks */
    const bool x_in = layer ? conv : prod == TCONV_APPLY; /* the tensor `in` is X */
    const bool o1_act = layer || prod != TCONV_WGRAD; /* not a weight gradient */
    const bool o1_x = layer ? conv == backward : prod == TCONV_APPLY_T;
    const int64_t in_c = x_in ? g.x_channels : g.y_channels;
    const int64_t o1_c = o1_x ? g.x_channels : g.y_channels;
    const int64_t gout_c = conv ? g.y_channels : g.x_channels;
    buf l_in = buf_new(last ? in_t.n : 0, NULL), l_gout = buf_new(last ? gout.n : 0, NULL);
    buf l_x = buf_new(last ? x_t.n : 0, NULL), l_o1 = buf_new(last ? o1.n : 0, NULL);
    if (last) {
        move_channels(&in_t, g.batch, in_c, false, &l_in);
        move_channels(&gout, g.batch, gout_c, false, &l_gout);
        move_channels(&x_t, g.batch, g.x_channels, false, &l_x);
        fill_sentinel(&l_o1);
        pin = pin ? buf_data(&l_in, dt) : NULL;
        pgout = pgout ? buf_data(&l_gout, dt) : NULL;
        px = px ? buf_data(&l_x, dt) : NULL;
        if (o1_act)
            po1 = buf_data(&l_o1, dt);
    }
    /* an empty tensor may be NULL */
    if (o1.n == 0 && (mask & 0x80))
        po1 = NULL;

    /* the caller's workspace: exact, one byte short, generous, or tiny; misaligned */
    unsigned char *ws_block = NULL;
    size_t ws_bytes = 0;
    if (mode == 3 && qs == TCONV_OK && need <= HOOK_LIMIT) {
        switch (ws_mode % 4) {
        case 0:
            ws_bytes = need;
            break;
        case 1:
            ws_bytes = need ? need - 1 : 0;
            break;
        case 2:
            ws_bytes = need + 64;
            break;
        default:
            ws_bytes = ws_mode % 97;
        }
        ws_block = malloc(ws_bytes + 64);
        REQUIRE(ws_block, "harness out of memory");
        const size_t at = strlen(text);
        snprintf(text + at, sizeof text - at, ", workspace %zu of %zu (one thread %zu) at +%d",
                 ws_bytes, need, need1, (int)ws_shift);
        opt.workspace = ws_block + ws_shift;
        opt.workspace_bytes = ws_bytes;
    }
    /* the plain entry points allocate with malloc: only when the query says it is small */
    const bool plain = mode == 0 && layer && qs == TCONV_OK && need <= HOOK_LIMIT;

    tconv_error err;
    memset(&err, 0, sizeof err);
    tconv_status s;
    void *gin = want_gin ? po1 : NULL, *gw = want_gw ? po2 : NULL, *gb = want_gb ? po3 : NULL;
    tconv_plan *plan = NULL;
    bool planned = false;
    if (via_plan && layer && popt) { /* the same call through a plan made for it */
        const unsigned grads = (want_gin ? TCONV_GRAD_INPUT : 0) |
                               (want_gw ? TCONV_GRAD_WEIGHT : 0) | (want_gb ? TCONV_GRAD_BIAS : 0);
        s = tconv_plan_create(&plan, &g, op, grads ? grads : TCONV_GRAD_ALL, algo, dt, popt,
                              &err);
        planned = true;
        if (s == TCONV_OK) {
            s = backward ? tconv_plan_backward(plan, pin, pw, pgout, gin, gw, gb, opt.workspace,
                                               opt.workspace_bytes, &err)
                         : tconv_plan_forward(plan, pin, pw, pbias, po1, opt.workspace,
                                              opt.workspace_bytes, &err);
            tconv_plan_destroy(plan);
        }
    }
    switch (planned ? ENTRY_COUNT : e) {
    case ENTRY_COUNT:
        break;
    case CONV_FORWARD:
        s = plain ? tconv_conv_forward(&g, algo, dt, pin, pw, pbias, po1)
                  : tconv_conv_forward_ex(&g, algo, dt, pin, pw, pbias, po1, popt, &err);
        break;
    case CONVT_FORWARD:
        s = plain ? tconv_convt_forward(&g, algo, dt, pin, pw, pbias, po1)
                  : tconv_convt_forward_ex(&g, algo, dt, pin, pw, pbias, po1, popt, &err);
        break;
    case CONV_BACKWARD:
        s = plain ? tconv_conv_backward(&g, algo, dt, pin, pw, pgout, gin, gw, gb)
                  : tconv_conv_backward_ex(&g, algo, dt, pin, pw, pgout, gin, gw, gb, popt,
                                           &err);
        break;
    case CONVT_BACKWARD:
        s = plain ? tconv_convt_backward(&g, algo, dt, pin, pw, pgout, gin, gw, gb)
                  : tconv_convt_backward_ex(&g, algo, dt, pin, pw, pgout, gin, gw, gb, popt,
                                            &err);
        break;
    default:
        s = tconv_product_run(&g, prod, algo, dt, pin, prod == TCONV_WGRAD ? px : NULL,
                              prod == TCONV_WGRAD ? NULL : pw, po1, popt, &err);
    }
    const bool no_op = backward && !gin && !gw && !gb;

    /* the allocator: everything given back, and a failure reported as such */
    REQUIRE(h.live == 0, "%lld workspace block(s) not freed [%s]", (long long)h.live, text);
    if (h.failed)
        REQUIRE(s == TCONV_ENOMEM, "the allocator failed but the call returned %s [%s]",
                tconv_status_name(s), text);
    for (int i = 0; i < 5; ++i)
        REQUIRE(memcmp(keep[i].d, inputs[i]->d, (size_t)inputs[i]->n * sizeof(double)) == 0 &&
                    memcmp(keep[i].f, inputs[i]->f, (size_t)inputs[i]->n * sizeof(float)) == 0,
                "input %d was modified [%s]", i, text);

    const bool all_inputs = null_input == 0 || null_input > 3;
    const bool full = !backward || (gin && gw && gb); /* the call needs what the query asked */
    if (last && o1_act) {
        REQUIRE(is_sentinel(l_o1.d, (size_t)l_o1.n * 8) || s == TCONV_OK,
                "refused with %s but wrote the channels-last output [%s]", tconv_status_name(s),
                text);
        if (s == TCONV_OK && po1) /* the result, channels-first, where the checks read it */
            move_channels(&l_o1, g.batch, o1_c, true, &o1);
    }
    if (s != TCONV_OK) {
        if (!plain)
            check_refusal(s, &err, "call");
        REQUIRE(is_sentinel(o1.d, (size_t)o1.n * 8) && is_sentinel(o1.f, (size_t)o1.n * 4) &&
                    is_sentinel(o2.d, (size_t)o2.n * 8) && is_sentinel(o2.f, (size_t)o2.n * 4) &&
                    is_sentinel(o3.d, (size_t)o3.n * 8) && is_sentinel(o3.f, (size_t)o3.n * 4),
                "refused with %s (%s) but wrote an output [%s]", tconv_status_name(s),
                err.message, text);
        /* refusals nothing excuses: the query said yes, every tensor is there, the
         * workspace suffices and the allocator did not fail */
        const bool ws_ok = !ws_block || ws_bytes >= need1;
        REQUIRE(!(qs == TCONV_OK && all_inputs && ws_ok && !h.failed && po1 && need <= HOOK_LIMIT),
                "spurious refusal %s (%s) after the query accepted [%s]", tconv_status_name(s),
                err.message, text);
        if (qs != TCONV_OK && full && all_inputs && po1 && !no_op)
            REQUIRE(s == qs, "the query said %s, the call %s [%s]", tconv_status_name(qs),
                    tconv_status_name(s), text);
    } else {
        REQUIRE(qs == TCONV_OK || !full, "the query said %s (%s), the call succeeded [%s]",
                tconv_status_name(qs), qerr.message, text);
        REQUIRE(!(ws_block && ws_bytes < need1 && full && need1 > 0),
                "a workspace of %zu bytes was accepted; one thread needs %zu [%s]", ws_bytes,
                need1, text);
        REQUIRE(!h.failed, "allocation failed, call succeeded");
        check_results(&g, &v, e, prod, dt, &in_t, &w_t, &gout, &x_t, pbias ? &bias : NULL,
                      &o1, &o2, &o3, gin != NULL, gw != NULL, gb != NULL, text);
    }

    free(ws_block);
    buf_free(&l_in), buf_free(&l_gout), buf_free(&l_x), buf_free(&l_o1);
    buf_free(&in_t), buf_free(&w_t), buf_free(&gout), buf_free(&x_t), buf_free(&bias);
    buf_free(&o1), buf_free(&o2), buf_free(&o3);
    for (int i = 0; i < 5; ++i)
        buf_free(&keep[i]);
}

/* Built with clang, the library's regions run on libomp; OpenBLAS was built against
 * libgomp. Fuzzing with two runtimes would test a configuration nobody ships. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char why[512];
    const char *split = openmp_runtime_split(why, sizeof why);
    REQUIRE(!split, "two OpenMP runtimes: %s", split);
    /* Let the runtime build its thread pool for every team size the harness runs, here,
     * once: libomp keeps its pool's bookkeeping where LeakSanitizer does not look, and a
     * pool grown during an input would be reported as that input's leak. */
    const int64_t one[1] = {1};
    tconv_geometry g;
    REQUIRE(tconv_geometry_init_conv(&g, 1, 64, 1, 1, 1, one, one, NULL, NULL, NULL, NULL) ==
                TCONV_OK, "warm-up geometry");
    float x[64] = {0}, w[1] = {1}, y[64];
    for (int t = MAX_RUN_THREADS; t >= 1; --t) {
        tconv_options opt;
        memset(&opt, 0, sizeof opt);
        opt.num_threads = t;
        REQUIRE(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F32, x, w, w, y, &opt, NULL) ==
                    TCONV_OK, "warm-up call");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    fuzz_one(&in);
    return 0;
}
