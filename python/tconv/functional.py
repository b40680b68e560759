"""NumPy convolution and transposed convolution with PyTorch's functional signatures.

    conv{1,2,3}d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)
    conv_transpose{1,2,3}d(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                           groups=1, dilation=1)

and their backward functions, which return (grad_input, grad_weight, grad_bias) with None
for a gradient not asked for in `needs`. Every function also takes keyword-only
`algo="auto"` (a name from tconv.algorithms()); the transposed ones take keyword-only
`output_size=None` (the spatial output size, instead of output_padding: what
ConvTranspose's forward(x, output_size) does).

Arrays are float32 or float64, batched (N, C, *spatial) or unbatched (C, *spatial), any
strides (non-contiguous ones are copied). The checks PyTorch makes (dimensions, channel
counts, groups, dtypes, parameter ranges) raise ValueError here; what the library refuses
raises tconv.Error, a ValueError carrying the library's message and status.

The functions of the three dimensionalities are made from one definition each by the
factories at the end of this file.
"""

import operator

import numpy as np

from . import _native

_DTYPES = {np.dtype(np.float32): _native.F32, np.dtype(np.float64): _native.F64}
_ALL_GRADS = (True, True, True)


def _ints(name, value, dims):
    """PyTorch's int-or-sequence parameter as a tuple of `dims` ints (a one-element
    sequence stands for every axis, as in PyTorch)."""
    try:
        return (operator.index(value),) * dims
    except TypeError:
        pass
    try:
        values = tuple(operator.index(v) for v in value)
    except TypeError:
        raise ValueError(f"{name}={value!r}: expected an int or a sequence of {dims} "
                         "ints") from None
    if len(values) == 1:
        values *= dims
    if len(values) != dims:
        raise ValueError(f"{name}={value!r}: expected a single int or a list of {dims} "
                         "values to match the convolution dimensions")
    return values


def _string_padding(padding, dims, stride, dilation, kernel):
    """PyTorch's padding='valid' | 'same' for the convolution, as (padding, extra): the
    symmetric padding, and one more zero at the end of the axes where the total
    dilation*(kernel-1) is odd (PyTorch pads those on the right)."""
    if padding == "valid":
        return (0,) * dims, (0,) * dims
    if padding != "same":
        raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a "
                         f"sequence of {dims} ints")
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def _array(name, value, dtype=None):
    """`value` as an aligned C-contiguous array of a supported dtype (a copy only when
    needed); `dtype` is the one it must have, if already known."""
    a = np.asarray(value)
    native = a.dtype.newbyteorder("=") if a.dtype.kind == "f" else a.dtype
    if native not in _DTYPES:
        raise ValueError(f"{name} has dtype {a.dtype}: expected float32 or float64")
    if dtype is not None and native != dtype:
        raise ValueError(f"{name} has dtype {native} but the input has {dtype}: the "
                         "tensors of one call must have the same dtype")
    return np.require(a, native, ["C_CONTIGUOUS", "ALIGNED"])


