/*
 * The pictures of `tconv explain`: one model's section of the page (the same text as the
 * terminal, the matrix and its transpose drawn as grids coloured by weight, both views and
 * the GEMM route stepped through cell by cell like the seed's animations), as the page is
 * written (explain_page.c) and as its WebAssembly module redraws it (explain_page_json);
 * and the matrix picture alone as an SVG file.
 *
 * The markup is well-formed XML as well as HTML5 (void elements self-closed), so both
 * parsers check it. Every step of the steppers is computed here, from the same functions
 * as the text (which are checked against the library's matrix): a step is a list of marks
 * [element id, class, label] and a caption, in JSON; the page's script only switches
 * classes and labels.
 */
#include "explain.h"

#include <stdio.h>
#include <string.h>

/* Views are drawn for 1-D and 2-D geometries whose maps have at most this many cells per
 * side and channels. */
#define VIEW_MAX_SIDE 24
#define VIEW_MAX_CHANNELS 4
/* Matrices are drawn up to this many entries, their longest side in this many pixels (the
 * route's copy in half as many). */
#define DRAW_MAX_ENTRIES ((int64_t)40000)
#define MATRIX_BUDGET 720

/* The first n characters of s (or up to its NUL), escaped for HTML and XML; the runs
 * between reserved characters are appended whole (the texts run to 100 kB). */
static void esc(explain_buf *out, const char *s, size_t n)
{
    size_t run = 0, i = 0;
    for (; i < n && s[i]; ++i) {
        const char *entity = s[i] == '&'   ? "&amp;"
                             : s[i] == '<' ? "&lt;"
                             : s[i] == '>' ? "&gt;"
                             : s[i] == '"' ? "&quot;"
                                           : NULL;
        if (!entity)
            continue;
        explain_buf_append(out, s + run, i - run);
        explain_buf_append(out, entity, strlen(entity));
        run = i + 1;
    }
    explain_buf_append(out, s + run, i - run);
}

void explain_escape(explain_buf *out, const char *s)
{
    esc(out, s, strlen(s));
}

static void pre(explain_buf *out, const explain_buf *text)
{
    explain_buf_printf(out, "<pre>");
    if (text->data)
        esc(out, text->data, text->len);
    explain_buf_printf(out, "</pre>\n");
}

/* A distinct colour per weight: hues a golden angle apart. */
static void weight_colour(int64_t w, char *buf, size_t size)
{
    snprintf(buf, size, "hsl(%d,65%%,%d%%)", (int)((w * 137) % 360), w % 2 ? 68 : 78);
}

/* ---- the matrix as a grid ---------------------------------------------------------------- */

typedef struct grid {
    int cs, left, top, width, height;
    bool labels, names;
} grid;

static bool drawable(const explain_model *m)
{
    return m->structure && m->info.rows * m->info.cols <= DRAW_MAX_ENTRIES;
}

/* The grid's cell size fits its longest side in `budget` pixels (from 3 to 22 a cell). */
static grid grid_of(const explain_model *m, bool transposed, int budget)
{
    const int64_t rows = transposed ? m->info.cols : m->info.rows;
    const int64_t cols = transposed ? m->info.rows : m->info.cols;
    const int64_t longest = rows > cols ? rows : cols;
    grid g;
    g.cs = (int)(budget / longest);
    g.cs = g.cs > 22 ? 22 : g.cs < 3 ? 3 : g.cs;
    g.labels = g.cs >= 12;
    g.names = g.cs >= 18 && m->width <= 4;
    g.left = g.top = g.labels ? m->width * 7 + 12 : 8;
    g.width = g.left + (int)cols * g.cs + 8;
    g.height = g.top + (int)rows * g.cs + 8;
    return g;
}

/* The grid's elements, placed at (x0, y0). With `bands` (an id prefix), a transparent band
 * over each row of C (or column of Cᵀ), id <bands>-<row of C>, for the route to light. */
static void matrix_cells(explain_buf *out, const explain_model *m, bool transposed, int x0,
                         int y0, int budget, const char *bands)
{
    const grid g = grid_of(m, transposed, budget);
    const int64_t K = m->info.cols;
    const int64_t rows = transposed ? K : m->info.rows, cols = transposed ? m->info.rows : K;
    char name[64], rn[64], cn[64], colour[32];
    explain_buf_printf(out, "<g transform=\"translate(%d,%d)\" font-family=\"monospace\">\n",
                       x0, y0);
    if (g.labels) {
        for (int64_t c = 0; c < cols; ++c) {
            (transposed ? explain_y_name : explain_x_name)(m, c, name, sizeof name);
            const int x = g.left + (int)c * g.cs + g.cs / 2 + 3;
            explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"9\" "
                                    "transform=\"rotate(-90 %d %d)\">%s</text>\n",
                               x, g.top - 4, x, g.top - 4, name);
        }
        for (int64_t r = 0; r < rows; ++r) {
            (transposed ? explain_x_name : explain_y_name)(m, r, name, sizeof name);
            explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"9\" "
                                    "text-anchor=\"end\">%s</text>\n",
                               g.left - 4, g.top + (int)r * g.cs + g.cs / 2 + 3, name);
        }
    }
    explain_buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
                            "stroke=\"#999\"/>\n",
                       g.left, g.top, (int)cols * g.cs, (int)rows * g.cs);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const int64_t w = transposed ? m->structure[c * K + r] : m->structure[r * K + c];
            if (w < 0)
                continue;
            const int x = g.left + (int)c * g.cs, y = g.top + (int)r * g.cs;
            weight_colour(w, colour, sizeof colour);
            explain_weight_name(m, w, name, sizeof name);
            (transposed ? explain_x_name : explain_y_name)(m, r, rn, sizeof rn);
            (transposed ? explain_y_name : explain_x_name)(m, c, cn, sizeof cn);
            explain_buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                                    "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\">"
                                    "<title>row %s, column %s: %s</title></rect>\n",
                               x, y, g.cs, g.cs, colour, rn, cn, name);
            if (g.names)
                explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"%d\" "
                                        "text-anchor=\"middle\">%s</text>\n",
                                   x + g.cs / 2, y + g.cs / 2 + 3, g.cs * 2 / 5, name);
        }
    /* light rules between the blocks of one channel */
    for (int64_t c = 1; c < cols; ++c)
        if (c % (transposed ? m->y_count : m->x_count) == 0)
            explain_buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                    "stroke=\"#555\"/>\n",
                               g.left + (int)c * g.cs, g.top, g.left + (int)c * g.cs,
                               g.top + (int)rows * g.cs);
    for (int64_t r = 1; r < rows; ++r)
        if (r % (transposed ? m->x_count : m->y_count) == 0)
            explain_buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                    "stroke=\"#555\"/>\n",
                               g.left, g.top + (int)r * g.cs, g.left + (int)cols * g.cs,
                               g.top + (int)r * g.cs);
    for (int64_t b = 0; bands && b < m->info.rows; ++b) {
        const int at = (int)b * g.cs;
        explain_buf_printf(out, "<rect id=\"%s-%lld\" class=\"band\" x=\"%d\" y=\"%d\" "
                                "width=\"%d\" height=\"%d\"/>\n",
                           bands, (long long)b, transposed ? g.left + at : g.left,
                           transposed ? g.top : g.top + at,
                           transposed ? g.cs : (int)cols * g.cs,
                           transposed ? (int)rows * g.cs : g.cs);
    }
    explain_buf_printf(out, "</g>\n");
}

