/*
 * `tconv explain`: the matrix view of one geometry, taught. Without geometry flags it
 * explains the seed's two examples; flags named after PyTorch's arguments give any other.
 * Exit status: 0 when every check agrees, 1 when one does not (or a file cannot be
 * written), 2 for bad flags.
 */
#include "cli.h"
#include "explain.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: tconv explain [options]\n"
    "\n"
    "Shows the transformation matrix C of a convolution (y = C x) and its transpose (the\n"
    "transposed convolution, x = C\u1d40 y): output sizes step by step, the matrix with named\n"
    "weights, the multiplication count, the distribution and collection views, the GEMM\n"
    "route (im2col/col2im) with numbers, and a numeric check of every algorithm. Without\n"
    "geometry options: the seed's two examples.\n"
    "\n"
    "geometry (PyTorch's argument names; '-' or '_'; per-axis values as 3x5):\n"
    "  --input-size S        spatial size of the layer's input (its count sets 1-D..3-D)\n"
    "  --kernel-size K       required with --input-size\n"
    "  --in-channels N       default 1\n"
    "  --out-channels N      default 1\n"
    "  --stride S            default 1\n"
    "  --padding P           default 0\n"
    "  --output-padding P    transposed only, default 0\n"
    "  --output-size S       transposed only: choose output_padding to reach this size\n"
    "  --dilation D          default 1\n"
    "  --groups G            default 1\n"
    "  --transposed          a ConvTranspose layer (default: Conv)\n"
    "  --example 1|2         one of the seed's examples (Figures 1-3, Figures 4-10)\n"
    "\n"
    "output:\n"
    "  --batch N             images in the numeric check (default 1)\n"
    "  --seed N              random data of the numeric check (default 1)\n"
    "  --html FILE           also write one self-contained page with the pictures and\n"
    "                        controls for every parameter (it recomputes in the browser\n"
    "                        with tconv.wasm, this library compiled to WebAssembly)\n"
    "  --svg FILE            also write the matrix picture alone\n"
    "  --time                also time gemm, dense and sparse side by side\n"
    "  --threads N           threads for --time (default: OpenMP's)\n";

typedef explain_request request;

