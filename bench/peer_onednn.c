/*
 * oneDNN as a peer: convolution or deconvolution (the shape's layer; onednn_layer.h says
 * what differs) forward, backward-data and backward-weights through its C API (2.x), on
 * plain memory (NCHW, weights as PyTorch stores them), on the formats oneDNN picks itself
 * (format_tag_any), or on channels-last activations (nwc, nhwc, ndhwc) with the weights
 * in oneDNN's format. Tensors are reordered in and out outside the timed region: a run is
 * the primitive alone.
 *
 * Conventions translated, the same for both layers: oneDNN's dilation counts the gaps
 * (PyTorch's d is its d + 1), and the geometry's output_padding (the remainder a
 * convolution's floor drops, or the transposed convolution's extra rows) becomes a right
 * padding smaller by that much.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *onednn_label(onednn_format f)
{
    return f == ONEDNN_ANY ? "onednn_any" : f == ONEDNN_NHWC ? "onednn_nhwc" : "onednn";
}

#if TCONV_BENCH_ONEDNN
#include "onednn_layer.h"

#include <oneapi/dnnl/dnnl_debug.h>

/* One primitive with its memories, in the formats its descriptor chose. */
typedef struct prim {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    int nargs;
    dnnl_exec_arg_t args[4];
} prim;

struct onednn_peer {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    prim fwd, bwd_data, bwd_weights;
    dnnl_memory_desc_t plain_src, plain_dst, plain_w, plain_b;
};

bool onednn_available(void)
{
    return true;
}

const char *onednn_version(void)
{
    static char text[96];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
             dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()));
    return text;
}

