/*
 * The GEMM route of `tconv explain`: what the production path (the gemm algorithm) does
 * instead of building C, with numbers. For a transposed convolution
 *     cols[C_x/g·Πk][|Sy|] = W_gᵀ · y_g        (one GEMM per group)
 *     x_g = col2im(cols)                        (entry (cx, tap) of column o adds into
 *                                                x at o·s - p + tap·d, or is dropped)
 * and for a convolution
 *     cols[C_x/g·Πk][|Sy|] = im2col(x_g)        (entry (cx, tap) of column o copies x at
 *                                                o·s - p + tap·d, or a padding zero)
 *     y_g = W_g · cols                          (one GEMM per group)
 * Column o of cols is what y at position o spreads (transposed) or reads (conv): column o
 * of Cᵀ, row o of C. Each step is run by the library itself, through its public API, as
 * a layer that is exactly that step:
 *   - W_gᵀ·y and W_g·cols: a 1x1 layer (stride 1, no padding) from C_y/g to C_x/g·Πk
 *     channels whose weight is W_g's memory as it is, (C_y/g, C_x/g·Πk, 1...); the gemm
 *     algorithm runs it as one GEMM (its pointwise path);
 *   - im2col and col2im: the layer's own kernel, stride, padding, dilation and
 *     output_padding, with C_x/g·Πk channels on the column side, C_x/g on the x side and
 *     groups = C_x/g, and one-hot kernels (channel (cx, tap) has a single 1 at tap): its
 *     GEMM multiplies by the identity, so its result is exactly im2col's or col2im's;
 *   - where each entry goes: col2im of a buffer whose column o holds the codes 1, 2, ...
 *     (one image per column, so no two codes meet), and im2col of an x that holds its own
 *     positions, read back.
 * The result is compared with Cᵀ y or C x from tconv_matrix_dense, and every landing place
 * with the weight the matrix's structure has there.
 */
#include "explain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The route is computed and printed entry by entry up to this many rows and columns of
 * one group's buffer, and this many rows over all groups. */
#define ROUTE_MAX_SIDE EXPLAIN_PRINT_MAX
#define ROUTE_MAX_ROWS (2 * EXPLAIN_PRINT_MAX)

double explain_route_weight_value(int64_t w)
{
    return (double)(1 + w % 4);
}

double explain_route_input_value(int64_t i)
{
    return (double)(1 + i % 7);
}

void explain_number(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v == 0 ? 0.0 : v);
    else
        snprintf(buf, size, "%.6g", v);
}

static void free_arrays(explain_route *r)
{
    free(r->weight), free(r->input), free(r->cols), free(r->at), free(r->output);
    free(r->expected);
    r->weight = r->input = r->cols = r->output = r->expected = NULL;
    r->at = NULL;
}

void explain_route_free(explain_route *r)
{
    free_arrays(r);
    memset(r, 0, sizeof *r);
}

/* The layers the route runs, for one image of one group. */
typedef struct route_layers {
    tconv_geometry gemm;   /* the 1x1 layer: W_gᵀ·y or W_g·cols */
    tconv_geometry unfold; /* the one-hot layer: col2im or im2col, batch 1 */
} route_layers;

static tconv_status layers_of(const explain_model *m, route_layers *l, tconv_error *err)
{
    const tconv_geometry *g = &m->g;
    const int64_t rows = m->cxg * m->k_count, ones[3] = {1, 1, 1};
    tconv_status s;
    if (g->layer == TCONV_LAYER_CONVT) {
        s = tconv_geometry_init_transposed(&l->gemm, g->dims, 1, m->cyg, rows, 1, g->y_size, ones,
                                           NULL, NULL, NULL, NULL, err);
        if (s == TCONV_OK)
            s = tconv_geometry_init_transposed(&l->unfold, g->dims, 1, rows, m->cxg, m->cxg,
                                               g->y_size, g->kernel, g->stride, g->padding,
                                               g->output_padding, g->dilation, err);
    } else {
        s = tconv_geometry_init_conv(&l->gemm, g->dims, 1, rows, m->cyg, 1, g->y_size, ones, NULL,
                                     NULL, NULL, err);
        if (s == TCONV_OK)
            s = tconv_geometry_init_conv(&l->unfold, g->dims, 1, m->cxg, rows, m->cxg, g->x_size,
                                         g->kernel, g->stride, g->padding, g->dilation, err);
    }
    return s;
}

