/*
 * Allocation failure, injected: every entry point, every algorithm, both dtypes, each
 * allocation the call makes failed in turn (n = 1, 2, ... until the call succeeds). Each
 * failing call must return TCONV_ENOMEM with a message, leave every output byte as it
 * was, and give back every block it got; the call that finally succeeds must give the
 * same bits as an undisturbed call.
 *
 * Two ways in, because the library has two allocators behind tconv__alloc:
 *   - options.alloc/free: a counting hook that fails on the n-th call. With the hook set,
 *     the library must not call malloc & co at all;
 *   - no options (the plain entry points and _ex with NULL): the C library's. This
 *     executable is linked with --wrap for malloc, calloc, realloc, free, aligned_alloc
 *     and posix_memalign, so every call to them from the objects linked in statically (the
 *     library's, and this file's) goes through the wrappers below, which count and fail
 *     the n-th while armed. Shared libraries (libc itself, Criterion, OpenBLAS, the
 *     OpenMP runtime) are not affected: their memory is not the library's.
 * Leaks: the wrappers and the hook count live blocks; the sanitizer build adds
 * LeakSanitizer and `make valgrind` runs this suite under memcheck.
 */
#include "common.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- the C library's allocator, wrapped ---------------------------------------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__real_aligned_alloc(size_t align, size_t size);
int __real_posix_memalign(void **p, size_t align, size_t size);

/* Armed only around one library call; OpenMP threads may run meanwhile: atomics. */
static atomic_int armed, calls, fail_at, live;

/* true: this allocation is to fail */
static bool count_one(void)
{
    if (!atomic_load(&armed))
        return false;
    return atomic_fetch_add(&calls, 1) + 1 == atomic_load(&fail_at);
}

static void *counted(void *p)
{
    if (p && atomic_load(&armed))
        atomic_fetch_add(&live, 1);
    return p;
}

void *__wrap_malloc(size_t size)
{
    return count_one() ? NULL : counted(__real_malloc(size));
}

void *__wrap_calloc(size_t count, size_t size)
{
    return count_one() ? NULL : counted(__real_calloc(count, size));
}

void *__wrap_realloc(void *p, size_t size)
{
    if (count_one())
        return NULL;
    void *q = __real_realloc(p, size);
    return p ? q : counted(q);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    return count_one() ? NULL : counted(__real_aligned_alloc(align, size));
}

int __wrap_posix_memalign(void **p, size_t align, size_t size)
{
    if (count_one())
        return 12; /* ENOMEM */
    const int r = __real_posix_memalign(p, align, size);
    if (r == 0)
        counted(*p);
    return r;
}

void __wrap_free(void *p)
{
    if (p && atomic_load(&armed))
        atomic_fetch_sub(&live, 1);
    __real_free(p);
}

/* ---- the hook -------------------------------------------------------------------------- */

typedef struct hook {
    int calls, fail_at, live;
} hook;

static void *hook_alloc(void *ctx, size_t bytes)
{
    hook *h = ctx;
    if (++h->calls == h->fail_at)
        return NULL;
    void *p = __real_malloc(bytes);
    cr_assert(p, "test out of memory");
    ++h->live;
    return p;
}

static void hook_free(void *ctx, void *p)
{
    hook *h = ctx;
    cr_assert(p, "the library freed NULL");
    --h->live;
    __real_free(p);
}

/* ---- one call of one entry point --------------------------------------------------------- */

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

static const char *const entry_names[ENTRY_COUNT] = {
    "conv_forward",  "conv_backward",       "convt_forward",      "convt_backward",
    "product apply", "product apply_t", "product wgrad"};

/* plain: the entry point without _ex (layers only); ex_null: _ex with NULL options;
 * hooked: _ex with the counting hook */
typedef enum way { PLAIN, EX_NULL, HOOKED, WAY_COUNT } way;
static const char *const way_names[WAY_COUNT] = {"plain", "_ex(NULL)", "_ex(hook)"};

/* Inputs (random) and outputs of every entry point for one geometry and dtype. */
typedef struct operands {
    tensor x, y, w, bx, by;  /* inputs */
    tensor o1, o2, o3;       /* outputs: forward / grad_input, grad_weight, grad_bias */
} operands;

