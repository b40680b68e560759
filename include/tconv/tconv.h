/*
 * tconv: convolution and transposed convolution on the CPU, through the matrix view.
 *
 * One idea carries the library. A convolution with weight W maps the image space X
 * (x_channels, the larger spatial size) to the feature space Y (y_channels, the smaller
 * size): y = C x, where C is a sparse matrix whose non-zeros are copies of weights.
 * The transposed convolution with the same weight tensor is x = Cᵀ y. Every operation of
 * both layers is one of three products over one geometry:
 *
 *   apply    y  = C x      conv forward, transposed-conv backward-data
 *   apply_t  x  = Cᵀ y     transposed-conv forward, conv backward-data
 *   wgrad    dW = y ⊗ x    backward-weight of either layer
 *
 * Conventions
 *   - Activations (the X and Y tensors and their gradients) are channels-first (NCL, NCHW,
 *     NCDHW: the default) or channels-last (NLC, NHWC, NDHWC), per call
 *     (tconv_options.layout); inputs may be strided views (tconv_options.x_strides,
 *     y_strides), outputs are dense. Sizes are int64_t.
 *   - The weight has the same shape for both layers, as in PyTorch:
 *     (y_channels, x_channels / groups, kernel...). Conv2d(C_x -> C_y) and
 *     ConvTranspose2d(C_y -> C_x) store the same array.
 *   - Bias has one value per output channel of the layer: y_channels for the conv,
 *     x_channels for the transposed conv.
 *   - Output buffers are overwritten, never accumulated into, and must not alias inputs.
 *   - Every fallible call returns a tconv_status. When a call fails it writes nothing to
 *     the caller's output buffers; if `err` is not NULL it receives the status and a
 *     message naming the parameter (and axis) at fault.
 *   - No global mutable state: every function may be called from several threads at once.
 *   - Results are bit-identical for any thread count.
 *
 * Ownership: the library never keeps a pointer it was given past the return of the call.
 */
#ifndef TCONV_TCONV_H
#define TCONV_TCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only the public API is exported from the shared library; everything else is hidden. */
#if defined(TCONV_BUILDING)
#define TCONV_API __attribute__((visibility("default")))
#else
#define TCONV_API
#endif

/* Same major version = same ABI. */
#define TCONV_VERSION_MAJOR 1
#define TCONV_VERSION_MINOR 0
#define TCONV_VERSION_PATCH 0
#define TCONV_VERSION_HEX                                                                  \
    ((TCONV_VERSION_MAJOR << 16) | (TCONV_VERSION_MINOR << 8) | TCONV_VERSION_PATCH)

/** Runtime version, e.g. "1.0.0"; compare with TCONV_VERSION_* to detect a mismatch. */
TCONV_API const char *tconv_version_string(void);
/** Runtime version as TCONV_VERSION_HEX would give it. */
TCONV_API unsigned tconv_version(void);


/* ---------------------------------------------------------------------------------------
 * Status codes. One list makes the enum and the strings, so they cannot drift apart.
 */
#define TCONV_STATUS_MAP(X)                                                                \
    X(OK, "success")                                                                       \
    X(EINVAL, "invalid argument")                                                          \
    X(EOVERFLOW, "a size overflows 64-bit arithmetic")                                     \
    X(ENOMEM, "out of memory")                                                             \
    X(EWORKSPACE, "workspace too small")                                                   \
    X(EUNREACHABLE, "requested output size is not reachable")                              \
    X(EUNSUPPORTED, "not supported by this algorithm or build")                            \
    X(ETOOBIG, "matrix exceeds the byte limit")

typedef enum tconv_status {
#define TCONV_STATUS_ENUM_(name, text) TCONV_##name,
    TCONV_STATUS_MAP(TCONV_STATUS_ENUM_)
#undef TCONV_STATUS_ENUM_
        TCONV_STATUS_COUNT
} tconv_status;

/** A static string describing `s` ("invalid argument"); never NULL. */
TCONV_API const char *tconv_status_str(tconv_status s);
/** The enumerator's name without prefix ("EINVAL"); never NULL. */
TCONV_API const char *tconv_status_name(tconv_status s);

/** Where a failing call explains itself. Owned by the caller; may be on the stack. */
typedef struct tconv_error {
    tconv_status status;
    char message[256];
} tconv_error;

/* ---------------------------------------------------------------------------------------
 * Element types and algorithms.
 */
typedef enum tconv_dtype { TCONV_F32 = 0, TCONV_F64 = 1 } tconv_dtype;