static void matrix_figure(explain_buf *out, const explain_model *m, bool transposed, int mi)
{
    if (!drawable(m)) {
        explain_buf_printf(out, "<p class=\"note\">The %lld x %lld matrix is too large to draw "
                                "here (drawn up to %lld entries); the text above sums it "
                                "up.</p>\n",
                           (long long)m->info.rows, (long long)m->info.cols,
                           (long long)DRAW_MAX_ENTRIES);
        return;
    }
    const grid g = grid_of(m, transposed, MATRIX_BUDGET);
    explain_buf_printf(out, "<svg class=\"matrix\" id=\"m%d-%s\" width=\"%d\" height=\"%d\" "
                            "viewBox=\"0 0 %d %d\">\n",
                       mi, transposed ? "Ct" : "C", g.width, g.height, g.width, g.height);
    matrix_cells(out, m, transposed, 0, 0, MATRIX_BUDGET, NULL);
    explain_buf_printf(out, "</svg>\n");
}

static void legend(explain_buf *out, const explain_model *m)
{
    const int64_t weights = m->cy * m->cxg * m->k_count;
    if (!drawable(m) || weights > 128)
        return;
    explain_buf_printf(out, "<p class=\"legend\">");
    for (int64_t w = 0; w < weights; ++w) {
        char name[64], colour[32];
        explain_weight_name(m, w, name, sizeof name);
        weight_colour(w, colour, sizeof colour);
        explain_buf_printf(out, "<span style=\"background:%s\">%s</span> ", colour, name);
    }
    explain_buf_printf(out, "</p>\n");
}

/* ---- the views ------------------------------------------------------------------------------ */

#define CELL 36

static bool viewable(const explain_model *m)
{
    int64_t Z[3], q[3];
    explain_stretch(m, Z, q);
    return m->structure && m->g.dims <= 2 && m->cx <= VIEW_MAX_CHANNELS &&
           m->cy <= VIEW_MAX_CHANNELS && m->x[2] + 2 * m->p[2] <= VIEW_MAX_SIDE &&
           m->x[1] + 2 * m->p[1] <= VIEW_MAX_SIDE && Z[1] <= VIEW_MAX_SIDE &&
           Z[2] <= VIEW_MAX_SIDE && m->y[1] <= VIEW_MAX_SIDE && m->y[2] <= VIEW_MAX_SIDE;
}

/* One map of rows x cols cells at (x0, y0): rect id = prefix-r-c, overlay text id = ...t.
 * `name` gives the permanent label of a cell (or NULL), `pad` marks grey cells. */
typedef struct map_style {
    const explain_model *m;
    const char *prefix;
    int64_t rows, cols;
    int x0, y0;
    const char *caption;
} map_style;

typedef void (*cell_label_fn)(const explain_model *m, int64_t channel, int64_t r, int64_t c,
                              char *buf, size_t size, bool *pad);

static void draw_map(explain_buf *out, const map_style *s, int64_t channel, cell_label_fn label)
{
    explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", s->x0,
                       s->y0 - 6, s->caption);
    for (int64_t r = 0; r < s->rows; ++r)
        for (int64_t c = 0; c < s->cols; ++c) {
            char name[64] = "";
            bool pad = false;
            label(s->m, channel, r, c, name, sizeof name, &pad);
            const int x = s->x0 + (int)c * CELL, y = s->y0 + (int)r * CELL;
            explain_buf_printf(out, "<rect id=\"%s-%lld-%lld\" class=\"%s\" x=\"%d\" y=\"%d\" "
                                    "width=\"%d\" height=\"%d\"/>\n",
                               s->prefix, (long long)r, (long long)c, pad ? "pad" : "cell", x,
                               y, CELL, CELL);
            if (name[0])
                explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\" "
                                        "text-anchor=\"middle\" class=\"%s\">%s</text>\n",
                                   x + CELL / 2, y + 14, pad ? "zero" : "name", name);
            explain_buf_printf(out, "<text id=\"%s-%lld-%lldt\" x=\"%d\" y=\"%d\" "
                                    "font-size=\"10\" text-anchor=\"middle\" "
                                    "class=\"mark\"></text>\n",
                               s->prefix, (long long)r, (long long)c, x + CELL / 2, y + 30);
        }
}

/* the rows and columns of a map, 1-D maps lying as one row */
static void map_extent(const int64_t e[3], int64_t *rows, int64_t *cols)
{
    *rows = e[1];
    *cols = e[2];
}

static void y_label(const explain_model *m, int64_t cy, int64_t r, int64_t c, char *buf,
                    size_t size, bool *pad)
{
    *pad = false;
    explain_y_name(m, cy * m->y_count + r * m->y[2] + c, buf, size);
}

static void x_label(const explain_model *m, int64_t cx, int64_t r, int64_t c, char *buf,
                    size_t size, bool *pad)
{
    *pad = false;
    explain_x_name(m, cx * m->x_count + r * m->x[2] + c, buf, size);
}

/* the padded canvas of the distribution view: grey in the padding, unnamed */
static void canvas_label(const explain_model *m, int64_t cx, int64_t r, int64_t c, char *buf,
                         size_t size, bool *pad)
{
    (void)cx;
    const int64_t i = r - m->p[1], j = c - m->p[2];
    *pad = i < 0 || i >= m->x[1] || j < 0 || j >= m->x[2];
    if (size)
        buf[0] = '\0';
}

