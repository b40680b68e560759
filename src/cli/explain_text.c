/*
 * The sections of `tconv explain` as text: output sizes, the matrix and its transpose,
 * the multiplication count, and the two views, each view checked against the matrix.
 */
#include "explain.h"

#include <stdio.h>
#include <string.h>

/* A row or column that is too long to be useful is cut after this many terms (only in
 * matrices too large to print, whose own rows would be as long). */
#define SUMMARY_TERMS 12

static const char *axis_name(const explain_model *m, int a)
{
    static const char *const names[3][3] = {
        {"length", "", ""}, {"height", "width", ""}, {"depth", "height", "width"}};
    return names[m->g.dims - 1][a - (3 - m->g.dims)];
}

/* y of the convolution that takes x on axis a */
static int64_t conv_out(const explain_model *m, int a, int64_t x)
{
    return (x + 2 * m->p[a] - m->d[a] * (m->k[a] - 1) - 1) / m->s[a] + 1;
}

void explain_heading(explain_buf *out, const explain_model *m)
{
    char line[320];
    tconv_geometry_format(&m->g, line, sizeof line);
    explain_buf_printf(out, "==========================================================="
                            "=====================\n%s\n  %s\n"
                            "==========================================================="
                            "=====================\n",
                       m->title, line);
}

/* "y = floor(...)" with the numbers of axis a filled in */
static void forward_steps(explain_buf *out, const explain_model *m, int a, int64_t x)
{
    const int64_t num = x + 2 * m->p[a] - m->d[a] * (m->k[a] - 1) - 1;
    explain_buf_printf(out,
                       "      y = floor((x + 2p - d(k-1) - 1) / s) + 1\n"
                       "        = floor((%lld + 2*%lld - %lld*(%lld-1) - 1) / %lld) + 1\n"
                       "        = floor(%lld / %lld) + 1 = %lld\n",
                       (long long)x, (long long)m->p[a], (long long)m->d[a], (long long)m->k[a],
                       (long long)m->s[a], (long long)num, (long long)m->s[a],
                       (long long)(num / m->s[a] + 1));
}

static void transposed_steps(explain_buf *out, const explain_model *m, int a)
{
    explain_buf_printf(out,
                       "      x = (y-1)s - 2p + d(k-1) + output_padding + 1\n"
                       "        = (%lld-1)*%lld - 2*%lld + %lld*(%lld-1) + %lld + 1 = %lld\n",
                       (long long)m->y[a], (long long)m->s[a], (long long)m->p[a],
                       (long long)m->d[a], (long long)m->k[a], (long long)m->op[a],
                       (long long)m->x[a]);
}

/* Why output_padding exists: the s input sizes the floor merges. */
static void merged_sizes(explain_buf *out, const explain_model *m, int a)
{
    const int64_t s = m->s[a], smallest = m->x[a] - m->op[a];
    if (s == 1) {
        explain_buf_printf(out, "    stride 1: the floor drops nothing; each output size comes "
                                "from one input size.\n");
    } else {
        explain_buf_printf(out, "    stride %lld: the floor merges %lld input sizes: x = ",
                           (long long)s, (long long)s);
        if (s <= 6)
            for (int64_t j = 0; j < s; ++j)
                explain_buf_printf(out, "%s%lld", j ? ", " : "", (long long)(smallest + j));
        else
            explain_buf_printf(out, "%lld .. %lld", (long long)smallest,
                               (long long)(smallest + s - 1));
        explain_buf_printf(out,
                           " all give y = %lld.\n"
                           "    Going back, the transposed convolution returns the smallest, "
                           "%lld;\n"
                           "    output_padding (0 .. %lld) adds the remainder the floor "
                           "dropped. That is why\n"
                           "    the argument exists. Here output_padding = %lld gives %lld.\n",
                           (long long)m->y[a], (long long)smallest, (long long)(s - 1),
                           (long long)m->op[a], (long long)m->x[a]);
    }
    if (m->op[a] >= s)
        explain_buf_printf(out, "    output_padding %lld >= stride (allowed since dilation %lld "
                                "is larger): the convolution of\n    x = %lld gives y = %lld, "
                                "not %lld.\n",
                           (long long)m->op[a], (long long)m->d[a], (long long)m->x[a],
                           (long long)conv_out(m, a, m->x[a]), (long long)m->y[a]);
}