/* A bad command line: the message, the hint, and the exit status 2. */
static int bad(explain_buf *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(explain_buf *msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    explain_buf_printf(msg, "%s\n(tconv explain --help lists the options)", text);
    return 2;
}

/* A whole decimal number within [lo, hi]. */
static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "3", "3x5" or "3x5x7" into v; the count into *n. */
static bool parse_axes(const char *s, int64_t v[3], int *n)
{
    char part[32];
    *n = 0;
    while (*n < 3) {
        const char *x = strchr(s, 'x');
        const size_t len = x ? (size_t)(x - s) : strlen(s);
        if (len == 0 || len >= sizeof part)
            return false;
        memcpy(part, s, len);
        part[len] = '\0';
        if (!parse_int(part, INT64_MIN / 4, INT64_MAX / 4, &v[(*n)++]))
            return false;
        if (!x)
            return true;
        s = x + 1;
    }
    return false; /* a fourth value */
}

/* Spreads a per-axis option over `dims` axes (one value applies to all). */
static bool spread(explain_buf *msg, const char *flag, const int64_t given[3], int n, int dims,
                   int64_t out[3], int64_t fallback)
{
    for (int a = 0; a < dims; ++a)
        out[a] = n == 0 ? fallback : n == 1 ? given[0] : given[a];
    if (n > 1 && n != dims) {
        explain_buf_printf(msg, "--%s has %d values but --input-size has %d dimension%s", flag,
                           n, dims, dims > 1 ? "s" : "");
        return false;
    }
    return true;
}

/* The options: each writes one field of the request. */
typedef enum kind { TOGGLE, INT, AXES, PATH } kind;

typedef struct option {
    const char *name; /* PyTorch's spelling; '-' is accepted for '_' */
    kind kind;
    size_t field;      /* offset in request */
    size_t count;      /* AXES: offset of the value count (or of dims) */
    int64_t lo, hi;    /* INT: the accepted range */
    bool geometry;     /* makes the request a custom geometry */
} option;

#define FIELD(f) offsetof(request, f)
static const option options[] = {
    {"input_size", AXES, FIELD(input), FIELD(dims), 0, 0, true},
    {"kernel_size", AXES, FIELD(kernel), FIELD(n_kernel), 0, 0, true},
    {"stride", AXES, FIELD(stride), FIELD(n_stride), 0, 0, true},
    {"padding", AXES, FIELD(padding), FIELD(n_padding), 0, 0, true},
    {"output_padding", AXES, FIELD(output_padding), FIELD(n_output_padding), 0, 0, true},
    {"output_size", AXES, FIELD(output_size), FIELD(n_output_size), 0, 0, true},
    {"dilation", AXES, FIELD(dilation), FIELD(n_dilation), 0, 0, true},
    {"in_channels", INT, FIELD(in_channels), 0, INT64_MIN, INT64_MAX, true},
    {"out_channels", INT, FIELD(out_channels), 0, INT64_MIN, INT64_MAX, true},
    {"groups", INT, FIELD(groups), 0, INT64_MIN, INT64_MAX, true},
    {"transposed", TOGGLE, FIELD(transposed), 0, 0, 0, true},
    {"conv", TOGGLE, FIELD(conv), 0, 0, 0, true},
    {"example", INT, FIELD(example), 0, 1, 2, false},
    {"batch", INT, FIELD(batch), 0, 0, 1 << 20, false},
    {"seed", INT, FIELD(seed), 0, 0, INT64_MAX, false},
    {"threads", INT, FIELD(threads), 0, 0, 4096, false},
    {"time", TOGGLE, FIELD(time), 0, 0, 0, false},
    {"html", PATH, FIELD(html), 0, 0, 0, false},
    {"svg", PATH, FIELD(svg), 0, 0, 0, false},
};

int explain_parse(int argc, char **argv, explain_request *r, explain_buf *msg)
{
    memset(r, 0, sizeof *r);
    r->in_channels = r->out_channels = r->groups = r->batch = r->seed = 1;
    for (int i = 1; i < argc; ++i) {
        char flag[64];
        const char *arg = argv[i], *value = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
            return -1;
        if (strncmp(arg, "--", 2) != 0 || strlen(arg) >= sizeof flag)
            return bad(msg, "'%s' is not an option", arg);
        snprintf(flag, sizeof flag, "%s", arg + 2);
        char *eq = strchr(flag, '=');
        if (eq) {
            *eq = '\0';
            value = arg + 2 + (eq - flag) + 1;
        }
        char given[72]; /* as typed, for messages */
        snprintf(given, sizeof given, "--%s", flag);
        for (char *c = flag; *c; ++c)
            if (*c == '-')
                *c = '_';
        const option *o = NULL;
        for (size_t j = 0; j < sizeof options / sizeof options[0] && !o; ++j)
            if (!strcmp(flag, options[j].name))
                o = &options[j];
        if (!o)
            return bad(msg, "unknown option '%s'", given);
        char *field = (char *)r + o->field;
        r->custom |= o->geometry;
        if (o->kind == TOGGLE) {
            if (value)
                return bad(msg, "%s takes no value", given);
            *(bool *)field = true;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc)
                return bad(msg, "%s needs a value", given);
            value = argv[++i];
        }
        if (o->kind == PATH) {
            *(const char **)field = value;
        } else if (o->kind == INT) {
            if (!parse_int(value, o->lo, o->hi, (int64_t *)field))
                return bad(msg, "%s = '%s': expected a whole number from %lld to %lld", given,
                           value, (long long)o->lo, (long long)o->hi);
        } else if (!parse_axes(value, (int64_t *)field, (int *)((char *)r + o->count))) {
            return bad(msg, "%s = '%s': expected a number or numbers joined by 'x' (1 to 3 axes)",
                       given, value);
        }
    }
    if (r->custom && r->example)
        return bad(msg, "--example and geometry options exclude each other");
    if (r->custom && (!r->dims || !r->n_kernel))
        return bad(msg, "a geometry needs --input-size and --kernel-size");
    if (!r->transposed && (r->n_output_padding || r->n_output_size))
        return bad(msg, "--output-padding and --output-size belong to --transposed");
    if (r->n_output_padding && r->n_output_size)
        return bad(msg, "--output-padding and --output-size exclude each other");
    if (r->transposed && r->conv)
        return bad(msg, "--transposed and --conv exclude each other");
    return 0;
}

bool explain_request_geometry(const explain_request *r, tconv_geometry *g, explain_buf *msg)
{
    int64_t k[3], s[3], p[3], op[3], d[3], os[3];
    const int dims = r->dims;
    if (!spread(msg, "kernel-size", r->kernel, r->n_kernel, dims, k, 1) ||
        !spread(msg, "stride", r->stride, r->n_stride, dims, s, 1) ||
        !spread(msg, "padding", r->padding, r->n_padding, dims, p, 0) ||
        !spread(msg, "output-padding", r->output_padding, r->n_output_padding, dims, op, 0) ||
        !spread(msg, "dilation", r->dilation, r->n_dilation, dims, d, 1) ||
        !spread(msg, "output-size", r->output_size, r->n_output_size, dims, os, 0))
        return false;
    tconv_error err;
    tconv_status st;
    if (!r->transposed)
        st = tconv_geometry_init_conv(g, dims, r->batch, r->in_channels, r->out_channels,
                                      r->groups, r->input, k, s, p, d, &err);
    else if (r->n_output_size)
        st = tconv_geometry_init_transposed_output_size(g, dims, r->batch, r->in_channels,
                                                        r->out_channels, r->groups, r->input,
                                                        os, k, s, p, d, &err);
    else
        st = tconv_geometry_init_transposed(g, dims, r->batch, r->in_channels, r->out_channels,
                                            r->groups, r->input, k, s, p, op, d, &err);
    if (st != TCONV_OK)
        explain_buf_printf(msg, "%s", err.message);
    return st == TCONV_OK;
}

