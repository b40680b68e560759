/*
 * Internal interface shared by the library's source files. Nothing here is exported:
 * non-static internal symbols carry the `tconv__` prefix and hidden visibility.
 */
#ifndef TCONV_INTERNAL_H
#define TCONV_INTERNAL_H

#include "tconv/tconv.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every scratch region handed to an algorithm starts on a cache line. */
#define TCONV__ALIGN ((size_t)64)

/* Our own hot loops (BLAS has its own dispatch) are compiled for x86-64-v4 (AVX-512),
 * x86-64-v3 (AVX2 with FMA) and the baseline, the CPU's best picked at load time: a
 * portable build still runs them with the vector width the machine has. The library is
 * built with contraction (-ffp-contract=fast): a*b+c is one fused multiply-add in the two
 * vector clones (a multiplication and an addition made a depthwise layer's loops 1.13 to
 * 1.24x slower). Both vector clones fuse the same operations, so they compute the same
 * bits; the baseline rounds each product first. One clone runs on a machine, whatever the
 * number of threads. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TCONV__VECTOR_CLONES                                                                   \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TCONV__VECTOR_CLONES
#endif

/* A kernel's body written once for several constant widths (a size parameter the caller
 * passes as a literal): it must be inlined into the caller's clone for the width to be a
 * constant and the vector ISA the clone's; GCC's heuristics did not always do it. */
#if defined(__GNUC__)
#define TCONV__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TCONV__ALWAYS_INLINE inline
#endif

/* Full unrolling of a loop of constant count whose sums must stay in registers (GCC
 * otherwise kept some in memory). Only for GCC: the clang builds (fuzzing, TSan, wasm) are
 * for checking, and clang with the sanitizers took 80 s more over one file with them. */
#if defined(__GNUC__) && !defined(__clang__)
#define TCONV__PRAGMA(x) _Pragma(#x)
#define TCONV__UNROLL(n) TCONV__PRAGMA(GCC unroll n)
#else
#define TCONV__UNROLL(n)
#endif

/* ---- errors ---------------------------------------------------------------------------- */