/*
 * Every algorithm implements the three products behind the same entry points.
 *   gemm     im2col / col2im + CBLAS GEMM: the production path. Small maps are folded into
 *            one GEMM over several images; a kernel that tiles the output (kernel == stride,
 *            no padding or dilation) makes col2im a permutation; a 1x1 stride-1 kernel needs
 *            no im2col or col2im at all. In channels-last, a 2-D 3x3 stride-1 undilated
 *            kernel of one group and >= 16 channels a side runs apply and apply_t (both
 *            layers' forward, and their input gradients) as Winograd F(2x2, 3x3): 16
 *            GEMMs of transformed tiles (README).
 *   phase    stride-phase (sub-pixel) decomposition: the transposed product as s^dims
 *            stride-1 convolutions with sub-kernels of about ceil(k/s) taps, one GEMM per
 *            output phase, no multiplications by inserted zeros and no scatter-add. Its
 *            other two products are gemm's. Depthwise-like layers (C_x/g * C_y/g <= 4) run
 *            as plain loops instead. Strides up to 64 per axis (TCONV_EUNSUPPORTED past).
 *   scatter  distribution view, plain loops: every element of a product's input spreads
 *            through the kernel into the (padded) output. A reference.
 *   gather   collection view, plain loops: insert stride-1 zeros, pad by
 *            dilation*(kernel-1)-padding, flip the kernel, run a stride-1 convolution.
 *            The float64 gather is the test oracle.
 *   dense    builds the whole transformation matrix C of one image in the workspace and
 *            multiplies by it with GEMM (the batch is the other GEMM dimension; Cᵀ is C
 *            read through a transpose flag). C is quadratic in the map size: past
 *            options.dense_limit the call fails with TCONV_ETOOBIG. Teaching, benchmarks.
 *   sparse   builds C (or Cᵀ, for apply_t) in CSR in the workspace, with the weight index
 *            of every non-zero, and multiplies with its own SpMM; wgrad adds every
 *            non-zero's products to the weight it copies. Teaching, benchmarks.
 *   auto     the library's choice between gemm and phase, by shape alone: phase for
 *            depthwise-like layers (C_x/g * C_y/g <= 4) it accepts, gemm otherwise.
 *            Never dense, sparse or a reference loop.
 */
typedef enum tconv_algo {
    TCONV_ALGO_AUTO = 0,
    TCONV_ALGO_GEMM = 1,
    TCONV_ALGO_SCATTER = 2,
    TCONV_ALGO_GATHER = 3,
    TCONV_ALGO_DENSE = 4,
    TCONV_ALGO_SPARSE = 5,
    TCONV_ALGO_PHASE = 6,
    TCONV_ALGO_COUNT = 7 /* one past the largest id */
} tconv_algo;

/** "auto", "gemm", "phase", "dense", "sparse", "scatter", "gather"; "?" for an unknown
 *  value. */
TCONV_API const char *tconv_algo_name(tconv_algo a);
/** Parses a name as tconv_algo_name prints it. TCONV_EINVAL for an unknown name. */
TCONV_API tconv_status tconv_algo_from_name(const char *name, tconv_algo *out);