/* the stretched, padded y of the collection view */
static void stretched_label(const explain_model *m, int64_t cy, int64_t r, int64_t c,
                            char *buf, size_t size, bool *pad)
{
    int64_t Z[3], q[3];
    explain_stretch(m, Z, q);
    const int64_t z[3] = {0, r, c};
    const int64_t o = explain_canvas_source(m, z);
    const int64_t t1 = r - q[1], t2 = c - q[2];
    *pad = t1 < 0 || t1 > (m->y[1] - 1) * m->s[1] || t2 < 0 || t2 > (m->y[2] - 1) * m->s[2];
    if (o >= 0)
        explain_y_name(m, cy * m->y_count + o, buf, size);
    else
        snprintf(buf, size, "0");
}

/* A step's marks go into the script as [id, class, text] triples. */
static void mark(explain_buf *js, bool *first, const char *prefix, int64_t r, int64_t c,
                 const char *cls, const char *text)
{
    char id[136]; /* a prefix and two 64-bit indices */
    snprintf(id, sizeof id, "%s-%lld-%lld", prefix, (long long)r, (long long)c);
    explain_buf_printf(js, "%s[", *first ? "" : ",");
    explain_json_string(js, id);
    explain_buf_printf(js, ",\"%s\",", cls);
    explain_json_string(js, text);
    explain_buf_printf(js, "]");
    *first = false;
}

/* The end of a step: its caption. */
static void caption_end(explain_buf *js, explain_buf *cap)
{
    explain_buf_printf(js, "],\"c\":");
    explain_json_string(js, cap->data ? cap->data : "");
    explain_buf_printf(js, "}");
    explain_buf_free(cap);
}

/* Opens the steps of view `id` in the steps object (which the caller opened with '{'). */
static void steps_open(explain_buf *js, const char *id)
{
    explain_buf_printf(js, "%s", js->len > 1 ? ",\n" : "");
    explain_json_string(js, id);
    explain_buf_printf(js, ":[");
}

static void view_frame(explain_buf *out, const char *id, int width, int height,
                       const char *what)
{
    explain_buf_printf(out,
                       "<div class=\"view\" id=\"%s\">\n"
                       "<p class=\"controls\"><button type=\"button\" class=\"prev\">"
                       "\u25c0 step</button> <button type=\"button\" class=\"play\">"
                       "\u25b6 play</button> <button type=\"button\" class=\"next\">"
                       "step \u25b6</button> <span class=\"step\"></span></p>\n"
                       "<p class=\"cap\"></p>\n"
                       "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                       "font-family=\"monospace\"><title>%s</title>\n",
                       id, width, height, width, height, what);
}

static void distribution_view(explain_buf *out, explain_buf *js, const explain_model *m, int mi)
{
    int64_t yr, yc, xr, xc;
    map_extent(m->y, &yr, &yc);
    map_extent(m->x, &xr, &xc);
    const int64_t pr = xr + 2 * m->p[1], pc = xc + 2 * m->p[2];
    const int left_w = (int)yc * CELL, canvas_x = left_w + 60;
    const int height = 30 + (int)((m->cy * (yr + 1) > m->cx * (pr + 1) ? m->cy * (yr + 1)
                                                                        : m->cx * (pr + 1)) *
                                  CELL);
    char id[32], prefix[64], caption[96];
    snprintf(id, sizeof id, "m%dd", mi);
    view_frame(out, id, canvas_x + (int)pc * CELL + 10, height,
               "distribution view: each y element spreads onto the padded x");
    for (int64_t cy = 0; cy < m->cy; ++cy) {
        snprintf(prefix, sizeof prefix, "m%dd-y%lld", mi, (long long)cy);
        snprintf(caption, sizeof caption, "y channel %lld", (long long)cy);
        const map_style s = {m, prefix, yr, yc, 0, 20 + (int)(cy * (yr + 1)) * CELL, caption};
        draw_map(out, &s, cy, y_label);
    }
    for (int64_t cx = 0; cx < m->cx; ++cx) {
        snprintf(prefix, sizeof prefix, "m%dd-x%lld", mi, (long long)cx);
        snprintf(caption, sizeof caption, "x channel %lld, padded by %lld", (long long)cx,
                 (long long)m->p[2]);
        const map_style s = {m, prefix, pr, pc, canvas_x, 20 + (int)(cx * (pr + 1)) * CELL,
                             caption};
        draw_map(out, &s, cx, canvas_label);
    }
    explain_buf_printf(out, "</svg>\n</div>\n");

    /* one step per y element: it, and where each tap of each partner channel lands */
    steps_open(js, id);
    for (int64_t row = 0; row < m->info.rows; ++row) {
        const int64_t cy = row / m->y_count, o = row % m->y_count, g = cy / m->cyg;
        char yn[64];
        bool first = true;
        explain_y_name(m, row, yn, sizeof yn);
        explain_buf_printf(js, "%s{\"m\":[", row ? ",\n" : "");
        snprintf(prefix, sizeof prefix, "m%dd-y%lld", mi, (long long)cy);
        mark(js, &first, prefix, o / m->y[2], o % m->y[2], "src", "");
        explain_buf cap = {0};
        explain_buf_printf(&cap, "%s spreads to", yn);
        int inside = 0, dropped = 0;
        for (int64_t cxl = 0; cxl < m->cxg; ++cxl)
            for (int64_t k = 0; k < m->k_count; ++k) {
                explain_spread sp;
                char wn[64], xn[64];
                explain_spread_of(m, o, k, &sp);
                explain_weight_name(m, (cy * m->cxg + cxl) * m->k_count + k, wn, sizeof wn);
                snprintf(prefix, sizeof prefix, "m%dd-x%lld", mi, (long long)(g * m->cxg + cxl));
                mark(js, &first, prefix, sp.canvas[1], sp.canvas[2], sp.inside ? "hit" : "drop",
                     wn);
                if (sp.inside) {
                    explain_x_name(m, (g * m->cxg + cxl) * m->x_count + explain_flat(m->x, sp.i),
                                   xn, sizeof xn);
                    explain_buf_printf(&cap, "%s %s (%s)", inside++ ? "," : "", xn, wn);
                } else {
                    ++dropped;
                }
            }
        if (dropped)
            explain_buf_printf(&cap, "; %d tap%s in the padding", dropped,
                               dropped > 1 ? "s fall" : " falls");
        caption_end(js, &cap);
    }
    explain_buf_printf(js, "]");
}