/* Records `s` and a printf-style message in `err` (if not NULL); returns `s`. */
tconv_status tconv__fail(tconv_error *err, tconv_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- memory ---------------------------------------------------------------------------- */

/* Every allocation the library makes goes through these two (src/alloc.c): the caller's
 * options.alloc/free when set, the C library's otherwise. NULL for bytes == 0 or when the
 * allocation fails; tconv__free ignores NULL. */
void *tconv__alloc(const tconv_options *opt, size_t bytes);
void tconv__free(const tconv_options *opt, void *ptr);

/* ---- checked arithmetic ---------------------------------------------------------------- */

static inline bool tconv__mul(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

static inline bool tconv__add(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

static inline bool tconv__sub(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_sub_overflow(a, b, r);
}

/* Adds `bytes`, rounded up to TCONV__ALIGN, to `*total`; false on overflow. */
bool tconv__ws_add(size_t *total, size_t bytes);
/* Byte count of `count` elements of `dtype` rounded up to TCONV__ALIGN; false on overflow. */
bool tconv__elem_bytes(int64_t count, tconv_dtype dtype, size_t *bytes);

static inline size_t tconv__dtype_size(tconv_dtype t)
{
    return t == TCONV_F64 ? sizeof(double) : sizeof(float);
}

/* ---- geometry, seen through three axes ------------------------------------------------- */

/*
 * A checked geometry with leading unit axes added so that one loop nest serves 1-D, 2-D
 * and 3-D: a 1-D size L becomes 1x1xL with kernel 1, stride 1, padding 0, dilation 1 on
 * the added axes. Axis 2 is always the contiguous one.
 *
 * What a checked geometry guarantees, so kernels may compute these without overflow
 * checks: per axis x + 2p + d(k-1) and (y-1)*s fit in int64; channels × Π sizes of one
 * image of X or Y, and the weight's element count, are at most INT64_MAX / 8 even for an
 * empty batch. Products of several axes' extents (canvases) are NOT covered: planners
 * check those.
 */
typedef struct tconv__shape {
    int lead; /* leading unit axes added: axis a is the geometry's axis a - lead */
    int64_t batch, groups;
    int64_t cx, cy;   /* channels of X and Y */
    int64_t cxg, cyg; /* channels per group */
    int64_t x[3], y[3], k[3], s[3], p[3], d[3];
    int64_t x_count, y_count, k_count; /* spatial element counts per channel */
} tconv__shape;

void tconv__shape_from(const tconv_geometry *g, tconv__shape *sh);
/* tconv_tensor_numel of a geometry already checked (a plan's): without the check, which
 * rebuilds the geometry and cost a small layer's call more than its arithmetic. */
int64_t tconv__numel(const tconv_geometry *g, tconv_tensor t);

/* ---- algorithms ------------------------------------------------------------------------ */

typedef struct tconv__provider tconv__provider; /* src/gemm/provider.h */

/* What every product of one call shares. */
typedef struct tconv__ctx {
    const tconv_geometry *g;
    tconv__shape sh;
    tconv_dtype dtype;
    tconv_layout layout; /* of the activations the products see (dense) */
    int threads;        /* >= 1: at planning, the thread bound; in a run, the run's threads */
    size_t dense_limit; /* bytes the dense algorithm may use for one matrix */
    size_t ws_limit;    /* bound the planners keep their scratch under (options or default) */
    size_t stream_bytes; /* activations from which outputs are streamed past the caches
                          * (tconv__stream_threshold(); 0: never) */
    const void *bias; /* for apply / apply_t of an algorithm that fuses the bias: added over
                       * the output's channels (NULL: none) */
    void *grad_bias;  /* for a wgrad whose plan sums_bias: Σ of a (the y side) over each y
                       * channel's images and positions, written with dW (NULL: not asked) */
    const tconv__provider *provider; /* GEMMs go to this provider; NULL: the default rule */
    const tconv__provider *widest;   /* the default rule's provider for the dtype */
    bool wide_faster; /* its FMAs are also faster than the fallback's (provider_widest) */
    atomic_int *failed; /* set by a GEMM whose provider failed (NULL: nobody is told) */
} tconv__ctx;

/* options.dense_limit = 0: a 256 MiB matrix is a 8192 x 8192 float32 C, far past any
 * teaching example, and still allocatable on a laptop. */
#define TCONV__DENSE_LIMIT ((size_t)256 << 20)

/* The products an algorithm may implement: the three of the public API, and apply and
 * wgrad of the same x at once (the transposed convolution's backward, whose two GEMMs read
 * the same columns). */
#define TCONV__PRODUCTS 4
#define TCONV__APPLY_WGRAD ((tconv_product)3)

/* Bytes an algorithm may keep of its own plan for one product. */
#define TCONV__PLAN_DATA 512

/*
 * What an algorithm's planner decided for one product, kept by the call's plan and handed
 * to the product at every run: its workspace (`shared` bytes for the whole team, then
 * `per_thread` bytes for each of its threads, each region TCONV__ALIGN-aligned), the most
 * threads it can use, the branch it takes (for tests and tconv_plan_describe) and its own
 * decisions (tiles, blocks) in `data`.
 */
typedef struct tconv__product_plan {
    size_t shared, per_thread;
    int team;
    int path;
    bool sums_bias; /* wgrad: can write ctx->grad_bias too, from the y it reads anyway */
    union {
        int64_t align;
        unsigned char bytes[TCONV__PLAN_DATA];
    } data;
} tconv__product_plan;

/*
 * One algorithm: a planner and the products. `plan` fills the product's plan (or refuses
 * it with a status); the products themselves cannot fail: they receive the plan, `ws` with
 * at least shared + per_thread·min(team, c->threads) bytes, TCONV__ALIGN-aligned, run on
 * at most min(team, c->threads) threads and overwrite `out`.
 *   apply:   a = x, b = weight, out = y
 *   apply_t: a = y, b = weight, out = x
 *   wgrad:   a = y, b = x,      out = dW
 * `apply_wgrad` (NULL: the algorithm has none, the two run one after the other) computes
 * y = C x into out and dW = Σ y' ⊗ x into out2, with a = x, b = weight, a2 = y'.
 * `channels_last(c)`: whether the products take dense channels-last activations of this
 * call as they come (by shape, dtype and workspace bound, never the thread count); for the
 * others a run gives them channels-first copies.
 */
typedef void (*tconv__product_fn)(const tconv__ctx *c, const tconv__product_plan *pp,
                                  const void *a, const void *b, void *out, void *ws);
typedef void (*tconv__fused_fn)(const tconv__ctx *c, const tconv__product_plan *pp,
                                const void *a, const void *b, const void *a2, void *out,
                                void *out2, void *ws);

typedef struct tconv__algo {
    tconv_algo id;
    const char *name;
    tconv_status (*plan)(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                         tconv_error *err);
    tconv__product_fn apply, apply_t, wgrad;
    tconv__fused_fn apply_wgrad;
    bool fuses_bias;    /* apply and apply_t add ctx->bias where they write the output */
    bool (*channels_last)(const tconv__ctx *c); /* see above; NULL: never */
} tconv__algo;

/* Defines `op(ctx, pp, a, b, out, ws)` forwarding to op_f32 or op_f64 by the context's
 * dtype: the one place a product picks its element type. */
#define TCONV__DTYPE_DISPATCH(op)                                                              \
    static void op(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,          \
                   const void *b, void *out, void *ws)                                         \
    {                                                                                          \
        if (c->dtype == TCONV_F64)                                                             \
            op##_f64(c, pp, a, b, out, ws);                                                    \
        else                                                                                   \
            op##_f32(c, pp, a, b, out, ws);                                                    \
    }

/* Task t of a tconv__for_tasks call, on team thread `thread` (0 to team - 1). */
typedef void (*tconv__task_fn)(const void *arg, int64_t t, int thread);
/* Runs task(arg, t, thread) for every t < count across a team of up to `team` threads (no
 * more than there are tasks), scheduled dynamically or statically; a team of one outside
 * any parallel region runs them in order on the calling thread, with no OpenMP region
 * (core/tasks.c). Tasks must be independent: which thread runs which never changes a
 * result. They run no GEMM (a body that does runs through tconv__region). */
void tconv__for_tasks(int team, int64_t count, bool dynamic, tconv__task_fn task,
                      const void *arg);

/* Elements a pass over memory (a bias, a layout copy) gives each thread of its team at
 * least: a pass over fewer takes less time than waking a thread does. */
#define TCONV__PASS_GRAIN ((int64_t)1 << 15)

/* The team of such a pass over `elements` elements: at most `threads`. */
static inline int tconv__pass_team(int threads, int64_t elements)
{
    const int64_t want = elements / TCONV__PASS_GRAIN + 1;
    return want < threads ? (int)want : threads;
}

/* A product's arguments, for the body of its parallel region (tconv__region). */
typedef struct tconv__region_args {
    const tconv__ctx *c;
    const tconv__product_plan *pp;
    const void *a, *b, *a2; /* the operands (a2: the fused product's y') */
    void *out, *out2, *ws;
    int product;      /* the tconv_product a shared body computes */
    const void *plan; /* the algorithm's working copy of pp's plan, where it keeps one */
} tconv__region_args;
typedef void (*tconv__region_fn)(const tconv__region_args *arg);
/* Runs body(arg) on every thread of a team of `team` (its worksharing constructs share out
 * the work), each thread's provider GEMMs on that thread alone (tconv__team_member); a
 * team of one outside any parallel region runs it on the calling thread, with no OpenMP
 * region of its own (core/tasks.c). */
void tconv__region(int team, tconv__region_fn body, const tconv__region_args *arg);

/* The threads a product runs on: its team, at most the run's. */
static inline int tconv__team(const tconv__ctx *c, const tconv__product_plan *pp)
{
    return pp->team < c->threads ? pp->team : c->threads;
}

/* Workspace of a product planned with `shared` elements for the team and `per_thread` for
 * each of up to `team` threads, in bytes of the dtype; false on overflow. */
bool tconv__plan_ws(tconv__product_plan *pp, tconv_dtype dtype, int64_t shared,
                    int64_t per_thread, int team);
/* A product whose workspace is one region of `bytes` for a team of up to `team` threads. */
static inline void tconv__plan_shared(tconv__product_plan *pp, size_t bytes, int team)
{
    pp->shared = bytes;
    pp->per_thread = 0;
    pp->team = team;
}
/* Start of thread t's region of a product's workspace (the shared region comes first). */
static inline void *tconv__thread_ws(const tconv__product_plan *pp, void *ws, int t)
{
    return ws ? (char *)ws + pp->shared + (size_t)t * pp->per_thread : NULL;
}

extern const tconv__algo tconv__algo_gemm;
extern const tconv__algo tconv__algo_phase;
extern const tconv__algo tconv__algo_scatter;
extern const tconv__algo tconv__algo_gather;
extern const tconv__algo tconv__algo_dense;
extern const tconv__algo tconv__algo_sparse;

/* The gemm algorithm's planner and products, which `phase` shares for the products where a
 * stride-s convolution has no inserted zeros to skip (apply, wgrad, and both at once). */
tconv_status tconv__gemm_plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                              tconv_error *err);
void tconv__gemm_apply(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws);
void tconv__gemm_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                       const void *b, void *out, void *ws);
void tconv__gemm_apply_wgrad(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                             const void *b, const void *a2, void *out, void *out2, void *ws);

/* How the gemm algorithm lays out a product for this shape (tests assert which branch a
 * geometry takes; it is also a plan's `path`). */
typedef enum tconv__gemm_path {
    TCONV__PATH_GENERAL = 0,   /* im2col / col2im */
    TCONV__PATH_TILED = 1,     /* the taps tile X exactly: col2im is a permutation */
    TCONV__PATH_POINTWISE = 2, /* 1x1 kernel, stride 1, no padding: no columns at all */
    TCONV__PATH_UNIT_MAP = 3,  /* a 1x1 input map under a whole kernel: the layer is a
                                * fully connected one, one GEMM over the batch */
    TCONV__PATH_WHOLE = 4,     /* channels-first apply: the whole batch's columns at once,
                                * GEMMs by blocks of rows (gemm_plan.h) */
    TCONV__PATH_WINOGRAD = 5,  /* channels-last apply or apply_t of a 3x3 stride-1 kernel:
                                * Winograd F(2x2, 3x3), 16 GEMMs of transformed tiles
                                * (winograd.c) */
    TCONV__PATH_DECLINED = -1  /* the fused product would not pay: the plan runs the two
                                * products instead */
} tconv__gemm_path;
tconv__gemm_path tconv__gemm_path_of(const tconv__shape *sh);

/* Blocks of W_g's rows the gemm algorithm's apply cuts each tile into (1: none), so that a
 * small problem still shares the threads; 0 for an empty batch. */
int64_t tconv__gemm_apply_blocks(const tconv__ctx *c);
/* Chunks of R per tile of its apply (0: no columns), in the context's layout (1 in
 * channels-last). */
int64_t tconv__gemm_apply_chunks(const tconv__ctx *c);
/* Whether channels-first apply makes the whole batch's columns at once (TCONV__PATH_WHOLE). */
bool tconv__gemm_apply_whole(const tconv__ctx *c);

/* Images the gemm algorithm folds into one GEMM tile for product p (1: none); 0 when the
 * batch is empty or images are cut into line tiles. */
int64_t tconv__gemm_images_per_tile(const tconv__ctx *c, tconv_product p);

/* The tile of dW_g its channels-first pointwise weight gradient gives each task:
 * tm x tn, cut from 512 x 512 until there are four tiles or both sides are 64. */
void tconv__gemm_pointwise_wgrad_tile(const tconv__shape *sh, int64_t *tm, int64_t *tn);
/* Whether the gemm algorithm's channels-last apply_t gathers x line by line (few images
 * of one group with overlapping lines). */
bool tconv__gemm_nhwc_by_lines(const tconv__ctx *c);
/* Whether its channels-last apply multiplies by W'ᵀ (B untransposed) for a short
 * reduction (R <= TCONV__SHORT_K, the default rule): tconv's own product, or the
 * provider's. */
bool tconv__gemm_nhwc_by_column(const tconv__ctx *c);

/* The gemm algorithm's Winograd branch (winograd.c): whether the context's product p
 * (apply or apply_t) takes it (channels-last, 2-D 3x3 kernel, stride 1, no dilation, one
 * group, at least 16 channels on both sides, at least 64 2x2 output tiles and tiles times
 * channel pairs at least 2^16, and its workspace under the bound); its plan (false,
 * nothing written, where it does not apply) and its product (either of the two, as
 * planned). */
bool tconv__winograd_applies(const tconv__ctx *c, tconv_product p);
bool tconv__winograd_plan(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp);
void tconv__winograd_run(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                         const void *b, void *out, void *ws);

/* Whether the phase algorithm runs its sub-convolutions as plain loops (few channels per
 * group, where a GEMM would be a dot product) rather than GEMMs. */
bool tconv__phase_uses_loops(const tconv__shape *sh);

/* What a product plan's `path` means for algorithm `a`, e.g. "im2col/col2im". */
const char *tconv__path_name(const tconv__algo *a, int path);

/* The algorithm `a` resolves to for this context (auto picks); NULL if unknown. */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c);

