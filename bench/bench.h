/*
 * The benchmark's shared types: the shapes of the two suites (bench/shapes.csv, transposed
 * convolutions; bench/conv_shapes.csv, convolutions), the run's configuration, one measured
 * cell, and the interfaces of the cell runners, the peers (PyTorch through a Python child,
 * oneDNN through its C API, the bare GEMM of each provider) and the reports.
 */
#ifndef TCONV_BENCH_H
#define TCONV_BENCH_H

#include <tconv/tconv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- shapes ------------------------------------------------------------------------------ */

typedef struct shape {
    char name[32];
    char source[128];
    tconv_geometry g; /* g.layer says the suite: TCONV_LAYER_CONVT or TCONV_LAYER_CONV */
    double flops;     /* one forward pass: 2·N·C_y·(C_x/g)·Πk·Π(y_size), both layers */
} shape;

/* Reads the shapes of `path` (comment lines start with '#') as geometries of `layer`.
 * Returns the count, or -1 with a message on stderr. `*out` is malloc'ed. */
int shapes_read(const char *path, tconv_layer layer, shape **out);

/* Splits a CSV line at its commas, in place (the bench's files quote nothing), into at most
 * `most` fields (the last keeps the rest of the line); returns the field count. */
int csv_split(char *line, char **fields, int most);

/* A geometry of the map-size family: ConvTranspose2d(4 -> 4, k 4, s 2, p 1), batch 1, on
 * an n x n input. */
void shape_family(int64_t n, shape *s);

/* The suite's name: "transposed" or "conv". */
const char *suite_name(tconv_layer layer);

/* A layer's input and output as the layer sees them (conv: X in, Y out; transposed conv:
 * Y in, X out). */
typedef struct layer_io {
    int64_t in_ch, out_ch;
    const int64_t *in_size, *out_size;
    tconv_tensor in, out, bias;
} layer_io;

layer_io layer_io_of(const tconv_geometry *g);

/* The GEMM of the gemm path, per group: C[m][n] = op(A)[m][k] · B[k][n], g times.
 * Transposed conv: cols = Wᵀ y, m = C_x/g·Πk, n = N·|Sy|, k = C_y/g, A = W read transposed.
 * Conv: y = W cols, m = C_y/g, n = N·|Sy|, k = C_x/g·Πk, A = W as stored. */
typedef struct gemm_view {
    int64_t m, n, k, groups;
    bool trans_a;
} gemm_view;

gemm_view gemm_view_of(const tconv_geometry *g);

/* ---- configuration ------------------------------------------------------------------------ */

typedef enum pass { PASS_FWD = 0, PASS_FWDBWD = 1 } pass;

static inline const char *pass_name(pass p)
{
    return p == PASS_FWD ? "fwd" : "fwd+bwd";
}

/* Layout names on the command line, in cell labels and in the CSV. */
static inline const char *layout_name(tconv_layout l)
{
    return l == TCONV_LAYOUT_CHANNELS_LAST ? "nhwc" : "nchw";
}

/* Timing rules for one cell. */
typedef struct budget {
    double seconds;   /* measured runs stop once this much time has passed ... */
    int min_runs;     /* ... and at least this many runs were made */
    int max_runs;
    double warmup_s;  /* warm-up runs until this much time has passed (at least one) */
} budget;

typedef struct config {
    bool quick, peers, family;
    const char *shapes, *conv_shapes, *csv, *svg, *baseline;
    const char *filter, *algos;
    bool every_row;       /* no --algo: every tconv algorithm, the bare GEMMs and the peers */
    bool suite[2];        /* by tconv_layer */
    tconv_provider providers[TCONV_PROVIDER_COUNT];
    int n_providers;
    bool layout[2];       /* by tconv_layout */
    int threads[8], n_threads;
    bool pass[2];
    budget b;
    int passes;           /* passes over a suite's cells; each cell keeps its fastest */
    size_t workspace_limit;
    double reference_gflop; /* the reference loops run on shapes up to this many GFLOP */
    double family_cap_s;    /* a family series stops after a run this long */
} config;

