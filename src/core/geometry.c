/*
 * Geometry: validation and output-size arithmetic. The size formulas live here and only
 * here; everything else reads the sizes this file computed.
 *
 *   conv:       y = floor((x + 2p - d(k-1) - 1) / s) + 1
 *   transposed: x = (y - 1)s - 2p + d(k-1) + output_padding + 1
 *
 * The floor makes the conv many-to-one: the s input sizes x, x+1, ..., x+s-1 (the ones
 * the floor maps to the same y) are told apart by output_padding in [0, s).
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct request {
    tconv_layer layer;
    int dims;
    int64_t batch, in_channels, out_channels, groups;
    const int64_t *in_size;
    const int64_t *out_size; /* transposed output_size= form; NULL otherwise */
    const int64_t *kernel, *stride, *padding, *output_padding, *dilation;
} request;

static int64_t axis_value(const int64_t *values, int axis, int64_t fallback)
{
    return values ? values[axis] : fallback;
}

/* Everything that is a property of one axis alone. */
static tconv_status check_axis(const request *r, int a, tconv_error *err)
{
    const int64_t k = r->kernel[a], s = axis_value(r->stride, a, 1);
    const int64_t p = axis_value(r->padding, a, 0), d = axis_value(r->dilation, a, 1);
    const int64_t op = axis_value(r->output_padding, a, 0);

    if (r->in_size[a] <= 0)
        return tconv__fail(err, TCONV_EINVAL, "input size[%d] = %lld: must be positive", a,
                           (long long)r->in_size[a]);
    if (k <= 0)
        return tconv__fail(err, TCONV_EINVAL, "kernel[%d] = %lld: must be positive", a,
                           (long long)k);
    if (s <= 0)
        return tconv__fail(err, TCONV_EINVAL, "stride[%d] = %lld: must be positive", a,
                           (long long)s);
    if (d <= 0)
        return tconv__fail(err, TCONV_EINVAL, "dilation[%d] = %lld: must be positive", a,
                           (long long)d);
    if (p < 0)
        return tconv__fail(err, TCONV_EINVAL, "padding[%d] = %lld: must be non-negative", a,
                           (long long)p);
    if (op < 0)
        return tconv__fail(err, TCONV_EINVAL, "output_padding[%d] = %lld: must be non-negative",
                           a, (long long)op);
    /* output_padding picks one of the sizes the conv's floor merged; past max(s, d) it
     * would add rows that no input element reaches (PyTorch's rule, same wording). */
    if (op >= s && op >= d)
        return tconv__fail(err, TCONV_EINVAL,
                           "output_padding[%d] = %lld must be smaller than either stride[%d] = "
                           "%lld or dilation[%d] = %lld",
                           a, (long long)op, a, (long long)s, a, (long long)d);
    return TCONV_OK;
}

/* x = (y - 1)s - 2p + d(k-1) + extra + 1, checked. */
static bool transposed_size(int64_t y, int64_t k, int64_t s, int64_t p, int64_t d,
                            int64_t extra, int64_t *x)
{
    int64_t a, b, c;
    return tconv__mul(y - 1, s, &a) && tconv__mul(d, k - 1, &b) && tconv__mul(2, p, &c) &&
           tconv__add(a, b, &a) && tconv__add(a, -c, &a) && tconv__add(a, extra + 1, x);
}

/*
 * Every extent an algorithm derives from one axis stays below x + 2p + d(k-1): the padded
 * input (x + 2p), the stretched input of the collection view (x + d(k-1)), its pad
 * (d(k-1) - p), a window's reach (o*s + k*d - p). Demanding that this sum fit in int64
 * lets every kernel compute them unchecked. A geometry past it has a padding or a
 * dilation in the quintillions: nothing could be computed on it anyway.
 */
