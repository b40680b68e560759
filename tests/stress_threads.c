/*
 * Thread safety: four application threads (pthreads) call the library at the same time,
 * each with its own geometries, algorithms, dtypes, entry points, OpenMP thread counts and
 * allocators, and all of them run the same plans too (a plan is made once and may run from
 * several threads at once, each run with its own workspace, sized for the thread count it
 * wants). Each checks every result it gets against references computed before the
 * threads started (run alone, one OpenMP thread; those references are first checked
 * against the float64 oracle within the dot-product bound of tests/common.h). Inputs are
 * shared by all threads, read-only, as an application shares a model's weights.
 *
 * A plain program rather than a Criterion suite: it is the workload of the
 * ThreadSanitizer build (`make tsan`), and Criterion's runner cannot start under TSan
 * (BoxFort maps its inheritable arena with MAP_FIXED at a random address, which TSan's
 * memory layout refuses most of the time: "Could not initialize inheritable arena").
 * ctest runs it in every build. Exit status 0: every call of every thread matched.
 *
 * In the TSan build the library's own code, OpenMP regions included, is instrumented and
 * libomp's Archer tool tells TSan about OpenMP's synchronisation. OpenBLAS and the OpenMP
 * runtime are not instrumented and are ignored (TSAN_OPTIONS
 * ignore_noninstrumented_modules=1): a race inside BLAS would not be seen here.
 */
#define _GNU_SOURCE /* pthread barriers, RTLD_NOLOAD */
#include <tconv/tconv.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#endif
#ifdef UNDER_TSAN
#include <dlfcn.h>
#endif

#define APP_THREADS 4
#define JOBS_PER_THREAD 6
#define ROUNDS 40

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stress_threads: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t bytes)
{
    void *p = calloc(bytes + 1, 1);
    if (!p)
        fail("out of memory");
    return p;
}

/* ---- inputs ----------------------------------------------------------------------------- */

/* One tensor in both precisions, values exact in float32. */
typedef struct tensor {
    int64_t n;
    double *d;
    float *f;
} tensor;

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static tensor tensor_new(int64_t n, uint64_t *seed)
{
    tensor t = {n, xmalloc((size_t)n * sizeof(double)), xmalloc((size_t)n * sizeof(float))};
    for (int64_t i = 0; seed && i < n; ++i) {
        t.d[i] = (double)(int64_t)(mix(seed) >> 40) / (double)(1 << 23) - 1.0;
        t.f[i] = (float)t.d[i];
    }
    return t;
}

static void tensor_free(tensor *t)
{
    free(t->d);
    free(t->f);
}

static void *data(const tensor *t, tconv_dtype dt)
{
    return dt == TCONV_F64 ? (void *)t->d : (void *)t->f;
}

static size_t bytes_of(const tensor *t, tconv_dtype dt)
{
    return (size_t)t->n * (dt == TCONV_F64 ? sizeof(double) : sizeof(float));
}

/* Geometries chosen by hand: both layers, 1-D to 3-D, groups, strides, dilation,
 * padding, several images (so the library's OpenMP regions split work). */
#define GEOMETRIES 8

static void make_geometry(int i, tconv_geometry *g)
{
    tconv_status s;
    switch (i) {
    case 0: {
        const int64_t in[2] = {9, 11}, k[2] = {3, 3}, st[2] = {2, 2}, p[2] = {1, 1};
        s = tconv_geometry_init_conv(g, 2, 3, 4, 6, 2, in, k, st, p, NULL, NULL);
        break;
    }
    case 1: {
        const int64_t in[2] = {5, 6}, k[2] = {4, 3}, st[2] = {2, 3}, p[2] = {1, 0};
        const int64_t op[2] = {1, 2};
        s = tconv_geometry_init_transposed(g, 2, 4, 6, 3, 3, in, k, st, p, op, NULL, NULL);
        break;
    }
    case 2: {
        const int64_t in = 40, k = 5, st = 3, p = 2, d = 2;
        s = tconv_geometry_init_conv(g, 1, 2, 3, 5, 1, &in, &k, &st, &p, &d, NULL);
        break;
    }
    case 3: {
        const int64_t in[3] = {4, 5, 3}, k[3] = {2, 3, 2}, st[3] = {2, 1, 2};
        s = tconv_geometry_init_transposed(g, 3, 2, 4, 4, 2, in, k, st, NULL, NULL, NULL,
                                           NULL);
        break;
    }
    case 4: {
        const int64_t in[2] = {12, 10}, k[2] = {3, 2}, d[2] = {2, 3};
        s = tconv_geometry_init_conv(g, 2, 1, 8, 4, 4, in, k, NULL, NULL, d, NULL);
        break;
    }
    case 5: {
        const int64_t in[2] = {6, 7}, out[2] = {12, 17}, k[2] = {3, 4}, st[2] = {2, 2};
        const int64_t p[2] = {1, 0};
        s = tconv_geometry_init_transposed_output_size(g, 2, 3, 5, 2, 1, in, out, k, st, p,
                                                       NULL, NULL);
        break;
    }
    case 6: {
        const int64_t in[3] = {6, 5, 7}, k[3] = {3, 2, 3}, p[3] = {1, 0, 1};
        s = tconv_geometry_init_conv(g, 3, 2, 2, 3, 1, in, k, NULL, p, NULL, NULL);
        break;
    }
    default: {
        const int64_t in = 17, k = 4, st = 4, p = 1;
        s = tconv_geometry_init_transposed(g, 1, 5, 6, 4, 2, &in, &k, &st, &p, NULL, NULL,
                                           NULL);
    }
    }
    if (s != TCONV_OK)
        fail("geometry %d refused: %s", i, tconv_status_name(s));
}