/* ---- measurement ------------------------------------------------------------------------- */

/* What one cell (shape x algorithm x provider x layout x pass x threads) measured. */
typedef struct cell {
    char shape[32];
    tconv_layer layer;
    char label[32];    /* what tables and the CSV call it: "auto", "auto@openblas:nhwc", "torch" */
    char provider[12]; /* tconv cells and bare GEMMs: the GEMM provider; peers: "-" */
    char layout[8];    /* "nchw", "nhwc", "any" (oneDNN's choice) or "-" */
    char note[24];     /* e.g. the algorithm auto chose, or why the cell was skipped */
    pass pass;
    int threads;
    double ms;         /* median; 0 for a skipped cell */
    double gflops;     /* 0 for a skipped cell */
    int runs;
    int64_t workspace_bytes; /* -1: unknown */
    int64_t peak_rss_bytes;  /* -1: unknown */
    char check[16];          /* agreement with tconv's NCHW auto ("ok", "FAIL", "-") */
} cell;

/* Runs fn(ctx) by the rules of b; returns the median time in milliseconds and the number
 * of measured runs. A run slower than the whole budget is measured once. */
double measure(void (*fn)(void *), void *ctx, const budget *b, int *runs);

/* Seconds since an arbitrary start. */
double now_seconds(void);

/* Peak resident set size of this process since the last call to rss_reset() (Linux:
 * VmHWM, reset through /proc/self/clear_refs); -1 if unknown. */
void rss_reset(void);
int64_t rss_peak(void);

/* The FMA peak: a tight loop of independent FMA chains on every thread, with the widest
 * vector ISA this CPU has (AVX-512F, else AVX2+FMA; chosen at run time). GFLOP/s of
 * float32 over `threads` threads, best of a few repetitions; 0 when neither ISA is
 * present. `*isa` receives the ISA's name. */
double fma_peak_gflops(int threads, const char **isa);

/* ---- tensors ------------------------------------------------------------------------------ */

/* Float32 tensors of one shape for its layer: `in` is the layer's input (conv: X,
 * transposed conv: Y), `out` its output; channels-first unless made by
 * tensors_channels_last. */
typedef struct tensors {
    float *in, *weight, *bias, *grad_out; /* inputs */
    float *out, *grad_in, *grad_weight, *grad_bias; /* outputs */
    int64_t n_in, n_weight, n_bias, n_out;
} tensors;

/* Random inputs (when `with_inputs`) and output buffers (filled with garbage). */
tensors tensors_new(const tconv_geometry *g, bool with_inputs, uint64_t seed);
/* The same inputs in channels-last order (weight and bias as they are), fresh outputs. */
tensors tensors_channels_last(const tconv_geometry *g, const tensors *t);
void tensors_free(tensors *t);
/* max |got - ref| / max |ref| over n elements. */
double rel_error(const float *got, const float *ref, int64_t n);
/* The worst relative error of got's outputs against ref's: all four after a backward,
 * `out` alone after a forward. `got` may be channels-last (`layout`): its activations are
 * compared in channels-first order. */
double tensors_compare(const tconv_geometry *g, const tensors *got, tconv_layout layout,
                       pass p, const tensors *ref);

/* float32 results of the same computation agree to this (relative to the largest value):
 * a wrong computation is off by O(1). */
#define AGREEMENT 1e-4

/* ---- results ------------------------------------------------------------------------------ */

typedef struct results {
    cell *cells;
    int count, cap;
} results;

/* A new zeroed cell at the end of r. */
cell *results_add(results *r);
/* The cell of (shape, label, pass, threads), or NULL. */
const cell *results_find(const results *r, const char *shape_name, const char *label, pass p,
                         int threads);
/* A cell's label: the algorithm, "@provider" unless the default, ":nhwc" when
 * channels-last. */
void cell_label(char *buf, size_t size, const char *algo, tconv_provider p, tconv_layout l);
/* Reads an earlier run's CSV (this format or the one before providers) into r. */
bool results_read_csv(results *r, const char *path);