static void operands_new(operands *op, const tconv_geometry *g, uint64_t seed)
{
    rng r = {seed};
    op->x = tensor_random(numel(g, TCONV_TENSOR_X), &r);
    op->y = tensor_random(numel(g, TCONV_TENSOR_Y), &r);
    op->w = tensor_random(numel(g, TCONV_TENSOR_WEIGHT), &r);
    op->bx = tensor_random(g->x_channels, &r);
    op->by = tensor_random(g->y_channels, &r);
    const int64_t most = op->x.n > op->y.n ? op->x.n : op->y.n;
    op->o1 = tensor_new(most > op->w.n ? most : op->w.n);
    op->o2 = tensor_new(op->w.n);
    op->o3 = tensor_new(g->x_channels > g->y_channels ? g->x_channels : g->y_channels);
}

static void operands_free(operands *op)
{
    tensor *all[8] = {&op->x, &op->y, &op->w, &op->bx, &op->by, &op->o1, &op->o2, &op->o3};
    for (int i = 0; i < 8; ++i)
        tensor_free(all[i]);
}

static void fill_outputs(operands *op)
{
    tensor *out[3] = {&op->o1, &op->o2, &op->o3};
    for (int i = 0; i < 3; ++i) {
        memset(out[i]->d, SENTINEL, (size_t)out[i]->n * sizeof(double));
        memset(out[i]->f, SENTINEL, (size_t)out[i]->n * sizeof(float));
    }
}

static bool outputs_untouched(const operands *op)
{
    const tensor *out[3] = {&op->o1, &op->o2, &op->o3};
    for (int i = 0; i < 3; ++i)
        if (!untouched(out[i]->d, (size_t)out[i]->n * sizeof(double)) ||
            !untouched(out[i]->f, (size_t)out[i]->n * sizeof(float)))
            return false;
    return true;
}

/* One call; `opt` goes to the _ex forms (NULL or not), PLAIN uses the plain form. */
static tconv_status call(const tconv_geometry *g, entry e, way wy, tconv_algo a, tconv_dtype dt,
                         operands *op, const tconv_options *opt, tconv_error *err)
{
#define D(t) tensor_data(&op->t, dt)
    const tconv_options *o = opt;
    switch (e) {
    case CONV_FORWARD:
        return wy == PLAIN ? tconv_conv_forward(g, a, dt, D(x), D(w), D(by), D(o1))
                           : tconv_conv_forward_ex(g, a, dt, D(x), D(w), D(by), D(o1), o, err);
    case CONVT_FORWARD:
        return wy == PLAIN ? tconv_convt_forward(g, a, dt, D(y), D(w), D(bx), D(o1))
                           : tconv_convt_forward_ex(g, a, dt, D(y), D(w), D(bx), D(o1), o, err);
    case CONV_BACKWARD:
        return wy == PLAIN ? tconv_conv_backward(g, a, dt, D(x), D(w), D(y), D(o1), D(o2), D(o3))
                           : tconv_conv_backward_ex(g, a, dt, D(x), D(w), D(y), D(o1), D(o2),
                                                    D(o3), o, err);
    case CONVT_BACKWARD:
        return wy == PLAIN
                   ? tconv_convt_backward(g, a, dt, D(y), D(w), D(x), D(o1), D(o2), D(o3))
                   : tconv_convt_backward_ex(g, a, dt, D(y), D(w), D(x), D(o1), D(o2), D(o3), o,
                                             err);
    case PRODUCT_APPLY:
        return tconv_product_run(g, TCONV_APPLY, a, dt, D(x), NULL, D(w), D(o1), o, err);
    case PRODUCT_APPLY_T:
        return tconv_product_run(g, TCONV_APPLY_T, a, dt, D(y), NULL, D(w), D(o1), o, err);
    default:
        return tconv_product_run(g, TCONV_WGRAD, a, dt, D(y), D(x), NULL, D(o1), o, err);
    }
#undef D
}

/* Copies of the outputs of the undisturbed call. */
typedef struct snapshot {
    unsigned char *bytes[3];
    size_t size[3];
} snapshot;

static snapshot take_snapshot(const operands *op, tconv_dtype dt)
{
    const tensor *out[3] = {&op->o1, &op->o2, &op->o3};
    snapshot s;
    for (int i = 0; i < 3; ++i) {
        s.size[i] = (size_t)out[i]->n * (dt == TCONV_F64 ? 8 : 4);
        s.bytes[i] = __real_malloc(s.size[i] + 1);
        memcpy(s.bytes[i], tensor_data(out[i], dt), s.size[i]);
    }
    return s;
}