static void collection_view(explain_buf *out, explain_buf *js, const explain_model *m, int mi)
{
    int64_t Z[3], q[3], xr, xc;
    explain_stretch(m, Z, q);
    map_extent(m->x, &xr, &xc);
    const int left_w = (int)Z[2] * CELL, x_left = left_w + 60;
    const int height = 30 + (int)((m->cy * (Z[1] + 1) > m->cx * (xr + 1) ? m->cy * (Z[1] + 1)
                                                                          : m->cx * (xr + 1)) *
                                  CELL);
    char id[32], prefix[64], caption[96];
    snprintf(id, sizeof id, "m%dc", mi);
    view_frame(out, id, x_left + (int)xc * CELL + 10, height,
               "collection view: each x element collects through the flipped kernel");
    for (int64_t cy = 0; cy < m->cy; ++cy) {
        snprintf(prefix, sizeof prefix, "m%dc-z%lld", mi, (long long)cy);
        snprintf(caption, sizeof caption, "y channel %lld, stretched and padded",
                 (long long)cy);
        const map_style s = {m, prefix, Z[1], Z[2], 0, 20 + (int)(cy * (Z[1] + 1)) * CELL,
                             caption};
        draw_map(out, &s, cy, stretched_label);
    }
    for (int64_t cx = 0; cx < m->cx; ++cx) {
        snprintf(prefix, sizeof prefix, "m%dc-x%lld", mi, (long long)cx);
        snprintf(caption, sizeof caption, "x channel %lld", (long long)cx);
        const map_style s = {m, prefix, xr, xc, x_left, 20 + (int)(cx * (xr + 1)) * CELL,
                             caption};
        draw_map(out, &s, cx, x_label);
    }
    explain_buf_printf(out, "</svg>\n</div>\n");

    /* one step per x element: it, and the window of the flipped kernel on each y channel */
    steps_open(js, id);
    for (int64_t col = 0; col < m->info.cols; ++col) {
        const int64_t cx = col / m->x_count, g = cx / m->cxg, cxl = cx % m->cxg;
        int64_t i[3];
        char xn[64];
        bool first = true;
        explain_unflat(m->x, col % m->x_count, i);
        explain_x_name(m, col, xn, sizeof xn);
        explain_buf_printf(js, "%s{\"m\":[", col ? ",\n" : "");
        snprintf(prefix, sizeof prefix, "m%dc-x%lld", mi, (long long)cx);
        mark(js, &first, prefix, i[1], i[2], "dst", "");
        explain_buf cap = {0};
        explain_buf_printf(&cap, "%s =", xn);
        int terms = 0;
        for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
            const int64_t cy = g * m->cyg + cyl;
            snprintf(prefix, sizeof prefix, "m%dc-z%lld", mi, (long long)cy);
            for (int64_t kf = 0; kf < m->k_count; ++kf) {
                int64_t kk[3], z[3];
                char wn[64], yn[64];
                explain_unflat(m->k, kf, kk);
                for (int a = 0; a < 3; ++a)
                    z[a] = i[a] + kk[a] * m->d[a];
                const int64_t w = (cy * m->cxg + cxl) * m->k_count + (m->k_count - 1 - kf);
                explain_weight_name(m, w, wn, sizeof wn);
                const int64_t o = explain_canvas_source(m, z);
                mark(js, &first, prefix, z[1], z[2], o >= 0 ? "win" : "winz", wn);
                if (o >= 0) {
                    explain_y_name(m, cy * m->y_count + o, yn, sizeof yn);
                    explain_buf_printf(&cap, "%s %s*%s", terms++ ? " +" : "", wn, yn);
                }
            }
        }
        if (!terms)
            explain_buf_printf(&cap, " 0 (its window holds only zeros)");
        caption_end(js, &cap);
    }
    explain_buf_printf(js, "]");
}

/* ---- the GEMM route ------------------------------------------------------------------------- */

/* The route is drawn for 1-D and 2-D geometries up to this many rows and columns of one
 * group's column buffer (and rows in all), with x maps up to VIEW_MAX_SIDE a side. */
#define ROUTE_DRAW_SIDE 36
#define ROUTE_DRAW_ROWS 72
#define RCELL 28
#define ROUTE_LABELS 48 /* room for the row labels */
#define ROUTE_CAPTION 34 /* room for a grid's caption and column labels */

static bool route_drawable(const explain_model *m)
{
    const explain_route *r = &m->route;
    return r->shown && m->g.dims <= 2 && r->crows <= ROUTE_DRAW_SIDE &&
           r->ccols <= ROUTE_DRAW_SIDE && m->g.groups * r->crows <= ROUTE_DRAW_ROWS &&
           m->cxg <= VIEW_MAX_CHANNELS && m->x[1] <= VIEW_MAX_SIDE && m->x[2] <= VIEW_MAX_SIDE;
}

/* One cell of a route grid: its text, and optionally a fill, a hover title and the step a
 * click on it shows. */
typedef struct route_cell {
    char text[64], sub[32], title[400], fill[32]; /* sub: a second line, smaller */
    int64_t step; /* -1: none */
} route_cell;

typedef struct route_grid route_grid;
typedef void (*route_cell_fn)(const explain_model *m, const route_grid *g, int64_t r,
                              int64_t c, route_cell *cell);
typedef void (*route_label_fn)(const explain_model *m, const route_grid *g, int64_t i,
                               char *buf, size_t size);

struct route_grid {
    char prefix[48];   /* rect id prefix-r-c, its mark's text prefix-r-ct */
    int64_t gi, chan;  /* the group, and the channel of a map */
    int64_t rows, cols;
    int x0, y0;
    char caption[96];
    route_cell_fn cell;
    route_label_fn row_label, col_label; /* NULL: none */
    const char *view;  /* the stepper a click on a cell or column label selects in */
};