class _Call:
    """One call of a layer with its arguments checked: the arrays (batched, contiguous,
    'same'-padded if asked) and the library's geometry.

    `transposed` selects ConvTranspose; `padding` may be a string for the convolution
    only; `output_size` (transposed only) replaces output_padding.
    """

    def __init__(self, transposed, dims, x, weight, stride, padding, output_padding,
                 groups, dilation, output_size, algo):
        name = f"conv_transpose{dims}d" if transposed else f"conv{dims}d"
        self.algo = _native.algo_id(algo)
        x = _array("input", x)
        self.dtype = x.dtype
        self.weight = _array("weight", weight, self.dtype)
        if self.weight.ndim != dims + 2:
            raise ValueError(f"{name}: weight of shape {self.weight.shape} has "
                             f"{self.weight.ndim} dimensions, expected {dims + 2} (two "
                             f"channel axes, {dims} kernel axes)")
        if x.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"{name}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D "
                             f"(batched) input, got input of shape {x.shape}")
        self.batched = x.ndim == dims + 2
        groups = operator.index(groups)
        stride = _ints("stride", stride, dims)
        dilation = _ints("dilation", dilation, dims)
        kernel = self.weight.shape[2:]

        # 'same' padding may need one more zero at the end of an axis than at its start:
        # the library pads symmetrically, so that zero goes into a padded copy of x.
        self.extra = (0,) * dims
        if isinstance(padding, str) and not transposed:
            padding, self.extra = _string_padding(padding, dims, stride, dilation, kernel)
        else:
            padding = _ints("padding", padding, dims)
        self.x = x if self.batched else x[np.newaxis]
        self.given_size = self.x.shape[2:]
        if any(self.extra):
            self.x = np.pad(self.x, [(0, 0), (0, 0)] + [(0, e) for e in self.extra])

        # weight: (out, in/groups, k...) for the conv, (in, out/groups, k...) transposed
        if transposed:
            self.out_channels, weight_in = self.weight.shape[1] * groups, self.weight.shape[0]
            output_padding = _ints("output_padding", output_padding, dims)
            if output_size is not None:
                output_size = self._spatial_output_size(name, output_size, dims)
        else:
            self.out_channels, weight_in = self.weight.shape[0], self.weight.shape[1] * groups
            output_padding = None
        batch, in_channels, *size = self.x.shape
        self.geometry = _native.geometry(
            _native.LAYER_CONVT if transposed else _native.LAYER_CONV, dims, batch,
            in_channels, self.out_channels, groups, size, kernel, stride, padding, dilation,
            output_padding, output_size)
        if in_channels != weight_in:
            raise ValueError(f"{name}: given groups={groups}, weight of shape "
                             f"{self.weight.shape}, expected the input (shape {x.shape}) to "
                             f"have {weight_in} channels, but got {in_channels} channels "
                             "instead")
        out_size = self.geometry.x_size if transposed else self.geometry.y_size
        self.out_shape = (batch, self.out_channels, *out_size[:dims])

    def _spatial_output_size(self, name, output_size, dims):
        """output_size as ConvTranspose's forward takes it: the spatial sizes, possibly
        after the batch and channel sizes."""
        sizes = [operator.index(s) for s in output_size]
        lead = 2 if self.batched else 1
        if len(sizes) == lead + dims:
            sizes = sizes[lead:]
        if len(sizes) != dims:
            raise ValueError(f"{name}: output_size must have {dims} or {lead + dims} "
                             f"elements (got {len(output_size)})")
        return sizes

    def _bias(self, bias):
        if bias is None:
            return None
        bias = _array("bias", bias, self.dtype)
        if bias.shape != (self.out_channels,):
            raise ValueError(f"bias of shape {bias.shape}: expected ({self.out_channels},), "
                             "one value per output channel")
        return bias

    def _as_given(self, grad_input):
        """grad_input in the shape the caller's input had (batch, 'same' padding)."""
        if any(self.extra):
            grad_input = np.ascontiguousarray(
                grad_input[(Ellipsis, *(slice(0, n) for n in self.given_size))])
        return grad_input if self.batched else grad_input[0]

    def forward(self, bias):
        bias = self._bias(bias)
        out = np.empty(self.out_shape, self.dtype)
        _native.forward(self.geometry, self.algo, _DTYPES[self.dtype], self.x, self.weight,
                        bias, out)
        return out if self.batched else out[0]

    def backward(self, grad_output, needs):
        needs = tuple(bool(n) for n in needs)
        if len(needs) != 3:
            raise ValueError(f"needs={needs!r}: expected three flags (input, weight, bias)")
        grad_output = _array("grad_output", grad_output, self.dtype)
        expected = self.out_shape if self.batched else self.out_shape[1:]
        if grad_output.shape != expected:
            raise ValueError(f"grad_output of shape {grad_output.shape}: the layer's output "
                             f"has shape {expected}")
        if not self.batched:
            grad_output = grad_output[np.newaxis]
        shapes = (self.x.shape, self.weight.shape, (self.out_channels,))
        grads = [np.empty(shape, self.dtype) if need else None
                 for shape, need in zip(shapes, needs)]
        _native.backward(self.geometry, self.algo, _DTYPES[self.dtype], self.x, self.weight,
                         grad_output, *grads)
        if grads[0] is not None:
            grads[0] = self._as_given(grads[0])
        return tuple(grads)