/* ---- cells ---------------------------------------------------------------------------------- */

typedef struct progress {
    int done;
    double start;
} progress;

/* A new cell for shape s, its fields set but the measurement. */
cell *cell_new(results *r, const shape *s, const char *label, pass p, int threads);
/* Every cell of `again` that r holds too: r keeps the faster time (a later pass of the
 * same cell), the larger peak RSS and a failed check. Cells only `again` has are added. */
void results_keep_faster(results *r, const results *again);
/* Records the measurement (and the GFLOP/s it means) and reports progress on stderr. */
void cell_finish(cell *c, const shape *s, double ms, int runs, progress *pr);

/* Every tconv cell of one shape: the algorithms of the configuration per provider and
 * layout, checked against `ref` (tconv's NCHW auto with the default provider). */
void tconv_cells(results *r, const shape *s, const tensors *t, const tensors *ref,
                 const config *c, progress *pr);
/* The bare GEMM of the shape's GEMM view, per provider of the configuration. */
void gemm_cells(results *r, const shape *s, const tensors *t, const config *c, progress *pr);
/* The peers: PyTorch and oneDNN (plain, any, nhwc), checked against `ref`. */
void peer_cells(results *r, const shape *s, const tensors *t, const tensors *ref,
                const config *c, bool torch_ok, progress *pr);

/* Whether `name` is one of the comma-separated items of `list`. */
bool listed(const char *list, const char *name);

/* ---- peers ------------------------------------------------------------------------------- */

/* PyTorch: torch.nn.functional.conv{,_transpose}{1,2,3}d in a /usr/bin/python3 child.
 * torch_start returns false (with the reason in `why`) when Python or torch is missing. */
bool torch_start(const char *script, char *why, size_t why_size);
void torch_stop(void);
const char *torch_version(void);
/* Sends the shape and its tensors; the child computes forward and the three gradients
 * once and writes them into `got` (outputs only). */
bool torch_check(const shape *s, const tensors *t, tensors *got);
/* Times one pass at `threads` threads; false on failure. */
bool torch_time(pass p, int threads, const budget *b, double *ms, int *runs, int64_t *rss);

/* oneDNN 2.x (de)convolution primitives (forward, backward-data, backward-weights), for
 * the shape's layer, on one of three memory formats. */
typedef enum onednn_format {
    ONEDNN_PLAIN = 0, /* activations NCHW, weights as PyTorch stores them */
    ONEDNN_ANY = 1,   /* every tensor in the format oneDNN picks (format_tag_any) */
    ONEDNN_NHWC = 2   /* activations channels-last (nwc, nhwc, ndhwc), weights oneDNN's */
} onednn_format;

typedef struct onednn_peer onednn_peer;
bool onednn_available(void);
const char *onednn_version(void);
/* The cell label of a format: "onednn", "onednn_any", "onednn_nhwc". */
const char *onednn_label(onednn_format f);
/* Primitives for shape s, for the current OpenMP thread count; the tensors (tconv's
 * channels-first ones) are copied in (reordered). NULL with the reason in `why` when
 * oneDNN refuses. */
onednn_peer *onednn_create(const shape *s, onednn_format f, const tensors *t, char *why,
                           size_t why_size);
void onednn_forward(onednn_peer *p);
void onednn_backward(onednn_peer *p); /* backward-data, then backward-weights (+ bias) */
/* Copies the results of the last runs back in tconv's channels-first layout. */
void onednn_results(onednn_peer *p, tensors *got);
int64_t onednn_scratchpad_bytes(const onednn_peer *p);
void onednn_destroy(onednn_peer *p);

/* The bare GEMM of a provider, called in its library directly (OpenBLAS's cblas_sgemm,
 * oneDNN's dnnl_sgemm): whether this bench has it, and one product of view v: A has
 * v.groups blocks of m·k, B of k·n, C holds m·n (every group writes it). */
bool bare_gemm_available(tconv_provider p);
void bare_gemm(tconv_provider p, const gemm_view *v, const float *a, const float *b, float *c);