static tconv_status run(const tconv_geometry *g, tconv_product p, const double *a,
                        const double *weight, double *out, tconv_error *err)
{
    return tconv_product_run(g, p, TCONV_ALGO_GEMM, TCONV_F64, a, NULL, weight, out, NULL, err);
}

/* The steps of group `gi`: cols, `at`, and the group's block of the output. */
static tconv_status route_group(explain_model *m, const route_layers *l, const double *onehot,
                                int64_t gi, double *scratch, tconv_error *err)
{
    explain_route *r = &m->route;
    const int64_t rows = r->crows, cols = r->ccols, K = m->k_count, xn = m->x_count;
    double *buf = r->cols + gi * rows * cols;
    int64_t *at = r->at + gi * rows * cols;
    const double *w = r->weight + gi * m->cyg * m->cxg * K;
    tconv_status s;
    if (r->transposed) {
        const double *y = r->input + gi * m->cyg * m->y_count;
        double *x = r->output + gi * m->cxg * xn;
        if ((s = run(&l->gemm, TCONV_APPLY_T, y, w, buf, err)) ||
            (s = run(&l->unfold, TCONV_APPLY_T, buf, onehot, x, err)))
            return s;
        /* col2im of the codes: image o has 1, 2, ... down column o and zeros elsewhere */
        tconv_geometry coded = l->unfold;
        coded.batch = cols;
        double *codes = scratch, *landed = scratch + cols * rows * cols;
        memset(codes, 0, (size_t)(cols * rows * cols) * sizeof *codes);
        for (int64_t o = 0; o < cols; ++o)
            for (int64_t e = 0; e < rows; ++e)
                codes[(o * rows + e) * cols + o] = (double)(e + 1);
        if ((s = run(&coded, TCONV_APPLY_T, codes, onehot, landed, err)))
            return s;
        for (int64_t i = 0; i < rows * cols; ++i)
            at[i] = -1;
        for (int64_t o = 0; o < cols; ++o)
            for (int64_t c = 0; c < m->cxg * xn; ++c) {
                const double v = landed[o * m->cxg * xn + c];
                const int64_t e = (int64_t)v - 1;
                if (v == 0)
                    continue;
                if (v != floor(v) || e < 0 || e >= rows || at[e * cols + o] >= 0) {
                    snprintf(err->message, sizeof err->message,
                             "col2im's coded result holds "
                             "%g, not one entry's code",
                             v);
                    return err->status = TCONV_EINVAL;
                }
                at[e * cols + o] = gi * m->cxg * xn + c;
            }
    } else {
        const double *x = r->input + gi * m->cxg * xn;
        double *y = r->output + gi * m->cyg * m->y_count;
        if ((s = run(&l->unfold, TCONV_APPLY, x, onehot, buf, err)) ||
            (s = run(&l->gemm, TCONV_APPLY, buf, w, y, err)))
            return s;
        /* im2col of an x that holds its own positions 1, 2, ...: 0 is a padding zero */
        double *codes = scratch, *copied = scratch + m->cxg * xn;
        for (int64_t c = 0; c < m->cxg * xn; ++c)
            codes[c] = (double)(c + 1);
        if ((s = run(&l->unfold, TCONV_APPLY, codes, onehot, copied, err)))
            return s;
        for (int64_t i = 0; i < rows * cols; ++i)
            at[i] = copied[i] == 0 ? -1 : gi * m->cxg * xn + (int64_t)copied[i] - 1;
    }
    return TCONV_OK;
}