/* ---------------------------------------------------------------------------------------
 * GEMM providers: the libraries that multiply the matrices of gemm, phase and dense.
 *
 *   openblas   OpenBLAS (float32 and float64), a private copy inside libtconv.so. Its
 *              kernels follow its CPU table and the OPENBLAS_CORETYPE variable.
 *   onednn     oneDNN's dnnl_sgemm (float32 only): JIT kernels for the ISA the CPU reports,
 *              whatever OpenBLAS knows of it. Built when oneDNN is found at configure time.
 *   reference  plain loops (float32 and float64), always built: the build without any
 *              BLAS (WebAssembly) uses it; slow.
 *
 * The default (TCONV_PROVIDER_DEFAULT, options.provider = 0) is a fixed rule, never a
 * timing: for each dtype, the provider whose kernels run the widest fused multiply-adds on
 * this CPU (AVX-512 over AVX2 + FMA over SSE or AVX without FMA: oneDNN's effective ISA,
 * OpenBLAS's kernel set as its CPU table or OPENBLAS_CORETYPE chose it), openblas on a
 * tie. Some GEMM shapes go to openblas whatever the rule picked, where dnnl_sgemm was
 * measured slower, and which depends on whether the CPU runs its 512-bit FMAs at full rate
 * (Intel's AVX-512 cores, AMD from Zen 5) or splits each into two 256-bit halves (AMD Zen 4,
 * where both libraries peak alike). At full rate: only a transposed B of 33 to 128 columns
 * for a C of 9 to 32 rows over a reduction (k) of 2048 terms or more. Split: reductions
 * shorter than 32, and a transposed B with few columns for a C of at most 1024 rows (at
 * most 128 columns; or fewer than 512, and k at least 1024 and more than twice the rows
 * of C). GEMMs of at most 16 terms (a first layer of few channels, a 1-D front end) run
 * tconv's own short-reduction kernel, which writes each output once with the bias in it
 * (a BLAS zeroes C, adds into it, and the bias is a pass more); beside full-rate AVX-512
 * kernels, only those that add a bias, or of at most 3 terms. So oneDNN computes float32
 * where it runs AVX-512 and OpenBLAS does not (a CPU its table does not know, or
 * OPENBLAS_CORETYPE=Haswell on an AVX-512 machine), openblas
 * float64 always; reference only when no BLAS is built. tconv_provider_info(DEFAULT, ...)
 * says what the rule resolves to here. Every provider keeps the library's contract:
 * bit-identical results for any thread count, outputs never read, and no partial result
 * when a GEMM fails (the call's products are computed again by openblas, or the
 * reference loops).
 */
typedef enum tconv_provider {
    TCONV_PROVIDER_DEFAULT = 0,
    TCONV_PROVIDER_OPENBLAS = 1,
    TCONV_PROVIDER_ONEDNN = 2,
    TCONV_PROVIDER_REFERENCE = 3,
    TCONV_PROVIDER_COUNT = 4 /* one past the largest id */
} tconv_provider;

/** "default", "openblas", "onednn", "reference"; "?" for an unknown value. */
TCONV_API const char *tconv_provider_name(tconv_provider p);
/** Parses a name as tconv_provider_name prints it. TCONV_EINVAL for an unknown name. */
TCONV_API tconv_status tconv_provider_from_name(const char *name, tconv_provider *out);
/** 1 if this build has provider `p` for `dtype` (TCONV_PROVIDER_DEFAULT: always), else 0. */
TCONV_API int tconv_provider_available(tconv_provider p, tconv_dtype dtype);
/**
 * Describes provider `p` as built: version, the kernels or ISA it runs, its threading,
 * e.g. "oneDNN 2.6.3, dnnl_sgemm JIT for avx512_core_bf16 (float32), OpenMP". For
 * TCONV_PROVIDER_DEFAULT, the rule per dtype. A provider this build lacks: "<name>: not
 * built". Writes at most `size` bytes including the NUL; returns the full length.
 */
TCONV_API size_t tconv_provider_info(tconv_provider p, char *buf, size_t size);
/**
 * Every provider built in, one per line as tconv_provider_info describes it, prefixed
 * by its name ("openblas: OpenBLAS 0.3.21 ..."). Writes at most `size` bytes including
 * the NUL; returns the length of the full description.
 */
TCONV_API size_t tconv_blas_info(char *buf, size_t size);

/* ---------------------------------------------------------------------------------------
 * Geometry: everything about the shapes of one (C, Cᵀ) pair.
 */
#define TCONV_MAX_DIMS 3

typedef enum tconv_layer { TCONV_LAYER_CONV = 0, TCONV_LAYER_CONVT = 1 } tconv_layer;

/*
 * A plain struct, filled by one of the init functions below and read-only afterwards.
 * Entries past `dims` in the per-axis arrays are unspecified. Entry points check the
 * struct again (a hand-edited geometry is rejected, not trusted).
 *
 * Per axis: x = (y - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1.
 * For a geometry made by tconv_geometry_init_conv, output_padding is the remainder the
 * convolution's floor dropped: the value a ConvTranspose needs to give x back.
 */
typedef struct tconv_geometry {
    int dims;           /* spatial dimensions: 1, 2 or 3 */
    tconv_layer layer;  /* the layer the geometry was made for (informative) */
    int64_t batch;      /* N >= 0 */
    int64_t groups;     /* divides both channel counts */
    int64_t x_channels; /* image space: conv input, transposed-conv output */
    int64_t y_channels; /* feature space: conv output, transposed-conv input */
    int64_t x_size[TCONV_MAX_DIMS];
    int64_t y_size[TCONV_MAX_DIMS];
    int64_t kernel[TCONV_MAX_DIMS];
    int64_t stride[TCONV_MAX_DIMS];
    int64_t padding[TCONV_MAX_DIMS];
    int64_t output_padding[TCONV_MAX_DIMS];
    int64_t dilation[TCONV_MAX_DIMS];
} tconv_geometry;