static void draw_route_grid(explain_buf *out, const explain_model *m, const route_grid *g)
{
    char text[64];
    explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", g->x0,
                       g->y0 - (g->col_label ? 18 : 6));
    esc(out, g->caption, strlen(g->caption));
    explain_buf_printf(out, "</text>\n");
    for (int64_t c = 0; g->col_label && c < g->cols; ++c) {
        g->col_label(m, g, c, text, sizeof text);
        explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" "
                                "class=\"head\"",
                           g->x0 + (int)c * RCELL + RCELL / 2, g->y0 - 4);
        if (g->view)
            explain_buf_printf(out, " data-step=\"%s:%lld\"", g->view,
                               (long long)(g->gi * m->route.ccols + c));
        explain_buf_printf(out, ">%s</text>\n", text);
    }
    for (int64_t r = 0; g->row_label && r < g->rows; ++r) {
        g->row_label(m, g, r, text, sizeof text);
        explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"end\" "
                                "class=\"head\">%s</text>\n",
                           g->x0 - 4, g->y0 + (int)r * RCELL + RCELL / 2 + 3, text);
    }
    for (int64_t r = 0; r < g->rows; ++r)
        for (int64_t c = 0; c < g->cols; ++c) {
            route_cell cell = {.step = -1};
            g->cell(m, g, r, c, &cell);
            const int x = g->x0 + (int)c * RCELL, y = g->y0 + (int)r * RCELL;
            explain_buf_printf(out, "<rect id=\"%s-%lld-%lld\" class=\"cell\" x=\"%d\" y=\"%d\" "
                                    "width=\"%d\" height=\"%d\"",
                               g->prefix, (long long)r, (long long)c, x, y, RCELL, RCELL);
            if (cell.fill[0])
                explain_buf_printf(out, " style=\"fill:%s\"", cell.fill);
            if (g->view && cell.step >= 0)
                explain_buf_printf(out, " data-step=\"%s:%lld\"", g->view, (long long)cell.step);
            explain_buf_printf(out, "><title>");
            esc(out, cell.title, strlen(cell.title));
            explain_buf_printf(out, "</title></rect>\n"
                                    "<text x=\"%d\" y=\"%d\" font-size=\"10\" "
                                    "text-anchor=\"middle\" class=\"name\">%s</text>\n"
                                    "<text id=\"%s-%lld-%lldt\" x=\"%d\" y=\"%d\" "
                                    "font-size=\"9\" text-anchor=\"middle\" "
                                    "class=\"mark\"></text>\n",
                               x + RCELL / 2, y + 13, cell.text, g->prefix, (long long)r,
                               (long long)c, x + RCELL / 2, y + 25);
            if (cell.sub[0])
                explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"9\" "
                                        "text-anchor=\"middle\" class=\"sub\">%s</text>\n",
                                   x + RCELL / 2, y + 24, cell.sub);
        }
}

/* Entry e of a column is (x channel e / Πk of the group, tap e mod Πk); the weight of y
 * channel cyl of the group there: */
static int64_t weight_of(const explain_model *m, int64_t gi, int64_t cyl, int64_t e)
{
    return ((gi * m->cyg + cyl) * m->cxg) * m->k_count + e;
}

/* W_g (row: a y channel of the group; column: an entry), or W_gᵀ with rows and columns
 * swapped: the weight's name on its colour, its value in the title. */
static void wg_cell(const explain_model *m, const route_grid *g, int64_t r, int64_t c,
                    route_cell *cell)
{
    const bool t = m->route.transposed;
    const int64_t w = weight_of(m, g->gi, t ? c : r, t ? r : c);
    explain_weight_name(m, w, cell->text, sizeof cell->text);
    explain_number(m->route.weight[w], cell->sub, sizeof cell->sub);
    weight_colour(w, cell->fill, sizeof cell->fill);
    snprintf(cell->title, sizeof cell->title, "%s = %s", cell->text, cell->sub);
}

/* y of the group as a matrix: a row per channel, a column per position */
static void ymat_cell(const explain_model *m, const route_grid *g, int64_t cyl, int64_t o,
                      route_cell *cell)
{
    const explain_route *r = &m->route;
    const int64_t row = (g->gi * m->cyg + cyl) * m->y_count + o;
    char name[64];
    explain_y_name(m, row, name, sizeof name);
    explain_number(r->transposed ? r->input[row] : r->output[row], cell->text,
                   sizeof cell->text);
    snprintf(cell->title, sizeof cell->title, "%s = %s", name, cell->text);
    cell->step = g->gi * r->ccols + o;
}

/* An entry of cols: its value; in the title the sum (transposed) or the copy (conv). */
static void cols_cell(const explain_model *m, const route_grid *g, int64_t e, int64_t o,
                      route_cell *cell)
{
    const explain_route *r = &m->route;
    const int64_t i = (g->gi * r->crows + e) * r->ccols + o, at = r->at[i];
    char en[64], on[64], xn[64] = "the padding";
    explain_number(r->cols[i], cell->text, sizeof cell->text);
    explain_cols_row_name(m, e, en, sizeof en);
    explain_cols_col_name(m, o, on, sizeof on);
    if (at >= 0)
        explain_x_name(m, at, xn, sizeof xn);
    explain_buf t = {0};
    explain_buf_printf(&t, "entry %s of column %s = ", en, on);
    if (r->transposed) {
        for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
            char wn[64], yn[64], yv[32];
            const int64_t row = (g->gi * m->cyg + cyl) * m->y_count + o;
            explain_weight_name(m, weight_of(m, g->gi, cyl, e), wn, sizeof wn);
            explain_y_name(m, row, yn, sizeof yn);
            explain_number(r->input[row], yv, sizeof yv);
            explain_buf_printf(&t, "%s%s\u00b7%s (%s)", cyl ? " + " : "", wn, yn, yv);
        }
        explain_buf_printf(&t, " = %s, added into %s by col2im", cell->text, xn);
    } else {
        explain_buf_printf(&t, "%s, copied from %s by im2col", cell->text, xn);
    }
    snprintf(cell->title, sizeof cell->title, "%s", t.data ? t.data : "");
    explain_buf_free(&t);
    cell->step = g->gi * r->ccols + o;
}

/* x channel g->chan as a map: col2im's result (transposed) or im2col's source (conv) */
static void xmap_cell(const explain_model *m, const route_grid *g, int64_t r, int64_t c,
                      route_cell *cell)
{
    const explain_route *rt = &m->route;
    const int64_t col = g->chan * m->x_count + r * m->x[2] + c;
    char name[64];
    explain_x_name(m, col, name, sizeof name);
    explain_number(rt->transposed ? rt->output[col] : rt->input[col], cell->text,
                   sizeof cell->text);
    snprintf(cell->title, sizeof cell->title, "%s = %s", name, cell->text);
}