void explain_sizes(explain_buf *out, const explain_model *m)
{
    const bool conv = m->g.layer == TCONV_LAYER_CONV;
    explain_buf_printf(out, "\n1. Output size, axis by axis (PyTorch's formulas; the seed's "
                            "equations (1) and (4))\n");
    for (int a = 3 - m->g.dims; a < 3; ++a) {
        explain_buf_printf(out, "  %s (axis %d):\n", axis_name(m, a), a - (3 - m->g.dims));
        if (conv) {
            explain_buf_printf(out, "    the convolution maps x = %lld to\n", (long long)m->x[a]);
            forward_steps(out, m, a, m->x[a]);
            explain_buf_printf(out, "    and the transposed convolution maps y = %lld back "
                                    "to\n", (long long)m->y[a]);
            transposed_steps(out, m, a);
        } else {
            explain_buf_printf(out, "    the transposed convolution maps y = %lld to\n",
                               (long long)m->y[a]);
            transposed_steps(out, m, a);
            explain_buf_printf(out, "    and the convolution it transposes maps x = %lld back "
                                    "to\n", (long long)m->x[a]);
            forward_steps(out, m, a, m->x[a]);
        }
        merged_sizes(out, m, a);
    }
}

/* "wAB = weight[0][0][A][B]" for every channel pair */
static void weight_legend(explain_buf *out, const explain_model *m)
{
    static const char letters[] = "ABC";
    const int lead = 3 - m->g.dims;
    const int64_t pairs = m->cy * m->cxg;
    explain_buf_printf(out, "  Weights (the weight tensor is (y channels, x channels / groups, "
                            "kernel...) for both layers;\n  %s the tap along each kernel "
                            "axis):\n",
                       m->g.dims == 1 ? "A is" : m->g.dims == 2 ? "A, B are" : "A, B, C are");
    for (int64_t pair = 0; pair < pairs && pair < 26; ++pair) {
        char name[64];
        explain_weight_prefix(m, pair, name, sizeof name);
        explain_buf_printf(out, "    %s", name);
        for (int a = lead; a < 3; ++a)
            explain_buf_printf(out, "%c", letters[a - lead]);
        explain_buf_printf(out, " = weight[%lld][%lld]", (long long)(pair / m->cxg),
                           (long long)(pair % m->cxg));
        for (int a = lead; a < 3; ++a)
            explain_buf_printf(out, "[%c]", letters[a - lead]);
        explain_buf_printf(out, "\n");
    }
}