/* ---- reports ------------------------------------------------------------------------------ */

/* What the reports say about the run. */
typedef struct run_info {
    char env[512];     /* one line: BLAS core and variables, cores, load */
    char header[4096]; /* several lines: everything about the machine and the run */
    const int *threads;
    int n_threads;
    const tconv_provider *providers;
    int n_providers;
    size_t workspace_limit;
    bool avx512;       /* the OpenBLAS core in use runs AVX-512 kernels */
    double peak[8];    /* FMA peak GFLOP/s at threads[i], the best measurement; 0: none */
    int peak_measurements;
    const char *peak_isa;
    const results *baseline; /* an earlier run (--baseline), or NULL */
    const char *baseline_path;
} run_info;

/* Fills info's descriptions of the machine and the run (its peak figures must be set);
 * called again at the end for the load then. */
void describe_run(const config *c, run_info *info, const char *torch_note);

/* Highest GFLOP/s of (shape, label, pass) over the run's thread counts; 0 if none. */
double best_gflops(const results *r, const char *shape_name, const char *label, pass p,
                   const run_info *info);
/* GFLOP/s of one cell; 0 if absent or skipped. */
double cell_gflops(const results *r, const char *shape_name, const char *label, pass p,
                   int threads);
/* oneDNN's best layout: the faster of its plain and `any` runs. */
double onednn_best(const results *r, const char *shape_name, pass p, const run_info *info);
/* The FMA peak at `threads`, 0 if not measured; the thread count the peak figures are
 * read at (2 when the run has it, else the most). */
double peak_at(const run_info *info, int threads);
int peak_threads(const run_info *info);
/* GFLOP/s of the bare GEMM of a provider's shape at `threads`; for the default provider the
 * faster of the providers' bare GEMMs. 0 if not measured. */
double bare_gemm_for(const results *r, const char *shape_name, tconv_provider prov,
                     int threads);

/* Geometric means. */
typedef struct mean {
    double log_sum;
    int n;
} mean;
void mean_add(mean *m, double ratio);
double mean_of(const mean *m);

/* "12.3 MiB", or "-" for a negative count. */
const char *mib(int64_t bytes, char *buf, size_t size);

/* The map-size family's series: tconv algorithms, forward, 1 thread, default provider. */
enum { FAMILY_SERIES = 6 };
extern const char *const family_series[FAMILY_SERIES];
/* The family's cells: every series over growing maps, each stopped once a run is longer
 * than the cap. Fills family[] (at most 8) and returns how many maps. */
int family_cells(results *r, shape *family, const config *c, progress *pr);
/* A family cell's time in ms, NAN if absent; the map's input pixels. */
double family_ms(const results *r, const shape *s, const char *algo);
double family_pixels(const shape *s);
/* The family as a gnuplot data file. */
bool family_write_data(const results *r, const shape *family, int n, const char *path);

/* The table of one shape, on stdout. */
void report_shape(const results *r, const shape *s, const run_info *info);
/* Ratios against the peers per provider, GEMM efficiency against each provider's bare
 * GEMM, thread scaling and layouts, then the targets of the suite's issues, on stdout. */
void report_summary(const results *r, const shape *shapes, int n, const run_info *info);
/* The targets of the issues for this suite (issues 4, 10 and 12 for the transposed one,
 * 11 for the conv one), met or missed, each with its measured figure. */
void report_targets(const results *r, const shape *shapes, int n, const run_info *info);
/* The map-size family: times and log-log slopes, on stdout. */
void report_family(const results *r, const shape *family, int n);
/* Every cell as CSV, the run's description first as '#' lines. */
bool report_csv(const results *r, const char *path, const run_info *info);
/* GFLOP/s per shape for the algorithms and peers, per provider, and time against map size,
 * as SVG through gnuplot (data files are left beside them); files named after the suite. */
void report_plots(const results *r, const shape *shapes, int n, const shape *family,
                  int n_family, const char *dir, const run_info *info);

#endif
