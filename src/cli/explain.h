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
void explain_buf_free(explain_buf *b);

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

/* ---- sections (explain_text.c) --------------------------------------------------------- */
void explain_heading(explain_buf *out, const explain_model *m);
void explain_sizes(explain_buf *out, const explain_model *m);
void explain_matrix(explain_buf *out, const explain_model *m, bool transposed);
void explain_cost(explain_buf *out, const explain_model *m);
/* The views return false when they disagree with the library's matrix. */
bool explain_distribution(explain_buf *out, const explain_model *m);
bool explain_collection(explain_buf *out, const explain_model *m);

/* ---- numbers (explain_check.c) --------------------------------------------------------- */
/* Every algorithm and dtype against gather in float64 on random data: the report goes to
 * m->check_text, the verdict to m->check_ok. */
void explain_check(explain_model *m, int64_t batch, uint64_t seed);
/* Times the layer's forward and backward by each matrix-view algorithm (never a test). */
void explain_time(explain_buf *out, const explain_model *m, int64_t batch, int threads);

/* ---- pictures (explain_html.c); false if the file could not be written ------------------ */
bool explain_write_html(const char *path, explain_model *const *models, int count);
bool explain_write_svg(const char *path, explain_model *const *models, int count);

#endif
