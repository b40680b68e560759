/*
 * The pictures of `tconv explain`: one self-contained page (no external asset, no URL)
 * with the same text as the terminal, the matrix and its transpose drawn as grids coloured
 * by weight, and both views stepped through cell by cell like the seed's animations; and
 * the matrix picture alone as an SVG file.
 *
 * The page is well-formed XML as well as HTML5 (void elements self-closed, the script in a
 * commented CDATA section), so both parsers check it. Every step of the views is computed
 * here, from the same functions as the text (which are checked against the library's
 * matrix); the page's script only switches classes and labels, and reports its own errors
 * into <body data-status>, so a headless browser can tell a broken page from a good one.
 * Opened as page.html#selftest, it first shows every step of every view once.
 */
#include "explain.h"

#include <stdio.h>
#include <string.h>

/* Views are drawn for 1-D and 2-D geometries whose maps have at most this many cells per
 * side and channels. */
#define VIEW_MAX_SIDE 24
#define VIEW_MAX_CHANNELS 4
/* Matrices are drawn up to this many entries. */
#define DRAW_MAX_ENTRIES ((int64_t)40000)

static void esc(explain_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; ++i)
        switch (s[i]) {
        case '&':
            explain_buf_printf(out, "&amp;");
            break;
        case '<':
            explain_buf_printf(out, "&lt;");
            break;
        case '>':
            explain_buf_printf(out, "&gt;");
            break;
        case '"':
            explain_buf_printf(out, "&quot;");
            break;
        default:
            explain_buf_printf(out, "%c", s[i]);
        }
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

static grid grid_of(const explain_model *m, bool transposed)
{
    const int64_t rows = transposed ? m->info.cols : m->info.rows;
    const int64_t cols = transposed ? m->info.rows : m->info.cols;
    const int64_t longest = rows > cols ? rows : cols;
    grid g;
    g.cs = (int)(720 / longest);
    g.cs = g.cs > 22 ? 22 : g.cs < 3 ? 3 : g.cs;
    g.labels = g.cs >= 12;
    g.names = g.cs >= 18 && m->width <= 4;
    g.left = g.top = g.labels ? m->width * 7 + 12 : 8;
    g.width = g.left + (int)cols * g.cs + 8;
    g.height = g.top + (int)rows * g.cs + 8;
    return g;
}

/* The grid's elements, placed at (x0, y0). */
static void matrix_cells(explain_buf *out, const explain_model *m, bool transposed, int x0,
                         int y0)
{
    const grid g = grid_of(m, transposed);
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
    explain_buf_printf(out, "</g>\n");
}

static void matrix_figure(explain_buf *out, const explain_model *m, bool transposed)
{
    if (!drawable(m)) {
        explain_buf_printf(out, "<p class=\"note\">The %lld x %lld matrix is too large to draw "
                                "here (drawn up to %lld entries); the text above sums it "
                                "up.</p>\n",
                           (long long)m->info.rows, (long long)m->info.cols,
                           (long long)DRAW_MAX_ENTRIES);
        return;
    }
    const grid g = grid_of(m, transposed);
    explain_buf_printf(out, "<svg class=\"matrix\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
                            "%d\">\n",
                       g.width, g.height, g.width, g.height);
    matrix_cells(out, m, transposed, 0, 0);
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
    explain_buf_printf(js, "%s[\"%s-%lld-%lld\",\"%s\",\"%s\"]", *first ? "" : ",", prefix,
                       (long long)r, (long long)c, cls, text);
    *first = false;
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
    explain_buf_printf(js, "\"%s\":[", id);
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
            explain_buf_printf(&cap, "; %d tap%s fall in the padding", dropped,
                               dropped > 1 ? "s" : "");
        explain_buf_printf(js, "],\"c\":\"%s\"}", cap.data ? cap.data : "");
        explain_buf_free(&cap);
    }
    explain_buf_printf(js, "],\n");
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
    explain_buf_printf(js, "\"%s\":[", id);
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
        explain_buf_printf(js, "],\"c\":\"%s\"}", cap.data ? cap.data : "");
        explain_buf_free(&cap);
    }
    explain_buf_printf(js, "],\n");
}

/* ---- the page -------------------------------------------------------------------------------- */