/* ---- jobs ------------------------------------------------------------------------------- */

typedef enum entry { CONV_FORWARD, CONV_BACKWARD, CONVT_FORWARD, CONVT_BACKWARD } entry;

typedef struct counting_alloc { /* one per application thread: no shared state */
    int64_t live;
} counting_alloc;

static void *count_alloc(void *ctx, size_t bytes)
{
    ++((counting_alloc *)ctx)->live;
    return malloc(bytes);
}

static void count_free(void *ctx, void *p)
{
    --((counting_alloc *)ctx)->live;
    free(p);
}

typedef struct job {
    const tconv_geometry *g;
    tconv_algo algo;
    tconv_dtype dt;
    entry e;
    int memory; /* 0: the library's malloc, 1: the caller's workspace, 2: a hook, 3: a plan
                 * made before the threads start, run by all of them */
    tconv_plan *plan;
    const tensor *in, *w, *bias, *gout; /* shared, read-only */
    tensor want[3]; /* forward: [0]; backward: grad_in, grad_weight, grad_bias */
} job;

static bool is_conv(entry e)
{
    return e == CONV_FORWARD || e == CONV_BACKWARD;
}

static bool is_backward(entry e)
{
    return e == CONV_BACKWARD || e == CONVT_BACKWARD;
}

static void output_sizes(const job *j, int64_t n[3])
{
    const int64_t nx = tconv_tensor_numel(j->g, TCONV_TENSOR_X);
    const int64_t ny = tconv_tensor_numel(j->g, TCONV_TENSOR_Y);
    const bool conv = is_conv(j->e);
    n[0] = is_backward(j->e) == conv ? nx : ny; /* conv fwd: y; conv bwd: grad x; ... */
    n[1] = is_backward(j->e) ? tconv_tensor_numel(j->g, TCONV_TENSOR_WEIGHT) : 0;
    n[2] = is_backward(j->e) ? (conv ? j->g->y_channels : j->g->x_channels) : 0;
}

static tconv_status run_job(const job *j, tensor out[3], int threads, counting_alloc *ca,
                            tconv_error *err)
{
    tconv_options opt = {0};
    opt.num_threads = threads;
    void *ws = NULL;
    if (j->memory == 3) { /* the shared plan, with a workspace for `threads` threads */
        size_t bytes = 0;
        tconv_plan_workspace_size(j->plan, threads, &bytes, err);
        ws = bytes ? xmalloc(bytes) : NULL;
        const tconv_dtype dt = j->dt;
        const tconv_status s =
            is_backward(j->e)
                ? tconv_plan_backward(j->plan, data(j->in, dt), data(j->w, dt),
                                      data(j->gout, dt), data(&out[0], dt), data(&out[1], dt),
                                      data(&out[2], dt), ws, bytes, err)
                : tconv_plan_forward(j->plan, data(j->in, dt), data(j->w, dt),
                                     data(j->bias, dt), data(&out[0], dt), ws, bytes, err);
        free(ws);
        return s;
    }
    if (j->memory == 1) {
        size_t bytes = 0;
        const tconv_status q =
            tconv_workspace_size(j->g, (tconv_op)j->e, j->algo, j->dt, &opt, &bytes, err);
        if (q != TCONV_OK)
            return q;
        opt.workspace = ws = xmalloc(bytes);
        opt.workspace_bytes = bytes;
    } else if (j->memory == 2) {
        opt.alloc = count_alloc;
        opt.free = count_free;
        opt.alloc_ctx = ca;
    }
    const tconv_dtype dt = j->dt;
    const void *in = data(j->in, dt), *w = data(j->w, dt), *b = data(j->bias, dt);
    const void *go = data(j->gout, dt);
    void *o0 = data(&out[0], dt), *o1 = data(&out[1], dt), *o2 = data(&out[2], dt);
    tconv_status s;
    switch (j->e) {
    case CONV_FORWARD:
        s = tconv_conv_forward_ex(j->g, j->algo, dt, in, w, b, o0, &opt, err);
        break;
    case CONVT_FORWARD:
        s = tconv_convt_forward_ex(j->g, j->algo, dt, in, w, b, o0, &opt, err);
        break;
    case CONV_BACKWARD:
        s = tconv_conv_backward_ex(j->g, j->algo, dt, in, w, go, o0, o1, o2, &opt, err);
        break;
    default:
        s = tconv_convt_backward_ex(j->g, j->algo, dt, in, w, go, o0, o1, o2, &opt, err);
    }
    free(ws);
    return s;
}