# ---- the public functions, made once per dimensionality ---------------------------------

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _named(obj, name, doc, module=__name__):
    """Gives a function or class made by a factory the name and docs it is exported by."""
    obj.__name__ = obj.__qualname__ = name
    obj.__doc__ = doc
    obj.__module__ = module
    return obj


def _conv(dims):
    def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
             algo="auto"):
        call = _Call(False, dims, x, weight, stride, padding, None, groups, dilation, None,
                     algo)
        return call.forward(bias)

    doc = f"""{dims}-D convolution, as torch.nn.functional.conv{dims}d.

    x: (N, C_in, {_SPATIAL[dims]}) or unbatched (C_in, {_SPATIAL[dims]}).
    weight: (C_out, C_in/groups, kernel...). bias: (C_out,) or None.
    stride, padding, dilation: an int or {dims} ints; padding may also be 'valid' or
    'same' (stride 1). Returns y: (N, C_out, output size...) in x's dtype.
    """
    return _named(conv, f"conv{dims}d", doc)


def _conv_backward(dims):
    def conv_backward(x, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                      needs=_ALL_GRADS, algo="auto"):
        call = _Call(False, dims, x, weight, stride, padding, None, groups, dilation, None,
                     algo)
        return call.backward(grad_output, needs)

    doc = f"""Gradients of conv{dims}d.

    grad_output has the shape of conv{dims}d's output. Returns (grad_input, grad_weight,
    grad_bias), each None where `needs` (three flags in that order) is false. grad_bias
    is the gradient a bias would receive; no bias argument is needed for it.
    """
    return _named(conv_backward, f"conv{dims}d_backward", doc)


def _conv_transpose(dims):
    def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, algo="auto"):
        call = _Call(True, dims, x, weight, stride, padding, output_padding, groups,
                     dilation, output_size, algo)
        return call.forward(bias)

    doc = f"""{dims}-D transposed convolution, as torch.nn.functional.conv_transpose{dims}d.

    x: (N, C_in, {_SPATIAL[dims]}) or unbatched (C_in, {_SPATIAL[dims]}).
    weight: (C_in, C_out/groups, kernel...). bias: (C_out,) or None.
    stride, padding, output_padding, dilation: an int or {dims} ints.
    output_size: the spatial output size (or with the batch and channel sizes in front),
    which then chooses output_padding; tconv.Error (status EUNREACHABLE) if no
    output_padding gives it. Returns (N, C_out, output size...) in x's dtype.
    """
    return _named(conv_transpose, f"conv_transpose{dims}d", doc)


def _conv_transpose_backward(dims):
    def conv_transpose_backward(x, weight, grad_output, stride=1, padding=0,
                                output_padding=0, groups=1, dilation=1, *, output_size=None,
                                needs=_ALL_GRADS, algo="auto"):
        call = _Call(True, dims, x, weight, stride, padding, output_padding, groups,
                     dilation, output_size, algo)
        return call.backward(grad_output, needs)

    doc = f"""Gradients of conv_transpose{dims}d.

    grad_output has the shape of conv_transpose{dims}d's output. Returns (grad_input,
    grad_weight, grad_bias), each None where `needs` (three flags in that order) is
    false.
    """
    return _named(conv_transpose_backward, f"conv_transpose{dims}d_backward", doc)


conv1d, conv2d, conv3d = (_conv(d) for d in (1, 2, 3))
conv1d_backward, conv2d_backward, conv3d_backward = (_conv_backward(d) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (_conv_transpose(d) for d in (1, 2, 3))
conv_transpose1d_backward, conv_transpose2d_backward, conv_transpose3d_backward = (
    _conv_transpose_backward(d) for d in (1, 2, 3))

__all__ = [f"{op}{d}d{suffix}" for op in ("conv", "conv_transpose") for d in (1, 2, 3)
           for suffix in ("", "_backward")]
