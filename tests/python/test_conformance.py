"""tconv against PyTorch itself.

- A seeded sweep of random geometries (geometries.random_case: 1-D/2-D/3-D, conv and
  transposed, stride, padding incl. 'same'/'valid', output_padding, dilation, groups,
  bias on/off, batch 0 to 3 and unbatched, per-axis values, the output_size form), each
  in float32 and float64: the forward output and all three gradients against
  torch.nn.functional (torch.nn's module forward for output_size). Even seeds go through
  tconv.torch (autograd), odd ones through the NumPy functions and their backward.
  Tolerance, elementwise: |ours - torch| <= 2 * L * eps * M, where M is the same result
  computed in float64 on absolute values (the sum of the magnitudes of the terms) and L
  the reduction length behind the element: the classical dot-product bound, once for
  each side. In float64 that is about L * 4e-16 relative to M.
- torch.autograd.gradcheck on tconv.torch's functions in float64.
- A table of inputs PyTorch rejects: each must raise a Python exception here too.

`python3 tests/python/test_conformance.py [algo]` runs the sweep alone (with tconv's
algorithm `algo`, default auto) and prints the largest errors seen (TCONV_LIBRARY and
PYTHONPATH=python as for the tests).
"""

import collections
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F

import tconv
import tconv.torch as tt
from geometries import random_case, torch_reference

GEOMETRIES = 1000
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
DTYPES = (torch.float32, torch.float64)
TENSORS = ("output", "grad_input", "grad_weight", "grad_bias")
ALGO = "auto"  # the algorithm under test (the report may choose another)


def ours_through_torch(case, x, w, b, grad):
    """Forward and the three gradients through tconv.torch's autograd Function."""
    leaves = [t.clone().requires_grad_() for t in (x, w, b) if t is not None]
    fn = getattr(tt, case.name)
    extra = {"output_size": case.output_size} if case.transposed else {}
    out = fn(*leaves, *([None] if b is None else []), *case.arguments(), algo=ALGO, **extra)
    grads = list(torch.autograd.grad(out, leaves, grad))
    if b is None:  # ask the NumPy backward for the bias gradient alone
        grads.append(torch.from_numpy(_numpy_backward(case, x, w, grad, (False, False, True))[2]))
    return [out.detach(), *grads]


def _numpy_backward(case, x, w, grad, needs):
    fn = getattr(tconv, case.name + "_backward")
    extra = {"output_size": case.output_size} if case.transposed else {}
    return fn(x.numpy(), w.numpy(), grad.numpy(), *case.arguments(), needs=needs, algo=ALGO,
              **extra)


def ours_through_numpy(case, x, w, b, grad):
    """Forward and the three gradients through the NumPy functions."""
    fn = getattr(tconv, case.name)
    extra = {"output_size": case.output_size} if case.transposed else {}
    out = fn(x.numpy(), w.numpy(), None if b is None else b.numpy(), *case.arguments(),
             algo=ALGO, **extra)
    grads = _numpy_backward(case, x, w, grad, (True, True, True))
    return [torch.from_numpy(a) for a in (out, *grads)]


def channels_last(t):
    """t with the same values in channels-last memory (the channel axis innermost), as
    torch's channels_last / channels_last_3d give it, for any rank."""
    channel = 1 if t.dim() >= 3 else 0
    order = [a for a in range(t.dim()) if a != channel] + [channel]
    back = [order.index(a) for a in range(t.dim())]
    return t.permute(order).contiguous().permute(back)


def is_channels_last(t):
    return t.numel() == 0 or channels_last(t).stride() == t.stride()