static const char page_style[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:1150px;color:#222;padding:0 1em}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-top:2px solid #446;padding-top:.6em}\n"
    "pre{background:#f5f5f7;padding:.6em;overflow-x:auto;font-size:12px;line-height:1.3}\n"
    ".legend span{font-family:monospace;padding:1px 4px;margin:1px;display:inline-block}\n"
    ".note{color:#666;font-style:italic}.cap{font-family:monospace;min-height:2.6em}\n"
    "svg text{fill:#222}\n"
    "rect.cell{fill:#fff;stroke:#888}rect.pad{fill:#e8e8e8;stroke:#aaa;stroke-dasharray:3 2}\n"
    "text.zero{fill:#999}text.mark{fill:#b00;font-weight:bold}\n"
    "rect.src{fill:#7fc8f8}rect.hit{fill:#ffd166}rect.drop{fill:#f4c7c3}\n"
    "rect.dst{fill:#ffd166}rect.win{fill:#a8e6a1}rect.winz{fill:#d9f2d6}\n"
    "button{font-size:1em;margin-right:.3em}\n";

/*
 * The stepper. Each view is a list of steps; a step marks cells (adds a class to a rect,
 * writes a label into its overlay text) and shows a caption. Errors are written into
 * <body data-status>, which stays "ok" only if the whole page set itself up.
 */
static const char page_script[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var body = document.body, errors = [];\n"
    "  function fail(message) {\n"
    "    errors.push(String(message));\n"
    "    body.setAttribute('data-status', 'error: ' + errors.join('; '));\n"
    "  }\n"
    "  window.addEventListener('error', function (e) { fail(e.message); });\n"
    "  function element(id) {\n"
    "    var e = document.getElementById(id);\n"
    "    if (!e) { throw new Error('no element ' + id); }\n"
    "    return e;\n"
    "  }\n"
    "  function stepper(root, steps) {\n"
    "    var at = 0, timer = null, marked = [];\n"
    "    var label = root.querySelector('.step'), caption = root.querySelector('.cap');\n"
    "    var play = root.querySelector('.play');\n"
    "    function show(t) {\n"
    "      marked.forEach(function (m) {\n"
    "        element(m[0]).classList.remove(m[1]);\n"
    "        element(m[0] + 't').textContent = '';\n"
    "      });\n"
    "      at = (t + steps.length) % steps.length;\n"
    "      marked = steps[at].m;\n"
    "      marked.forEach(function (m) {\n"
    "        element(m[0]).classList.add(m[1]);\n"
    "        element(m[0] + 't').textContent = m[2];\n"
    "      });\n"
    "      label.textContent = 'step ' + (at + 1) + ' of ' + steps.length;\n"
    "      caption.textContent = steps[at].c;\n"
    "    }\n"
    "    function stop() { clearInterval(timer); timer = null; play.textContent = "
    "'\\u25b6 play'; }\n"
    "    root.querySelector('.prev').addEventListener('click', function () { stop(); "
    "show(at - 1); });\n"
    "    root.querySelector('.next').addEventListener('click', function () { stop(); "
    "show(at + 1); });\n"
    "    play.addEventListener('click', function () {\n"
    "      if (timer) { stop(); return; }\n"
    "      timer = setInterval(function () { show(at + 1); }, 800);\n"
    "      play.textContent = '\\u275a\\u275a pause';\n"
    "    });\n"
    "    if (location.hash === '#selftest') {  /* every step once: every id must exist */\n"
    "      steps.forEach(function (s, t) { show(t); });\n"
    "    }\n"
    "    show(0);\n"
    "  }\n"
    "  try {\n"
    "    Object.keys(TCONV_STEPS).forEach(function (id) { stepper(element(id), "
    "TCONV_STEPS[id]); });\n"
    "    if (!errors.length) { body.setAttribute('data-status', 'ok'); }\n"
    "  } catch (e) { fail(e.message); }\n"
    "})();\n";

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
    matrix_figure(out, m, false);
    legend(out, m);
    explain_matrix(&text, m, false);
    explain_buf_printf(out, "<details><summary>as text</summary>\n");
    pre(out, &text);
    explain_buf_printf(out, "</details>\n");
    explain_buf_free(&text);
    explain_buf_printf(out, "<h3>Its transpose C\u1d40: x = C\u1d40 y, the transposed "
                            "convolution</h3>\n");
    matrix_figure(out, m, true);

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

    explain_buf_printf(out, "<h3>Numeric check</h3>\n");
    pre(out, &m->check);
    explain_buf_printf(out, "</section>\n");
}

static bool write_file(const char *path, const explain_buf *b)
{
    if (b->failed)
        return false;
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    const bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    return fclose(f) == 0 && ok;
}

bool explain_write_html(const char *path, explain_model *const *models, int count,
                        const char **reason)
{
    *reason = NULL;
    explain_buf out = {0}, js = {0};
    explain_buf_printf(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                             "<meta charset=\"utf-8\"/>\n"
                             "<title>tconv explain: the matrix view</title>\n"
                             "<style>\n%s</style>\n</head>\n<body data-status=\"loading\">\n"
                             "<h1>Convolution as a matrix, transposed convolution as its "
                             "transpose</h1>\n"
                             "<p>Written by <code>tconv explain</code>. For one image, a "
                             "convolution is y = C x with a sparse matrix C whose non-zeros "
                             "are copies of the weights; the transposed convolution with the "
                             "same weights is x = C\u1d40 y. The views step through the same "
                             "entries cell by cell.</p>\n",
                       page_style);
    explain_buf_printf(&js, "var TCONV_STEPS = {\n");
    for (int i = 0; i < count; ++i)
        model_section(&out, &js, models[i], i);
    explain_buf_printf(&js, "};\n");
    explain_buf_printf(&out, "<script>//<![CDATA[\n");
    if (js.data)
        explain_buf_printf(&out, "%s", js.data);
    explain_buf_printf(&out, "%s//]]></script>\n</body>\n</html>\n", page_script);
    const bool ok = !js.failed && write_file(path, &out);
    explain_buf_free(&out);
    explain_buf_free(&js);
    return ok;
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
        const grid g = grid_of(m, false);
        matrix_cells(&body, m, false, 0, height);
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
    const bool ok = !body.failed && write_file(path, &out);
    explain_buf_free(&out);
    explain_buf_free(&body);
    return ok;
}