/*
 * Per-axis arrays have `dims` entries. NULL means PyTorch's default on every axis:
 * stride 1, padding 0, output_padding 0, dilation 1. `kernel` and the input size are
 * required. On failure `*g` is left untouched.
 */

/** Conv{1,2,3}d(in_channels -> out_channels) on an input of `in_size`. */
TCONV_API tconv_status tconv_geometry_init_conv(tconv_geometry *g, int dims, int64_t batch,
                                                int64_t in_channels, int64_t out_channels,
                                                int64_t groups, const int64_t *in_size,
                                                const int64_t *kernel, const int64_t *stride,
                                                const int64_t *padding,
                                                const int64_t *dilation, tconv_error *err);

/** ConvTranspose{1,2,3}d(in_channels -> out_channels) on an input of `in_size`. */
TCONV_API tconv_status tconv_geometry_init_transposed(
    tconv_geometry *g, int dims, int64_t batch, int64_t in_channels, int64_t out_channels,
    int64_t groups, const int64_t *in_size, const int64_t *kernel, const int64_t *stride,
    const int64_t *padding, const int64_t *output_padding, const int64_t *dilation,
    tconv_error *err);

/**
 * ConvTranspose with PyTorch's `output_size=` form: the output_padding is chosen so that
 * the output has `out_size`. TCONV_EUNREACHABLE (with the reachable range in the message)
 * when no output_padding in [0, stride) gives it.
 */
TCONV_API tconv_status tconv_geometry_init_transposed_output_size(
    tconv_geometry *g, int dims, int64_t batch, int64_t in_channels, int64_t out_channels,
    int64_t groups, const int64_t *in_size, const int64_t *out_size, const int64_t *kernel,
    const int64_t *stride, const int64_t *padding, const int64_t *dilation,
    tconv_error *err);

/** Checks a geometry as the entry points do. */
TCONV_API tconv_status tconv_geometry_check(const tconv_geometry *g, tconv_error *err);

/** Writes a one-line description into buf (always NUL-terminated); returns its length. */
TCONV_API size_t tconv_geometry_format(const tconv_geometry *g, char *buf, size_t size);

/** The tensors of a geometry. */
typedef enum tconv_tensor {
    TCONV_TENSOR_X = 0,      /* (batch, x_channels, x_size...) */
    TCONV_TENSOR_Y = 1,      /* (batch, y_channels, y_size...) */
    TCONV_TENSOR_WEIGHT = 2, /* (y_channels, x_channels/groups, kernel...) */
    TCONV_TENSOR_X_BIAS = 3, /* (x_channels): bias of the transposed conv */
    TCONV_TENSOR_Y_BIAS = 4  /* (y_channels): bias of the conv */
} tconv_tensor;

/** Number of elements of a tensor of a checked geometry; -1 if `g` or `t` is invalid. */
TCONV_API int64_t tconv_tensor_numel(const tconv_geometry *g, tconv_tensor t);

/* ---------------------------------------------------------------------------------------
 * Execution options (the `_ex` entry points). A zero-initialised struct means defaults:
 *   tconv_options opt = {0};
 */
/** Memory order of the activations (X, Y and their gradients). The weight keeps
 *  PyTorch's layout (y_channels, x_channels/groups, kernel...) in both. TCONV_ALGO_AUTO
 *  may compute a call in the other layout, on copies of the activations in the workspace,
 *  where that is faster (README, "Which algorithm `auto` runs"; tconv_plan_describe says
 *  "computed channels-first" or "computed channels-last"); the call's tensors are in the
 *  layout asked for either way. */
typedef enum tconv_layout {
    TCONV_LAYOUT_CHANNELS_FIRST = 0, /* (N, C, spatial...): NCL, NCHW, NCDHW */
    TCONV_LAYOUT_CHANNELS_LAST = 1   /* (N, spatial..., C): NLC, NHWC, NDHWC */
} tconv_layout;

/** The workspace bound used when tconv_options.workspace_limit is 0: 64 MiB. */
#define TCONV_WORKSPACE_LIMIT_DEFAULT ((size_t)64 << 20)
/** Largest options.num_threads accepted: a larger value (a corrupt or uninitialised
 *  options struct, typically) is refused with TCONV_EINVAL instead of being handed to the
 *  OpenMP runtime, which aborts or crashes when it cannot start that many threads. */