static void entry_label(const explain_model *m, const route_grid *g, int64_t e, char *buf,
                        size_t size)
{
    (void)g;
    explain_cols_row_name(m, e, buf, size);
}

static void position_label(const explain_model *m, const route_grid *g, int64_t o, char *buf,
                           size_t size)
{
    (void)g;
    explain_cols_col_name(m, o, buf, size);
}

static void ychannel_label(const explain_model *m, const route_grid *g, int64_t cyl, char *buf,
                           size_t size)
{
    snprintf(buf, size, "y%lld", (long long)(g->gi * m->cyg + cyl));
}

/* A mark on an element given by its whole id. */
static void mark_id(explain_buf *js, bool *first, const char *id, const char *cls,
                    const char *text)
{
    explain_buf_printf(js, "%s[", *first ? "" : ",");
    explain_json_string(js, id);
    explain_buf_printf(js, ",\"%s\",", cls);
    explain_json_string(js, text);
    explain_buf_printf(js, "]");
    *first = false;
}

/* One step per (group, y position o): column o of cols, what it is made of, where it goes,
 * and the rows of C (columns of Cᵀ) for o. */
static void route_steps(explain_buf *js, const explain_model *m, int mi, bool bands)
{
    const explain_route *r = &m->route;
    char id[32], prefix[64], band[64];
    snprintf(id, sizeof id, "m%dr", mi);
    steps_open(js, id);
    for (int64_t gi = 0; gi < m->g.groups; ++gi)
        for (int64_t o = 0; o < r->ccols; ++o) {
            bool first = true;
            char on[64], en[64], xn[64], v[32];
            explain_cols_col_name(m, o, on, sizeof on);
            explain_buf_printf(js, "%s{\"m\":[", gi + o ? ",\n" : "");
            explain_buf cap = {0};
            snprintf(prefix, sizeof prefix, "m%dr-c%lld", mi, (long long)gi);
            for (int64_t e = 0; e < r->crows; ++e)
                mark(js, &first, prefix, e, o, "sel", "");
            snprintf(prefix, sizeof prefix, "m%dr-y%lld", mi, (long long)gi);
            for (int64_t cyl = 0; cyl < m->cyg; ++cyl)
                mark(js, &first, prefix, cyl, o, r->transposed ? "src" : "dst", "");
            if (r->transposed) {
                explain_buf_printf(&cap, "column %s = W_g\u1d40 times y at this position (", on);
                for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
                    const int64_t row = (gi * m->cyg + cyl) * m->y_count + o;
                    explain_y_name(m, row, xn, sizeof xn);
                    explain_number(r->input[row], v, sizeof v);
                    explain_buf_printf(&cap, "%s%s = %s", cyl ? ", " : "", xn, v);
                }
                explain_buf_printf(&cap, "); col2im adds");
            } else {
                explain_buf_printf(&cap, "column %s: im2col copies", on);
            }
            int inside = 0, padding = 0;
            for (int64_t e = 0; e < r->crows; ++e) {
                const int64_t i = (gi * r->crows + e) * r->ccols + o, at = r->at[i];
                if (at < 0) {
                    ++padding;
                    continue;
                }
                const int64_t cx = at / m->x_count, pos = at % m->x_count;
                explain_cols_row_name(m, e, en, sizeof en);
                explain_x_name(m, at, xn, sizeof xn);
                explain_number(r->cols[i], v, sizeof v);
                snprintf(prefix, sizeof prefix, "m%dr-x%lld", mi, (long long)cx);
                mark(js, &first, prefix, pos / m->x[2], pos % m->x[2],
                     r->transposed ? "hit" : "src", r->transposed ? v : en);
                if (r->transposed)
                    explain_buf_printf(&cap, "%s %s = %s into %s", inside++ ? "," : "", en, v,
                                       xn);
                else
                    explain_buf_printf(&cap, "%s %s (%s) as %s", inside++ ? "," : "", xn, v, en);
            }
            if (!inside)
                explain_buf_printf(&cap, " nothing");
            if (padding)
                explain_buf_printf(&cap, "; %d entr%s %s the padding", padding,
                                   padding > 1 ? "ies" : "y",
                                   r->transposed ? "fall in" : "read zeros of");
            if (!r->transposed) {
                explain_buf_printf(&cap, ". Then W_g\u00b7column gives");
                for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
                    const int64_t row = (gi * m->cyg + cyl) * m->y_count + o;
                    explain_y_name(m, row, xn, sizeof xn);
                    explain_number(r->output[row], v, sizeof v);
                    explain_buf_printf(&cap, "%s %s = %s", cyl ? "," : "", xn, v);
                }
            }
            const bool one = m->cyg == 1;
            static const char *const lit[2][2] = {{"C's rows", "C's row"},
                                                  {"C\u1d40's columns", "C\u1d40's column"}};
            explain_buf_printf(&cap, ". %s ", lit[r->transposed][one]);
            for (int64_t cyl = 0; cyl < m->cyg; ++cyl) {
                const int64_t row = (gi * m->cyg + cyl) * m->y_count + o;
                explain_y_name(m, row, xn, sizeof xn);
                explain_buf_printf(&cap, "%s%s", cyl ? ", " : "", xn);
                snprintf(band, sizeof band, "m%drb-%lld", mi, (long long)row);
                if (bands)
                    mark_id(js, &first, band, "col", "");
            }
            explain_buf_printf(&cap, " hold%s the same weights on the same x elements.",
                               one ? "s" : "");
            caption_end(js, &cap);
        }
    explain_buf_printf(js, "]");
}