void explain_matrix(explain_buf *out, const explain_model *m, bool transposed)
{
    const int64_t R = m->info.rows, K = m->info.cols;
    const int64_t rows = transposed ? K : R, cols = transposed ? R : K;
    if (!m->printable) {
        if (transposed)
            return;
        int64_t entries;
        const bool fits = !__builtin_mul_overflow(R, K, &entries);
        explain_buf_printf(out, "\n2. The transformation matrix C (%lld x %lld): y = C x\n",
                           (long long)R, (long long)K);
        explain_buf_printf(out, "  Too large to print entry by entry (printed up to %d x %d): "
                                "a summary instead.\n",
                           EXPLAIN_PRINT_MAX, EXPLAIN_PRINT_MAX);
        if (fits)
            explain_buf_printf(out, "  %lld entries, %lld of them copies of a weight (%.3g%%), "
                                    "the rest zeros.\n",
                               (long long)entries, (long long)m->info.nnz,
                               100.0 * (double)m->info.nnz / (double)entries);
        if (m->info.dense_bytes != SIZE_MAX) /* info holds the float64 size */
            explain_buf_printf(out, "  As a dense matrix: %zu bytes in float32, %zu in float64 "
                                    "(the dense algorithm refuses\n  more than "
                                    "options.dense_limit, 256 MiB by default); in CSR: %lld "
                                    "non-zeros.\n",
                               m->info.dense_bytes / 2, m->info.dense_bytes,
                               (long long)m->info.nnz);
        else
            explain_buf_printf(out, "  As a dense matrix it would have more bytes than 64 bits "
                                    "can count; in CSR: %lld non-zeros.\n",
                               (long long)m->info.nnz);
        return;
    }
    if (transposed)
        explain_buf_printf(out, "\nIts transpose C\u1d40 (%lld x %lld): x = C\u1d40 y, the "
                                "transposed convolution\n",
                           (long long)rows, (long long)cols);
    else {
        explain_buf_printf(out, "\n2. The transformation matrix C (%lld x %lld): y = C x\n",
                           (long long)rows, (long long)cols);
        explain_buf_printf(out, "  Row y.. is an element of Y, column x.. an element of X (row "
                                "by row); an entry is the\n  weight that carries that x into "
                                "that y, '.' a zero.\n");
        weight_legend(out, m);
    }
    const int w = m->width;
    char name[64];
    explain_buf_printf(out, "  %*s ", w, "");
    for (int64_t c = 0; c < cols; ++c) {
        (transposed ? explain_y_name : explain_x_name)(m, c, name, sizeof name);
        explain_buf_printf(out, " %*s", w, name);
    }
    explain_buf_printf(out, "\n");
    for (int64_t r = 0; r < rows; ++r) {
        (transposed ? explain_x_name : explain_y_name)(m, r, name, sizeof name);
        explain_buf_printf(out, "  %*s ", w, name);
        for (int64_t c = 0; c < cols; ++c) {
            const int64_t wi = transposed ? m->structure[c * K + r] : m->structure[r * K + c];
            if (wi < 0)
                snprintf(name, sizeof name, ".");
            else
                explain_weight_name(m, wi, name, sizeof name);
            explain_buf_printf(out, " %*s", w, name);
        }
        explain_buf_printf(out, "\n");
    }
}

void explain_cost(explain_buf *out, const explain_model *m)
{
    const int64_t R = m->info.rows, K = m->info.cols;
    const int64_t conv_way = R * m->cxg * m->k_count; /* <= weight·|Sy|: no overflow */
    int64_t matrix_way;
    explain_buf_printf(out, "\n3. Multiplications for one image\n");
    if (__builtin_mul_overflow(R, K, &matrix_way))
        explain_buf_printf(out, "  the matrix way:      every entry of C, zero or not: %lld x "
                                "%lld = %.4g\n",
                           (long long)R, (long long)K, (double)R * (double)K);
    else
        explain_buf_printf(out, "  the matrix way:      every entry of C, zero or not: %lld x "
                                "%lld = %lld\n",
                           (long long)R, (long long)K, (long long)matrix_way);
    explain_buf_printf(out, "  the convolution way: every output, every tap, every input "
                            "channel of its group:\n"
                            "                       %lld x %lld x %lld = %lld\n",
                       (long long)R, (long long)m->k_count, (long long)m->cxg,
                       (long long)conv_way);
    explain_buf_printf(out, "  entries of C that copy a weight: %lld (the formula in "
                            "src/matrix.c)",
                       (long long)m->info.nnz);
    if (conv_way > m->info.nnz)
        explain_buf_printf(out, ";\n  the other %lld products of the convolution way meet "
                                "padding zeros",
                           (long long)(conv_way - m->info.nnz));
    const int64_t kx = m->g.groups * m->x_count;
    explain_buf_printf(out, ".\n  ratio: matrix / convolution = groups*|Sx| / |kernel| = %lld "
                            "/ %lld = %.3g",
                       (long long)kx, (long long)m->k_count, (double)kx / (double)m->k_count);
    if (m->g.dims == 2 && m->x[1] == m->x[2] && m->k[1] == m->k[2] && m->g.groups == 1)
        explain_buf_printf(out, ",\n  the seed's N^2/K^2 = %lld^2/%lld^2", (long long)m->x[2],
                           (long long)m->k[2]);
    explain_buf_printf(out, ".\n");
}

/* A 2-D picture of cells: cell(r, c) gives the text of each, width m->width. */
typedef void (*cell_fn)(const explain_model *m, const void *ctx, int64_t r, int64_t c,
                        char *buf, size_t size);

