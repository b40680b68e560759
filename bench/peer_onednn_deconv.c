/*
 * oneDNN's deconvolution as the transposed suite's peer: src is the layer's input Y, dst
 * its output X, and PyTorch's ConvTranspose weight (C_y, C_x/g, k...) is oneDNN's
 * (g, O, I, k...) with O and I exchanged: O = C_x/g outputs, I = C_y/g inputs.
 */
#include "onednn_layer.h"

const onednn_layer onednn_deconvolution = {
    "deconvolution",
    dnnl_deconvolution_direct,
    dnnl_dilated_deconvolution_forward_desc_init,
    dnnl_dilated_deconvolution_backward_data_desc_init,
    dnnl_dilated_deconvolution_backward_weights_desc_init,
    true,
};