static void route_view(explain_buf *out, explain_buf *js, const explain_model *m, int mi)
{
    const explain_route *r = &m->route;
    const bool t = r->transposed;
    const int64_t xr = m->x[1], xc = m->x[2];
    const int x_maps_h = (int)(m->cxg * (xr * RCELL + ROUTE_CAPTION));
    /* transposed: Y_g above cols, W_gᵀ to its left; conv: cols above y_g, W_g to its left */
    const int left = ROUTE_LABELS + (int)(t ? m->cyg : r->crows) * RCELL + 24 + ROUTE_LABELS;
    const int top_h = ROUTE_CAPTION + (int)(t ? m->cyg : r->crows) * RCELL + ROUTE_CAPTION;
    const int low_h = (int)(t ? r->crows : m->cyg) * RCELL;
    const int block_h = top_h + (low_h > x_maps_h ? low_h : x_maps_h) + 20;
    const int x_maps = left + (int)r->ccols * RCELL + 60;
    const int copy_x = x_maps + (int)xc * RCELL + 50;
    const bool copy = drawable(m);
    const grid cg = grid_of(m, t, MATRIX_BUDGET / 2);
    const int width = copy_x + (copy ? cg.width : 0) + 10;
    const int height = (int)m->g.groups * block_h > cg.height + ROUTE_CAPTION
                           ? (int)m->g.groups * block_h
                           : cg.height + ROUTE_CAPTION;
    char id[32];
    snprintf(id, sizeof id, "m%dr", mi);
    view_frame(out, id, width, height,
               t ? "the GEMM route: cols = W_g\u1d40\u00b7y, then col2im"
                 : "the GEMM route: cols = im2col(x), then y = W_g\u00b7cols");
    for (int64_t gi = 0; gi < m->g.groups; ++gi) {
        const int ty = (int)gi * block_h;
        route_grid w = {.gi = gi, .cell = wg_cell, .row_label = t ? entry_label : ychannel_label,
                        .col_label = t ? ychannel_label : entry_label};
        snprintf(w.prefix, sizeof w.prefix, "m%dr-w%lld", mi, (long long)gi);
        snprintf(w.caption, sizeof w.caption, t ? "W_g\u1d40, group %lld" : "W_g, group %lld",
                 (long long)gi);
        w.rows = t ? r->crows : m->cyg;
        w.cols = t ? m->cyg : r->crows;
        w.x0 = ROUTE_LABELS;
        w.y0 = ty + top_h;
        draw_route_grid(out, m, &w);

        route_grid y = {.gi = gi, .cell = ymat_cell, .row_label = ychannel_label,
                        .col_label = position_label, .view = id, .rows = m->cyg,
                        .cols = r->ccols, .x0 = left};
        snprintf(y.prefix, sizeof y.prefix, "m%dr-y%lld", mi, (long long)gi);
        snprintf(y.caption, sizeof y.caption, t ? "y, group %lld: a row per channel"
                                                : "y = W_g\u00b7cols, group %lld",
                 (long long)gi);
        y.y0 = ty + (t ? ROUTE_CAPTION : top_h);
        draw_route_grid(out, m, &y);

        route_grid c = {.gi = gi, .cell = cols_cell, .row_label = entry_label,
                        .col_label = position_label, .view = id, .rows = r->crows,
                        .cols = r->ccols, .x0 = left};
        snprintf(c.prefix, sizeof c.prefix, "m%dr-c%lld", mi, (long long)gi);
        snprintf(c.caption, sizeof c.caption,
                 t ? "cols = W_g\u1d40\u00b7y (click a column)"
                   : "cols = im2col(x) (click a column)");
        c.y0 = ty + (t ? top_h : ROUTE_CAPTION);
        draw_route_grid(out, m, &c);

        for (int64_t cxl = 0; cxl < m->cxg; ++cxl) {
            route_grid x = {.gi = gi, .chan = gi * m->cxg + cxl, .cell = xmap_cell,
                            .rows = xr, .cols = xc, .x0 = x_maps};
            snprintf(x.prefix, sizeof x.prefix, "m%dr-x%lld", mi, (long long)x.chan);
            snprintf(x.caption, sizeof x.caption, t ? "x%lld = col2im(cols)" : "x%lld",
                     (long long)x.chan);
            x.y0 = ty + (t ? top_h : ROUTE_CAPTION) + (int)cxl * (int)(xr * RCELL + ROUTE_CAPTION);
            draw_route_grid(out, m, &x);
        }
    }
    if (copy) {
        explain_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", copy_x,
                           ROUTE_CAPTION - 18, t ? "C\u1d40 (the same columns)"
                                                 : "C (the same rows)");
        char bands[32];
        snprintf(bands, sizeof bands, "m%drb", mi);
        matrix_cells(out, m, t, copy_x, ROUTE_CAPTION - 10, MATRIX_BUDGET / 2, bands);
    }
    explain_buf_printf(out, "</svg>\n</div>\n");
    route_steps(js, m, mi, copy);
}

/* ---- a model's section --------------------------------------------------------------------- */

/* Writes the section of model m (ids prefixed m<mi>) to `out` and its steps, each view's
 * list under its id, into the object `js` (opened by the caller). */
