/*
 * The page `tconv explain --html` writes: one self-contained file (no external asset, no
 * URL; it works from file:// offline) with controls for every parameter, the geometries
 * of the command line as presets, the first one's section (explain_html.c) drawn, and
 * tconv.wasm, the library and this command compiled to WebAssembly by the build, which
 * recomputes and redraws the section at every change (src/cli/page/page.js).
 *
 * The markup is well-formed XML as well as HTML5; the script sits in a commented CDATA
 * section, and every string in its data is JSON with '<', '>' and '&' escaped.
 */
#include "explain.h"

#include <stdio.h>
#include <string.h>

/* Embedded by the build (cmake/embed.cmake): the page's style and script, and the module
 * (empty when the build has no WebAssembly toolchain, TCONV_WASM=OFF). */
extern const unsigned char tconv_page_css[], tconv_page_js[], tconv_page_wasm[];
extern const size_t tconv_page_css_size, tconv_page_js_size, tconv_page_wasm_size;

/* The parameters set per axis, in the order of the controls' rows. */
static const struct axis_param {
    const char *name, *label;
} axis_params[] = {
    {"input_size", "input size"},   {"kernel_size", "kernel_size"},
    {"stride", "stride"},           {"padding", "padding"},
    {"dilation", "dilation"},       {"output_padding", "output_padding"},
    {"output_size", "output_size"},
};

static void base64(explain_buf *out, const unsigned char *data, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[5] = {0};
    for (size_t i = 0; i < n; i += 3) {
        const unsigned v = (unsigned)data[i] << 16 | (i + 1 < n ? (unsigned)data[i + 1] << 8 : 0u) |
                           (i + 2 < n ? (unsigned)data[i + 2] : 0u);
        quad[0] = digits[v >> 18 & 63];
        quad[1] = digits[v >> 12 & 63];
        quad[2] = i + 1 < n ? digits[v >> 6 & 63] : '=';
        quad[3] = i + 2 < n ? digits[v & 63] : '=';
        explain_buf_printf(out, "%s", quad);
    }
}

static void json_axes(explain_buf *out, const char *name, const int64_t *v, int dims)
{
    explain_buf_printf(out, ",\"%s\":[", name);
    for (int a = 0; a < dims; ++a)
        explain_buf_printf(out, "%s%lld", a ? "," : "", (long long)v[a]);
    explain_buf_printf(out, "]");
}

/* A model's geometry as the values of the controls (PyTorch's arguments of its layer). */
static void preset(explain_buf *out, const explain_model *m)
{
    const tconv_geometry *g = &m->g;
    const bool conv = g->layer == TCONV_LAYER_CONV;
    explain_buf_printf(out, "{\"title\":");
    explain_json_string(out, m->title);
    explain_buf_printf(out,
                       ",\"layer\":\"%s\",\"dims\":%d,\"in_channels\":%lld,"
                       "\"out_channels\":%lld,\"groups\":%lld",
                       conv ? "conv" : "transposed", g->dims,
                       (long long)(conv ? g->x_channels : g->y_channels),
                       (long long)(conv ? g->y_channels : g->x_channels), (long long)g->groups);
    json_axes(out, "input_size", conv ? g->x_size : g->y_size, g->dims);
    json_axes(out, "kernel_size", g->kernel, g->dims);
    json_axes(out, "stride", g->stride, g->dims);
    json_axes(out, "padding", g->padding, g->dims);
    json_axes(out, "dilation", g->dilation, g->dims);
    json_axes(out, "output_padding", g->output_padding, g->dims);
    explain_buf_printf(out, "}");
}

static void number_input(explain_buf *out, const char *id, const char *name, const char *label)
{
    explain_buf_printf(out,
                       "<input type=\"number\" step=\"1\" id=\"%s\" name=\"%s\" "
                       "aria-label=\"%s\" title=\"%s\" value=\"1\"/>",
                       id, name, label, label);
}

/* Every parameter, each a labelled <select> or <input> named after PyTorch's argument
 * (per-axis inputs have ids <name>-<axis>). */
