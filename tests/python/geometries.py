"""Seeded random layer geometries for the conformance tests, and PyTorch's own answer for
each: the forward of torch.nn.functional (or of the torch.nn module when the case uses
output_size=), its gradients, and error bounds that follow the reduction lengths."""

import dataclasses
import math
import random

import torch
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

MAX_SIZE = {1: 12, 2: 7, 3: 4}  # input extent per axis, so 3-D cases stay small
MAX_KERNEL = {1: 5, 2: 4, 3: 3}


@dataclasses.dataclass(frozen=True)
class Case:
    """One call of Conv{dims}d or ConvTranspose{dims}d (transposed) and its arguments.
    batch None means an unbatched input; output_size (transposed only) replaces
    output_padding; padding may be 'same' or 'valid' (convolution only)."""

    seed: int
    dims: int
    transposed: bool
    batch: object
    in_channels: int
    out_channels: int
    groups: int
    size: tuple
    kernel: tuple
    stride: tuple
    padding: object
    output_padding: tuple
    dilation: tuple
    output_size: object
    bias: bool

    @property
    def name(self):
        return f"conv_transpose{self.dims}d" if self.transposed else f"conv{self.dims}d"

    def __str__(self):
        fields = (f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self)
                  if f.name not in ("dims", "transposed"))
        return f"{self.name}(" + ", ".join(fields) + ")"

    def weight_shape(self):
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    def input_shape(self):
        lead = () if self.batch is None else (self.batch,)
        return (*lead, self.in_channels, *self.size)

    def tensors(self, dtype):
        """Input, weight and bias (or None), the same values for every dtype."""
        gen = torch.Generator().manual_seed(self.seed)
        x = torch.rand(self.input_shape(), generator=gen, dtype=torch.float64) * 2 - 1
        w = torch.rand(self.weight_shape(), generator=gen, dtype=torch.float64) * 2 - 1
        b = torch.rand(self.out_channels, generator=gen, dtype=torch.float64) * 2 - 1
        return x.to(dtype), w.to(dtype), (b.to(dtype) if self.bias else None)

    def arguments(self):
        """Positional arguments after (input, weight, bias), in torch's order."""
        if self.transposed:
            return (self.stride, self.padding, self.output_padding, self.groups,
                    self.dilation)
        return (self.stride, self.padding, self.dilation, self.groups)

    def reduction_lengths(self, out_spatial):
        """Longest sum behind one element of: output, grad_input, grad_weight, grad_bias.
        The feature side (conv output, transposed-conv input) has `y` positions."""
        k = math.prod(self.kernel)
        batch = 1 if self.batch is None else self.batch
        y = math.prod(self.size if self.transposed else out_spatial)
        return (self.in_channels // self.groups * k + 1,
                self.out_channels // self.groups * k,
                batch * y,
                batch * math.prod(out_spatial))


def _transposed_extent(y, k, s, p, d, op):
    return (y - 1) * s - 2 * p + d * (k - 1) + op + 1


