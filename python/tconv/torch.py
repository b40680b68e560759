"""PyTorch drop-ins computed by tconv.

Functions with torch.nn.functional's signatures, differentiable through an
autograd.Function whose backward is tconv's backward:

    conv{1,2,3}d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)
    conv_transpose{1,2,3}d(input, weight, bias=None, stride=1, padding=0,
                           output_padding=0, groups=1, dilation=1)

(plus keyword-only `algo="auto"`, and `output_size=None` for the transposed ones), and
modules Conv{1,2,3}d and ConvTranspose{1,2,3}d. The modules are subclasses of torch.nn's
that replace forward() only: same constructor, parameter names and shapes,
initialisation (torch's own reset_parameters) and state_dict, so a model's layers can be
swapped and its weights loaded unchanged. ConvTranspose's forward(input, output_size)
hands output_size to the library's output_size geometry.

CPU tensors of dtype float32 or float64, in any memory format: a channels_last (or
channels_last_3d, or for 1-D a channels-contiguous) input goes to the library as it is,
computed channels-last, and the output and the input's gradient come back in the input's
memory format, as torch's own layers do; other strided views go as views. Keyword-only
`provider=None` (functions) or the `provider` attribute (modules) picks the GEMM provider
(a name from tconv.providers()). The backward is not itself differentiable
(double backward raises). Importing this module before or after torch both work: the
library computes with its own private OpenBLAS (python/README.md, tconv.blas_info()).
"""

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from . import _plans
from . import functional as _functional

__all__ = [f"{op}{d}d" for op in ("conv", "conv_transpose") for d in (1, 2, 3)] + [
    f"{cls}{d}d" for cls in ("Conv", "ConvTranspose") for d in (1, 2, 3)]

_DTYPES = {getattr(torch, name): name for name in _plans.DTYPES}


def _dtype(name, t, input=None):
    """The dtype name of a CPU tensor tconv computes with (the input's, when `input` is
    given), or the error of another."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
    if not t.is_cpu or t.layout is not torch.strided:
        raise ValueError(f"{name} is on {t.device} ({t.layout}): tconv computes on dense "
                         "CPU tensors")
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise ValueError(f"{name} has dtype {t.dtype}: expected float32 or float64")
    if input is not None and t.dtype is not input.dtype:
        raise ValueError(f"{name} has dtype {t.dtype} but the input has {input.dtype}: "
                         "the tensors of one call must have the same dtype")
    return dtype


def _dense(t):
    """t as C-contiguous memory the C library can read (torch's lazy negation resolved);
    t itself when it already is."""
    if t.is_contiguous() and not t.is_neg():
        return t
    return t.resolve_neg().contiguous()


def _readable(t):
    """An activation the C library can read as it is, in whatever memory format: t itself,
    or a dense copy when torch's lazy negation or a broadcast (stride 0) stands in the way."""
    if t.is_contiguous() and not t.is_neg():  # the common case, checked in C
        return t
    if t.is_neg():
        t = t.resolve_neg()
    if not _plans.distinct(t.shape, t.stride()):
        t = t.contiguous()
    return t


def _address(t):
    return 0 if t is None else t.data_ptr()


def _memory(plan, t, layout=None):
    """(layout, view) of an activation, as functional._memory does for arrays."""
    if t.numel() == 0:  # nothing to read: any layout, no view
        return layout or "first", None
    if layout != "last" and t.is_contiguous():  # the common case, checked in C
        return "first", None
    found = _plans.memory(t.shape, t.stride(), plan.batched)
    if layout is None:
        return (found, None) if found else ("first", t.stride())
    return layout, None if found == layout else t.stride()


def _empty(plan, like, shape, layout):
    """A new tensor of logical `shape`, dense in `layout` (channels_last for "last")."""
    if layout != "last":  # a permute costs more than a small layer's computation
        return like.new_empty(shape)
    alloc, axes = plan.memory_shape(shape, layout)
    return like.new_empty(alloc).permute(axes)


def _input(plan, x):
    """The input the C call reads: as it is, with the extra end zeros of 'same' padding."""
    x = _readable(x)
    if plan.pad_end is not None:
        x = F.pad(x.contiguous(), [n for e in reversed(plan.pad_end) for n in (0, e)])
    return x


def _forward(plan, x, weight, bias):
    x, weight = _input(plan, x), _dense(weight)
    bias = None if bias is None else _dense(bias)
    layout, view = _memory(plan, x)
    out = _empty(plan, x, plan.out_shape, layout)
    plan.forward_ptrs(x.data_ptr(), weight.data_ptr(), _address(bias), out.data_ptr(),
                      layout, view)
    return out


def _backward(plan, x, weight, grad_output, needs):
    x, weight, grad_output = _input(plan, x), _dense(weight), _readable(grad_output)
    layout, view = _memory(plan, x)
    _, grad_view = _memory(plan, grad_output, layout)
    shapes = (plan.in_shape, plan.weight_shape, (plan.out_channels,))
    grads = [(_empty(plan, x, shape, layout) if i == 0 else x.new_empty(shape))
             if need else None for i, (shape, need) in enumerate(zip(shapes, needs))]
    plan.backward_ptrs(x.data_ptr(), weight.data_ptr(), grad_output.data_ptr(),
                       *map(_address, grads), layout, view, grad_view)
    if grads[0] is not None and plan.pad_end is not None:
        grads[0] = grads[0][(Ellipsis, *(slice(0, n) for n in plan.x_shape[-plan.dims:]))]
    return grads


class _Layer(torch.autograd.Function):
    """One layer call through autograd: the forward and backward of its plan."""

    @staticmethod
    def forward(ctx, plan, x, weight, bias):
        ctx.plan = plan
        ctx.save_for_backward(x, weight)
        return _forward(plan, x, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return (None, *_backward(ctx.plan, x, weight, grad_output, ctx.needs_input_grad[1:]))


def _call(transposed, dims, input, weight, bias, stride, padding, output_padding, groups,
          dilation, output_size, algo, provider=None):
    """One layer call: arguments checked (once per distinct arguments: the plan), then the
    forward, through autograd when a gradient is wanted."""
    dtype = _dtype("input", input)
    _dtype("weight", weight, input)
    plan = _plans.plan(transposed, dims, dtype, input.shape, weight.shape, stride, padding,
                       output_padding, groups, dilation, output_size, algo, provider)
    if bias is not None:
        _dtype("bias", bias, input)
        plan.check_bias_shape(bias.shape)
    if torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                    or (bias is not None and bias.requires_grad)):
        return _Layer.apply(plan, input, weight, bias)
    return _forward(plan, input, weight, bias)


# ---- functions, made once per dimensionality --------------------------------------------

def _named(obj, name, doc):
    return _functional._named(obj, name, doc, __name__)


def _conv(dims):
    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
             algo="auto", provider=None):
        return _call(False, dims, input, weight, bias, stride, padding, None, groups,
                     dilation, None, algo, provider)

    doc = f"""torch.nn.functional.conv{dims}d computed by tconv
    (forward and backward); see tconv.functional.conv{dims}d for the arguments."""
    return _named(conv, f"conv{dims}d", doc)