/* ---- references, checked against the float64 oracle ------------------------------------ */

static void oracle(const tconv_geometry *g, tconv_product p, const double *a, const double *b,
                   double *out)
{
    tconv_error err = {0};
    if (tconv_product_run(g, p, TCONV_ALGO_GATHER, TCONV_F64, a, p == TCONV_WGRAD ? b : NULL,
                          p == TCONV_WGRAD ? NULL : b, out, NULL, &err) != TCONV_OK)
        fail("oracle: %s", err.message);
}

static double *absolute(const tensor *t)
{
    double *a = xmalloc((size_t)t->n * sizeof(double));
    for (int64_t i = 0; i < t->n; ++i)
        a[i] = fabs(t->d[i]);
    return a;
}

/* |got - ref| <= 2·L·eps·bound elementwise: the dot-product bound of tests/common.h. */
static void expect_close(const tensor *got, tconv_dtype dt, const double *ref,
                         const double *bound, int64_t L, const char *what)
{
    const double eps = dt == TCONV_F64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
    for (int64_t i = 0; i < got->n; ++i) {
        const double v = dt == TCONV_F64 ? got->d[i] : (double)got->f[i];
        const double tol = 2 * (double)(L > 0 ? L : 1) * eps * bound[i] + 1e-300;
        if (!(fabs(v - ref[i]) <= tol))
            fail("reference %s[%lld] = %.17g, oracle %.17g", what, (long long)i, v, ref[i]);
    }
}

static int64_t kernel_count(const tconv_geometry *g)
{
    int64_t k = 1;
    for (int a = 0; a < g->dims; ++a)
        k *= g->kernel[a];
    return k;
}

static void check_reference(const job *j)
{
    const tconv_geometry *g = j->g;
    const bool conv = is_conv(j->e);
    const int64_t K = kernel_count(g), cxg = g->x_channels / g->groups;
    const int64_t cyg = g->y_channels / g->groups;
    const int64_t channels = conv ? g->y_channels : g->x_channels;
    const int64_t out_n = tconv_tensor_numel(g, conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X);
    const int64_t per = g->batch ? out_n / g->batch / channels : 0;
    double *ain = absolute(j->in), *aw = absolute(j->w), *ag = absolute(j->gout);
    const tensor *got = j->want;
    if (!is_backward(j->e)) {
        const tconv_product p = conv ? TCONV_APPLY : TCONV_APPLY_T;
        double *ref = xmalloc((size_t)out_n * 8), *bound = xmalloc((size_t)out_n * 8);
        oracle(g, p, j->in->d, j->w->d, ref);
        oracle(g, p, ain, aw, bound);
        for (int64_t i = 0; i < out_n; ++i) {
            ref[i] += j->bias->d[(i / per) % channels];
            bound[i] += fabs(j->bias->d[(i / per) % channels]);
        }
        expect_close(&got[0], j->dt, ref, bound, (conv ? cxg : cyg) * K + 1, "forward");
        free(ref), free(bound);
    } else {
        const tconv_product p = conv ? TCONV_APPLY_T : TCONV_APPLY;
        double *ref = xmalloc((size_t)got[0].n * 8), *bound = xmalloc((size_t)got[0].n * 8);
        oracle(g, p, j->gout->d, j->w->d, ref);
        oracle(g, p, ag, aw, bound);
        expect_close(&got[0], j->dt, ref, bound, (conv ? cyg : cxg) * K, "grad_input");
        free(ref), free(bound);
        ref = xmalloc((size_t)got[1].n * 8), bound = xmalloc((size_t)got[1].n * 8);
        oracle(g, TCONV_WGRAD, conv ? j->gout->d : j->in->d, conv ? j->in->d : j->gout->d, ref);
        oracle(g, TCONV_WGRAD, conv ? ag : ain, conv ? ain : ag, bound);
        const int64_t ny = tconv_tensor_numel(g, TCONV_TENSOR_Y);
        expect_close(&got[1], j->dt, ref, bound, ny / g->y_channels, "grad_weight");
        free(ref), free(bound);
        ref = xmalloc((size_t)channels * 8), bound = xmalloc((size_t)channels * 8);
        for (int64_t c = 0; c < channels; ++c)
            for (int64_t n = 0; n < g->batch; ++n)
                for (int64_t i = 0; i < per; ++i) {
                    const double v = j->gout->d[(n * channels + c) * per + i];
                    ref[c] += v;
                    bound[c] += fabs(v);
                }
        expect_close(&got[2], j->dt, ref, bound, g->batch * per + 1, "grad_bias");
        free(ref), free(bound);
    }
    free(ain), free(aw), free(ag);
}