static void picture(explain_buf *out, const explain_model *m, int64_t rows, int64_t cols,
                    cell_fn cell, const void *ctx)
{
    char text[64];
    for (int64_t r = 0; r < rows; ++r) {
        explain_buf_printf(out, "     ");
        for (int64_t c = 0; c < cols; ++c) {
            cell(m, ctx, r, c, text, sizeof text);
            explain_buf_printf(out, " %*s", m->width, text);
        }
        explain_buf_printf(out, "\n");
    }
}

/* ---- distribution view ------------------------------------------------------------------ */

typedef struct spread_ctx {
    int64_t row; /* the Y element (cy, o) */
    int64_t cxl; /* the X channel of its group drawn */
} spread_ctx;

/* Canvas cell (r, c) of the padded X, 2-D: the weight that lands there, ':' for padding. */
static void spread_cell(const explain_model *m, const void *ctx, int64_t r, int64_t c,
                        char *buf, size_t size)
{
    const spread_ctx *sc = ctx;
    const int64_t cy = sc->row / m->y_count, o = sc->row % m->y_count;
    const int64_t pr = r - m->p[1], pc = c - m->p[2];
    const bool pad = pr < 0 || pr >= m->x[1] || pc < 0 || pc >= m->x[2];
    snprintf(buf, size, pad ? ":" : ".");
    for (int64_t k = 0; k < m->k_count; ++k) {
        explain_spread sp;
        explain_spread_of(m, o, k, &sp);
        if (sp.canvas[1] == r && sp.canvas[2] == c)
            explain_weight_name(m, (cy * m->cxg + sc->cxl) * m->k_count + k, buf, size);
    }
}

bool explain_distribution(explain_buf *out, const explain_model *m)
{
    const int64_t K = m->info.cols;
    bool agree = true;
    int64_t shown = 0;
    explain_buf_printf(out, "\n4. The distribution view (the seed's Figures 6-8)\n"
                            "  Each y element spreads its value through the kernel onto the "
                            "zero-padded x: tap k of\n  y[o] lands on canvas position o*s + "
                            "k*d, i.e. on x[o*s - p + k*d]; taps that land in the\n  padding "
                            "are dropped. Row y.. of C holds exactly what y.. spreads.\n");
    if (m->printable && m->g.dims == 2) {
        const int64_t rows = m->x[1] + 2 * m->p[1], cols = m->x[2] + 2 * m->p[2];
        for (int64_t row = 0; row < 2 && row < m->info.rows; ++row) {
            char name[64];
            explain_y_name(m, row, name, sizeof name);
            explain_buf_printf(out, "  %s on the padded %lldx%lld canvas of x ('.' inside x, "
                                    "':' padding)%s:\n",
                               name, (long long)rows, (long long)cols,
                               row == 0 ? ", as in Figure 6" : ", Figure 7");
            const spread_ctx sc = {row, 0};
            picture(out, m, rows, cols, spread_cell, &sc);
        }
    }
    /* without the library's matrix there is nothing to check: the first row shows the idea */
    const int64_t walked = m->structure ? m->info.rows : 1;
    for (int64_t row = 0; row < walked; ++row) {
        const int64_t cy = row / m->y_count, o = row % m->y_count, g = cy / m->cyg;
        const bool print = m->printable || row == 0;
        char name[64];
        int64_t inside = 0;
        explain_y_name(m, row, name, sizeof name);
        if (print)
            explain_buf_printf(out, "  %*s ->", m->width, name);
        for (int pass = 0; pass < 2; ++pass) { /* the taps inside x, then the dropped ones */
            bool first = true;
            for (int64_t cxl = 0; cxl < m->cxg; ++cxl)
                for (int64_t k = 0; k < m->k_count; ++k) {
                    explain_spread sp;
                    explain_spread_of(m, o, k, &sp);
                    if (sp.inside != (pass == 0))
                        continue;
                    const int64_t w = (cy * m->cxg + cxl) * m->k_count + k;
                    const int64_t col = (g * m->cxg + cxl) * m->x_count + explain_flat(m->x, sp.i);
                    char wn[64], xn[64];
                    explain_weight_name(m, w, wn, sizeof wn);
                    explain_x_name(m, col, xn, sizeof xn);
                    if (pass == 0) {
                        ++inside;
                        if (m->structure && m->structure[row * K + col] != w)
                            agree = false;
                    }
                    if (print && pass == 0 && inside <= SUMMARY_TERMS)
                        explain_buf_printf(out, "%s %s %s", first ? "" : ",", xn, wn);
                    else if (print && pass == 1 && m->printable)
                        explain_buf_printf(out, "%s%s", first ? "   (padding: " : " ", wn);
                    first = false;
                }
            if (print && pass == 1 && !first && m->printable)
                explain_buf_printf(out, ")");
            if (print && pass == 0 && inside > SUMMARY_TERMS)
                explain_buf_printf(out, ", ... (%lld in all)", (long long)inside);
        }
        if (print)
            explain_buf_printf(out, "\n");
        shown += print;
        if (m->structure) {
            int64_t nonzero = 0;
            for (int64_t c = 0; c < K; ++c)
                nonzero += m->structure[row * K + c] >= 0;
            agree &= nonzero == inside;
        }
    }
    if (shown < m->info.rows)
        explain_buf_printf(out, "  ... and %lld more y elements (listed for matrices up to %d x "
                                "%d).\n",
                           (long long)(m->info.rows - shown), EXPLAIN_PRINT_MAX,
                           EXPLAIN_PRINT_MAX);
    if (m->structure)
        explain_buf_printf(out, "  %s\n", agree ? "Checked: these are exactly the non-zeros "
                                                  "of C, row by row."
                                                : "MISMATCH: the view and the matrix C differ.");
    return agree;
}