def random_case(seed):
    """A valid case drawn from `seed`: every parameter, per-axis values, batch 0 and
    unbatched inputs, the output_size form and padding strings all appear."""
    r = random.Random(seed)
    dims = r.choice((1, 2, 3))
    transposed = r.random() < 0.5
    groups = r.choice((1, 1, 2, 3))
    batch = r.choice((0, 1, 1, 2, 2, 3, None))
    kernel, stride, padding, output_padding, dilation, size, extent = ([] for _ in range(7))
    for _ in range(dims):
        k, s, d = r.randint(1, MAX_KERNEL[dims]), r.randint(1, 3), r.randint(1, 3)
        if transposed:
            y, op = r.randint(1, MAX_SIZE[dims]), r.randint(0, max(s, d) - 1)
            p = r.randint(0, min(3, ((y - 1) * s + d * (k - 1) + op) // 2))
            size.append(y)
            extent.append(_transposed_extent(y, k, s, p, d, op))
        else:
            p, op = r.randint(0, 2), 0
            smallest = max(1, d * (k - 1) + 1 - 2 * p)
            size.append(r.randint(smallest, smallest + MAX_SIZE[dims]))
        kernel.append(k)
        stride.append(s)
        padding.append(p)
        output_padding.append(op)
        dilation.append(d)
    padding = tuple(padding)
    if not transposed and r.random() < 0.2:
        padding = r.choice(("same", "valid"))
        if padding == "same":  # PyTorch's 'same' is for stride 1 only
            stride = [1] * dims
        else:  # no padding: the input must hold the dilated kernel
            size = [max(n, d * (k - 1) + 1) for n, k, d in zip(size, kernel, dilation)]
    output_size = None
    # output_size= reaches the sizes of output_padding 0 .. stride-1 only (in PyTorch too)
    if transposed and r.random() < 0.3 and all(op < s for op, s in zip(output_padding, stride)):
        output_size, output_padding = tuple(extent), [0] * dims
    return Case(seed=seed, dims=dims, transposed=transposed, batch=batch,
                in_channels=groups * r.randint(1, 3), out_channels=groups * r.randint(1, 3),
                groups=groups, size=tuple(size), kernel=tuple(kernel), stride=tuple(stride),
                padding=padding, output_padding=tuple(output_padding),
                dilation=tuple(dilation), output_size=output_size, bias=r.random() < 0.5)


def torch_forward(case, x, w, b):
    """PyTorch's forward: torch.nn.functional, or the torch.nn module's forward with
    output_size (PyTorch's own handling of that form)."""
    if case.output_size is None:
        fn = getattr(F, case.name)
        return fn(x, w, b, *case.arguments())
    module_class = getattr(torch.nn, f"ConvTranspose{case.dims}d")
    module = module_class(case.in_channels, case.out_channels, case.kernel, case.stride,
                          case.padding, groups=case.groups, bias=case.bias,
                          dilation=case.dilation, device="meta")
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    return functional_call(module, params, (x,), {"output_size": case.output_size})


def torch_reference(case, dtype):
    """(inputs, grad_output, expected, bounds, lengths) for `case` in `dtype`:
    inputs = (x, w, b); expected = (out, grad_x, grad_w, grad_b) from PyTorch in that
    dtype; bounds = the same four computed in float64 on absolute values (the sums of
    the magnitudes of the terms); lengths = the reduction lengths."""
    x, w, b = case.tensors(dtype)
    leaves = [t.clone().requires_grad_() for t in (x, w, b) if t is not None]
    out = torch_forward(case, *leaves, *([None] if b is None else []))
    gen = torch.Generator().manual_seed(case.seed + 1)
    grad = (torch.rand(out.shape, generator=gen, dtype=torch.float64) * 2 - 1).to(dtype)
    grads = torch.autograd.grad(out, leaves, grad) if out.numel() else [
        torch.zeros_like(t) for t in leaves]

    mags = [t.detach().to(torch.float64).abs().requires_grad_() for t in leaves]
    mag_out = torch_forward(case, *mags, *([None] if b is None else []))
    mag_grads = torch.autograd.grad(mag_out, mags, grad.to(torch.float64).abs()) if (
        mag_out.numel()) else [torch.zeros_like(t) for t in mags]
    if b is None:  # what a bias would receive: the output gradient summed per channel
        channel_dim = 0 if case.batch is None else 1
        sum_dims = [i for i in range(grad.dim()) if i != channel_dim]
        grads = (*grads, grad.sum(sum_dims))
        mag_grads = (*mag_grads, grad.to(torch.float64).abs().sum(sum_dims))
    expected = (out.detach(), *grads)
    bounds = (mag_out.detach(), *mag_grads)
    lengths = case.reduction_lengths(out.shape[2 - (case.batch is None):])
    return (x, w, b), grad, expected, bounds, lengths