static bool same_as(const snapshot *s, const operands *op, tconv_dtype dt)
{
    const tensor *out[3] = {&op->o1, &op->o2, &op->o3};
    for (int i = 0; i < 3; ++i)
        if (memcmp(s->bytes[i], tensor_data(out[i], dt), s->size[i]) != 0)
            return false;
    return true;
}

static void free_snapshot(snapshot *s)
{
    for (int i = 0; i < 3; ++i)
        __real_free(s->bytes[i]);
}

/* Arms the wrappers (fail_n 0: count only), runs, disarms; *allocs: calls counted. */
static tconv_status injected(const tconv_geometry *g, entry e, way wy, tconv_algo a,
                             tconv_dtype dt, operands *op, int fail_n, hook *h, tconv_error *err,
                             int *allocs, int *live_after)
{
    tconv_options opt = {0};
    if (wy == HOOKED) {
        *h = (hook){0, fail_n, 0};
        opt.alloc = hook_alloc;
        opt.free = hook_free;
        opt.alloc_ctx = h;
    }
    atomic_store(&calls, 0);
    atomic_store(&live, 0);
    atomic_store(&fail_at, wy == HOOKED ? 0 : fail_n);
    atomic_store(&armed, 1);
    const tconv_status s = call(g, e, wy, a, dt, op, wy == HOOKED ? &opt : NULL, err);
    atomic_store(&armed, 0);
    *allocs = wy == HOOKED ? h->calls : atomic_load(&calls);
    *live_after = wy == HOOKED ? h->live : atomic_load(&live);
    if (wy == HOOKED)
        cr_assert_eq(atomic_load(&calls), 0, "with options.alloc set the library called the "
                     "C library's allocator %d time(s)", atomic_load(&calls));
    return s;
}

/* Geometries: small random ones, and one with enough batch × groups for every thread to
 * take its own column buffer. */
static void geometry_for(int i, tconv_geometry *g)
{
    if (i > 0) {
        random_geometry(70000 + (uint64_t)i, g);
        return;
    }
    const int64_t in[2] = {5, 6}, k[2] = {3, 2}, s[2] = {2, 1}, p[2] = {1, 0};
    cr_assert_eq(tconv_geometry_init_transposed(g, 2, 4, 4, 6, 2, in, k, s, p, NULL, NULL,
                                                NULL),
                 TCONV_OK);
}

#define GEOMETRIES 6

typedef struct totals {
    int failures_injected, calls_run;
} totals;

static void exhaust(const tconv_geometry *g, entry e, way wy, tconv_algo a, tconv_dtype dt,
                    operands *op, totals *t)
{
    const char *what = entry_names[e];
    hook h;
    tconv_error err = {0};
    int allocs, left;
    /* undisturbed: the reference bits, and how many allocations the call makes */
    fill_outputs(op);
    const tconv_status first = injected(g, e, wy, a, dt, op, 0, &h, &err, &allocs, &left);
    cr_assert_eq(left, 0, "%s %s %s: %d block(s) not freed [%s]", tconv_algo_name(a), what,
                 way_names[wy], left, describe(g));
    if (first != TCONV_OK) { /* a refusal of this geometry: nothing to inject into */
        cr_assert(first == TCONV_EUNSUPPORTED || first == TCONV_ETOOBIG,
                  "%s %s %s: %s (%s) [%s]", tconv_algo_name(a), what, way_names[wy],
                  tconv_status_name(first), err.message, describe(g));
        cr_assert(outputs_untouched(op));
        return;
    }
    snapshot ref = take_snapshot(op, dt);
    for (int n = 1;; ++n) {
        fill_outputs(op);
        memset(&err, 0, sizeof err);
        const tconv_status s = injected(g, e, wy, a, dt, op, n, &h, &err, &allocs, &left);
        ++t->calls_run;
        cr_assert_eq(left, 0, "%s %s %s, allocation %d failed: %d block(s) not freed [%s]",
                     tconv_algo_name(a), what, way_names[wy], n, left, describe(g));
        if (n <= allocs) { /* the n-th allocation was made, and failed */
            ++t->failures_injected;
            cr_assert_eq(s, TCONV_ENOMEM, "%s %s %s, allocation %d of %d failed: got %s [%s]",
                         tconv_algo_name(a), what, way_names[wy], n, allocs,
                         tconv_status_name(s), describe(g));
            cr_assert(outputs_untouched(op), "%s %s %s: allocation %d failed, outputs written",
                      tconv_algo_name(a), what, way_names[wy], n);
            if (wy != PLAIN) {
                cr_assert_eq(err.status, TCONV_ENOMEM);
                cr_assert(strlen(err.message) > 0, "ENOMEM without a message");
            }
            continue;
        }
        cr_assert_eq(s, TCONV_OK, "%s %s %s: %s after %d allocation(s) [%s]",
                     tconv_algo_name(a), what, way_names[wy], tconv_status_name(s), allocs,
                     describe(g));
        cr_assert(same_as(&ref, op, dt), "%s %s %s: bits differ from the undisturbed call",
                  tconv_algo_name(a), what, way_names[wy]);
        break;
    }
    free_snapshot(&ref);
}