#define TCONV_MAX_THREADS 1024

typedef struct tconv_options {
    /** Threads for this call, used as given, 1 to TCONV_MAX_THREADS. 0: OpenMP's default
     *  (omp_get_max_threads()), reduced for problems too small to share. Results are the
     *  same for any count. */
    int num_threads;
    /** Caller's scratch memory, at least tconv_workspace_size() bytes; NULL: allocate. */
    void *workspace;
    size_t workspace_bytes;
    /** Bound, in bytes, on the workspace of gemm and phase (column buffers): the batch is
     *  cut into chunks, or an image into lines, to stay under it; TCONV_EWORKSPACE when not
     *  even one line's columns fit. 0: TCONV_WORKSPACE_LIMIT_DEFAULT. The reference
     *  algorithms (scatter, gather) need what they need and ignore it. */
    size_t workspace_limit;
    /** Largest explicit transformation matrix, in bytes, the `dense` algorithm may build
     *  (C for apply and apply_t, dL/dC for wgrad: rows·cols elements of the dtype); past
     *  it the call fails with TCONV_ETOOBIG and a message giving the bytes it would need.
     *  0: the library's default, 256 MiB. */
    size_t dense_limit;
    /** Allocator used when `workspace` is NULL; NULL: the C library's. It serves all the
     *  memory tconv itself asks for: one workspace block per call, freed before the call
     *  returns (OpenBLAS and the OpenMP runtime manage their own). `alloc` may fail
     *  (return NULL): the call then returns TCONV_ENOMEM and writes nothing. */
    void *(*alloc)(void *ctx, size_t bytes);
    void (*free)(void *ctx, void *ptr);
    void *alloc_ctx;
    /** The GEMM provider (see tconv_provider); 0: the default rule. A provider this build
     *  lacks, or one that does not serve the call's dtype: TCONV_EUNSUPPORTED. */
    tconv_provider provider;
    /** Memory order of every activation tensor of the call, inputs and outputs. */
    tconv_layout layout;
    /** Element strides of the call's X-shaped input (conv forward and backward: x;
     *  transposed-conv backward: grad_out) and of its Y-shaped input (transposed-conv
     *  forward and backward: in; conv backward: grad_y; for the products: a or b as
     *  their shapes say), as a framework view has them: dims + 2 entries in the logical
     *  order (N, C, spatial...) whatever the layout. A stride may be negative (the
     *  tensor pointer is then still the element whose indices are all 0, as NumPy's
     *  reversed views have it); a dimension of extent 1 may have any stride. NULL: dense
     *  in `layout`. A view whose distinct indices reach the same element is refused
     *  (TCONV_EINVAL). Outputs are always dense in `layout`. */
    const int64_t *x_strides;
    const int64_t *y_strides;
} tconv_options;

/**
 * The algorithm TCONV_ALGO_AUTO runs for this geometry, element type and options (NULL:
 * defaults): TCONV_ALGO_GEMM or TCONV_ALGO_PHASE. The choice depends on the shape alone,
 * never on the thread count.
 */
TCONV_API tconv_status tconv_algo_choose(const tconv_geometry *g, tconv_dtype dtype,
                                         const tconv_options *opt, tconv_algo *out,
                                         tconv_error *err);

/* ---------------------------------------------------------------------------------------
 * Layer entry points. Every gradient pointer of a backward call may be NULL: that
 * gradient is not computed. `bias` may be NULL: no bias. Tensors with zero elements may
 * be NULL. An output that overlaps an input or another output is refused (TCONV_EINVAL).
 * The plain forms return the status alone: their message goes nowhere. Call the _ex form
 * with a tconv_error to read it.
 */
typedef enum tconv_op {
    TCONV_CONV_FORWARD = 0,
    TCONV_CONV_BACKWARD = 1,
    TCONV_CONVT_FORWARD = 2,
    TCONV_CONVT_BACKWARD = 3
} tconv_op;

/**
 * Bytes of workspace an operation needs with these options (NULL: defaults), as a plan of
 * it would report for its thread count: enough for every call with the same options and
 * at most that many threads (options.num_threads, or for 0 OpenMP's default now; a call
 * given a workspace that serves fewer threads than it asks for runs on fewer). A backward
 * operation reports what computing all three gradients needs. No alignment is required.
 */
