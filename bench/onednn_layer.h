/*
 * What differs between oneDNN's convolution and deconvolution peers: the descriptor
 * initialisers (the two families share one signature and one descriptor type) and how
 * PyTorch's weight maps onto oneDNN's (g, O, I, k...) weights. Everything else
 * (memories, formats, reorders, primitives) is peer_onednn.c's, shared by both.
 */
#ifndef TCONV_BENCH_ONEDNN_LAYER_H
#define TCONV_BENCH_ONEDNN_LAYER_H

#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>

typedef struct onednn_layer {
    const char *name;
    dnnl_alg_kind_t alg;
    dnnl_status_t (*forward)(dnnl_convolution_desc_t *, dnnl_prop_kind_t, dnnl_alg_kind_t,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *weights,
                             const dnnl_memory_desc_t *bias, const dnnl_memory_desc_t *dst,
                             const dnnl_dims_t strides, const dnnl_dims_t dilates,
                             const dnnl_dims_t padding_l, const dnnl_dims_t padding_r);
    dnnl_status_t (*backward_data)(dnnl_convolution_desc_t *, dnnl_alg_kind_t,
                                   const dnnl_memory_desc_t *diff_src,
                                   const dnnl_memory_desc_t *weights,
                                   const dnnl_memory_desc_t *diff_dst,
                                   const dnnl_dims_t strides, const dnnl_dims_t dilates,
                                   const dnnl_dims_t padding_l, const dnnl_dims_t padding_r);
    dnnl_status_t (*backward_weights)(dnnl_convolution_desc_t *, dnnl_alg_kind_t,
                                      const dnnl_memory_desc_t *src,
                                      const dnnl_memory_desc_t *diff_weights,
                                      const dnnl_memory_desc_t *diff_bias,
                                      const dnnl_memory_desc_t *diff_dst,
                                      const dnnl_dims_t strides, const dnnl_dims_t dilates,
                                      const dnnl_dims_t padding_l, const dnnl_dims_t padding_r);
    /* PyTorch stores this layer's weight as (g·I, O, k...) rather than (g·O, I, k...),
     * where O and I are the primitive's output and input channels per group */
    bool weight_in_out;
} onednn_layer;

extern const onednn_layer onednn_convolution;
extern const onednn_layer onednn_deconvolution;

#endif
