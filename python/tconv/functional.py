"""NumPy convolution and transposed convolution with PyTorch's functional signatures.

    conv{1,2,3}d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)
    conv_transpose{1,2,3}d(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                           groups=1, dilation=1)

and their backward functions, which return (grad_input, grad_weight, grad_bias) with None
for a gradient not asked for in `needs`. Every function also takes keyword-only
`algo="auto"` (a name from tconv.algorithms()); the transposed ones take keyword-only
`output_size=None` (the spatial output size, instead of output_padding: what
ConvTranspose's forward(x, output_size) does).

Arrays are float32 or float64, batched (N, C, *spatial) or unbatched (C, *spatial), of
any strides, taken without a copy: an activation whose channels are contiguous
(channels-last memory, e.g. an (N, H, W, C) array seen through .transpose(0, 3, 1, 2))
goes to the library as channels-last, and the results come back in the input's memory
order (channels-last arrays, seen as (N, C, *spatial)); other views (steps, reversed
axes, gaps) go as strided views. The weight is made C-contiguous. Every function also
takes keyword-only `provider=None` (a GEMM provider name from tconv.providers(); None:
the library's default rule). The checks PyTorch makes (dimensions, channel
counts, groups, dtypes, parameter ranges) raise ValueError here; what the library refuses
raises tconv.Error, a ValueError carrying the library's message and status.

The functions of the three dimensionalities are made from one definition each by the
factories at the end of this file.
"""

import numpy as np

from . import _plans

_DTYPES = {np.dtype(name): name for name in _plans.DTYPES}
_ALL_GRADS = (True, True, True)