static tconv_status check_extent(int a, int64_t x, int64_t p, int64_t d, int64_t k,
                                 tconv_error *err)
{
    int64_t span, pads, total;
    if (!tconv__mul(d, k - 1, &span) || !tconv__mul(2, p, &pads) ||
        !tconv__add(x, pads, &total) || !tconv__add(total, span, &total))
        return tconv__fail(err, TCONV_EOVERFLOW, "axis %d: size + 2*padding + "
                           "dilation*(kernel-1) = %lld + 2*%lld + %lld*(%lld-1) overflows int64",
                           a, (long long)x, (long long)p, (long long)d, (long long)k);
    return TCONV_OK;
}

/* Fills the sizes of axis a into g. */
static tconv_status size_axis(const request *r, int a, tconv_geometry *g, tconv_error *err)
{
    const int64_t k = r->kernel[a], s = axis_value(r->stride, a, 1);
    const int64_t p = axis_value(r->padding, a, 0), d = axis_value(r->dilation, a, 1);
    const int64_t in = r->in_size[a];

    g->kernel[a] = k;
    g->stride[a] = s;
    g->padding[a] = p;
    g->dilation[a] = d;

    if (r->layer == TCONV_LAYER_CONV) {
        int64_t span, padded;
        if (!tconv__mul(d, k - 1, &span) || !tconv__add(span, 1, &span) ||
            !tconv__mul(2, p, &padded) || !tconv__add(padded, in, &padded))
            return tconv__fail(err, TCONV_EOVERFLOW, "axis %d: padded input or kernel extent "
                               "overflows int64", a);
        if (padded < span)
            return tconv__fail(err, TCONV_EINVAL,
                               "axis %d: padded input size %lld (input %lld + 2*padding %lld) "
                               "is smaller than the dilated kernel extent %lld "
                               "(dilation*(kernel-1)+1): the output would be empty",
                               a, (long long)padded, (long long)in, (long long)p,
                               (long long)span);
        g->x_size[a] = in;
        g->y_size[a] = (padded - span) / s + 1;
        g->output_padding[a] = (padded - span) % s; /* what the floor dropped */
        return check_extent(a, in, p, d, k, err);
    }

    int64_t op = axis_value(r->output_padding, a, 0);
    if (r->out_size) {
        int64_t lo, want = r->out_size[a];
        if (!transposed_size(in, k, s, p, d, 0, &lo))
            return tconv__fail(err, TCONV_EOVERFLOW, "axis %d: output size overflows int64", a);
        if (want <= 0)
            return tconv__fail(err, TCONV_EINVAL, "output_size[%d] = %lld: must be positive", a,
                               (long long)want);
        /* want - lo is the output_padding that gives `want`; it may not fit in int64 when
         * lo is far below zero, and then it is certainly not below s */
        int64_t extra, hi;
        if (want < lo || !tconv__sub(want, lo, &extra) || extra >= s) {
            if (!tconv__add(lo, s - 1, &hi)) /* the top of the range, saturated */
                hi = INT64_MAX;
            return tconv__fail(err, TCONV_EUNREACHABLE,
                               "output_size[%d] = %lld is not reachable: with input %lld, "
                               "stride %lld, padding %lld, dilation %lld and kernel %lld the "
                               "sizes from %lld to %lld are (output_padding 0 to %lld)",
                               a, (long long)want, (long long)in, (long long)s, (long long)p,
                               (long long)d, (long long)k, (long long)lo, (long long)hi,
                               (long long)(s - 1));
        }
        op = extra;
    }
    int64_t x;
    if (!transposed_size(in, k, s, p, d, op, &x))
        return tconv__fail(err, TCONV_EOVERFLOW, "axis %d: output size overflows int64", a);
    if (x <= 0)
        return tconv__fail(err, TCONV_EINVAL,
                           "axis %d: output size (in-1)*stride - 2*padding + "
                           "dilation*(kernel-1) + output_padding + 1 = (%lld-1)*%lld - 2*%lld "
                           "+ %lld*(%lld-1) + %lld + 1 = %lld: must be positive",
                           a, (long long)in, (long long)s, (long long)p, (long long)d,
                           (long long)k, (long long)op, (long long)x);
    g->y_size[a] = in;
    g->x_size[a] = x;
    g->output_padding[a] = op;
    return check_extent(a, x, p, d, k, err);
}