def compare(case, dtype, memory="contiguous"):
    """Checks one case in one dtype, its activations (input, output gradient) in
    `memory` ("contiguous" or "channels_last"); returns {tensor: (max |diff|, max |diff|
    / max M, max |diff| / tolerance)}."""
    (x, w, b), grad, expected, bounds, lengths = torch_reference(case, dtype)
    if memory == "channels_last" and case.batch is not None:
        x, grad = channels_last(x), channels_last(grad)
    ours = (ours_through_torch if case.seed % 2 == 0 else ours_through_numpy)(
        case, x, w, b, grad)
    if (memory == "channels_last" and case.batch is not None and case.padding != "same"
            and not x.is_contiguous()):  # a map of one position is both layouts at once
        # the output and the input's gradient come back in the input's memory order
        assert is_channels_last(ours[0]) and is_channels_last(ours[1]), (
            f"channels-last input gave strides {ours[0].stride()} / {ours[1].stride()} for "
            f"{case}")
    eps = torch.finfo(dtype).eps
    errors = {}
    for name, got, ref, bound, length in zip(TENSORS, ours, expected, bounds, lengths):
        assert got.shape == ref.shape, f"{name}: shape {tuple(got.shape)}, torch " \
                                       f"{tuple(ref.shape)} for {case}"
        assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype}, torch {ref.dtype}"
        diff = (got.to(torch.float64) - ref.to(torch.float64)).abs()
        tolerance = 2 * length * eps * bound
        worst = (diff - tolerance).argmax() if diff.numel() else None
        assert worst is None or diff.flatten()[worst] <= tolerance.flatten()[worst], (
            f"{name} {dtype}: |ours - torch| = {diff.flatten()[worst]:.3e} > "
            f"{tolerance.flatten()[worst]:.3e} at flat index {int(worst)} for {case}")
        scale = bound.max().item() if bound.numel() else 0.0
        errors[name] = (diff.max().item() if diff.numel() else 0.0,
                        diff.max().item() / scale if scale else 0.0,
                        (diff / tolerance.clamp_min(1e-300)).max().item() if diff.numel()
                        else 0.0)
    return errors


@pytest.mark.parametrize("dtype", DTYPES, ids=("float32", "float64"))
@pytest.mark.parametrize("seed", range(GEOMETRIES))
def test_sweep_matches_pytorch(seed, dtype):
    compare(random_case(seed), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=("float32", "float64"))
@pytest.mark.parametrize("seed", range(GEOMETRIES))
def test_sweep_channels_last_matches_pytorch(seed, dtype):
    """The same sweep with channels-last tensors: through tconv.torch and the NumPy
    functions they go to the library as they are (channels-last), not copied."""
    compare(random_case(seed), dtype, "channels_last")


def test_sweep_covers_every_parameter():
    """The sweep is only as good as what it draws: every feature must appear."""
    cases = [random_case(seed) for seed in range(GEOMETRIES)]
    seen = collections.Counter()
    for c in cases:
        seen[f"{c.dims}d"] += 1
        seen["transposed" if c.transposed else "conv"] += 1
        seen.update(k for k, on in (
            ("stride>1", any(s > 1 for s in c.stride)),
            ("dilation>1", any(d > 1 for d in c.dilation)),
            ("padding>0", not isinstance(c.padding, str) and any(c.padding)),
            ("padding=same", c.padding == "same"),
            ("padding=valid", c.padding == "valid"),
            ("output_padding>0", any(c.output_padding)),
            ("output_size", c.output_size is not None),
            ("groups>1", c.groups > 1),
            ("bias", c.bias), ("no bias", not c.bias),
            ("batch 0", c.batch == 0), ("unbatched", c.batch is None),
            ("per-axis values", c.dims > 1 and len(set(c.kernel + c.stride)) > 2),
        ) if on)
    for feature in ("1d", "2d", "3d", "conv", "transposed", "stride>1", "dilation>1",
                    "padding>0", "padding=same", "padding=valid", "output_padding>0",
                    "output_size", "groups>1", "bias", "no bias", "batch 0", "unbatched",
                    "per-axis values"):
        assert seen[feature] >= 10, f"only {seen[feature]} cases with {feature}: {seen}"


# ---- gradcheck ---------------------------------------------------------------------------

GRADCHECK = [
    # (function, input shape, weight shape, bias, keyword arguments)
    ("conv1d", (2, 4, 9), (6, 2, 3), True, dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv2d", (1, 3, 6, 5), (2, 3, 3, 2), False, dict(stride=(2, 1), padding=(1, 0))),
    ("conv3d", (1, 2, 4, 4, 3), (2, 1, 2, 3, 2), True, dict(padding=1, groups=2)),
    ("conv2d", (2, 5, 5), (4, 2, 3, 3), True, dict(padding="same", dilation=(1, 2))),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), True,
     dict(stride=3, padding=1, output_padding=2, groups=2)),
    ("conv_transpose2d", (1, 2, 3, 4), (2, 3, 3, 2), True,
     dict(stride=2, padding=(1, 0), output_padding=(1, 0), dilation=(1, 2))),
    ("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 3), False,
     dict(stride=(2, 1, 2), output_size=(5, 4, 6))),
]


