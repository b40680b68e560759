/*
 * The benchmark's shared types: the shapes of bench/shapes.csv, one measured cell, and the
 * interfaces of the peers (PyTorch through a Python child, oneDNN through its C API).
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
    tconv_geometry g; /* a transposed-convolution geometry */
    double flops;     /* one forward pass: 2·N·C_in·(C_out/g)·Πk·Π(input) */
} shape;

/* Reads the shapes of `path` (comment lines start with '#'). Returns the count, or -1
 * with a message on stderr. `*out` is malloc'ed. */
int shapes_read(const char *path, shape **out);

/* A geometry of the map-size family: ConvTranspose2d(4 -> 4, k 4, s 2, p 1), batch 1, on
 * an n x n input. */
void shape_family(int64_t n, shape *s);

/* ---- measurement ------------------------------------------------------------------------- */

typedef enum pass { PASS_FWD = 0, PASS_FWDBWD = 1 } pass;

static inline const char *pass_name(pass p)
{
    return p == PASS_FWD ? "fwd" : "fwd+bwd";
}

/* What one cell (shape x algorithm x pass x threads) measured. */
typedef struct cell {
    char shape[32];
    char algo[24];
    char note[24]; /* e.g. the algorithm auto chose */
    pass pass;
    int threads;
    double ms;    /* median */
    double gflops;
    int runs;
    int64_t workspace_bytes; /* -1: unknown */
    int64_t peak_rss_bytes;  /* -1: unknown */
    char check[16];          /* peers: agreement with tconv ("ok", "FAIL", "-") */
} cell;

/* Timing rules for one cell. */
typedef struct budget {
    double seconds;   /* measured runs stop once this much time has passed ... */
    int min_runs;     /* ... and at least this many runs were made */
    int max_runs;
    double warmup_s;  /* warm-up runs until this much time has passed (at least one) */
} budget;

/* Runs fn(ctx) by the rules of b; returns the median time in milliseconds and the number
 * of measured runs. A run slower than the whole budget is measured once. */
double measure(void (*fn)(void *), void *ctx, const budget *b, int *runs);

/* Seconds since an arbitrary start. */
double now_seconds(void);

/* Peak resident set size of this process since the last call to rss_reset() (Linux:
 * VmHWM, reset through /proc/self/clear_refs); -1 if unknown. */
void rss_reset(void);
int64_t rss_peak(void);

/* ---- peers ------------------------------------------------------------------------------- */

/* Float32 tensors of one shape, NCHW (or NCL / NCDHW) as tconv lays them out. */
typedef struct tensors {
    float *in, *weight, *bias, *grad_out; /* inputs */
    float *out, *grad_in, *grad_weight, *grad_bias; /* outputs */
    int64_t n_in, n_weight, n_bias, n_out;
} tensors;

/* max |got - ref| / max |ref| over n elements. */
double rel_error(const float *got, const float *ref, int64_t n);

/* PyTorch: torch.nn.functional.conv_transpose{1,2,3}d in a /usr/bin/python3 child.
 * torch_start returns false (with the reason in `why`) when Python or torch is missing. */
bool torch_start(const char *script, char *why, size_t why_size);
void torch_stop(void);
const char *torch_version(void);
/* Sends the shape and its tensors; the child computes forward and the three gradients
 * once and writes them into `got` (outputs only). */
bool torch_check(const shape *s, const tensors *t, tensors *got);
/* Times one pass at `threads` threads; false on failure. */
bool torch_time(pass p, int threads, const budget *b, double *ms, int *runs, int64_t *rss);

/* oneDNN 2.x deconvolution primitives (forward, backward-data, backward-weights). */
typedef struct onednn_peer onednn_peer;
bool onednn_available(void);
const char *onednn_version(void);
/* Primitives for shape s with plain (NCHW) or oneDNN-chosen (`any`) memory formats, for
 * the current OpenMP thread count; the tensors are copied in (reordered when blocked).
 * NULL with the reason in `why` when oneDNN refuses. */
onednn_peer *onednn_create(const shape *s, bool any, const tensors *t, char *why,
                           size_t why_size);
void onednn_forward(onednn_peer *p);
void onednn_backward(onednn_peer *p); /* backward-data, then backward-weights (+ bias) */
/* Copies the results of the last runs back in tconv's layout. */
void onednn_results(onednn_peer *p, tensors *got);
int64_t onednn_scratchpad_bytes(const onednn_peer *p);
void onednn_destroy(onednn_peer *p);

/* ---- results and reports ------------------------------------------------------------- */

typedef struct results {
    cell *cells;
    int count, cap;
} results;

/* A new zeroed cell at the end of r. */
cell *results_add(results *r);
/* The cell of (shape, algo, pass, threads), or NULL. */
const cell *results_find(const results *r, const char *shape_name, const char *algo, pass p,
                         int threads);

/* What the reports say about the run. */
typedef struct run_info {
    char env[512];     /* one line: BLAS core and variables, cores, load */
    char header[2048]; /* several lines: everything about the machine and the run */
    const int *threads;
    int n_threads;
    size_t workspace_limit;
    bool avx512; /* the BLAS runs AVX-512 kernels */
} run_info;

/* The table of one shape, on stdout. */
void report_shape(const results *r, const shape *s, const run_info *info);
/* Ratios against the peers, efficiency against bare sgemm, thread scaling, and the
 * targets of the issue, on stdout. */
void report_summary(const results *r, const shape *shapes, int n, const run_info *info);
/* The map-size family: times and log-log slopes, on stdout. */
void report_family(const results *r, const shape *family, int n);
/* Every cell as CSV, the run's description first as '#' lines. */
bool report_csv(const results *r, const char *path, const run_info *info);
/* GFLOP/s per shape and per algorithm and peer, and time against map size, as SVG through
 * gnuplot (data files are left beside them). */
void report_plots(const results *r, const shape *shapes, int n, const shape *family,
                  int n_family, const char *dir, const run_info *info);

#endif