/* ---- collection view -------------------------------------------------------------------- */

typedef struct canvas_ctx {
    int64_t cy; /* the Y channel stretched */
} canvas_ctx;

/* Cell (r, c) of the stretched, padded Y, 2-D: the y element there, or 0. */
static void canvas_cell(const explain_model *m, const void *ctx, int64_t r, int64_t c,
                        char *buf, size_t size)
{
    const canvas_ctx *cc = ctx;
    const int64_t z[3] = {0, r, c};
    const int64_t o = explain_canvas_source(m, z);
    if (o < 0)
        snprintf(buf, size, "0");
    else
        explain_y_name(m, cc->cy * m->y_count + o, buf, size);
}

/* Cell (r, c) of the flipped kernel of one channel pair, 2-D. */
static void flipped_cell(const explain_model *m, const void *ctx, int64_t r, int64_t c,
                         char *buf, size_t size)
{
    const int64_t pair = *(const int64_t *)ctx;
    const int64_t tap = (m->k[1] - 1 - r) * m->k[2] + (m->k[2] - 1 - c);
    explain_weight_name(m, pair * m->k_count + tap, buf, size);
}

static void stretch_steps(explain_buf *out, const explain_model *m)
{
    int64_t Z[3], q[3];
    explain_stretch(m, Z, q);
    explain_buf_printf(out, "  As a new convolution (the seed's equations (2)): stride 1, the "
                            "kernel flipped, and per axis\n");
    for (int a = 3 - m->g.dims; a < 3; ++a) {
        const int64_t stretched = (m->y[a] - 1) * m->s[a] + 1;
        explain_buf_printf(out, "  %s: insert s-1 = %lld zero%s between neighbours: %lld -> "
                                "(%lld-1)*%lld + 1 = %lld;\n",
                           axis_name(m, a), (long long)(m->s[a] - 1), m->s[a] == 2 ? "" : "s",
                           (long long)m->y[a],
                           (long long)m->y[a], (long long)m->s[a], (long long)stretched);
        explain_buf_printf(out, "    pad q = d(k-1) - p = %lld*(%lld-1) - %lld = %lld before "
                                "and q + output_padding = %lld after",
                           (long long)m->d[a], (long long)m->k[a], (long long)m->p[a],
                           (long long)q[a], (long long)(q[a] + m->op[a]));
        explain_buf_printf(out, "%s: %lld -> %lld;\n",
                           q[a] < 0 ? " (negative: crop)" : "", (long long)stretched,
                           (long long)Z[a]);
        explain_buf_printf(out, "    slide the kernel (extent d(k-1)+1 = %lld) with stride 1: "
                                "%lld - %lld + 1 = %lld = x.\n",
                           (long long)(m->d[a] * (m->k[a] - 1) + 1), (long long)Z[a],
                           (long long)(m->d[a] * (m->k[a] - 1) + 1), (long long)m->x[a]);
    }
}