/* Every entry that lands (or copies) where C has, for each y channel of its group, the
 * weight of that channel, tap and x channel; and together they are all of C's non-zeros. */
static bool matches_structure(const explain_model *m)
{
    const explain_route *r = &m->route;
    const int64_t K = m->k_count, width = m->info.cols;
    int64_t found = 0;
    for (int64_t gi = 0; gi < m->g.groups; ++gi)
        for (int64_t e = 0; e < r->crows; ++e)
            for (int64_t o = 0; o < r->ccols; ++o) {
                const int64_t col = r->at[(gi * r->crows + e) * r->ccols + o];
                const int64_t cxl = e / K, tap = e % K;
                if (col < 0)
                    continue;
                if (col / m->x_count != gi * m->cxg + cxl)
                    return false;
                for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
                    const int64_t cy = gi * m->cyg + cyl, row = cy * m->y_count + o;
                    if (m->structure[row * width + col] != (cy * m->cxg + cxl) * K + tap)
                        return false;
                    ++found;
                }
            }
    return found == m->info.nnz;
}

/* Cᵀ y or C x from the dense matrix of the same weight. */
static tconv_status expected_of(const explain_model *m, tconv_error *err)
{
    const explain_route *r = &m->route;
    const int64_t R = m->info.rows, K = m->info.cols;
    double *dense = malloc((size_t)(R * K) * sizeof *dense);
    if (!dense)
        return TCONV_ENOMEM;
    const tconv_product p = r->transposed ? TCONV_APPLY_T : TCONV_APPLY;
    const tconv_status s = tconv_matrix_dense(&m->g, p, TCONV_F64, r->weight, dense, NULL, err);
    const int64_t out_n = r->transposed ? K : R, in_n = r->transposed ? R : K;
    for (int64_t i = 0; s == TCONV_OK && i < out_n; ++i) {
        double sum = 0;
        for (int64_t j = 0; j < in_n; ++j)
            sum += dense[i * in_n + j] * r->input[j];
        r->expected[i] = sum;
    }
    free(dense);
    return s;
}

