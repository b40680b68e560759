/* The benchmark's shapes: the suites' CSV files (bench/shapes.csv, transposed convolutions;
 * bench/conv_shapes.csv, convolutions), the map-size family, and what a shape's layer
 * reads, writes and multiplies. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "32x32" or "4" (one value for every axis) into v[dims]; false if malformed. */
static bool per_axis(const char *text, int dims, int64_t v[3])
{
    int n = 0;
    const char *p = text;
    while (n < 3) {
        char *end;
        const long long x = strtoll(p, &end, 10);
        if (end == p)
            return false;
        v[n++] = x;
        if (*end != 'x')
            break;
        p = end + 1;
    }
    if (n == 1)
        for (int a = 1; a < dims; ++a)
            v[a] = v[0];
    else if (n != dims)
        return false;
    return true;
}

static double forward_flops(const tconv_geometry *g)
{
    double f = 2.0 * (double)g->batch * (double)g->y_channels *
               (double)(g->x_channels / g->groups);
    for (int a = 0; a < g->dims; ++a)
        f *= (double)g->kernel[a] * (double)g->y_size[a];
    return f;
}

int csv_split(char *line, char **fields, int most)
{
    int n = 0;
    fields[n++] = line;
    for (char *c = line; *c && n < most; ++c)
        if (*c == ',') {
            *c = '\0';
            fields[n++] = c + 1;
        }
    return n;
}

const char *suite_name(tconv_layer layer)
{
    return layer == TCONV_LAYER_CONV ? "conv" : "transposed";
}

layer_io layer_io_of(const tconv_geometry *g)
{
    const bool conv = g->layer == TCONV_LAYER_CONV;
    layer_io io;
    io.in_ch = conv ? g->x_channels : g->y_channels;
    io.out_ch = conv ? g->y_channels : g->x_channels;
    io.in_size = conv ? g->x_size : g->y_size;
    io.out_size = conv ? g->y_size : g->x_size;
    io.in = conv ? TCONV_TENSOR_X : TCONV_TENSOR_Y;
    io.out = conv ? TCONV_TENSOR_Y : TCONV_TENSOR_X;
    io.bias = conv ? TCONV_TENSOR_Y_BIAS : TCONV_TENSOR_X_BIAS;
    return io;
}

gemm_view gemm_view_of(const tconv_geometry *g)
{
    int64_t taps = 1, ys = 1;
    for (int a = 0; a < g->dims; ++a)
        taps *= g->kernel[a], ys *= g->y_size[a];
    const int64_t cx = g->x_channels / g->groups * taps, cy = g->y_channels / g->groups;
    const bool conv = g->layer == TCONV_LAYER_CONV;
    gemm_view v = {conv ? cy : cx, g->batch * ys, conv ? cx : cy, g->groups, !conv};
    return v;
}

/* A convolution has no output_padding of its own (tconv_geometry_init_conv derives it):
 * its column must be 0. */
static bool init_geometry(tconv_geometry *g, tconv_layer layer, int dims, char **fld,
                          const int64_t *in, const int64_t *k, const int64_t *st,
                          const int64_t *p, const int64_t *op, const int64_t *d,
                          tconv_error *err)
{
    if (layer == TCONV_LAYER_CONVT)
        return tconv_geometry_init_transposed(g, dims, atoll(fld[2]), atoll(fld[3]),
                                              atoll(fld[4]), atoll(fld[5]), in, k, st, p, op,
                                              d, err) == TCONV_OK;
    for (int a = 0; a < dims; ++a)
        if (op[a] != 0) {
            snprintf(err->message, sizeof err->message,
                     "output_padding must be 0 in a convolution suite");
            return false;
        }
    return tconv_geometry_init_conv(g, dims, atoll(fld[2]), atoll(fld[3]), atoll(fld[4]),
                                    atoll(fld[5]), in, k, st, p, d, err) == TCONV_OK;
}

int shapes_read(const char *path, tconv_layer layer, shape **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tconv_bench: cannot open %s\n", path);
        return -1;
    }
    int count = 0, cap = 0, line_no = 0;
    shape *list = NULL;
    char line[1024];
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        ++line_no;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (header) { /* name,dims,batch,in_ch,out_ch,groups,input,kernel,... */
            header = false;
            continue;
        }
        char *fld[13];
        if (csv_split(line, fld, 13) < 13) {
            fprintf(stderr, "tconv_bench: %s:%d: expected 13 fields\n", path, line_no);
            goto fail;
        }
        shape s;
        memset(&s, 0, sizeof s);
        snprintf(s.name, sizeof s.name, "%s", fld[0]);
        snprintf(s.source, sizeof s.source, "%s", fld[12]);
        const int dims = atoi(fld[1]);
        int64_t in[3], k[3], st[3], p[3], op[3], d[3];
        if (dims < 1 || dims > 3 || !per_axis(fld[6], dims, in) || !per_axis(fld[7], dims, k) ||
            !per_axis(fld[8], dims, st) || !per_axis(fld[9], dims, p) ||
            !per_axis(fld[10], dims, op) || !per_axis(fld[11], dims, d)) {
            fprintf(stderr, "tconv_bench: %s:%d: malformed spatial field\n", path, line_no);
            goto fail;
        }
        tconv_error err = {0};
        if (!init_geometry(&s.g, layer, dims, fld, in, k, st, p, op, d, &err)) {
            fprintf(stderr, "tconv_bench: %s:%d (%s): %s\n", path, line_no, s.name, err.message);
            goto fail;
        }
        s.flops = forward_flops(&s.g);
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            shape *grown = realloc(list, (size_t)cap * sizeof *list);
            if (!grown)
                goto fail;
            list = grown;
        }
        list[count++] = s;
    }
    fclose(f);
    *out = list;
    return count;
fail:
    fclose(f);
    free(list);
    return -1;
}

void shape_family(int64_t n, shape *s)
{
    const int64_t in[2] = {n, n}, k[2] = {4, 4}, st[2] = {2, 2}, p[2] = {1, 1};
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "map_%03lld", (long long)n);
    snprintf(s->source, sizeof s->source, "ConvTranspose2d(4->4, k4 s2 p1), batch 1, n x n input");
    tconv_geometry_init_transposed(&s->g, 2, 1, 4, 4, 1, in, k, st, p, NULL, NULL, NULL);
    s->flops = forward_flops(&s->g);
}