/* Element count of one tensor (lead0 × lead1 × Π sizes), checked so that its bytes in
 * float64 fit in int64. The inner part (lead1 × Π sizes: one image, or one output
 * channel's weights) is checked on its own first: with an empty batch the tensor has no
 * elements, but the kernels still index within one image. */
static bool tensor_count(int64_t lead0, int64_t lead1, int dims, const int64_t *sizes,
                         int64_t *count)
{
    const int64_t most = INT64_MAX / (int64_t)sizeof(double);
    int64_t n = lead1;
    for (int a = 0; a < dims; ++a)
        if (!tconv__mul(n, sizes[a], &n))
            return false;
    if (n > most || !tconv__mul(n, lead0, &n))
        return false;
    *count = n;
    return n <= most;
}

static tconv_status build(const request *r, tconv_geometry *out, tconv_error *err)
{
    if (!out)
        return tconv__fail(err, TCONV_EINVAL, "geometry pointer is NULL");
    if (r->dims < 1 || r->dims > TCONV_MAX_DIMS)
        return tconv__fail(err, TCONV_EINVAL, "dims = %d: must be 1, 2 or 3", r->dims);
    if (r->batch < 0)
        return tconv__fail(err, TCONV_EINVAL, "batch = %lld: must be non-negative",
                           (long long)r->batch);
    if (r->in_channels <= 0)
        return tconv__fail(err, TCONV_EINVAL, "in_channels = %lld: must be positive",
                           (long long)r->in_channels);
    if (r->out_channels <= 0)
        return tconv__fail(err, TCONV_EINVAL, "out_channels = %lld: must be positive",
                           (long long)r->out_channels);
    if (r->groups <= 0)
        return tconv__fail(err, TCONV_EINVAL, "groups = %lld: must be positive",
                           (long long)r->groups);
    if (r->in_channels % r->groups)
        return tconv__fail(err, TCONV_EINVAL, "in_channels = %lld is not divisible by groups = "
                           "%lld", (long long)r->in_channels, (long long)r->groups);
    if (r->out_channels % r->groups)
        return tconv__fail(err, TCONV_EINVAL, "out_channels = %lld is not divisible by groups "
                           "= %lld", (long long)r->out_channels, (long long)r->groups);
    if (!r->in_size)
        return tconv__fail(err, TCONV_EINVAL, "input size array is NULL");
    if (!r->kernel)
        return tconv__fail(err, TCONV_EINVAL, "kernel array is NULL");

    tconv_geometry g;
    memset(&g, 0, sizeof g);
    g.dims = r->dims;
    g.layer = r->layer;
    g.batch = r->batch;
    g.groups = r->groups;
    const bool conv = r->layer == TCONV_LAYER_CONV;
    g.x_channels = conv ? r->in_channels : r->out_channels;
    g.y_channels = conv ? r->out_channels : r->in_channels;

    for (int a = 0; a < r->dims; ++a) {
        tconv_status s = check_axis(r, a, err);
        if (s == TCONV_OK)
            s = size_axis(r, a, &g, err);
        if (s != TCONV_OK)
            return s;
    }

    int64_t n;
    if (!tensor_count(g.batch, g.x_channels, g.dims, g.x_size, &n) ||
        !tensor_count(g.batch, g.y_channels, g.dims, g.y_size, &n) ||
        !tensor_count(g.y_channels, g.x_channels / g.groups, g.dims, g.kernel, &n))
        return tconv__fail(err, TCONV_EOVERFLOW, "a tensor of this geometry has more elements "
                           "than 64-bit byte counts can address");
    *out = g;
    return TCONV_OK;
}