/* The seed's examples: Figures 1-3 (a convolution) and Figures 4-10 (a transposed one). */
void explain_seed_geometry(int example, tconv_geometry *g, const char **title)
{
    const int64_t five[2] = {5, 5}, three[2] = {3, 3}, two[2] = {2, 2}, one[2] = {1, 1};
    if (example == 1) {
        *title = "The seed's Figures 1-3: a 5x5 input, a 3x3 kernel, stride 1, no padding -> "
                 "3x3 (the 9 x 25 matrix)";
        tconv_geometry_init_conv(g, 2, 1, 1, 1, 1, five, three, NULL, NULL, NULL, NULL);
    } else {
        *title = "The seed's Figures 4-10: two 3x3 maps back through 3x3 kernels, stride 2, "
                 "padding 1 -> 5x5";
        tconv_geometry_init_transposed(g, 2, 1, 2, 1, 1, three, three, two, one, NULL, NULL,
                                       NULL);
    }
}

static void emit(explain_buf *b)
{
    if (b->data)
        fwrite(b->data, 1, b->len, stdout);
    if (b->failed)
        fprintf(stderr, "tconv explain: out of memory: the text above is cut short\n");
}

int tconv_cmd_explain(int argc, char **argv)
{
    request r;
    explain_buf msg = {0};
    const int parsed = explain_parse(argc, argv, &r, &msg);
    if (parsed) {
        if (parsed < 0)
            fputs(usage_text, stdout);
        else
            fprintf(stderr, "tconv explain: %s\n", msg.data ? msg.data : "out of memory");
        explain_buf_free(&msg);
        return parsed < 0 ? 0 : parsed;
    }

    explain_model models[2], *list[2];
    int count = 0;
    for (int e = 1; e <= 2; ++e) {
        if (r.custom ? e > 1 : r.example && r.example != e)
            continue;
        tconv_geometry g;
        const char *title = "The geometry given on the command line";
        if (r.custom && !explain_request_geometry(&r, &g, &msg)) {
            fprintf(stderr, "tconv explain: %s\n", msg.data ? msg.data : "out of memory");
            explain_buf_free(&msg);
            return 2;
        }
        if (!r.custom)
            explain_seed_geometry(e, &g, &title);
        tconv_error err;
        if (explain_model_init(&models[count], title, &g, &err) != TCONV_OK) {
            fprintf(stderr, "tconv explain: %s\n", err.message);
            for (int i = 0; i < count; ++i)
                explain_model_free(&models[i]);
            return 1;
        }
        list[count] = &models[count];
        ++count;
    }

    bool ok = true;
    for (int i = 0; i < count; ++i) {
        explain_model *m = list[i];
        explain_buf text = {0};
        explain_heading(&text, m);
        explain_sizes(&text, m);
        explain_matrix(&text, m, false);
        explain_matrix(&text, m, true);
        explain_cost(&text, m);
        ok &= explain_distribution(&text, m);
        ok &= explain_collection(&text, m);
        ok &= explain_gemm_route(&text, m);
        emit(&text);
        explain_buf_free(&text);
        explain_check(m, r.batch, (uint64_t)r.seed, EXPLAIN_CHECK_MAX_MACS);
        emit(&m->check);
        ok &= m->check_ok;
        if (r.time) {
            explain_buf timing = {0};
            explain_time(&timing, m, r.batch, (int)r.threads);
            emit(&timing);
            explain_buf_free(&timing);
        }
        printf("\n");
    }
    const char *reason = NULL;
    if (r.html && !explain_write_html(r.html, list, count, &reason)) {
        if (reason)
            fprintf(stderr, "tconv explain: no page: %s\n", reason);
        else
            fprintf(stderr, "tconv explain: could not write %s\n", r.html);
        ok = false;
    }
    if (r.svg && !explain_write_svg(r.svg, list, count)) {
        fprintf(stderr, "tconv explain: could not write %s\n", r.svg);
        ok = false;
    }
    if (r.html || r.svg)
        printf("Pictures written:%s%s%s%s\n", r.html ? " " : "", r.html ? r.html : "",
               r.svg ? " " : "", r.svg ? r.svg : "");
    for (int i = 0; i < count; ++i)
        explain_model_free(list[i]);
    return ok ? 0 : 1;
}