def _array(name, value, dtype=None, view=False):
    """`value` as an aligned array of a supported dtype in native byte order, C-contiguous
    unless `view` (a copy only when needed); `dtype` is the one it must have, if already
    known."""
    a = np.asarray(value)
    native = a.dtype.newbyteorder("=") if a.dtype.kind == "f" else a.dtype
    if native not in _DTYPES:
        raise ValueError(f"{name} has dtype {a.dtype}: expected float32 or float64")
    if dtype is not None and native != dtype:
        raise ValueError(f"{name} has dtype {native} but the input has {dtype}: the "
                         "tensors of one call must have the same dtype")
    a = np.require(a, native, ["ALIGNED"] if view else ["C_CONTIGUOUS", "ALIGNED"])
    if view and (any(st % a.itemsize for st in a.strides) or
                 not _plans.distinct(a.shape, [st // a.itemsize for st in a.strides])):
        a = np.ascontiguousarray(a)  # a stride between elements, or a broadcast
    return a


def _memory(plan, a, layout=None):
    """(layout, view) of an activation for the call: its own memory order when dense
    (or `layout`'s, the call's, when given and the array is dense in it), else the
    strides of the view it is."""
    if a.size == 0:  # nothing to read: any layout, no view
        return layout or "first", None
    if layout != "last" and a.flags.c_contiguous:  # the common case
        return "first", None
    strides = tuple(st // a.itemsize for st in a.strides)
    found = _plans.memory(a.shape, strides, plan.batched)
    if layout is None:
        return (found, None) if found else ("first", strides)
    return layout, None if found == layout else strides


def _empty(plan, shape, layout, dtype):
    """A new array of logical `shape`, dense in `layout`."""
    if layout != "last":
        return np.empty(shape, dtype)
    alloc, axes = plan.memory_shape(shape, layout)
    return np.empty(alloc, dtype).transpose(axes)


def _address(array):
    return 0 if array is None else array.__array_interface__["data"][0]


def _padded(plan, x):
    """x with the extra end zeros of 'same' padding the library does not add itself."""
    if plan.pad_end is None:
        return x
    return np.pad(x, [(0, 0)] * (x.ndim - plan.dims) + [(0, e) for e in plan.pad_end])


def _plan(transposed, dims, x, weight, stride, padding, output_padding, groups, dilation,
          output_size, algo, provider):
    """The checked arrays x and weight, and their call's plan."""
    x = _array("input", x, view=True)
    weight = _array("weight", weight, x.dtype)
    plan = _plans.plan(transposed, dims, _DTYPES[x.dtype], x.shape, weight.shape, stride,
                       padding, output_padding, groups, dilation, output_size, algo,
                       provider)
    return plan, _padded(plan, x), weight


def _forward(plan, x, weight, bias):
    if bias is not None:
        bias = _array("bias", bias, x.dtype)
        plan.check_bias_shape(bias.shape)
    layout, view = _memory(plan, x)
    out = _empty(plan, plan.out_shape, layout, x.dtype)
    plan.forward_ptrs(_address(x), _address(weight), _address(bias), _address(out), layout,
                      view)
    return out


def _backward(plan, x, weight, grad_output, needs):
    needs = tuple(bool(n) for n in needs)
    if len(needs) != 3:
        raise ValueError(f"needs={needs!r}: expected three flags (input, weight, bias)")
    grad_output = _array("grad_output", grad_output, x.dtype, view=True)
    plan.check_grad_output_shape(grad_output.shape)
    layout, view = _memory(plan, x)
    _, grad_view = _memory(plan, grad_output, layout)
    shapes = (plan.in_shape, plan.weight_shape, (plan.out_channels,))
    grads = [(_empty(plan, shape, layout, x.dtype) if i == 0 else np.empty(shape, x.dtype))
             if need else None for i, (shape, need) in enumerate(zip(shapes, needs))]
    plan.backward_ptrs(_address(x), _address(weight), _address(grad_output),
                       *map(_address, grads), layout, view, grad_view)
    if grads[0] is not None and plan.pad_end is not None:
        grads[0] = np.ascontiguousarray(
            grads[0][(Ellipsis, *(slice(0, n) for n in plan.x_shape[-plan.dims:]))])
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
             algo="auto", provider=None):
        plan, x, weight = _plan(False, dims, x, weight, stride, padding, None, groups,
                                dilation, None, algo, provider)
        return _forward(plan, x, weight, bias)

    doc = f"""{dims}-D convolution, as torch.nn.functional.conv{dims}d.

    x: (N, C_in, {_SPATIAL[dims]}) or unbatched (C_in, {_SPATIAL[dims]}).
    weight: (C_out, C_in/groups, kernel...). bias: (C_out,) or None.
    stride, padding, dilation: an int or {dims} ints; padding may also be 'valid' or
    'same' (stride 1). Returns y: (N, C_out, output size...) in x's dtype.
    """
    return _named(conv, f"conv{dims}d", doc)


def _conv_backward(dims):
    def conv_backward(x, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                      needs=_ALL_GRADS, algo="auto", provider=None):
        plan, x, weight = _plan(False, dims, x, weight, stride, padding, None, groups,
                                dilation, None, algo, provider)
        return _backward(plan, x, weight, grad_output, needs)

    doc = f"""Gradients of conv{dims}d.

    grad_output has the shape of conv{dims}d's output. Returns (grad_input, grad_weight,
    grad_bias), each None where `needs` (three flags in that order) is false. grad_bias
    is the gradient a bias would receive; no bias argument is needed for it.
    """
    return _named(conv_backward, f"conv{dims}d_backward", doc)


def _conv_transpose(dims):
    def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, algo="auto", provider=None):
        plan, x, weight = _plan(True, dims, x, weight, stride, padding, output_padding,
                                groups, dilation, output_size, algo, provider)
        return _forward(plan, x, weight, bias)

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
                                needs=_ALL_GRADS, algo="auto", provider=None):
        plan, x, weight = _plan(True, dims, x, weight, stride, padding, output_padding,
                                groups, dilation, output_size, algo, provider)
        return _backward(plan, x, weight, grad_output, needs)

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