TCONV_API tconv_status tconv_workspace_size(const tconv_geometry *g, tconv_op op,
                                            tconv_algo algo, tconv_dtype dtype,
                                            const tconv_options *opt, size_t *bytes,
                                            tconv_error *err);

/** Conv forward: y = C x (+ bias over y_channels). x: X tensor, y: Y tensor. */
TCONV_API tconv_status tconv_conv_forward(const tconv_geometry *g, tconv_algo algo,
                                          tconv_dtype dtype, const void *x,
                                          const void *weight, const void *bias, void *y);
TCONV_API tconv_status tconv_conv_forward_ex(const tconv_geometry *g, tconv_algo algo,
                                             tconv_dtype dtype, const void *x,
                                             const void *weight, const void *bias, void *y,
                                             const tconv_options *opt, tconv_error *err);

/** Conv backward from grad_y: grad_x = Cᵀ grad_y, grad_weight, grad_bias (y_channels). */
TCONV_API tconv_status tconv_conv_backward(const tconv_geometry *g, tconv_algo algo,
                                           tconv_dtype dtype, const void *x,
                                           const void *weight, const void *grad_y,
                                           void *grad_x, void *grad_weight, void *grad_bias);
TCONV_API tconv_status tconv_conv_backward_ex(const tconv_geometry *g, tconv_algo algo,
                                              tconv_dtype dtype, const void *x,
                                              const void *weight, const void *grad_y,
                                              void *grad_x, void *grad_weight,
                                              void *grad_bias, const tconv_options *opt,
                                              tconv_error *err);

/** Transposed conv forward: out = Cᵀ in (+ bias over x_channels). in: Y, out: X tensor. */
TCONV_API tconv_status tconv_convt_forward(const tconv_geometry *g, tconv_algo algo,
                                           tconv_dtype dtype, const void *in,
                                           const void *weight, const void *bias, void *out);
TCONV_API tconv_status tconv_convt_forward_ex(const tconv_geometry *g, tconv_algo algo,
                                              tconv_dtype dtype, const void *in,
                                              const void *weight, const void *bias,
                                              void *out, const tconv_options *opt,
                                              tconv_error *err);

/** Transposed conv backward from grad_out: grad_in = C grad_out, grad_weight,
 *  grad_bias (x_channels). `in` is needed only for grad_weight and may be NULL otherwise;
 *  `weight` only for grad_in. */
TCONV_API tconv_status tconv_convt_backward(const tconv_geometry *g, tconv_algo algo,
                                            tconv_dtype dtype, const void *in,
                                            const void *weight, const void *grad_out,
                                            void *grad_in, void *grad_weight,
                                            void *grad_bias);
TCONV_API tconv_status tconv_convt_backward_ex(const tconv_geometry *g, tconv_algo algo,
                                               tconv_dtype dtype, const void *in,
                                               const void *weight, const void *grad_out,
                                               void *grad_in, void *grad_weight,
                                               void *grad_bias, const tconv_options *opt,
                                               tconv_error *err);

/* ---------------------------------------------------------------------------------------
 * Plans: check and decide once, run many times.
 *
 * A plan holds what a call decides before it touches a tensor: the checked geometry (a
 * copy), the operation and the gradients it computes, the dtype, the algorithm (what
 * `auto` resolved to) and the branch it takes, the GEMM provider, the layout and the views
 * of the inputs, the thread count, the tiles, and the workspace they need. A run checks
 * only its tensors (NULL where data is needed, outputs overlapping inputs or each other)
 * and its workspace; it cannot fail otherwise.
 *
 * Lifetime and threads: tconv_plan_create allocates the plan (with options.alloc when
 * set) and copies what it keeps from its arguments, so the geometry, the options and the
 * stride arrays may go away right after. A plan never changes once made: it may be run
 * from several threads at once, each run with a workspace of its own (or none: each run
 * then allocates one). tconv_plan_destroy frees it; no run may be in progress then.
 *
 * The layer entry points below (tconv_conv_forward_ex and the rest) make a plan on their
 * own stack and run it once: one code path, no allocation but the workspace.
 */
typedef struct tconv_plan tconv_plan;

/* The gradients a backward plan computes (bits of `grads`). */
#define TCONV_GRAD_INPUT 1u
#define TCONV_GRAD_WEIGHT 2u
#define TCONV_GRAD_BIAS 4u
#define TCONV_GRAD_ALL 7u

