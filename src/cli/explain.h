/*
 * `tconv explain`: one geometry seen the way a learner is shown it. The model holds the
 * geometry on three axes (1-D and 2-D get leading unit axes, as in the library), the
 * transformation matrix's structure from the library, and the two textbook views computed
 * here from their own formulas, so that each can be checked against the matrix.
 */
#ifndef TCONV_CLI_EXPLAIN_H
#define TCONV_CLI_EXPLAIN_H

#include <tconv/tconv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Matrices up to this many rows and columns are printed entry by entry. */
#define EXPLAIN_PRINT_MAX 64
/* The structure is fetched from the library (and drawn) up to this many entries. */
#define EXPLAIN_STRUCTURE_MAX ((int64_t)1 << 20)

/* A growable string: every section is written into one, so the terminal and the page
 * show the same text. */
typedef struct explain_buf {
    char *data;
    size_t len, cap;
    bool failed; /* out of memory: the text is cut short */
} explain_buf;
void explain_buf_printf(explain_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the n bytes at s. */
void explain_buf_append(explain_buf *b, const char *s, size_t n);
void explain_buf_free(explain_buf *b);

/*
 * The GEMM route (explain_route.c): how the gemm algorithm computes the layer, for small
 * whole numbers as data. Per group g the weight is the matrix W_g (C_y/g rows, C_x/g·Πk
 * columns: an x channel of the group and a tap), and the column buffer has C_x/g·Πk rows
 * and one column per y position:
 *   transposed: cols = W_gᵀ·y (one GEMM), then col2im adds entry (channel, tap) of column o
 *               into x at o·s - p + tap·d;
 *   conv:       cols = im2col(x) (entry (channel, tap) of column o copies that x element),
 *               then y = W_g·cols.
 * Every number comes from the library: cols, col2im and im2col are tconv_product_run on
 * layers that are exactly those steps (a 1x1 layer with W_g's memory as its weight is the
 * GEMM; a layer with one-hot kernels and groups = C_x/g is im2col or col2im), and `at`,
 * the x element each entry lands on or copies, is read off col2im's and im2col's results
 * for coded inputs. The route's result is compared with C x or Cᵀ y built from
 * tconv_matrix_dense, and `at` with the matrix's structure.
 */
typedef struct explain_route {
    bool shown;             /* computed (small enough, and every step ran) */
    bool failed;            /* a step failed: `why` says which and how */
    char why[300];          /* why not, when not shown */
    bool transposed;        /* the layer is a ConvTranspose: the route ends in col2im */
    int64_t crows, ccols;   /* one group's column buffer: C_x/g·Πk rows, |Sy| columns */
    double *weight;         /* the weight tensor's values */
    double *input;          /* the layer's input: y (transposed) or x (conv) */
    double *cols;           /* groups·crows·ccols: each group's column buffer */
    int64_t *at;            /* the same shape: the x element (flat, C's column), or -1 */
    double *output;         /* the route's result: x (transposed) or y (conv) */
    double *expected;       /* Cᵀ y or C x through tconv_matrix_dense */
    double diff;            /* the largest |output - expected| */
    bool agrees;            /* diff within rounding and every `at` where C puts it */
} explain_route;

/* The data of the route: small whole numbers, so that every sum is exact. */
double explain_route_weight_value(int64_t w);
double explain_route_input_value(int64_t i);

typedef struct explain_model {
    const char *title;
    tconv_geometry g;
    int64_t x[3], y[3], k[3], s[3], p[3], d[3], op[3];
    int64_t cx, cy, cxg, cyg, x_count, y_count, k_count;
    tconv_matrix_info info; /* rows = cy·|Sy|, cols = cx·|Sx|, nnz */
    int64_t *structure;     /* C's weight index per entry (-1: zero); NULL if too large */
    bool printable;         /* rows and cols <= EXPLAIN_PRINT_MAX and structure present */
    int width;              /* characters of the longest entry or label name */
    explain_buf check;      /* the numeric check's report, once run */
    bool check_ok;
    explain_route route;    /* the GEMM route, when small enough */
} explain_model;

/* Builds the model of a checked geometry; on failure `err` says why. */
tconv_status explain_model_init(explain_model *m, const char *title, const tconv_geometry *g,
                                tconv_error *err);
void explain_model_free(explain_model *m);

/* Names as the printed matrix uses them: weights w00 … (one letter per channel pair when
 * there are several: a00 …, b00 …), cells x00 … / y00 … (x1:00 … with several channels). */
void explain_weight_name(const explain_model *m, int64_t w, char *buf, size_t size);
/* The name's prefix for channel pair cy·(C_x/g) + cxl: "w", "a", "b", ... */
void explain_weight_prefix(const explain_model *m, int64_t pair, char *buf, size_t size);
void explain_x_name(const explain_model *m, int64_t col, char *buf, size_t size);
void explain_y_name(const explain_model *m, int64_t row, char *buf, size_t size);
/* A weight's channel pair and its tap, for legends: weight[cy][cxl][tap...]. */
void explain_weight_slot(const explain_model *m, int64_t w, int64_t *cy, int64_t *cxl,
                         int64_t tap[3]);

/*
 * The distribution view (the seed's Figures 6-8): Y element (cy, o) spreads through tap k
 * to canvas position c = o·s + k·d of the zero-padded X, i.e. to x position i = c - p;
 * `inside` says whether it lands in X or in the padding. Flat tap and positions.
 */
typedef struct explain_spread {
    int64_t canvas[3], i[3];
    bool inside;
} explain_spread;
void explain_spread_of(const explain_model *m, int64_t o_flat, int64_t tap, explain_spread *sp);

/*
 * The collection view (Figures 9-10): Y stretched (s - 1 zeros between neighbours) and
 * padded by q = d(k-1) - p before, q + output_padding after, on a canvas of extent
 * Z = x + d(k-1); X element i collects the window z = i + k'·d through the flipped kernel
 * (tap k' of the flipped kernel is tap K-1-k' of the weight).
 */
void explain_stretch(const explain_model *m, int64_t Z[3], int64_t q[3]);
/* The Y position at canvas cell z (flat positions), or -1 for an inserted or padding
 * zero. */
int64_t explain_canvas_source(const explain_model *m, const int64_t z[3]);

/* Flat index <-> three-axis position. */
int64_t explain_flat(const int64_t e[3], const int64_t pos[3]);
void explain_unflat(const int64_t e[3], int64_t flat, int64_t pos[3]);

/* The route of a model (called by explain_model_init) and its resources. */
void explain_route_init(explain_model *m);
void explain_route_free(explain_route *r);
/* Names in the column buffer: row "k11" (tap; "1:k11" with x channel 1 of the group when
 * there are several), column "y01" (a y position; "y:01" when Y has several channels). */
void explain_cols_row_name(const explain_model *m, int64_t row, char *buf, size_t size);
void explain_cols_col_name(const explain_model *m, int64_t col, char *buf, size_t size);
/* The route's number as printed: whole numbers without a point. */
void explain_number(double v, char *buf, size_t size);

/* ---- sections (explain_text.c) --------------------------------------------------------- */
void explain_heading(explain_buf *out, const explain_model *m);
void explain_sizes(explain_buf *out, const explain_model *m);
void explain_matrix(explain_buf *out, const explain_model *m, bool transposed);
void explain_cost(explain_buf *out, const explain_model *m);
/* The views return false when they disagree with the library's matrix. */
bool explain_distribution(explain_buf *out, const explain_model *m);
bool explain_collection(explain_buf *out, const explain_model *m);
/* The GEMM route (explain_route.c); false when it disagrees with the matrix. */
bool explain_gemm_route(explain_buf *out, const explain_model *m);

/* ---- numbers (explain_check.c) --------------------------------------------------------- */
/* Past this many multiply-adds per product the check is skipped: the command's bound, and
 * the page's (which recomputes at every change, in the browser). */
#define EXPLAIN_CHECK_MAX_MACS ((int64_t)200000000)
#define EXPLAIN_PAGE_CHECK_MAX_MACS ((int64_t)2000000)
/* Every algorithm and dtype against gather in float64 on random data: the report goes to
 * m->check, the verdict to m->check_ok. */
void explain_check(explain_model *m, int64_t batch, uint64_t seed, int64_t max_macs);
/* Times the layer's forward and backward by each matrix-view algorithm (never a test). */
void explain_time(explain_buf *out, const explain_model *m, int64_t batch, int threads);

/* ---- pictures (explain_html.c) ---------------------------------------------------------- */
/* The matrix picture alone; false if the file could not be written. */
bool explain_write_svg(const char *path, explain_model *const *models, int count);
/* One model's section of the page: its markup, and its steps as a JSON object (view id:
 * list of steps). */
void explain_page_section(explain_buf *html, explain_buf *steps, explain_model *m);
/* What the page's module returns for one geometry, that section with its facts:
 * {"ok":true,"title":...,"geometry":...,"out_size":[...],"html":...,"steps":{...}}, or for
 * a refusal {"ok":false,"message":...}. */
void explain_page_json(explain_buf *out, explain_model *m);
void explain_page_json_error(explain_buf *out, const char *message);
/* A JSON string literal of s (quotes included; '<', '>' and '&' escaped, so it may stand in
 * a script of an XML page). */
void explain_json_string(explain_buf *out, const char *s);
/* The layer's output size as a JSON array. */
void explain_json_out_size(explain_buf *out, const tconv_geometry *g);
/* s with the characters HTML and XML reserve escaped. */
void explain_escape(explain_buf *out, const char *s);
/* Writes b to path; false if it could not (or b is cut short). */
bool explain_write_file(const char *path, const explain_buf *b);

/* ---- the page (explain_page.c) ---------------------------------------------------------- */
/* The page: controls for every parameter, the models as presets, the first one drawn; the
 * embedded WebAssembly module redraws at every change. False if it was not written: then
 * `reason` says why, or is NULL for a file error. */
bool explain_write_html(const char *path, explain_model *const *models, int count,
                        const char **reason);

/* ---- the command line (cmd_explain.c) ---------------------------------------------------- */
/* What a `tconv explain` command line asks for. Per-axis arrays hold `n_*` values (1: every
 * axis). */
typedef struct explain_request {
    bool custom, transposed, conv, time;
    int64_t example; /* 0: both */
    int64_t in_channels, out_channels, groups, batch, threads;
    int64_t seed;
    int dims;
    int64_t input[3], kernel[3], stride[3], padding[3], output_padding[3], dilation[3];
    int64_t output_size[3];
    int n_kernel, n_stride, n_padding, n_output_padding, n_dilation, n_output_size;
    const char *html, *svg;
} explain_request;
/* 0, -1 for --help, or 2 for a bad command line (why in `msg`). argv[0] is not read. */
int explain_parse(int argc, char **argv, explain_request *r, explain_buf *msg);
/* The geometry of a custom request; false when the library refuses it (its message goes to
 * `msg`, as the C API gives it) or the flags disagree in their axis count. */
bool explain_request_geometry(const explain_request *r, tconv_geometry *g, explain_buf *msg);
/* The seed's examples 1 and 2. */
void explain_seed_geometry(int example, tconv_geometry *g, const char **title);

#endif