static void model_section(explain_buf *out, explain_buf *js, explain_model *m, int mi)
{
    explain_buf text = {0};
    char line[320];
    tconv_geometry_format(&m->g, line, sizeof line);
    explain_buf_printf(out, "<section id=\"m%d\">\n<h2>", mi);
    esc(out, m->title, strlen(m->title));
    explain_buf_printf(out, "</h2>\n<p><code>");
    esc(out, line, strlen(line));
    explain_buf_printf(out, "</code></p>\n");

    explain_buf_printf(out, "<h3>Output size</h3>\n");
    explain_sizes(&text, m);
    pre(out, &text);
    explain_buf_free(&text);

    explain_buf_printf(out, "<h3>The transformation matrix C: y = C x</h3>\n"
                            "<p>A row per element of y, a column per element of x; a coloured "
                            "entry copies the weight it names (hover for row and column), a "
                            "white one is zero. Lines separate channels.</p>\n");
    matrix_figure(out, m, false, mi);
    legend(out, m);
    explain_matrix(&text, m, false);
    explain_buf_printf(out, "<details><summary>as text</summary>\n");
    pre(out, &text);
    explain_buf_printf(out, "</details>\n");
    explain_buf_free(&text);
    explain_buf_printf(out, "<h3>Its transpose C\u1d40: x = C\u1d40 y, the transposed "
                            "convolution</h3>\n");
    matrix_figure(out, m, true, mi);

    explain_buf_printf(out, "<h3>Multiplications</h3>\n");
    explain_cost(&text, m);
    pre(out, &text);
    explain_buf_free(&text);

    const bool views = viewable(m);
    explain_buf_printf(out, "<h3>The distribution view</h3>\n");
    if (views)
        distribution_view(out, js, m, mi);
    else
        explain_buf_printf(out, "<p class=\"note\">Drawn for 1-D and 2-D geometries with maps "
                                "of at most %d cells a side and %d channels.</p>\n",
                           VIEW_MAX_SIDE, VIEW_MAX_CHANNELS);
    explain_distribution(&text, m);
    explain_buf_printf(out, "<details><summary>as text</summary>\n");
    pre(out, &text);
    explain_buf_printf(out, "</details>\n");
    explain_buf_free(&text);

    explain_buf_printf(out, "<h3>The collection view</h3>\n");
    if (views)
        collection_view(out, js, m, mi);
    explain_collection(&text, m);
    explain_buf_printf(out, "<details><summary>as text</summary>\n");
    pre(out, &text);
    explain_buf_printf(out, "</details>\n");
    explain_buf_free(&text);

    explain_buf_printf(out, "<h3>The GEMM route: what the gemm algorithm computes</h3>\n");
    if (m->route.transposed)
        explain_buf_printf(out, "<p>tconv never builds C. Per group, one GEMM multiplies "
                                "y by W_g\u1d40 into a column buffer, a column per y position "
                                "holding its C_x/g\u00b7\u03a0k contributions, and col2im "
                                "adds each entry into x. Click a column (or step): it lands "
                                "where the matching columns of C\u1d40 put their weights, so "
                                "C\u1d40 = col2im \u2218 W_g\u1d40, position by position.</p>\n");
    else
        explain_buf_printf(out, "<p>tconv never builds C. im2col copies the window of x that "
                                "each y position reads into a column buffer, and per group "
                                "one GEMM gives y = W_g\u00b7cols. Click a column (or step): "
                                "it reads the x elements where the matching rows of C hold "
                                "their weights, so C = W_g \u00b7 im2col, position by "
                                "position.</p>\n");
    if (route_drawable(m))
        route_view(out, js, m, mi);
    else
        explain_buf_printf(out, "<p class=\"note\">Drawn for 1-D and 2-D geometries whose "
                                "column buffer has at most %d rows and %d columns per group "
                                "(%d rows in all) and whose x maps have at most %d cells a "
                                "side; the text lists it up to %d x %d.</p>\n",
                           ROUTE_DRAW_SIDE, ROUTE_DRAW_SIDE, ROUTE_DRAW_ROWS, VIEW_MAX_SIDE,
                           EXPLAIN_PRINT_MAX, EXPLAIN_PRINT_MAX);
    explain_gemm_route(&text, m);
    explain_buf_printf(out, "<details><summary>as text</summary>\n");
    pre(out, &text);
    explain_buf_printf(out, "</details>\n");
    explain_buf_free(&text);

    explain_buf_printf(out, "<h3>Numeric check</h3>\n");
    pre(out, &m->check);
    explain_buf_printf(out, "</section>\n");
}

void explain_json_string(explain_buf *out, const char *s)
{
    explain_buf_append(out, "\"", 1);
    const unsigned char *run = (const unsigned char *)s, *c = run;
    for (; *c; ++c) {
        if (*c != '"' && *c != '\\' && *c >= 0x20 && *c != '<' && *c != '>' && *c != '&')
            continue;
        explain_buf_append(out, (const char *)run, (size_t)(c - run));
        if (*c == '"' || *c == '\\')
            explain_buf_printf(out, "\\%c", *c);
        else
            explain_buf_printf(out, "\\u%04x", *c);
        run = c + 1;
    }
    explain_buf_append(out, (const char *)run, (size_t)(c - run));
    explain_buf_append(out, "\"", 1);
}

void explain_page_section(explain_buf *html, explain_buf *steps, explain_model *m)
{
    explain_buf_printf(steps, "{");
    model_section(html, steps, m, 0);
    explain_buf_printf(steps, "}");
}

void explain_page_json(explain_buf *out, explain_model *m)
{
    explain_buf html = {0}, steps = {0};
    char line[320];
    explain_page_section(&html, &steps, m);
    tconv_geometry_format(&m->g, line, sizeof line);
    explain_buf_printf(out, "{\"ok\":true,\"title\":");
    explain_json_string(out, m->title);
    explain_buf_printf(out, ",\"geometry\":");
    explain_json_string(out, line);
    explain_buf_printf(out, ",\"out_size\":");
    explain_json_out_size(out, &m->g);
    explain_buf_printf(out, ",\"html\":");
    explain_json_string(out, html.data ? html.data : "");
    explain_buf_printf(out, ",\"steps\":%s}", steps.data ? steps.data : "{}");
    out->failed |= html.failed || steps.failed;
    explain_buf_free(&html);
    explain_buf_free(&steps);
}

void explain_json_out_size(explain_buf *out, const tconv_geometry *g)
{
    const int64_t *size = g->layer == TCONV_LAYER_CONV ? g->y_size : g->x_size;
    explain_buf_printf(out, "[");
    for (int a = 0; a < g->dims; ++a)
        explain_buf_printf(out, "%s%lld", a ? "," : "", (long long)size[a]);
    explain_buf_printf(out, "]");
}

void explain_page_json_error(explain_buf *out, const char *message)
{
    explain_buf_printf(out, "{\"ok\":false,\"message\":");
    explain_json_string(out, message);
    explain_buf_printf(out, "}");
}

bool explain_write_file(const char *path, const explain_buf *b)
{
    if (b->failed)
        return false;
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    const bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    return fclose(f) == 0 && ok;
}

bool explain_write_svg(const char *path, explain_model *const *models, int count)
{
    explain_buf body = {0}, out = {0};
    int height = 10, width = 200;
    for (int i = 0; i < count; ++i) {
        const explain_model *m = models[i];
        explain_buf_printf(&body, "<text x=\"8\" y=\"%d\" font-family=\"sans-serif\" "
                                  "font-size=\"13\">",
                           height + 14);
        esc(&body, m->title, strlen(m->title));
        explain_buf_printf(&body, ": C, %lld x %lld</text>\n", (long long)m->info.rows,
                           (long long)m->info.cols);
        height += 22;
        if (!drawable(m)) {
            explain_buf_printf(&body, "<text x=\"8\" y=\"%d\" font-size=\"12\">too large to "
                                      "draw</text>\n",
                               height + 12);
            height += 24;
            continue;
        }
        const grid g = grid_of(m, false, MATRIX_BUDGET);
        matrix_cells(&body, m, false, 0, height, MATRIX_BUDGET, NULL);
        height += g.height + 10;
        width = g.width > width ? g.width : width;
    }
    explain_buf_printf(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                             "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
                             "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
                       width, height, width, height);
    if (body.data)
        explain_buf_printf(&out, "%s", body.data);
    explain_buf_printf(&out, "</svg>\n");
    const bool ok = !body.failed && explain_write_file(path, &out);
    explain_buf_free(&out);
    explain_buf_free(&body);
    return ok;
}