ParameterizedTestParameters(alloc_failure, every_entry_point)
{
    static tconv_algo algos[64];
    const int n = all_algorithms(algos, 64);
    return cr_make_param_array(tconv_algo, algos, (size_t)n);
}

ParameterizedTest(tconv_algo *algo, alloc_failure, every_entry_point)
{
    totals t = {0, 0};
    for (int i = 0; i < GEOMETRIES; ++i) {
        tconv_geometry g;
        geometry_for(i, &g);
        operands op;
        operands_new(&op, &g, 80000 + (uint64_t)i);
        for (int d = 0; d < 2; ++d)
            for (int e = 0; e < ENTRY_COUNT; ++e)
                for (int wy = 0; wy < WAY_COUNT; ++wy) {
                    if (wy == PLAIN && e >= PRODUCT_APPLY)
                        continue; /* products have only the _ex form */
                    exhaust(&g, (entry)e, (way)wy, *algo, d ? TCONV_F32 : TCONV_F64, &op, &t);
                }
        operands_free(&op);
    }
    /* the injection reached the library: most calls of these geometries need a workspace */
    cr_assert(t.failures_injected > 0, "%s: no allocation was ever failed",
              tconv_algo_name(*algo));
}

/* Given a workspace of the queried size, no entry point allocates at all. */
ParameterizedTestParameters(alloc_failure, caller_workspace_allocates_nothing)
{
    static tconv_algo algos[64];
    const int n = all_algorithms(algos, 64);
    return cr_make_param_array(tconv_algo, algos, (size_t)n);
}

ParameterizedTest(tconv_algo *algo, alloc_failure, caller_workspace_allocates_nothing)
{
    const tconv_op ops[4] = {TCONV_CONV_FORWARD, TCONV_CONV_BACKWARD, TCONV_CONVT_FORWARD,
                             TCONV_CONVT_BACKWARD};
    for (int i = 0; i < GEOMETRIES; ++i) {
        tconv_geometry g;
        geometry_for(i, &g);
        operands op;
        operands_new(&op, &g, 90000 + (uint64_t)i);
        for (int e = 0; e < 4; ++e) {
            hook h = {0, 1, 0}; /* the first allocation would fail */
            tconv_options opt = {0};
            opt.alloc = hook_alloc;
            opt.free = hook_free;
            opt.alloc_ctx = &h;
            size_t bytes = 0;
            tconv_error err = {0};
            const tconv_status q = tconv_workspace_size(&g, ops[e], *algo, TCONV_F64, &opt,
                                                        &bytes, &err);
            if (q != TCONV_OK) {
                cr_assert(q == TCONV_EUNSUPPORTED || q == TCONV_ETOOBIG, "%s", err.message);
                continue;
            }
            void *ws = __real_malloc(bytes + 1);
            opt.workspace = ws;
            opt.workspace_bytes = bytes;
            atomic_store(&calls, 0);
            atomic_store(&fail_at, 1);
            atomic_store(&armed, 1);
            const tconv_status s = call(&g, (entry)ops[e], EX_NULL, *algo, TCONV_F64, &op, &opt,
                                        &err);
            atomic_store(&armed, 0);
            cr_assert_eq(s, TCONV_OK, "%s op %d: %s", tconv_algo_name(*algo), e, err.message);
            cr_assert_eq(h.calls + atomic_load(&calls), 0,
                         "%s op %d: %d allocation(s) despite a caller workspace",
                         tconv_algo_name(*algo), e, h.calls + atomic_load(&calls));
            __real_free(ws);
        }
        operands_free(&op);
    }
}