/**
 * Plans `op` on `g`. `grads`: for the backward operations, the gradients its runs may
 * compute (TCONV_GRAD_* bits; 0 means all three); forward operations ignore it. `opt`
 * (NULL: defaults) gives the thread count the runs use (num_threads, 0: OpenMP's default
 * now, reduced for problems too small to share), the workspace bound, the provider, the
 * layout and the input views; its workspace fields are not kept (runs take theirs).
 * Every refusal of the entry points happens here, with the same status and message.
 * On success *plan is the new plan; on failure it is left untouched.
 */
TCONV_API tconv_status tconv_plan_create(tconv_plan **plan, const tconv_geometry *g,
                                         tconv_op op, unsigned grads, tconv_algo algo,
                                         tconv_dtype dtype, const tconv_options *opt,
                                         tconv_error *err);
/** Frees a plan (NULL: nothing). */
TCONV_API void tconv_plan_destroy(tconv_plan *plan);

/**
 * Bytes of workspace a run needs to use `threads` threads (0: the plan's count; more than
 * the plan's count: the plan's count). The size never decreases with `threads`, so it
 * serves every run of at most that many threads. Alignment: none is required (the size
 * includes the slack the library uses to align the workspace itself). 0 bytes: a run
 * needs no workspace.
 */
TCONV_API tconv_status tconv_plan_workspace_size(const tconv_plan *plan, int threads,
                                                 size_t *bytes, tconv_error *err);
/** The thread count runs use, at most (fewer when given a smaller workspace). */
TCONV_API int tconv_plan_threads(const tconv_plan *plan);
/** The algorithm the runs use (what TCONV_ALGO_AUTO resolved to). */
TCONV_API tconv_algo tconv_plan_algo(const tconv_plan *plan);
/**
 * What planning decided, on one line: operation, dtype, layout, algorithm and branch per
 * product, provider, threads, workspace. snprintf's contract: returns the full length.
 */
TCONV_API size_t tconv_plan_describe(const tconv_plan *plan, char *buf, size_t size);

/**
 * Runs a forward plan: TCONV_CONV_FORWARD (in = x, out = y) or TCONV_CONVT_FORWARD
 * (in = the transposed conv's input, a Y tensor; out = an X tensor). `bias` may be NULL.
 * `workspace`: NULL (the run allocates one, with the plan's allocator, and frees it before
 * returning), or `workspace_bytes` >= tconv_plan_workspace_size(plan, 1) bytes of any
 * alignment: the run uses as many of the plan's threads as the workspace serves (results
 * never depend on it). TCONV_EWORKSPACE when it serves not even one.
 */
TCONV_API tconv_status tconv_plan_forward(const tconv_plan *plan, const void *in,
                                          const void *weight, const void *bias, void *out,
                                          void *workspace, size_t workspace_bytes,
                                          tconv_error *err);
/**
 * Runs a backward plan (TCONV_CONV_BACKWARD or TCONV_CONVT_BACKWARD): the arguments of
 * tconv_conv_backward_ex / tconv_convt_backward_ex, in = x or the transposed conv's
 * input, grad_out = grad_y or the transposed conv's grad_out, grad_in = grad_x or its
 * grad_in. A gradient pointer may be NULL (not computed); one the plan was not made for
 * is refused. The workspace as for tconv_plan_forward.
 */
TCONV_API tconv_status tconv_plan_backward(const tconv_plan *plan, const void *in,
                                           const void *weight, const void *grad_out,
                                           void *grad_in, void *grad_weight, void *grad_bias,
                                           void *workspace, size_t workspace_bytes,
                                           tconv_error *err);

/* ---------------------------------------------------------------------------------------
 * The three products themselves, without bias, for learners and tests.
 */
typedef enum tconv_product {
    TCONV_APPLY = 0,   /* y  = C x  */
    TCONV_APPLY_T = 1, /* x  = Cᵀ y */
    TCONV_WGRAD = 2    /* dW = Σ y ⊗ x (over batch and the connectivity of C) */
} tconv_product;

/** Bytes of workspace tconv_product_run needs with these options. */
TCONV_API tconv_status tconv_product_workspace_size(const tconv_geometry *g, tconv_product p,
                                                    tconv_algo algo, tconv_dtype dtype,
                                                    const tconv_options *opt, size_t *bytes,
                                                    tconv_error *err);

/**
 * Runs one product. For TCONV_APPLY `a` is x and `out` is y; for TCONV_APPLY_T `a` is y
 * and `out` is x; both use `weight` and ignore `b`. For TCONV_WGRAD `a` is y, `b` is x,
 * `out` is the weight-shaped gradient, and `weight` is ignored.
 */