tconv_status tconv_geometry_init_conv(tconv_geometry *g, int dims, int64_t batch,
                                      int64_t in_channels, int64_t out_channels, int64_t groups,
                                      const int64_t *in_size, const int64_t *kernel,
                                      const int64_t *stride, const int64_t *padding,
                                      const int64_t *dilation, tconv_error *err)
{
    const request r = {TCONV_LAYER_CONV, dims, batch, in_channels, out_channels, groups,
                       in_size, NULL, kernel, stride, padding, NULL, dilation};
    return build(&r, g, err);
}

tconv_status tconv_geometry_init_transposed(tconv_geometry *g, int dims, int64_t batch,
                                            int64_t in_channels, int64_t out_channels,
                                            int64_t groups, const int64_t *in_size,
                                            const int64_t *kernel, const int64_t *stride,
                                            const int64_t *padding,
                                            const int64_t *output_padding,
                                            const int64_t *dilation, tconv_error *err)
{
    const request r = {TCONV_LAYER_CONVT, dims, batch, in_channels, out_channels, groups,
                       in_size, NULL, kernel, stride, padding, output_padding, dilation};
    return build(&r, g, err);
}

tconv_status tconv_geometry_init_transposed_output_size(
    tconv_geometry *g, int dims, int64_t batch, int64_t in_channels, int64_t out_channels,
    int64_t groups, const int64_t *in_size, const int64_t *out_size, const int64_t *kernel,
    const int64_t *stride, const int64_t *padding, const int64_t *dilation, tconv_error *err)
{
    if (!out_size)
        return tconv__fail(err, TCONV_EINVAL, "output_size array is NULL");
    const request r = {TCONV_LAYER_CONVT, dims, batch, in_channels, out_channels, groups,
                       in_size, out_size, kernel, stride, padding, NULL, dilation};
    return build(&r, g, err);
}

tconv_status tconv_geometry_check(const tconv_geometry *g, tconv_error *err)
{
    if (!g)
        return tconv__fail(err, TCONV_EINVAL, "geometry pointer is NULL");
    if (g->layer != TCONV_LAYER_CONV && g->layer != TCONV_LAYER_CONVT)
        return tconv__fail(err, TCONV_EINVAL, "geometry layer = %d: not a geometry made by "
                           "tconv_geometry_init_*", (int)g->layer);
    if (g->dims < 1 || g->dims > TCONV_MAX_DIMS)
        return tconv__fail(err, TCONV_EINVAL, "geometry dims = %d: must be 1, 2 or 3", g->dims);

    /* Rebuild from the defining fields and demand the same result: a geometry edited by
     * hand could otherwise make the kernels read or write out of bounds. */
    const bool conv = g->layer == TCONV_LAYER_CONV;
    const request r = {g->layer,
                       g->dims,
                       g->batch,
                       conv ? g->x_channels : g->y_channels,
                       conv ? g->y_channels : g->x_channels,
                       g->groups,
                       conv ? g->x_size : g->y_size,
                       NULL,
                       g->kernel,
                       g->stride,
                       g->padding,
                       conv ? NULL : g->output_padding,
                       g->dilation};
    tconv_geometry again;
    tconv_status s = build(&r, &again, err);
    if (s != TCONV_OK)
        return s;
    for (int a = 0; a < g->dims; ++a)
        if (again.x_size[a] != g->x_size[a] || again.y_size[a] != g->y_size[a] ||
            again.output_padding[a] != g->output_padding[a])
            return tconv__fail(err, TCONV_EINVAL,
                               "geometry is inconsistent on axis %d: x_size %lld, y_size %lld, "
                               "output_padding %lld do not follow from its parameters (make "
                               "geometries with tconv_geometry_init_*)",
                               a, (long long)g->x_size[a], (long long)g->y_size[a],
                               (long long)g->output_padding[a]);
    return TCONV_OK;
}