/* The layout auto computes a call of algorithm `a` in: the caller's (c->layout), or the
 * other one on copies of the activations where that pays (channels-first to channels-last
 * for a `forward` only, with a rule for the convolution, `conv`, and one for the
 * transposed layer). An explicit algorithm keeps the caller's. */
tconv_layout tconv__auto_layout(const tconv__ctx *c, const tconv__algo *a, bool forward,
                                bool conv);

/* ---- GEMM, through the call's provider (src/gemm) ------------------------------------ */

/* Largest GEMM dimension / leading dimension CBLAS's int can carry (every provider is held
 * to it, so that a plan is valid whichever provider runs it). */
#define TCONV__BLAS_INT_MAX ((int64_t)2147483647)

/* The provider the call asked for (options.provider), checked against the build and the
 * dtype; TCONV_PROVIDER_DEFAULT gives NULL: the default rule picks per GEMM. */
tconv_status tconv__provider_select(tconv_provider requested, tconv_dtype dtype,
                                    const tconv__provider **out, tconv_error *err);
/* The provider whose kernels are the widest for `dtype` on this CPU: the default rule's
 * (see providers.c); *faster (unless NULL): whether its wider FMAs also run faster than
 * the fallback's here (not where the CPU splits them into halves). */
const tconv__provider *tconv__provider_widest(tconv_dtype dtype, bool *faster);
/* GEMMs of at most this many terms run tconv's short-reduction kernel (0: none, when the
 * call names a provider), for a GEMM that adds a bias or not; providers.c gives the
 * measurements. */