TCONV_API tconv_status tconv_product_run(const tconv_geometry *g, tconv_product p,
                                         tconv_algo algo, tconv_dtype dtype, const void *a,
                                         const void *b, const void *weight, void *out,
                                         const tconv_options *opt, tconv_error *err);

/* ---------------------------------------------------------------------------------------
 * Transformation matrices: the matrix view made explicit, for one image (the batch of the
 * geometry is ignored).
 *
 * C has rows = y_channels·|Sy| and cols = x_channels·|Sx|. Row r = cy·|Sy| + o and column
 * c = cx·|Sx| + i, where o and i are row-major flattened positions in Y and X: the order of
 * the NC... tensors, so that y = C x is the convolution of one image and x = Cᵀ y the
 * transposed convolution. Entry (r, c) is a copy of one weight element or zero: it copies
 *   weight[(cy·(x_channels/groups) + cx mod (x_channels/groups))·Πkernel + tap]
 * when cx is in cy's group and, on every axis, i = o·stride - padding + tap·dilation for a
 * tap in [0, kernel); the index is the flat index into the weight array.
 *
 * The builders take the matrix by the product that multiplies with it: TCONV_APPLY for C,
 * TCONV_APPLY_T for Cᵀ (cols x rows). They write only to the caller's buffers, whose sizes
 * tconv_matrix_info_get gives, and allocate nothing. From `opt` only num_threads is read
 * (NULL: defaults); the result does not depend on it.
 */
typedef struct tconv_matrix_info {
    int64_t rows; /* of C: y_channels·|Sy| */
    int64_t cols; /* of C: x_channels·|Sx| */
    int64_t nnz;  /* entries that copy a weight, in C and in Cᵀ */
    /** rows·cols elements of the dtype (tconv_matrix_dense); SIZE_MAX when that does not
     *  fit in size_t (the dense builders then fail with TCONV_EOVERFLOW). */
    size_t dense_bytes;
    /** rows·cols int64_t (tconv_matrix_structure); SIZE_MAX likewise. */
    size_t structure_bytes;
} tconv_matrix_info;

/**
 * Sizes of the transformation matrix of `g` for `dtype`. TCONV_EOVERFLOW when even its CSR
 * arrays (rows + 1 offsets, nnz columns, nnz weight indices, nnz values) have more bytes
 * than size_t can count; when it succeeds, every CSR array size fits.
 */
TCONV_API tconv_status tconv_matrix_info_get(const tconv_geometry *g, tconv_dtype dtype,
                                             tconv_matrix_info *info, tconv_error *err);

/**
 * The structure: index[r·width + c] = the flat weight index entry (r, c) copies, or -1
 * (width = cols for C, rows for Cᵀ). `index` holds rows·cols int64_t (structure_bytes).
 */
TCONV_API tconv_status tconv_matrix_structure(const tconv_geometry *g, tconv_product p,
                                              int64_t *index, const tconv_options *opt,
                                              tconv_error *err);

/**
 * The dense matrix of `weight` (a weight tensor of `dtype`): matrix[r·width + c] =
 * weight[index] or 0. `matrix` holds rows·cols elements of dtype (dense_bytes).
 */
TCONV_API tconv_status tconv_matrix_dense(const tconv_geometry *g, tconv_product p,
                                          tconv_dtype dtype, const void *weight, void *matrix,
                                          const tconv_options *opt, tconv_error *err);

/** Caller-owned CSR arrays that tconv_matrix_csr fills. */
typedef struct tconv_csr {
    int64_t *row_ptr;      /* rows + 1 offsets (cols + 1 for Cᵀ); row r is [row_ptr[r],
                              row_ptr[r+1]), row_ptr[0] = 0 */
    int64_t *col;          /* nnz columns, ascending within each row */
    int64_t *weight_index; /* nnz flat weight indices; NULL: not wanted */
    void *value;           /* nnz elements of the dtype, weight[weight_index]; NULL: not
                              wanted (then `weight` may be NULL) */
} tconv_csr;

/** C (or Cᵀ) in CSR. `col` may be NULL only when nnz is 0. */
TCONV_API tconv_status tconv_matrix_csr(const tconv_geometry *g, tconv_product p,
                                        tconv_dtype dtype, const void *weight,
                                        const tconv_csr *csr, const tconv_options *opt,
                                        tconv_error *err);

#ifdef __cplusplus
}
#endif

#endif /* TCONV_TCONV_H */