void explain_route_init(explain_model *m)
{
    explain_route *r = &m->route;
    memset(r, 0, sizeof *r);
    r->transposed = m->g.layer == TCONV_LAYER_CONVT;
    r->crows = m->cxg * m->k_count;
    r->ccols = m->y_count;
    if (!m->structure) {
        snprintf(r->why, sizeof r->why,
                 "C, which the route is checked against, has more than "
                 "%lld entries",
                 (long long)EXPLAIN_STRUCTURE_MAX);
        return;
    }
    if (r->crows > ROUTE_MAX_SIDE || r->ccols > ROUTE_MAX_SIDE ||
        m->g.groups * r->crows > ROUTE_MAX_ROWS) {
        snprintf(r->why, sizeof r->why,
                 "the route is printed up to %d rows (here C_x/g·Πk "
                 "= %lld) and %d columns (|Sy| = %lld) per group, %d "
                 "rows in all",
                 ROUTE_MAX_SIDE, (long long)r->crows, ROUTE_MAX_SIDE, (long long)r->ccols,
                 ROUTE_MAX_ROWS);
        return;
    }
    const int64_t K = m->k_count, groups = m->g.groups, buffer = groups * r->crows * r->ccols;
    const int64_t weights = m->cy * m->cxg * K;
    const int64_t in_n = r->transposed ? m->info.rows : m->info.cols;
    const int64_t out_n = r->transposed ? m->info.cols : m->info.rows;
    /* the coded col2im: one image per column, in and out; im2col needs less */
    const int64_t scratch_n = r->ccols * r->crows * r->ccols + r->ccols * m->cxg * m->x_count +
                              m->cxg * m->x_count + r->crows * r->ccols;
    r->weight = malloc((size_t)weights * sizeof(double));
    r->input = malloc((size_t)in_n * sizeof(double));
    r->cols = malloc((size_t)buffer * sizeof(double));
    r->at = malloc((size_t)buffer * sizeof(int64_t));
    r->output = malloc((size_t)out_n * sizeof(double));
    r->expected = malloc((size_t)out_n * sizeof(double));
    double *onehot = malloc((size_t)(r->crows * K) * sizeof(double));
    double *scratch = malloc((size_t)scratch_n * sizeof(double));
    tconv_error err = {TCONV_ENOMEM, "out of memory"};
    tconv_status s = TCONV_ENOMEM;
    route_layers l;
    if (r->weight && r->input && r->cols && r->at && r->output && r->expected && onehot && scratch)
        s = layers_of(m, &l, &err);
    if (s == TCONV_OK) {
        for (int64_t w = 0; w < weights; ++w)
            r->weight[w] = explain_route_weight_value(w);
        for (int64_t i = 0; i < in_n; ++i)
            r->input[i] = explain_route_input_value(i);
        /* channel (cx, tap) of the one-hot layer: a single 1, at tap */
        for (int64_t e = 0; e < r->crows; ++e)
            for (int64_t t = 0; t < K; ++t)
                onehot[e * K + t] = t == e % K;
        for (int64_t gi = 0; gi < groups && s == TCONV_OK; ++gi)
            s = route_group(m, &l, onehot, gi, scratch, &err);
    }
    if (s == TCONV_OK)
        s = expected_of(m, &err);
    free(onehot);
    free(scratch);
    if (s != TCONV_OK) {
        snprintf(r->why, sizeof r->why, "a step of the route failed (%s: %s)", tconv_status_name(s),
                 err.message);
        free_arrays(r);
        r->failed = true;
        return;
    }
    r->diff = 0;
    for (int64_t i = 0; i < out_n; ++i)
        r->diff = fmax(r->diff, fabs(r->output[i] - r->expected[i]));
    r->agrees = r->diff == 0 && matches_structure(m);
    r->shown = true;
}

/* ---- the text -------------------------------------------------------------------------- */

/* A table: a line of column labels, then per row its label and entries, all `w` wide. */
typedef void (*entry_fn)(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                         size_t size);

static void table(explain_buf *out, const explain_model *m, int64_t gi, int64_t rows, int64_t cols,
                  entry_fn row_label, entry_fn col_label, entry_fn entry)
{
    char text[64];
    int w = 1, lw = 1;
    for (int64_t r = -1; r < rows; ++r)
        for (int64_t c = -1; c < cols; ++c) {
            if (r < 0 && c < 0)
                continue;
            (r < 0 ? col_label : c < 0 ? row_label : entry)(m, gi, r, c, text, sizeof text);
            const int n = (int)strlen(text);
            if (c < 0)
                lw = n > lw ? n : lw;
            else
                w = n > w ? n : w;
        }
    explain_buf_printf(out, "    %*s ", lw, "");
    for (int64_t c = 0; c < cols; ++c) {
        col_label(m, gi, -1, c, text, sizeof text);
        explain_buf_printf(out, " %*s", w, text);
    }
    explain_buf_printf(out, "\n");
    for (int64_t r = 0; r < rows; ++r) {
        row_label(m, gi, r, -1, text, sizeof text);
        explain_buf_printf(out, "    %*s ", lw, text);
        for (int64_t c = 0; c < cols; ++c) {
            entry(m, gi, r, c, text, sizeof text);
            explain_buf_printf(out, " %*s", w, text);
        }
        explain_buf_printf(out, "\n");
    }
}

static void wg_row(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf, size_t size)
{
    (void)c;
    snprintf(buf, size, "y%lld", (long long)(gi * m->cyg + r));
}

static void wg_col(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf, size_t size)
{
    (void)gi, (void)r;
    explain_cols_row_name(m, c, buf, size);
}