int64_t tconv__short_k(const tconv__ctx *c, bool bias);
/* Whether the call's GEMMs with a transposed A and a reduction of k terms go to the onednn
 * provider (asked for, or the default rule's choice), whose packing is slow on a
 * transposed A with a large power-of-two leading dimension: the planners then transpose
 * such a weight once per call (and not where the rule sends the GEMMs to openblas). */
bool tconv__gemm_prefers_untransposed(const tconv__ctx *c, int64_t k);
/* A provider's name ("onednn"). */
const char *tconv__provider_name_of(const tconv__provider *p);
/* The provider a failed product is computed again with: openblas when built, else the
 * reference loops; neither can fail. */
const tconv__provider *tconv__provider_fallback(void);

/* C[m][n] = alpha·op(A)[m][k]·op(B)[k][n] + beta·C, row-major, on the calling thread, by
 * the call's provider (or the default rule's for this shape). A provider that fails sets
 * *c->failed; the caller of the product then computes it again with the fallback. */
void tconv__mm_f32(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                   int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *cc, int64_t ldc);
void tconv__mm_f64(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                   int64_t k, double alpha, const double *a, int64_t lda, const double *b,
                   int64_t ldb, double beta, double *cc, int64_t ldc);

/* tconv's own product for a short reduction (src/gemm/short.c), which the default rule
 * takes before any provider: C = alpha·op(A)·B + bias + beta·C, the bias (NULL: none)
 * bias[i] on row i, or bias[j] on column j if per_column, for k <= TCONV__SHORT_K, B not
 * transposed and at least 16 columns; false (nothing written) otherwise. */