/* ---- the application threads ------------------------------------------------------------ */

typedef struct worker {
    pthread_barrier_t *start;
    job *jobs[JOBS_PER_THREAD + APP_THREADS * JOBS_PER_THREAD];
    int count, calls;
    counting_alloc alloc;
    char failure[1024];
} worker;

static void *work(void *arg)
{
    worker *wk = arg;
    pthread_barrier_wait(wk->start);
    for (int round = 0; round < ROUNDS && !wk->failure[0]; ++round)
        for (int i = 0; i < wk->count && !wk->failure[0]; ++i) {
            const job *j = wk->jobs[i];
            int64_t n[3];
            output_sizes(j, n);
            tensor got[3];
            for (int k = 0; k < 3; ++k)
                got[k] = tensor_new(n[k], NULL);
            static const int counts[5] = {1, 2, 3, 4, 8}; /* the bits may not depend on it */
            const int threads = counts[(round + i) % 5];
            tconv_error err = {0};
            const tconv_status s = run_job(j, got, threads, &wk->alloc, &err);
            ++wk->calls;
            char where[320];
            tconv_geometry_format(j->g, where, sizeof where);
            if (s != TCONV_OK)
                snprintf(wk->failure, sizeof wk->failure, "%s entry %d: %s (%s) [%s]",
                         tconv_algo_name(j->algo), (int)j->e, tconv_status_name(s),
                         err.message, where);
            for (int k = 0; k < 3 && !wk->failure[0]; ++k)
                if (memcmp(data(&got[k], j->dt), data(&j->want[k], j->dt),
                           bytes_of(&got[k], j->dt)) != 0)
                    snprintf(wk->failure, sizeof wk->failure,
                             "%s %s entry %d output %d with %d threads differs from the result "
                             "computed alone [%s]",
                             tconv_algo_name(j->algo), j->dt == TCONV_F64 ? "f64" : "f32",
                             (int)j->e, k, threads, where);
            if (wk->alloc.live != 0)
                snprintf(wk->failure, sizeof wk->failure, "%lld block(s) not freed",
                         (long long)wk->alloc.live);
            for (int k = 0; k < 3; ++k)
                tensor_free(&got[k]);
        }
    return NULL;
}