static void cols_row(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                     size_t size)
{
    (void)gi, (void)c;
    explain_cols_row_name(m, r, buf, size);
}

static void cols_col(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                     size_t size)
{
    (void)gi, (void)r;
    explain_cols_col_name(m, c, buf, size);
}

static void wg_name(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                    size_t size)
{
    explain_weight_name(m, ((gi * m->cyg + r) * m->cxg) * m->k_count + c, buf, size);
}

static void wg_value(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                     size_t size)
{
    explain_number(m->route.weight[((gi * m->cyg + r) * m->cxg) * m->k_count + c], buf, size);
}

static void cols_value(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                       size_t size)
{
    explain_number(m->route.cols[(gi * m->route.crows + r) * m->route.ccols + c], buf, size);
}

static void cols_at(const explain_model *m, int64_t gi, int64_t r, int64_t c, char *buf,
                    size_t size)
{
    const int64_t at = m->route.at[(gi * m->route.crows + r) * m->route.ccols + c];
    if (at < 0)
        snprintf(buf, size, "-");
    else
        explain_x_name(m, at, buf, size);
}

/* The values of one tensor of the model, a map per channel (3-D: a slice per depth). */
static void maps(explain_buf *out, const explain_model *m, bool y, const double *v)
{
    const int64_t *e = y ? m->y : m->x;
    const int64_t channels = y ? m->cy : m->cx, count = y ? m->y_count : m->x_count;
    char text[64];
    int w = 1;
    for (int64_t i = 0; i < channels * count; ++i) {
        explain_number(v[i], text, sizeof text);
        w = (int)strlen(text) > w ? (int)strlen(text) : w;
    }
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t d = 0; d < e[0]; ++d) {
            explain_buf_printf(out, "    %c%lld", y ? 'y' : 'x', (long long)c);
            if (e[0] > 1)
                explain_buf_printf(out, ", depth %lld", (long long)d);
            explain_buf_printf(out, ":\n");
            for (int64_t r = 0; r < e[1]; ++r) {
                explain_buf_printf(out, "     ");
                for (int64_t q = 0; q < e[2]; ++q) {
                    explain_number(v[c * count + (d * e[1] + r) * e[2] + q], text, sizeof text);
                    explain_buf_printf(out, " %*s", w, text);
                }
                explain_buf_printf(out, "\n");
            }
        }
}