#define TCONV__SHORT_K ((int64_t)16)
bool tconv__short_mm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                         float beta, const float *bias, bool per_column, float *cc,
                         int64_t ldc);
bool tconv__short_mm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         double alpha, const double *a, int64_t lda, const double *b,
                         int64_t ldb, double beta, const double *bias, bool per_column,
                         double *cc, int64_t ldc);

/* C = op(A)·op(B) + bias, bias[i] on row i or (per_column) bias[j] on column j, NULL for
 * none. The bias is in the product: C is not zeroed by the BLAS, summed into, then passed
 * over again for the bias (three passes over a C that a short or moderate reduction makes
 * memory-bound), but starts as the bias; the short product adds it in registers. */
void tconv__mm_bias_f32(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                        int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                        const float *bias, bool per_column, float *cc, int64_t ldc);
void tconv__mm_bias_f64(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                        int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb,
                        const double *bias, bool per_column, double *cc, int64_t ldc);

/*
 * GEMMs are cut into tiles of at most TCONV__TILE_M rows and TCONV__TILE_N columns. The cut
 * depends on the shape alone, never on the thread count, so every output element is
 * produced by the same provider call whatever the number of threads: bit-identical results.
 */
#define TCONV__TILE_M ((int64_t)512)
#define TCONV__TILE_N ((int64_t)512)

static inline int64_t tconv__tiles(int64_t n, int64_t tile)
{
    return (n + tile - 1) / tile;
}

/* C = op(A)·op(B) + beta·C in the fixed tiles. With `shared` every thread of the calling
 * parallel region must call, and the tiles are split among them (a worksharing loop with
 * its closing barrier); otherwise the calling thread does every tile. */
void tconv__mm_tiles_f32(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                         int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                         float beta, float *cc, int64_t ldc, bool shared);
void tconv__mm_tiles_f64(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                         int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb,
                         double beta, double *cc, int64_t ldc, bool shared);
/* One tile of that grid: tile t of tconv__tiles(m, M)·tconv__tiles(n, N), row-major. */
void tconv__mm_tile_f32(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                        int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                        float beta, float *cc, int64_t ldc, int64_t t);
void tconv__mm_tile_f64(const tconv__ctx *c, bool trans_a, bool trans_b, int64_t m, int64_t n,
                        int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb,
                        double beta, double *cc, int64_t ldc, int64_t t);

/* Called first thing by every thread of a library parallel region: each provider's GEMMs
 * from this thread then use this thread alone, so library threads and provider threads
 * never compete for the cores. Scoped to the region's implicit task. */
void tconv__team_member(void);

/* ---- im2col / col2im over three axes --------------------------------------------------- */

/*
 * A span of columns: `images` consecutive images (their x tensors x_stride elements apart,
 * their columns y_count apart) and the lines l0..l1 of each, where a line is one row of the
 * last axis (line l = o0·Y1 + o1 holds Y2 positions); rows of the column buffer are `ld`
 * apart. Column (m, l, o2) of image m is at m·y_count + (l - l0)·Y2 + o2. The span forms let
 * a caller fold several images into one GEMM or cut an image into line ranges, with the
 * geometry of each tap worked out once for all of them.
 */
typedef struct tconv__span {
    int64_t images, x_stride, l0, l1, ld;
} tconv__span;

/*
 * im2col: x[channels][x0][x1][x2] => cols[rows r0..r1 of channels·K][y_count]
 * Row r = (channel, k0, k1, k2); the row range lets a caller fill a slice.
 */
void tconv__im2col_f32(const tconv__shape *sh, const float *x, int64_t r0, int64_t r1,
                       float *cols);
void tconv__im2col_f64(const tconv__shape *sh, const double *x, int64_t r0, int64_t r1,
                       double *cols);

