/*
 * oneDNN's convolution as the conv suite's peer: src is the layer's X, dst its Y, and
 * PyTorch's Conv weight (C_y, C_x/g, k...) is oneDNN's (g, O, I, k...) as it stands. The
 * direct algorithm, as PyTorch's own oneDNN path uses.
 */
#include "onednn_layer.h"

const onednn_layer onednn_convolution = {
    "convolution",
    dnnl_convolution_direct,
    dnnl_dilated_convolution_forward_desc_init,
    dnnl_dilated_convolution_backward_data_desc_init,
    dnnl_dilated_convolution_backward_weights_desc_init,
    false,
};