@pytest.mark.parametrize("name,x_shape,w_shape,bias,kwargs", GRADCHECK,
                         ids=[g[0] for g in GRADCHECK])
def test_gradcheck(name, x_shape, w_shape, bias, kwargs):
    gen = torch.Generator().manual_seed(len(x_shape) * 7 + len(kwargs))
    x = torch.randn(x_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(w_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    out_channels = w_shape[0] if name.startswith("conv") and "transpose" not in name \
        else w_shape[1] * kwargs.get("groups", 1)
    b = torch.randn(out_channels, generator=gen, dtype=torch.float64,
                    requires_grad=True) if bias else None
    fn = getattr(tt, name)
    assert torch.autograd.gradcheck(lambda *t: fn(*t, **kwargs), (x, w, b))


# ---- inputs PyTorch rejects ----------------------------------------------------------------

def _t(*shape, dtype=torch.float32):
    return torch.ones(shape, dtype=dtype)


# (description, function name, input, weight, keyword arguments): PyTorch raises for each.
REJECTED = [
    ("zero stride", "conv2d", _t(1, 2, 5, 5), _t(3, 2, 3, 3), dict(stride=0)),
    ("negative stride", "conv_transpose1d", _t(1, 2, 5), _t(2, 3, 3), dict(stride=-1)),
    ("negative padding", "conv1d", _t(1, 2, 5), _t(3, 2, 3), dict(padding=-1)),
    ("negative padding, transposed", "conv_transpose2d", _t(1, 2, 5, 5), _t(2, 3, 3, 3),
     dict(padding=(0, -2))),
    ("zero dilation", "conv3d", _t(1, 2, 4, 4, 4), _t(3, 2, 2, 2, 2), dict(dilation=0)),
    ("negative dilation, transposed", "conv_transpose3d", _t(1, 2, 3, 3, 3),
     _t(2, 1, 2, 2, 2), dict(dilation=(1, -1, 1))),
    ("zero groups", "conv2d", _t(1, 2, 5, 5), _t(2, 2, 3, 3), dict(groups=0)),
    ("negative groups, transposed", "conv_transpose2d", _t(1, 2, 5, 5), _t(2, 1, 3, 3),
     dict(groups=-2)),
    ("input channels not divisible by groups", "conv2d", _t(1, 3, 5, 5), _t(2, 1, 3, 3),
     dict(groups=2)),
    ("weight out channels not divisible by groups", "conv2d", _t(1, 4, 5, 5),
     _t(3, 2, 1, 1), dict(groups=2)),
    ("transposed input channels not divisible by groups", "conv_transpose1d", _t(1, 3, 5),
     _t(3, 1, 3), dict(groups=2)),
    ("input channels differ from the weight's", "conv2d", _t(1, 4, 5, 5), _t(3, 3, 3, 3),
     {}),
    ("transposed: input channels differ from the weight's", "conv_transpose2d",
     _t(1, 5, 5, 5), _t(4, 2, 3, 3), {}),
    ("output_padding not smaller than stride or dilation", "conv_transpose2d",
     _t(1, 4, 5, 5), _t(4, 2, 3, 3), dict(stride=2, output_padding=2)),
    ("output_padding on one axis", "conv_transpose3d", _t(1, 2, 3, 3, 3), _t(2, 1, 2, 2, 2),
     dict(stride=(2, 2, 1), output_padding=(1, 1, 1))),
    ("negative output_padding", "conv_transpose1d", _t(1, 2, 5), _t(2, 2, 3),
     dict(stride=2, output_padding=-1)),
    ("input of too few dimensions", "conv2d", _t(5, 5), _t(3, 2, 3, 3), {}),
    ("input of too many dimensions", "conv1d", _t(1, 1, 2, 5), _t(3, 2, 3), {}),
    ("weight of the wrong rank", "conv_transpose2d", _t(1, 2, 5, 5), _t(2, 3, 3), {}),
    ("kernel larger than the padded input", "conv2d", _t(1, 2, 2, 5), _t(3, 2, 4, 3),
     dict(padding=(0, 1))),
    ("zero-size kernel", "conv2d", _t(1, 2, 5, 5), _t(3, 2, 0, 1), {}),
    ("zero-size input", "conv2d", _t(1, 2, 0, 5), _t(3, 2, 1, 1), {}),
    ("non-positive transposed output size", "conv_transpose1d", _t(1, 2, 1), _t(2, 3, 1),
     dict(padding=1)),
    ("bias of the wrong size", "conv1d", _t(1, 2, 5), _t(3, 2, 3), dict(bias=_t(4))),
    ("bias of the wrong size, transposed", "conv_transpose1d", _t(1, 2, 5), _t(2, 3, 3),
     dict(bias=_t(2))),
    ("input and weight dtypes differ", "conv2d", _t(1, 2, 5, 5),
     _t(3, 2, 3, 3, dtype=torch.float64), {}),
    ("bias dtype differs", "conv_transpose1d", _t(1, 2, 5), _t(2, 3, 3),
     dict(bias=_t(3, dtype=torch.float64))),
    ("stride of three values for 2-D", "conv2d", _t(1, 2, 5, 5), _t(3, 2, 3, 3),
     dict(stride=(1, 2, 3))),
    ("padding of two values for 1-D", "conv_transpose1d", _t(1, 2, 5), _t(2, 3, 3),
     dict(padding=(1, 1))),
    ("padding='same' with stride", "conv1d", _t(1, 2, 9), _t(3, 2, 3),
     dict(stride=2, padding="same")),
    ("unknown padding string", "conv2d", _t(1, 2, 5, 5), _t(3, 2, 3, 3),
     dict(padding="full")),
]


@pytest.mark.parametrize("what,name,x,w,kwargs", REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected_like_pytorch(what, name, x, w, kwargs):
    with pytest.raises(Exception):
        getattr(F, name)(x, w, **kwargs)
    with pytest.raises((ValueError, TypeError)):
        getattr(tt, name)(x, w, **kwargs)
    numpy_kwargs = {k: (v.numpy() if isinstance(v, torch.Tensor) else v)
                    for k, v in kwargs.items()}
    with pytest.raises((ValueError, TypeError)):
        getattr(tconv, name)(x.numpy(), w.numpy(), **numpy_kwargs)


@pytest.mark.parametrize("output_size", [(12, 10), (8, 10), (1, 2, 3), (1, 4, 10, 10, 1)])
def test_bad_output_size_rejected_like_pytorch(output_size):
    """Unreachable sizes and wrong lengths, through the module's forward."""
    torch.manual_seed(0)
    ours = tt.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    reference = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    x = torch.randn(1, 4, 5, 5)
    with pytest.raises(ValueError):
        reference(x, output_size=output_size)
    with pytest.raises(ValueError):
        ours(x, output_size=output_size)


# ---- the report ------------------------------------------------------------------------------

def report(algo="auto"):
    """Runs the sweep with `algo` and prints the largest errors per dtype and tensor."""
    global ALGO
    ALGO = algo
    warnings.filterwarnings("ignore", "Using padding='same'")
    worst = {}
    for seed in range(GEOMETRIES):
        case = random_case(seed)
        for dtype in DTYPES:
            for name, errors in compare(case, dtype).items():
                key = (dtype, name)
                worst[key] = tuple(max(a, b) for a, b in zip(worst.get(key, (0, 0, 0)),
                                                               errors))
    print(f"{GEOMETRIES} geometries x {len(DTYPES)} dtypes, algo {algo}: all within "
          "tolerance")
    print(f"{'dtype':8} {'tensor':12} {'max |diff|':>12} {'/ max M':>10} {'/ tolerance':>12}")
    for (dtype, name), (diff, relative, ratio) in worst.items():
        print(f"{str(dtype)[6:]:8} {name:12} {diff:12.3e} {relative:10.2e} {ratio:12.2e}")


if __name__ == "__main__":
    sys.exit(report(*sys.argv[1:]))