/* col2im: cols[channels·K][y_count] => x[channels][x0][x1][x2] for channels c0..c1,
 * overwriting x: every x element is the sum of the column entries that copied it. */
void tconv__col2im_f32(const tconv__shape *sh, const float *cols, int64_t c0, int64_t c1,
                       float *x);
void tconv__col2im_f64(const tconv__shape *sh, const double *cols, int64_t c0, int64_t c1,
                       double *x);

/* ---- channels-last im2col / col2im (kernels/im2row.c) --------------------------------- */

/* Whether im2row and row2im move a row's taps along the last axis as one run of x per
 * (k0, k1) (one group, dilation 1 and more than one tap there): few channels (an RGB
 * image, runs of 3) then move as runs of K2·C, not a tap at a time. */
bool tconv__taps_merge(const tconv__shape *sh);

/* cols[row][j - j0] for the (tap, channel) columns j in [j0, j1) of one group: row runs
 * over the span's positions (image, line, position in the line), x is channel 0 of the
 * group in the span's first image (images sp->x_stride apart), rows of cols ld apart. */
void tconv__im2row_f32(const tconv__shape *sh, const float *x, int64_t j0, int64_t j1,
                       const tconv__span *sp, float *cols, int64_t ld);
void tconv__im2row_f64(const tconv__shape *sh, const double *x, int64_t j0, int64_t j1,
                       const tconv__span *sp, double *cols, int64_t ld);
/* Adds cols[row][tap][c - c0] back into channels c0..c1 of the group, each row and tap a
 * vector of channels; with `init` the span's images first hold bias[c] (0: NULL). */
void tconv__row2im_f32(const tconv__shape *sh, const float *cols, int64_t ld, int64_t c0,
                       int64_t c1, const tconv__span *sp, bool init, const float *bias,
                       float *x);
void tconv__row2im_f64(const tconv__shape *sh, const double *cols, int64_t ld, int64_t c0,
                       int64_t c1, const tconv__span *sp, bool init, const double *bias,
                       double *x);
/* x's lines il0..il1 of one image (one group, all its channels) gathered from the whole
 * image's columns, bias first, then the rows in the order row2im adds them. */
void tconv__row2im_gather_f32(const tconv__shape *sh, const float *cols, int64_t ld,
                              int64_t il0, int64_t il1, const float *bias, float *x);
void tconv__row2im_gather_f64(const tconv__shape *sh, const double *cols, int64_t ld,
                              int64_t il0, int64_t il1, const double *bias, double *x);
/* row2im when the taps tile X exactly: written (plus bias[c] unless NULL), not added. */
void tconv__row2im_tiled_f32(const tconv__shape *sh, const float *cols, int64_t ld, int64_t c0,
                             int64_t c1, const tconv__span *sp, const float *bias, float *x);
void tconv__row2im_tiled_f64(const tconv__shape *sh, const double *cols, int64_t ld,
                             int64_t c0, int64_t c1, const tconv__span *sp, const double *bias,
                             double *x);

/* ---- matrix transpose (kernels/transpose.c) ------------------------------------------ */

/* dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols (the two may not overlap). */
void tconv__transpose_f32(int64_t rows, int64_t cols, const float *restrict src, int64_t lds,
                          float *restrict dst, int64_t ldd);
void tconv__transpose_f64(int64_t rows, int64_t cols, const double *restrict src, int64_t lds,
                          double *restrict dst, int64_t ldd);

/* ---- stores past the caches (kernels/stream.c) ------------------------------------------ */

/* Outputs are streamed by the kernels that can when the layer's activations (input and
 * output) take at least tconv__stream_threshold() bytes: half the last-level cache as the
 * C library reports it (sysconf), TCONV__STREAM_BYTES at least and where it reports none.
 * Past that share the output is written once and read next by another layer from memory;
 * below it, from the cache, which ordinary stores leave it in: MobileNet's depthwise layer
 * (12.8 MB in, 12.8 out) ran 1.4-1.5x faster in place on an Intel Xeon reporting 480 MB of
 * L3, where a Zen 4's 32 MB had made streaming pay. The threshold changes no bit. */
#define TCONV__STREAM_BYTES ((int64_t)8 << 20)
size_t tconv__stream_threshold(void);
/* memcpy(dst, src, bytes) with non-temporal stores where the CPU has them; then, before
 * the thread's results are read elsewhere, tconv__stream_fence. */
void tconv__stream(void *dst, const void *src, size_t bytes);
void tconv__stream_fence(void);

/* ---- depthwise products on channels-last tensors (kernels/depthwise.c) ---------------- */

/* Taps per axis the depthwise loops take (a larger kernel goes through channels-first). */
#define TCONV__DEPTHWISE_MAX_TAPS 64
/* Whether the depthwise loops take this shape: one x channel per y channel per group, and
 * kernels of at most TCONV__DEPTHWISE_MAX_TAPS taps per axis. */
