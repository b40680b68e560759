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

CPU tensors of dtype float32 or float64. The backward is not itself differentiable
(double backward raises). Importing this module before or after torch both work: the
library computes with its own private OpenBLAS (python/README.md, tconv.blas_info()).
"""

import functools

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from . import functional as _functional

__all__ = [f"{op}{d}d" for op in ("conv", "conv_transpose") for d in (1, 2, 3)] + [
    f"{cls}{d}d" for cls in ("Conv", "ConvTranspose") for d in (1, 2, 3)]


def _numpy(name, t):
    """A NumPy view of a CPU tensor (torch's lazy negation and conjugation resolved)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"{name} is on {t.device}: tconv computes on the CPU")
    return t.detach().resolve_conj().resolve_neg().numpy()


class _Layer(torch.autograd.Function):
    """One layer call. `make_call(x, weight)` checks the arguments and returns the
    tconv.functional call that computes the forward and the backward."""

    @staticmethod
    def forward(ctx, make_call, x, weight, bias):
        call = make_call(_numpy("input", x), _numpy("weight", weight))
        out = call.forward(None if bias is None else _numpy("bias", bias))
        ctx.make_call = make_call
        ctx.save_for_backward(x, weight)
        return torch.from_numpy(out)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        call = ctx.make_call(_numpy("input", x), _numpy("weight", weight))
        grads = call.backward(_numpy("grad_output", grad_output), ctx.needs_input_grad[1:])
        return (None, *(None if g is None else torch.from_numpy(g) for g in grads))


# ---- functions, made once per dimensionality --------------------------------------------

def _named(obj, name, doc):
    return _functional._named(obj, name, doc, __name__)


def _conv(dims):
    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
             algo="auto"):
        make_call = functools.partial(
            _functional._Call, False, dims, stride=stride, padding=padding,
            output_padding=None, groups=groups, dilation=dilation, output_size=None,
            algo=algo)
        return _Layer.apply(make_call, input, weight, bias)

    doc = f"""torch.nn.functional.conv{dims}d computed by tconv
    (forward and backward); see tconv.functional.conv{dims}d for the arguments."""
    return _named(conv, f"conv{dims}d", doc)


def _conv_transpose(dims):
    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, algo="auto"):
        make_call = functools.partial(
            _functional._Call, True, dims, stride=stride, padding=padding,
            output_padding=output_padding, groups=groups, dilation=dilation,
            output_size=output_size, algo=algo)
        return _Layer.apply(make_call, input, weight, bias)

    doc = f"""torch.nn.functional.conv_transpose{dims}d computed by tconv (forward and
    backward); see tconv.functional.conv_transpose{dims}d for the arguments, output_size
    included."""
    return _named(conv_transpose, f"conv_transpose{dims}d", doc)


conv1d, conv2d, conv3d = (_conv(d) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (_conv_transpose(d) for d in (1, 2, 3))


# ---- modules ----------------------------------------------------------------------------

def _conv_module(dims, function):
    class Conv(getattr(torch.nn, f"Conv{dims}d")):
        #: tconv algorithm for this layer's calls ("auto" or a name of tconv.algorithms())
        algo = "auto"

        def forward(self, input):
            padding = self.padding
            if self.padding_mode != "zeros":  # as torch.nn does: its F.pad, then no padding
                input = F.pad(input, self._reversed_padding_repeated_twice,
                              mode=self.padding_mode)
                padding = 0
            return function(input, self.weight, self.bias, self.stride, padding,
                            self.dilation, self.groups, algo=self.algo)

    doc = f"""torch.nn.Conv{dims}d whose forward and backward tconv computes.

    Same constructor, parameters, initialisation and state_dict as torch.nn.Conv{dims}d
    (it is a subclass that replaces forward()). padding_mode other than 'zeros' pads
    with torch's F.pad first, as torch.nn.Conv{dims}d itself does."""
    return _named(Conv, f"Conv{dims}d", doc)


def _conv_transpose_module(dims, function):
    class ConvTranspose(getattr(torch.nn, f"ConvTranspose{dims}d")):
        #: tconv algorithm for this layer's calls ("auto" or a name of tconv.algorithms())
        algo = "auto"

        def forward(self, input, output_size=None):
            if self.padding_mode != "zeros":
                raise ValueError("Only 'zeros' padding mode is supported for "
                                 f"{type(self).__name__}")
            return function(input, self.weight, self.bias, self.stride, self.padding,
                            self.output_padding, self.groups, self.dilation,
                            output_size=output_size, algo=self.algo)

    doc = f"""torch.nn.ConvTranspose{dims}d whose forward and backward tconv computes.

    Same constructor, parameters, initialisation and state_dict as
    torch.nn.ConvTranspose{dims}d (it is a subclass that replaces forward()).
    forward(input, output_size=None): output_size (spatial sizes, or with the batch and
    channel sizes in front) goes to the library's output_size geometry."""
    return _named(ConvTranspose, f"ConvTranspose{dims}d", doc)


Conv1d, Conv2d, Conv3d = (_conv_module(d, f) for d, f in ((1, conv1d), (2, conv2d), (3, conv3d)))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    _conv_transpose_module(d, f)
    for d, f in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)))