int main(void)
{
#ifdef UNDER_TSAN
    /* Without Archer, TSan cannot see OpenMP's barriers and reports every region. */
    if (!dlopen("libarcher.so", RTLD_NOW | RTLD_NOLOAD))
        fail("ThreadSanitizer build without libomp's Archer tool loaded");
#endif
    /* every algorithm of this build: ids whose name is not "?", past TCONV_ALGO_COUNT */
    tconv_algo algos[64];
    int na = 0;
    for (int a = 0; a < TCONV_ALGO_COUNT + 16; ++a)
        if (strcmp(tconv_algo_name((tconv_algo)a), "?") != 0)
            algos[na++] = (tconv_algo)a;

    tconv_geometry geoms[GEOMETRIES];
    tensor x[GEOMETRIES], y[GEOMETRIES], w[GEOMETRIES], bx[GEOMETRIES], by[GEOMETRIES];
    uint64_t seed = 777;
    for (int i = 0; i < GEOMETRIES; ++i) {
        make_geometry(i, &geoms[i]);
        x[i] = tensor_new(tconv_tensor_numel(&geoms[i], TCONV_TENSOR_X), &seed);
        y[i] = tensor_new(tconv_tensor_numel(&geoms[i], TCONV_TENSOR_Y), &seed);
        w[i] = tensor_new(tconv_tensor_numel(&geoms[i], TCONV_TENSOR_WEIGHT), &seed);
        bx[i] = tensor_new(geoms[i].x_channels, &seed);
        by[i] = tensor_new(geoms[i].y_channels, &seed);
    }

    static job jobs[APP_THREADS * JOBS_PER_THREAD];
    worker workers[APP_THREADS];
    memset(workers, 0, sizeof workers);
    int made = 0, covered = 0;
    bool seen[64] = {false};
    for (int t = 0; t < APP_THREADS; ++t)
        for (int c = 0; c < JOBS_PER_THREAD; ++c) {
            job *j = &jobs[made];
            const int gi = (t * JOBS_PER_THREAD + c) % GEOMETRIES;
            j->g = &geoms[gi];
            j->algo = algos[(t + c * APP_THREADS) % na]; /* neighbours differ */
            j->dt = (t + c) % 2 ? TCONV_F32 : TCONV_F64;
            j->e = (entry)((t + 3 * c) % 4);
            j->memory = (t + c) % 4;
            if (j->memory == 3) {
                const tconv_options most = {.num_threads = 8};
                tconv_error err = {0};
                const tconv_status ps = tconv_plan_create(&j->plan, j->g, (tconv_op)j->e,
                                                          TCONV_GRAD_ALL, j->algo, j->dt,
                                                          &most, &err);
                if (ps == TCONV_EUNSUPPORTED || ps == TCONV_ETOOBIG)
                    continue;
                if (ps != TCONV_OK)
                    fail("plan: %s", err.message);
            }
            const bool conv = is_conv(j->e);
            j->in = conv ? &x[gi] : &y[gi];
            j->gout = conv ? &y[gi] : &x[gi];
            j->w = &w[gi];
            j->bias = conv ? &by[gi] : &bx[gi];
            int64_t n[3];
            output_sizes(j, n);
            for (int k = 0; k < 3; ++k)
                j->want[k] = tensor_new(n[k], NULL);
            counting_alloc ca = {0};
            tconv_error err = {0};
            const tconv_status s = run_job(j, j->want, 1, &ca, &err);
            if (s == TCONV_EUNSUPPORTED || s == TCONV_ETOOBIG) { /* this algorithm refuses */
                for (int k = 0; k < 3; ++k)
                    tensor_free(&j->want[k]);
                continue;
            }
            if (s != TCONV_OK)
                fail("%s: %s", tconv_algo_name(j->algo), err.message);
            check_reference(j);
            if (!seen[(int)j->algo]) {
                seen[(int)j->algo] = true;
                ++covered;
            }
            workers[t].jobs[workers[t].count++] = j;
            ++made;
        }

    /* every thread also runs every plan, its own and the others' */
    int planned = 0;
    for (int i = 0; i < made; ++i)
        if (jobs[i].memory == 3) {
            ++planned;
            for (int t = 0; t < APP_THREADS; ++t) {
                bool own = false;
                for (int k = 0; k < workers[t].count; ++k)
                    own = own || workers[t].jobs[k] == &jobs[i];
                if (!own)
                    workers[t].jobs[workers[t].count++] = &jobs[i];
            }
        }
    if (planned == 0)
        fail("no shared plan");
    int scheduled = 0;
    for (int t = 0; t < APP_THREADS; ++t)
        scheduled += workers[t].count;

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, APP_THREADS);
    pthread_t tid[APP_THREADS];
    for (int t = 0; t < APP_THREADS; ++t) {
        workers[t].start = &start;
        if (pthread_create(&tid[t], NULL, work, &workers[t]) != 0)
            fail("pthread_create");
    }
    for (int t = 0; t < APP_THREADS; ++t)
        pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start);

    int calls = 0;
    for (int t = 0; t < APP_THREADS; ++t) {
        if (workers[t].failure[0])
            fail("thread %d: %s", t, workers[t].failure);
        calls += workers[t].calls;
    }
    if (calls != scheduled * ROUNDS)
        fail("%d calls made, %d expected", calls, scheduled * ROUNDS);
    if (covered != na)
        fail("%d of %d algorithms ran", covered, na);
    printf("stress_threads: %d application threads, %d calls, %d algorithms, %d plans shared "
           "by all threads, all results match\n", APP_THREADS, calls, na, planned);

    for (int i = 0; i < made; ++i) {
        for (int k = 0; k < 3; ++k)
            tensor_free(&jobs[i].want[k]);
        tconv_plan_destroy(jobs[i].plan);
    }
    for (int i = 0; i < GEOMETRIES; ++i) {
        tensor_free(&x[i]), tensor_free(&y[i]), tensor_free(&w[i]);
        tensor_free(&bx[i]), tensor_free(&by[i]);
    }
    return 0;
}