bool tconv__depthwise_fits(const tconv__shape *sh);
/* wt[k][c] = w[c][k]: the weight in [tap][channel] order the loops read. */
void tconv__depthwise_weight_f32(const tconv__shape *sh, const float *w, float *wt);
void tconv__depthwise_weight_f64(const tconv__shape *sh, const double *w, double *wt);
/* y (apply) or x (apply_t) for the lines l0..l1 of image n, bias added (NULL: none). */
void tconv__depthwise_apply_f32(const tconv__shape *sh, const float *x, const float *wt,
                                const float *bias, int64_t n, int64_t l0, int64_t l1,
                                float *y);
void tconv__depthwise_apply_f64(const tconv__shape *sh, const double *x, const double *wt,
                                const double *bias, int64_t n, int64_t l0, int64_t l1,
                                double *y);
void tconv__depthwise_apply_t_f32(const tconv__shape *sh, const float *y, const float *wt,
                                  const float *bias, int64_t n, int64_t l0, int64_t l1,
                                  float *x);
void tconv__depthwise_apply_t_f64(const tconv__shape *sh, const double *y, const double *wt,
                                  const double *bias, int64_t n, int64_t l0, int64_t l1,
                                  double *x);
/* The weight gradient's part from y's lines line0..line1 of the whole batch (line = n·Y0·Y1
 * + o0·Y1 + o1): part[k][c] (Πk·C elements), positions summed in ascending order. */
void tconv__depthwise_wgrad_part_f32(const tconv__shape *sh, const float *y, const float *x,
                                     int64_t line0, int64_t line1, float *part);
void tconv__depthwise_wgrad_part_f64(const tconv__shape *sh, const double *y, const double *x,
                                     int64_t line0, int64_t line1, double *part);

/* ---- transformation matrices (matrix.c) ----------------------------------------------- */

/*
 * C has one row per Y element (cy, o) and one column per X element (cx, i); Cᵀ the other
 * way round. The non-zeros of one row form a 4-deep affine grid: partner channel j[0] and
 * one arithmetic run per spatial axis j[1..3]. Both the column and the weight index are
 * affine in j, so a consumer walks the row with four plain loops:
 *   col = col0 + Σ j[t]·dcol[t],  w = w0 + Σ j[t]·dw[t],  0 <= j[t] < n[t].
 * Columns ascend in loop order (the order CSR keeps).
 */
typedef struct tconv__row {
    int64_t n[4];
    int64_t col0, dcol[4];
    int64_t w0, dw[4];
} tconv__row;

/* Row r of C (transposed false: r = cy·|Sy| + o) or of Cᵀ (true: r = cx·|Sx| + i). */
void tconv__matrix_row(const tconv__shape *sh, bool transposed, int64_t r, tconv__row *row);

static inline int64_t tconv__row_count(const tconv__row *row)
{
    return row->n[0] * row->n[1] * row->n[2] * row->n[3]; /* <= (C/g)·Πk: no overflow */
}

/* An odometer over a row's grid, so that every consumer is one plain loop:
 *   for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it)) use(it.col, it.w);  */
typedef struct tconv__row_it {
    const tconv__row *row;
    int64_t j[4];
    int64_t col, w;
    bool more;
} tconv__row_it;

static inline void tconv__row_begin(tconv__row_it *it, const tconv__row *row)
{
    it->row = row;
    it->j[0] = it->j[1] = it->j[2] = it->j[3] = 0;
    it->col = row->col0;
    it->w = row->w0;
    it->more = tconv__row_count(row) > 0;
}

static inline void tconv__row_step(tconv__row_it *it)
{
    const tconv__row *r = it->row;
    for (int t = 3; t >= 0; --t) {
        if (it->j[t] + 1 < r->n[t]) {
            ++it->j[t];
            it->col += r->dcol[t];
            it->w += r->dw[t];
            return;
        }
        /* this digit wraps: back to its first entry (never one past its last: with a huge
         * dilation that column would not fit in int64), and carry into the next one */
        it->col -= it->j[t] * r->dcol[t];
        it->w -= it->j[t] * r->dw[t];
        it->j[t] = 0;
    }
    it->more = false;
}

/* Rows of C (transposed false) or of Cᵀ. */
static inline int64_t tconv__matrix_rows(const tconv__shape *sh, bool transposed)
{
    return transposed ? sh->cx * sh->x_count : sh->cy * sh->y_count;
}

/* Non-zero count of C by the closed formula in matrix.c; refused (with a message) when it
 * overflows int64 or would take too long to count. */
tconv_status tconv__matrix_nnz(const tconv__shape *sh, int64_t *nnz, tconv_error *err);

/* CSR index arrays of C or Cᵀ: row_ptr[rows + 1], col[nnz], widx[nnz] (widx may be NULL).
 * Rows are filled by `threads` threads; the result does not depend on their number. */
void tconv__csr_build(const tconv__shape *sh, bool transposed, int threads, int64_t *row_ptr,
                      int64_t *col, int64_t *widx);

