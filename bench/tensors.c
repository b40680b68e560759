/* The float32 tensors of one shape: random inputs, output buffers, their channels-last
 * copies, and the comparison of two sets of results. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *random_floats(int64_t n, uint64_t *state)
{
    float *v = aligned_alloc(64, ((size_t)(n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    for (int64_t i = 0; i < n; ++i) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(*state >> 40) / (double)(1ull << 23) - 1.0);
    }
    return v;
}

tensors tensors_new(const tconv_geometry *g, bool with_inputs, uint64_t seed)
{
    const layer_io io = layer_io_of(g);
    tensors t;
    memset(&t, 0, sizeof t);
    t.n_in = tconv_tensor_numel(g, io.in);
    t.n_out = tconv_tensor_numel(g, io.out);
    t.n_weight = tconv_tensor_numel(g, TCONV_TENSOR_WEIGHT);
    t.n_bias = tconv_tensor_numel(g, io.bias);
    uint64_t st = seed;
    if (with_inputs) {
        t.in = random_floats(t.n_in, &st);
        t.weight = random_floats(t.n_weight, &st);
        t.bias = random_floats(t.n_bias, &st);
        t.grad_out = random_floats(t.n_out, &st);
    }
    t.out = random_floats(t.n_out, &st);
    t.grad_in = random_floats(t.n_in, &st);
    t.grad_weight = random_floats(t.n_weight, &st);
    t.grad_bias = random_floats(t.n_bias, &st);
    return t;
}

void tensors_free(tensors *t)
{
    free(t->in), free(t->weight), free(t->bias), free(t->grad_out);
    free(t->out), free(t->grad_in), free(t->grad_weight), free(t->grad_bias);
}

static float *copy_of(const float *v, int64_t n)
{
    float *c = aligned_alloc(64, ((size_t)(n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    memcpy(c, v, (size_t)n * sizeof(float));
    return c;
}

static int64_t volume(const int64_t *size, int dims)
{
    int64_t v = 1;
    for (int a = 0; a < dims; ++a)
        v *= size[a];
    return v;
}

/* (N, C, S) <-> (N, S, C) over the flattened spatial positions S. */
static void to_last(const float *first, float *last, int64_t n, int64_t c, int64_t s)
{
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t p = 0; p < s; ++p)
                last[(i * s + p) * c + ch] = first[(i * c + ch) * s + p];
}

static void to_first(const float *last, float *first, int64_t n, int64_t c, int64_t s)
{
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t p = 0; p < s; ++p)
                first[(i * c + ch) * s + p] = last[(i * s + p) * c + ch];
}

tensors tensors_channels_last(const tconv_geometry *g, const tensors *t)
{
    const layer_io io = layer_io_of(g);
    const int64_t s_in = volume(io.in_size, g->dims), s_out = volume(io.out_size, g->dims);
    tensors c = tensors_new(g, false, 5);
    c.in = copy_of(t->in, t->n_in);
    c.grad_out = copy_of(t->grad_out, t->n_out);
    to_last(t->in, c.in, g->batch, io.in_ch, s_in);
    to_last(t->grad_out, c.grad_out, g->batch, io.out_ch, s_out);
    c.weight = copy_of(t->weight, t->n_weight);
    c.bias = copy_of(t->bias, t->n_bias);
    return c;
}

double rel_error(const float *got, const float *ref, int64_t n)
{
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
        worst = fmax(worst, fabs((double)got[i] - (double)ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    return scale > 0 ? worst / scale : worst;
}

double tensors_compare(const tconv_geometry *g, const tensors *got, tconv_layout layout,
                       pass p, const tensors *ref)
{
    const float *out = got->out, *grad_in = got->grad_in;
    float *out_first = NULL, *grad_in_first = NULL;
    if (layout == TCONV_LAYOUT_CHANNELS_LAST) {
        const layer_io io = layer_io_of(g);
        out_first = copy_of(got->out, got->n_out);
        to_first(got->out, out_first, g->batch, io.out_ch, volume(io.out_size, g->dims));
        out = out_first;
        if (p == PASS_FWDBWD) {
            grad_in_first = copy_of(got->grad_in, got->n_in);
            to_first(got->grad_in, grad_in_first, g->batch, io.in_ch,
                     volume(io.in_size, g->dims));
            grad_in = grad_in_first;
        }
    }
    double e = rel_error(out, ref->out, ref->n_out);
    if (p == PASS_FWDBWD)
        e = fmax(fmax(e, rel_error(grad_in, ref->grad_in, ref->n_in)),
                 fmax(rel_error(got->grad_weight, ref->grad_weight, ref->n_weight),
                      rel_error(got->grad_bias, ref->grad_bias, ref->n_bias)));
    free(out_first);
    free(grad_in_first);
    return e;
}