bool explain_collection(explain_buf *out, const explain_model *m)
{
    const int64_t K = m->info.cols;
    int64_t Z[3], q[3], shown = 0;
    bool agree = true;
    explain_stretch(m, Z, q);
    explain_buf_printf(out, "\n5. The collection view (the seed's Figures 9-10)\n"
                            "  Each x element collects from the y elements it fed in the "
                            "forward convolution: the\n  transposed convolution is an ordinary "
                            "convolution of the stretched, padded y.\n");
    stretch_steps(out, m);
    if (m->printable && m->g.dims == 2) {
        for (int64_t cy = 0; cy < m->cy; ++cy) {
            explain_buf_printf(out, "  y channel %lld stretched and padded (0: an inserted or "
                                    "padding zero):\n",
                               (long long)cy);
            const canvas_ctx cc = {cy};
            picture(out, m, Z[1], Z[2], canvas_cell, &cc);
        }
        for (int64_t pair = 0; pair < m->cy * m->cxg; ++pair) {
            explain_buf_printf(out, "  the flipped kernel of weight[%lld][%lld] (reversed on "
                                    "every axis):\n",
                               (long long)(pair / m->cxg), (long long)(pair % m->cxg));
            picture(out, m, m->k[1], m->k[2], flipped_cell, &pair);
        }
    }
    explain_buf_printf(out, "  Column x.. of C (row x.. of C\u1d40) holds what x.. collects:\n");
    const int64_t walked = m->structure ? K : 1; /* as in the distribution view */
    for (int64_t col = 0; col < walked; ++col) {
        const int64_t cx = col / m->x_count, g = cx / m->cxg, cxl = cx % m->cxg;
        int64_t i[3], terms = 0;
        explain_unflat(m->x, col % m->x_count, i);
        const bool print = m->printable || col == 0;
        char name[64];
        explain_x_name(m, col, name, sizeof name);
        if (print)
            explain_buf_printf(out, "  %*s <-", m->width, name);
        for (int64_t cyl = 0; cyl < m->cyg; ++cyl)
            for (int64_t kf = 0; kf < m->k_count; ++kf) {
                int64_t kk[3], z[3];
                explain_unflat(m->k, kf, kk);
                for (int a = 0; a < 3; ++a)
                    z[a] = i[a] + kk[a] * m->d[a];
                const int64_t o = explain_canvas_source(m, z);
                if (o < 0)
                    continue; /* the window meets an inserted or padding zero */
                const int64_t cy = g * m->cyg + cyl, row = cy * m->y_count + o;
                const int64_t w = (cy * m->cxg + cxl) * m->k_count + (m->k_count - 1 - kf);
                char wn[64], yn[64];
                explain_weight_name(m, w, wn, sizeof wn);
                explain_y_name(m, row, yn, sizeof yn);
                if (print && terms < SUMMARY_TERMS)
                    explain_buf_printf(out, "%s %s*%s", terms ? " +" : "", wn, yn);
                ++terms;
                if (m->structure && m->structure[row * K + col] != w)
                    agree = false;
            }
        if (print && terms > SUMMARY_TERMS)
            explain_buf_printf(out, " + ... (%lld terms in all)", (long long)terms);
        if (print)
            explain_buf_printf(out, "%s\n", terms ? "" : " nothing (only zeros in its window)");
        shown += print;
        if (m->structure) {
            int64_t nonzero = 0;
            for (int64_t r = 0; r < m->info.rows; ++r)
                nonzero += m->structure[r * K + col] >= 0;
            agree &= nonzero == terms;
        }
    }
    if (shown < K)
        explain_buf_printf(out, "  ... and %lld more x elements (listed for matrices up to %d x "
                                "%d).\n",
                           (long long)(K - shown), EXPLAIN_PRINT_MAX, EXPLAIN_PRINT_MAX);
    if (m->structure)
        explain_buf_printf(out, "  %s\n", agree ? "Checked: these are exactly the non-zeros "
                                                  "of C, column by column."
                                                : "MISMATCH: the view and the matrix C differ.");
    return agree;
}