def _conv_transpose(dims):
    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, algo="auto", provider=None):
        return _call(True, dims, input, weight, bias, stride, padding, output_padding,
                     groups, dilation, output_size, algo, provider)

    doc = f"""torch.nn.functional.conv_transpose{dims}d computed by tconv (forward and
    backward); see tconv.functional.conv_transpose{dims}d for the arguments, output_size
    included."""
    return _named(conv_transpose, f"conv_transpose{dims}d", doc)


conv1d, conv2d, conv3d = (_conv(d) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (_conv_transpose(d) for d in (1, 2, 3))


# ---- modules ----------------------------------------------------------------------------

def _conv_module(dims):
    class Conv(getattr(torch.nn, f"Conv{dims}d")):
        #: tconv algorithm for this layer's calls ("auto" or a name of tconv.algorithms())
        algo = "auto"
        #: GEMM provider for this layer's calls (None: the default rule; a name of
        #: tconv.providers())
        provider = None

        def forward(self, input):
            padding = self.padding
            if self.padding_mode != "zeros":  # as torch.nn does: its F.pad, then no padding
                input = F.pad(input, self._reversed_padding_repeated_twice,
                              mode=self.padding_mode)
                padding = 0
            return _call(False, dims, input, self.weight, self.bias, self.stride, padding,
                         None, self.groups, self.dilation, None, self.algo, self.provider)

    doc = f"""torch.nn.Conv{dims}d whose forward and backward tconv computes.

    Same constructor, parameters, initialisation and state_dict as torch.nn.Conv{dims}d
    (it is a subclass that replaces forward()). padding_mode other than 'zeros' pads
    with torch's F.pad first, as torch.nn.Conv{dims}d itself does."""
    return _named(Conv, f"Conv{dims}d", doc)


def _conv_transpose_module(dims):
    class ConvTranspose(getattr(torch.nn, f"ConvTranspose{dims}d")):
        #: tconv algorithm for this layer's calls ("auto" or a name of tconv.algorithms())
        algo = "auto"
        #: GEMM provider for this layer's calls (None: the default rule)
        provider = None

        def forward(self, input, output_size=None):
            if self.padding_mode != "zeros":
                raise ValueError("Only 'zeros' padding mode is supported for "
                                 f"{type(self).__name__}")
            return _call(True, dims, input, self.weight, self.bias, self.stride,
                         self.padding, self.output_padding, self.groups, self.dilation,
                         output_size, self.algo, self.provider)

    doc = f"""torch.nn.ConvTranspose{dims}d whose forward and backward tconv computes.

    Same constructor, parameters, initialisation and state_dict as
    torch.nn.ConvTranspose{dims}d (it is a subclass that replaces forward()).
    forward(input, output_size=None): output_size (spatial sizes, or with the batch and
    channel sizes in front) goes to the library's output_size geometry."""
    return _named(ConvTranspose, f"ConvTranspose{dims}d", doc)


Conv1d, Conv2d, Conv3d = (_conv_module(d) for d in (1, 2, 3))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (_conv_transpose_module(d) for d in (1, 2, 3))