#define TRY(call)                                                                              \
    do {                                                                                       \
        const dnnl_status_t st_ = (call);                                                      \
        if (st_ != dnnl_success) {                                                             \
            snprintf(why, why_size, "%s: %s", #call, dnnl_status2str(st_));                    \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

/* Copies `from` (memory of descriptor from_md) into `to`, reordering when formats differ. */
static dnnl_status_t reorder(onednn_peer *p, dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *a, *b;
    dnnl_memory_get_memory_desc(from, &a);
    dnnl_memory_get_memory_desc(to, &b);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t r;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, a, p->engine, b, p->engine, NULL);
    if (s != dnnl_success)
        return s;
    s = dnnl_primitive_create(&r, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success)
        return s;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    s = dnnl_primitive_execute(r, p->stream, 2, args);
    dnnl_stream_wait(p->stream);
    dnnl_primitive_destroy(r);
    return s;
}

/* Fills `to` from a user buffer of descriptor md (or the reverse when `out`). */
static dnnl_status_t transfer(onednn_peer *p, const dnnl_memory_desc_t *md, float *user,
                              dnnl_memory_t mem, bool out)
{
    dnnl_memory_t u;
    dnnl_status_t s = dnnl_memory_create(&u, md, p->engine, user);
    if (s != dnnl_success)
        return s;
    s = out ? reorder(p, mem, u) : reorder(p, u, mem);
    dnnl_memory_destroy(u);
    return s;
}

/* An execution argument and where its descriptor comes from. */
typedef struct argspec {
    int arg;
    dnnl_query_t what;
    int index; /* the bias is the weights kind's second descriptor */
} argspec;

/* The primitive of q->pd, with one memory per argument in the format q->pd wants. */
static dnnl_status_t make_prim(onednn_peer *p, prim *q, const argspec *spec, int n)
{
    dnnl_status_t s = dnnl_primitive_create(&q->p, q->pd);
    for (int i = 0; i < n && s == dnnl_success; ++i) {
        q->args[i].arg = spec[i].arg;
        s = dnnl_memory_create(&q->args[i].memory,
                               dnnl_primitive_desc_query_md(q->pd, spec[i].what, spec[i].index),
                               p->engine, DNNL_MEMORY_ALLOCATE);
        q->nargs = i + 1;
    }
    return s;
}

static dnnl_memory_t arg_of(const prim *q, int arg)
{
    for (int i = 0; i < q->nargs; ++i)
        if (q->args[i].arg == arg)
            return q->args[i].memory;
    return NULL;
}

/* Tags by dims - 1: dense in the order of the dimensions (activations (N, C, spatial...),
 * weights (O, I, k...)), channels-last activations, and the weights with and without the
 * group axis when PyTorch stores them (I, O) per group. */
static const dnnl_format_tag_t plain[3] = {dnnl_abc, dnnl_abcd, dnnl_abcde};
static const dnnl_format_tag_t act_last[3] = {dnnl_nwc, dnnl_nhwc, dnnl_ndhwc};
static const dnnl_format_tag_t w_io[3] = {dnnl_bac, dnnl_bacd, dnnl_bacde};
static const dnnl_format_tag_t gw_oi[3] = {dnnl_abcd, dnnl_abcde, dnnl_abcdef};
static const dnnl_format_tag_t gw_io[3] = {dnnl_acbd, dnnl_acbde, dnnl_acbdef};

onednn_peer *onednn_create(const shape *s, onednn_format f, const tensors *t, char *why,
                           size_t why_size)
{
    const tconv_geometry *g = &s->g;
    const onednn_layer *L = g->layer == TCONV_LAYER_CONV ? &onednn_convolution
                                                         : &onednn_deconvolution;
    const layer_io io = layer_io_of(g);
    const int nd = g->dims + 2;
    onednn_peer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    dnnl_dims_t src = {g->batch, io.in_ch}, dst = {g->batch, io.out_ch};
    dnnl_dims_t w, b = {io.out_ch}, strides, dilates, pad_l, pad_r;
    for (int a = 0; a < g->dims; ++a) {
        src[2 + a] = io.in_size[a];
        dst[2 + a] = io.out_size[a];
        strides[a] = g->stride[a];
        dilates[a] = g->dilation[a] - 1;
        pad_l[a] = g->padding[a];
        pad_r[a] = g->padding[a] - g->output_padding[a];
    }
    /* weights: oneDNN's (g, O, I, k...), O and I the primitive's channels per group */
    const bool grouped = g->groups > 1;
    int wd = 0;
    if (grouped)
        w[wd++] = g->groups;
    w[wd++] = io.out_ch / g->groups;
    w[wd++] = io.in_ch / g->groups;
    for (int a = 0; a < g->dims; ++a)
        w[wd++] = g->kernel[a];
    const int k = g->dims - 1;
    const dnnl_format_tag_t act = plain[k];
    const dnnl_format_tag_t wt = grouped ? (L->weight_in_out ? gw_io : gw_oi)[k]
                                         : (L->weight_in_out ? w_io : plain)[k];
    const dnnl_format_tag_t act_used = f == ONEDNN_ANY    ? dnnl_format_tag_any
                                       : f == ONEDNN_NHWC ? act_last[k]
                                                          : act;
    const dnnl_format_tag_t w_used = f == ONEDNN_PLAIN ? wt : dnnl_format_tag_any;

    dnnl_memory_desc_t src_md, dst_md, w_md, b_md;
    TRY(dnnl_memory_desc_init_by_tag(&p->plain_src, nd, src, dnnl_f32, act));
    TRY(dnnl_memory_desc_init_by_tag(&p->plain_dst, nd, dst, dnnl_f32, act));
    TRY(dnnl_memory_desc_init_by_tag(&p->plain_w, wd, w, dnnl_f32, wt));
    TRY(dnnl_memory_desc_init_by_tag(&p->plain_b, 1, b, dnnl_f32, dnnl_a));
    TRY(dnnl_memory_desc_init_by_tag(&src_md, nd, src, dnnl_f32, act_used));
    TRY(dnnl_memory_desc_init_by_tag(&dst_md, nd, dst, dnnl_f32, act_used));
    TRY(dnnl_memory_desc_init_by_tag(&w_md, wd, w, dnnl_f32, w_used));
    b_md = p->plain_b;

    TRY(dnnl_engine_create(&p->engine, dnnl_cpu, 0));
    TRY(dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags));

    dnnl_convolution_desc_t fd, bd, wdsc;
    TRY(L->forward(&fd, dnnl_forward_training, L->alg, &src_md, &w_md, &b_md, &dst_md, strides,
                   dilates, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&p->fwd.pd, &fd, NULL, p->engine, NULL));
    TRY(L->backward_data(&bd, L->alg, &src_md, &w_md, &dst_md, strides, dilates, pad_l,
                         pad_r));
    TRY(dnnl_primitive_desc_create(&p->bwd_data.pd, &bd, NULL, p->engine, p->fwd.pd));
    TRY(L->backward_weights(&wdsc, L->alg, &src_md, &w_md, &b_md, &dst_md, strides, dilates,
                            pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&p->bwd_weights.pd, &wdsc, NULL, p->engine, p->fwd.pd));

    const argspec fa[4] = {{DNNL_ARG_SRC, dnnl_query_src_md, 0},
                           {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0},
                           {DNNL_ARG_BIAS, dnnl_query_weights_md, 1},
                           {DNNL_ARG_DST, dnnl_query_dst_md, 0}};
    const argspec da[3] = {{DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0},
                           {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0},
                           {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0}};
    const argspec wa[4] = {{DNNL_ARG_SRC, dnnl_query_src_md, 0},
                           {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0},
                           {DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0},
                           {DNNL_ARG_DIFF_BIAS, dnnl_query_diff_weights_md, 1}};
    TRY(make_prim(p, &p->fwd, fa, 4));
    TRY(make_prim(p, &p->bwd_data, da, 3));
    TRY(make_prim(p, &p->bwd_weights, wa, 4));

    /* inputs in, in whatever format each primitive chose */
    TRY(transfer(p, &p->plain_src, t->in, arg_of(&p->fwd, DNNL_ARG_SRC), false));
    TRY(transfer(p, &p->plain_w, t->weight, arg_of(&p->fwd, DNNL_ARG_WEIGHTS), false));
    TRY(transfer(p, &p->plain_b, t->bias, arg_of(&p->fwd, DNNL_ARG_BIAS), false));
    TRY(transfer(p, &p->plain_dst, t->grad_out, arg_of(&p->bwd_data, DNNL_ARG_DIFF_DST), false));
    TRY(transfer(p, &p->plain_w, t->weight, arg_of(&p->bwd_data, DNNL_ARG_WEIGHTS), false));
    TRY(transfer(p, &p->plain_src, t->in, arg_of(&p->bwd_weights, DNNL_ARG_SRC), false));
    TRY(transfer(p, &p->plain_dst, t->grad_out, arg_of(&p->bwd_weights, DNNL_ARG_DIFF_DST),
                 false));
    return p;
fail:
    onednn_destroy(p);
    return NULL;
}

static void run(onednn_peer *p, const prim *q)
{
    dnnl_primitive_execute(q->p, p->stream, q->nargs, q->args);
    dnnl_stream_wait(p->stream);
}

void onednn_forward(onednn_peer *p)
{
    run(p, &p->fwd);
}

void onednn_backward(onednn_peer *p)
{
    run(p, &p->bwd_data);
    run(p, &p->bwd_weights);
}

void onednn_results(onednn_peer *p, tensors *got)
{
    transfer(p, &p->plain_dst, got->out, arg_of(&p->fwd, DNNL_ARG_DST), true);
    transfer(p, &p->plain_src, got->grad_in, arg_of(&p->bwd_data, DNNL_ARG_DIFF_SRC), true);
    transfer(p, &p->plain_w, got->grad_weight, arg_of(&p->bwd_weights, DNNL_ARG_DIFF_WEIGHTS),
             true);
    transfer(p, &p->plain_b, got->grad_bias, arg_of(&p->bwd_weights, DNNL_ARG_DIFF_BIAS), true);
}

int64_t onednn_scratchpad_bytes(const onednn_peer *p)
{
    const prim *qs[3] = {&p->fwd, &p->bwd_data, &p->bwd_weights};
    int64_t total = 0;
    for (int i = 0; i < 3; ++i)
        total += (int64_t)dnnl_memory_desc_get_size(
            dnnl_primitive_desc_query_md(qs[i]->pd, dnnl_query_scratchpad_md, 0));
    return total;
}

static void prim_destroy(prim *q)
{
    for (int i = 0; i < q->nargs; ++i)
        if (q->args[i].memory)
            dnnl_memory_destroy(q->args[i].memory);
    if (q->p)
        dnnl_primitive_destroy(q->p);
    if (q->pd)
        dnnl_primitive_desc_destroy(q->pd);
}

void onednn_destroy(onednn_peer *p)
{
    if (!p)
        return;
    prim_destroy(&p->fwd);
    prim_destroy(&p->bwd_data);
    prim_destroy(&p->bwd_weights);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    free(p);
}

#else /* built without oneDNN: the peer is absent */

bool onednn_available(void)
{
    return false;
}

const char *onednn_version(void)
{
    return "oneDNN not built in (install libdnnl-dev and reconfigure)";
}

onednn_peer *onednn_create(const shape *s, onednn_format f, const tensors *t, char *why,
                           size_t why_size)
{
    (void)s, (void)f, (void)t;
    snprintf(why, why_size, "oneDNN not built in");
    return NULL;
}

void onednn_forward(onednn_peer *p)
{
    (void)p;
}

void onednn_backward(onednn_peer *p)
{
    (void)p;
}

void onednn_results(onednn_peer *p, tensors *got)
{
    (void)p, (void)got;
}

int64_t onednn_scratchpad_bytes(const onednn_peer *p)
{
    (void)p;
    return -1;
}

void onednn_destroy(onednn_peer *p)
{
    (void)p;
}

#endif