/* snprintf that appends and keeps counting past the end, as snprintf itself does. */
typedef struct text {
    char *buf;
    size_t size, len;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
{
    const size_t room = t->len < t->size ? t->size - t->len : 0;
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

size_t tconv_geometry_format(const tconv_geometry *g, char *buf, size_t size)
{
    if (!buf || size == 0)
        return 0;
    text t = {buf, size, 0};
    buf[0] = '\0';
    if (tconv_geometry_check(g, NULL) != TCONV_OK) {
        text_add(&t, "(invalid geometry)");
        return t.len < size ? t.len : size - 1;
    }
    const bool conv = g->layer == TCONV_LAYER_CONV;
    text_add(&t, "%s%dd batch=%lld channels=%lld->%lld groups=%lld",
             conv ? "conv" : "conv_transpose", g->dims, (long long)g->batch,
             (long long)(conv ? g->x_channels : g->y_channels),
             (long long)(conv ? g->y_channels : g->x_channels), (long long)g->groups);
    struct {
        const char *label;
        const int64_t *v;
    } const parts[] = {{"in", conv ? g->x_size : g->y_size},
                       {"out", conv ? g->y_size : g->x_size},
                       {"kernel", g->kernel},
                       {"stride", g->stride},
                       {"padding", g->padding},
                       {"output_padding", g->output_padding},
                       {"dilation", g->dilation}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; ++i) {
        text_add(&t, " %s=", parts[i].label);
        for (int a = 0; a < g->dims; ++a)
            text_add(&t, a ? "x%lld" : "%lld", (long long)parts[i].v[a]);
    }
    return t.len < size ? t.len : size - 1;
}

int64_t tconv_tensor_numel(const tconv_geometry *g, tconv_tensor t)
{
    if (tconv_geometry_check(g, NULL) != TCONV_OK)
        return -1;
    return tconv__numel(g, t);
}

int64_t tconv__numel(const tconv_geometry *g, tconv_tensor t)
{
    int64_t n = 1; /* cannot overflow: build() checked every tensor's count */
    switch (t) {
    case TCONV_TENSOR_X:
        n = g->batch * g->x_channels;
        for (int a = 0; a < g->dims; ++a)
            n *= g->x_size[a];
        return n;
    case TCONV_TENSOR_Y:
        n = g->batch * g->y_channels;
        for (int a = 0; a < g->dims; ++a)
            n *= g->y_size[a];
        return n;
    case TCONV_TENSOR_WEIGHT:
        n = g->y_channels * (g->x_channels / g->groups);
        for (int a = 0; a < g->dims; ++a)
            n *= g->kernel[a];
        return n;
    case TCONV_TENSOR_X_BIAS:
        return g->x_channels;
    case TCONV_TENSOR_Y_BIAS:
        return g->y_channels;
    }
    return -1;
}

void tconv__shape_from(const tconv_geometry *g, tconv__shape *sh)
{
    sh->lead = 3 - g->dims;
    sh->batch = g->batch;
    sh->groups = g->groups;
    sh->cx = g->x_channels;
    sh->cy = g->y_channels;
    sh->cxg = g->x_channels / g->groups;
    sh->cyg = g->y_channels / g->groups;
    const int lead = sh->lead;
    for (int a = 0; a < 3; ++a) {
        const bool unit = a < lead;
        const int u = a - lead;
        sh->x[a] = unit ? 1 : g->x_size[u];
        sh->y[a] = unit ? 1 : g->y_size[u];
        sh->k[a] = unit ? 1 : g->kernel[u];
        sh->s[a] = unit ? 1 : g->stride[u];
        sh->p[a] = unit ? 0 : g->padding[u];
        sh->d[a] = unit ? 1 : g->dilation[u];
    }
    sh->x_count = sh->x[0] * sh->x[1] * sh->x[2];
    sh->y_count = sh->y[0] * sh->y[1] * sh->y[2];
    sh->k_count = sh->k[0] * sh->k[1] * sh->k[2];
}