bool explain_gemm_route(explain_buf *out, const explain_model *m)
{
    const explain_route *r = &m->route;
    if (r->transposed)
        explain_buf_printf(
            out,
            "\n6. The GEMM route: how the gemm algorithm computes x = C\u1d40 y "
            "(cols = W_g\u1d40\u00b7y, then col2im)\n"
            "  The production path never builds C. Per group g the weight is a matrix W_g "
            "(C_y/g = %lld rows,\n  C_x/g\u00b7\u03a0k = %lld columns: an x channel and a tap); "
            "one GEMM gives the column buffer\n  cols = W_g\u1d40\u00b7y, a column per y "
            "position holding its %lld contributions, and col2im adds\n  entry (channel, tap) "
            "of column o into x at o*s - p + tap*d, or drops it in the padding.\n  Column o "
            "through col2im is what y spreads from position o: C\u1d40's columns for o, one "
            "per\n  y channel of the group. C\u1d40 = col2im \u2218 (W_g\u1d40 applied "
            "position by position).\n",
            (long long)m->cyg, (long long)r->crows, (long long)r->crows);
    else
        explain_buf_printf(
            out,
            "\n6. The GEMM route: how the gemm algorithm computes y = C x "
            "(cols = im2col(x), then W_g\u00b7cols)\n"
            "  The production path never builds C. im2col copies, for every y position o, "
            "the window of x it\n  reads into column o of a column buffer: entry (channel, "
            "tap) is x at o*s - p + tap*d, or a\n  padding zero. Per group g the weight is a "
            "matrix W_g (C_y/g = %lld rows, C_x/g\u00b7\u03a0k = %lld\n  columns: an x channel "
            "and a tap) and one GEMM gives y = W_g\u00b7cols. Column o of cols is what\n  C's rows "
            "for position o read (C\u1d40's columns for o): C = W_g \u00b7 im2col, position "
            "by position.\n",
            (long long)m->cyg, (long long)r->crows);
    if (!r->shown) {
        explain_buf_printf(out, "  %s: %s.\n", r->failed ? "FAILED" : "Not shown here", r->why);
        return !r->failed;
    }
    explain_buf_printf(out,
                       "  Data: small whole numbers, so that every sum is exact: element "
                       "j of %s is 1 + (j mod 7),\n  weight w (its flat index) is 1 + "
                       "(w mod 4).\n",
                       r->transposed ? "y" : "x");
    for (int64_t gi = 0; gi < m->g.groups; ++gi) {
        explain_buf_printf(out,
                           "  W_g, group %lld (%lld x %lld): a row per y channel, a column "
                           "per (x channel, tap); the weights,\n",
                           (long long)gi, (long long)m->cyg, (long long)r->crows);
        table(out, m, gi, m->cyg, r->crows, wg_row, wg_col, wg_name);
        explain_buf_printf(out, "    and their values:\n");
        table(out, m, gi, m->cyg, r->crows, wg_row, wg_col, wg_value);
        /* the buffer, then where each entry goes: the two directions differ in words */
        static const char *const what[2][2] = {
            {"cols = im2col(x)", "by tconv as a convolution with one-hot kernels,\n  groups = "
                                 "C_x/g (its GEMM multiplies by the identity)"},
            {"cols = W_g\u1d40\u00b7y", "by tconv as a 1x1 transposed convolution whose "
                                         "weight is\n  W_g's memory (one GEMM)"}};
        static const char *const where[2][2] = {
            {"im2col", "the x element each entry copies ('-': a padding zero), read off "
                       "tconv's im2col"},
            {"col2im", "the x element each entry is added into ('-': the padding, dropped), "
                       "read off\n  tconv's col2im (a transposed convolution with one-hot "
                       "kernels, groups = C_x/g)"}};
        explain_buf_printf(out, "  %s, group %lld (%lld x %lld), %s:\n", what[r->transposed][0],
                           (long long)gi, (long long)r->crows, (long long)r->ccols,
                           what[r->transposed][1]);
        table(out, m, gi, r->crows, r->ccols, cols_row, cols_col, cols_value);
        explain_buf_printf(out, "  %s, group %lld: %s:\n", where[r->transposed][0], (long long)gi,
                           where[r->transposed][1]);
        table(out, m, gi, r->crows, r->ccols, cols_row, cols_col, cols_at);
    }
    if (r->transposed) {
        explain_buf_printf(out, "  x = col2im(cols):\n");
        maps(out, m, false, r->output);
    } else {
        explain_buf_printf(out, "  y = W_g\u00b7cols, by tconv as a 1x1 convolution whose "
                                "weight is W_g's memory (one GEMM):\n");
        maps(out, m, true, r->output);
    }
    if (r->agrees)
        explain_buf_printf(out,
                           "  Checked: the route gives %s exactly (C from "
                           "tconv_matrix_dense), and each entry\n  lands where C puts "
                           "its weight: %lld entries times %lld y channel%s are the %lld "
                           "non-zeros of C.\n",
                           r->transposed ? "C\u1d40 y" : "C x", (long long)(m->info.nnz / m->cyg),
                           (long long)m->cyg, m->cyg > 1 ? "s" : "", (long long)m->info.nnz);
    else
        explain_buf_printf(out,
                           "  MISMATCH: the route and the matrix differ (largest "
                           "difference %g).\n",
                           r->diff);
    return r->agrees;
}