static void controls(explain_buf *out, explain_model *const *models, int count)
{
    explain_buf_printf(out, "<form id=\"controls\" class=\"controls\" autocomplete=\"off\">\n"
                            "<fieldset>\n<label for=\"preset\">start from</label>"
                            "<select id=\"preset\" name=\"preset\">");
    for (int i = 0; i < count; ++i) {
        explain_buf_printf(out, "<option value=\"%d\">", i);
        explain_escape(out, models[i]->title);
        explain_buf_printf(out, "</option>");
    }
    explain_buf_printf(out, "</select>\n</fieldset>\n<fieldset>\n"
                            "<label for=\"layer\">layer</label><select id=\"layer\" "
                            "name=\"layer\"><option value=\"conv\">Conv: y = C x</option>"
                            "<option value=\"transposed\">ConvTranspose: x = C\u1d40 y</option>"
                            "</select>\n"
                            "<label for=\"dims\">dimensions</label><select id=\"dims\" "
                            "name=\"dims\"><option value=\"1\">1-D</option><option "
                            "value=\"2\">2-D</option><option value=\"3\">3-D</option>"
                            "</select>\n");
    static const char *const channels[] = {"in_channels", "out_channels", "groups"};
    for (int i = 0; i < 3; ++i) {
        explain_buf_printf(out, "<label for=\"%s\">%s</label>", channels[i], channels[i]);
        number_input(out, channels[i], channels[i], channels[i]);
        explain_buf_printf(out, "\n");
    }
    explain_buf_printf(out, "</fieldset>\n<table class=\"axes\">\n<tr><th></th>");
    for (int a = 0; a < 3; ++a)
        explain_buf_printf(out, "<th id=\"axis-%d\">axis %d</th>", a, a);
    explain_buf_printf(out, "</tr>\n");
    for (size_t p = 0; p < sizeof axis_params / sizeof axis_params[0]; ++p) {
        const struct axis_param *ap = &axis_params[p];
        explain_buf_printf(out, "<tr id=\"row-%s\"><th><label for=\"%s-0\">%s</label></th>",
                           ap->name, ap->name, ap->label);
        for (int a = 0; a < 3; ++a) {
            char id[48], label[64];
            snprintf(id, sizeof id, "%s-%d", ap->name, a);
            snprintf(label, sizeof label, "%s, axis %d", ap->label, a);
            explain_buf_printf(out, "<td>");
            number_input(out, id, ap->name, label);
            explain_buf_printf(out, "</td>");
        }
        explain_buf_printf(out, "</tr>\n");
    }
    explain_buf_printf(out, "</table>\n<fieldset>\n<label for=\"size_by\">ConvTranspose's "
                            "output size by</label><select id=\"size_by\" name=\"size_by\">"
                            "<option value=\"output_padding\">output_padding</option><option "
                            "value=\"output_size\">output_size (the library picks "
                            "output_padding)</option></select>\n</fieldset>\n"
                            "<p class=\"note\" id=\"module-state\"></p>\n</form>\n");
}

bool explain_write_html(const char *path, explain_model *const *models, int count,
                        const char **reason)
{
    *reason = NULL;
    if (tconv_page_wasm_size == 0) {
        *reason = "this tconv carries no WebAssembly module (it is tconv.wasm, or a build "
                  "configured with TCONV_WASM=OFF)";
        return false;
    }
    explain_buf out = {0}, html = {0}, steps = {0};
    explain_buf_printf(&out,
                       "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                       "<meta charset=\"utf-8\"/>\n"
                       "<title>tconv explain: the matrix view</title>\n"
                       "<style>\n%s</style>\n</head>\n<body data-status=\"loading\">\n"
                       "<h1>Convolution as a matrix, transposed convolution as its "
                       "transpose</h1>\n"
                       "<p>Written by <code>tconv explain</code>. For one image, a "
                       "convolution is y = C x with a sparse matrix C whose non-zeros "
                       "are copies of the weights; the transposed convolution with the "
                       "same weights is x = C\u1d40 y. Change any parameter below: tconv "
                       "itself, compiled to WebAssembly and carried inside this page, "
                       "recomputes the sizes, the matrices, both views, the GEMM route "
                       "and the numeric check.</p>\n",
                       (const char *)tconv_page_css);
    controls(&out, models, count);
    explain_page_section(&html, &steps, models[0]);
    char line[320];
    tconv_geometry_format(&models[0]->g, line, sizeof line);
    explain_buf_printf(&out, "<p id=\"message\" class=\"message\" role=\"alert\" "
                             "hidden=\"hidden\"></p>\n<p id=\"stale-note\" class=\"stale-note\" "
                             "hidden=\"hidden\">The library refuses this geometry (its message "
                             "is above); the picture below is the last one it accepted.</p>\n"
                             "<p id=\"drawn\" class=\"drawn\">");
    explain_escape(&out, line);
    explain_buf_printf(&out,
                       "</p>\n<div id=\"view\">\n%s</div>\n<script>//<![CDATA[\n"
                       "var TCONV_PAGE = {\"presets\":[",
                       html.data ? html.data : "");
    for (int i = 0; i < count; ++i) {
        explain_buf_printf(&out, "%s", i ? "," : "");
        preset(&out, models[i]);
    }
    explain_buf_printf(&out, "],\"out_size\":");
    explain_json_out_size(&out, &models[0]->g);
    explain_buf_printf(&out, ",\"steps\":%s};\nvar TCONV_WASM = \"",
                       steps.data ? steps.data : "{}");
    base64(&out, tconv_page_wasm, tconv_page_wasm_size);
    explain_buf_printf(&out, "\";\n%s//]]></script>\n</body>\n</html>\n",
                       (const char *)tconv_page_js);
    const bool ok = !html.failed && !steps.failed && explain_write_file(path, &out);
    explain_buf_free(&out);
    explain_buf_free(&html);
    explain_buf_free(&steps);
    return ok;
}