/* index[r][c] = the weight entry (r, c) of C (or Cᵀ) copies, or -1. */
void tconv__structure_fill(const tconv__shape *sh, bool transposed, int threads, int64_t *index);

/* m[r][c] = w[widx] or 0: the dense C (or Cᵀ), rows split among `threads`. */
void tconv__dense_fill_f32(const tconv__shape *sh, bool transposed, int threads, const float *w,
                           float *m);
void tconv__dense_fill_f64(const tconv__shape *sh, bool transposed, int threads,
                           const double *w, double *m);

/* v[j] = w[widx] for the entries of a CSR of C (or Cᵀ) built with this row_ptr. */
void tconv__csr_values_f32(const tconv__shape *sh, bool transposed, int threads,
                           const int64_t *row_ptr, const float *w, float *v);
void tconv__csr_values_f64(const tconv__shape *sh, bool transposed, int threads,
                           const int64_t *row_ptr, const double *w, double *v);
/* cols[r - r0][columns of the span] = im2col of rows r0..r1. */
void tconv__im2col_span_f32(const tconv__shape *sh, const float *x, int64_t r0, int64_t r1,
                            const tconv__span *sp, float *cols);
void tconv__im2col_span_f64(const tconv__shape *sh, const double *x, int64_t r0, int64_t r1,
                            const tconv__span *sp, double *cols);
/* Adds the span's columns into channels c0..c1 of every image of x; with `init` those
 * channels are first set to bias[ch] (0 when bias is NULL). Each channel sums its taps in
 * one fixed order. */
void tconv__col2im_span_f32(const tconv__shape *sh, const float *cols, int64_t c0, int64_t c1,
                            const tconv__span *sp, bool init, const float *bias, float *x);
void tconv__col2im_span_f64(const tconv__shape *sh, const double *cols, int64_t c0,
                            int64_t c1, const tconv__span *sp, bool init, const double *bias,
                            double *x);
/* Whether im2col_span copies the span's rows from each channel's phase planes (whole
 * images of short lines, kernels/im2col.c) rather than row by row: the same columns. */
bool tconv__im2col_by_planes(const tconv__shape *sh, const tconv__span *sp);
/* col2im of a span of whole images through a phase plane: the taps added contiguously
 * into the x plane split by phase along the last axis, then interleaved into x, each x
 * element of channels c0..c1 written once: bias[ch] (0: NULL) plus its taps in the span
 * col2im's order (the same bits). `plane` is scratch of X0·X1·s2·⌈X2/s2⌉ elements. */
void tconv__col2im_lines_f32(const tconv__shape *sh, const float *cols, int64_t c0, int64_t c1,
                             const tconv__span *sp, const float *bias, float *plane, float *x);
void tconv__col2im_lines_f64(const tconv__shape *sh, const double *cols, int64_t c0,
                             int64_t c1, const tconv__span *sp, const double *bias,
                             double *plane, double *x);
/* col2im when the taps tile X exactly (TCONV__LAYOUT_TILED): every x element has one
 * source, so it is written (plus bias[ch] unless NULL), not added: a permutation. */
void tconv__col2im_tiled_f32(const tconv__shape *sh, const float *cols, int64_t c0, int64_t c1,
                             const tconv__span *sp, const float *bias, float *x);
void tconv__col2im_tiled_f64(const tconv__shape *sh, const double *cols, int64_t c0,
                             int64_t c1, const tconv__span *sp, const double *bias, double *x);

/* ---- tensors in layouts and views (kernels/layout.c) ----------------------------------- */

/* Extents (n, c, a0, a1, a2) of the X (x_side) or Y tensor over three axes. */
void tconv__extents(const tconv__shape *sh, bool x_side, int64_t e[5]);
/* Element strides (n, c, a0, a1, a2) of the dense X or Y tensor in `layout`. */
void tconv__dense_strides(const tconv__shape *sh, bool x_side, tconv_layout layout,
                          int64_t st[5]);
/* dst (strides ds) = src (strides ss), element by element over extents e: a layout change,
 * or a view made dense. */
void tconv__copy_tensor_f32(const int64_t e[5], const float *src, const int64_t ss[5],
                            float *dst, const int64_t ds[5], int threads);
void tconv__copy_tensor_f64(const int64_t e[5], const double *src, const int64_t ss[5],
                            double *dst, const int64_t ds[5], int threads);

/* ---- bias ------------------------------------------------------------------------------ */

/* t += bias over `channels` channels of `count` elements each, in the layout of c. */
void tconv__bias_add(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                     const void *bias, void *t);
/* grad_bias[c] = Σ over batch and space of g (layout of c), summed in a fixed order
 * (channels-first: kernels/bias_sum_tmpl.h's, over rows of `row` elements, the extent of
 * the last axis). */
void tconv__bias_grad(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                      int64_t row, const void *g, void *grad_bias);

#endif /* TCONV_INTERNAL_H */
