"""Memory layouts and views through the binding, and the GEMM provider by name.

- NumPy arrays of any strides go in as they are: channels-last memory (an (N, H, W, C)
  array seen through a transpose) as the library's channels-last, steps, reversed axes
  and slices of larger arrays as strided views; the results equal PyTorch's on the same
  values, and come back in the input's memory order.
- tconv.torch takes channels_last / channels_last_3d tensors (and channels-contiguous
  1-D ones) as they are and returns the output and the input's gradient in that memory
  format, as torch's own layers do; mixed formats (a channels-last input, a
  channels-first output gradient) work too.
- providers(): the build's GEMM providers; each gives PyTorch's results; an unknown name
  is a ValueError, onednn with float64 the library's EUNSUPPORTED.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tconv
import tconv.torch as tt

CASES = [
    # (name, x shape, weight shape, keyword arguments)
    ("conv2d", (2, 6, 9, 8), (4, 3, 3, 3), dict(stride=2, padding=1, groups=2)),
    ("conv_transpose2d", (2, 8, 5, 6), (8, 3, 4, 4), dict(stride=2, padding=1)),
    ("conv1d", (3, 5, 17), (4, 5, 5), dict(stride=3, padding=2, dilation=2)),
    ("conv_transpose3d", (1, 4, 3, 4, 3), (4, 2, 2, 3, 2), dict(stride=2, output_padding=1)),
    ("conv2d", (2, 16, 7, 7), (32, 16, 1, 1), {}),                     # pointwise
    ("conv_transpose2d", (4, 10, 1, 1), (10, 6, 4, 4), {}),             # a unit map
]


def _values(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _views(a):
    """Views of the values of `a` (N, C, *spatial), each with a name: channels-last
    memory, a step, a reversed axis, a slice of a larger array."""
    cl = np.ascontiguousarray(np.moveaxis(a, 1, -1))
    yield "channels-last memory", np.moveaxis(cl, -1, 1)
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    yield "step 2 along the last axis", wide[..., ::2]
    yield "last axis reversed", np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    big = np.zeros((a.shape[0] + 1, a.shape[1] + 2) + tuple(n + 3 for n in a.shape[2:]),
                   a.dtype)
    big[(slice(1, None), slice(2, None), *(slice(3, None) for _ in a.shape[2:]))] = a
    yield "a slice of a larger array", big[(slice(1, None), slice(2, None),
                                             *(slice(3, None) for _ in a.shape[2:]))]


def _is_channels_last(a):
    return np.moveaxis(a, 1, -1).flags.c_contiguous


def _torch_forward(name, x, w, kw):
    return getattr(F, name)(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(w),
                            **kw).numpy()


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_numpy_views_go_in_as_they_are(case, dtype):
    name, xs, ws, kw = CASES[case]
    x, w = _values(xs, case).astype(dtype), _values(ws, case + 100).astype(dtype)
    ref = _torch_forward(name, x, w, kw)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for what, view in _views(x):
        assert np.array_equal(view, x), what
        out = getattr(tconv, name)(view, w, **kw)
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol, err_msg=what)
        if not (view.flags.c_contiguous and _is_channels_last(view)):  # 1x1 maps: both
            assert _is_channels_last(out) == (what == "channels-last memory"), (
                f"{what}: output strides {out.strides}")


@pytest.mark.parametrize("case", range(len(CASES)))
def test_numpy_backward_with_mixed_memory(case):
    """A channels-last input with a channels-first output gradient, and the reverse: the
    gradients of PyTorch's autograd on the same values."""
    name, xs, ws, kw = CASES[case]
    x, w = _values(xs, case), _values(ws, case + 100)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    out = getattr(F, name)(tx, tw, **kw)
    g = _values(out.shape, case + 200)
    out.backward(torch.from_numpy(g))
    cl = lambda a: np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)
    for xv, gv in ((cl(x), g), (x, cl(g)), (cl(x), cl(g))):
        gi, gw, _ = getattr(tconv, name + "_backward")(xv, w, gv, **kw)
        np.testing.assert_allclose(gi, tx.grad.numpy(), rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-11, atol=1e-11)
        if not (xv.flags.c_contiguous and _is_channels_last(xv)):
            assert _is_channels_last(gi) == _is_channels_last(xv)


def _channels_last(t):
    channel = 1
    order = [a for a in range(t.dim()) if a != channel] + [channel]
    return t.permute(order).contiguous().permute([order.index(a) for a in range(t.dim())])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_torch_channels_last_in_and_out(case):
    name, xs, ws, kw = CASES[case]
    gen = torch.Generator().manual_seed(case)
    x = _channels_last(torch.randn(xs, generator=gen)).requires_grad_()
    w = torch.randn(ws, generator=gen, requires_grad=True)
    ours = getattr(tt, name)(x, w, **kw)
    ambiguous = x.is_contiguous()  # a 1x1 map is channels-first and channels-last at once
    assert ambiguous or ours.stride() == _channels_last(ours).stride(), ours.stride()
    g = torch.randn(ours.shape, generator=gen)
    gx, gw = torch.autograd.grad(ours, (x, w), g)
    assert ambiguous or gx.stride() == _channels_last(gx).stride(), gx.stride()
    xr = x.detach().clone().requires_grad_()
    wr = w.detach().clone().requires_grad_()
    ref = getattr(F, name)(xr, wr, **kw)
    rx, rw = torch.autograd.grad(ref, (xr, wr), g)
    for a, b in ((ours, ref), (gx, rx), (gw, rw)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_torch_modules_keep_channels_last():
    """A small channels-last model: every layer's output stays channels_last."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(tt.ConvTranspose2d(8, 6, 4, 2, 1), torch.nn.ReLU(),
                                tt.Conv2d(6, 4, 3, padding=1))
    ref = torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 6, 4, 2, 1), torch.nn.ReLU(),
                              torch.nn.Conv2d(6, 4, 3, padding=1))
    ref.load_state_dict(model.state_dict())
    z = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    out = model(z)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, ref(z), rtol=1e-5, atol=1e-5)
    out.sum().backward()  # the gradient of a sum is a broadcast: taken as a copy
    ref(z).sum().backward()
    for a, b in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-4)


def test_providers_by_name():
    names = tconv.providers()
    assert names[0] == "default" and "openblas" in names and "reference" in names, names
    x, w = _values((2, 4, 6, 6), 1), _values((4, 3, 3, 3), 2)
    ref = _torch_forward("conv_transpose2d", x, w, dict(stride=2))
    for p in names:
        for dtype in (np.float32, np.float64):
            if p == "onednn" and dtype == np.float64:
                with pytest.raises(tconv.Error) as e:
                    tconv.conv_transpose2d(x, w, stride=2, provider=p)
                assert e.value.status == "EUNSUPPORTED" and "onednn" in str(e.value)
                continue
            out = tconv.conv_transpose2d(x.astype(dtype), w.astype(dtype), stride=2,
                                         provider=p)
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(out, ref, rtol=tol, atol=tol, err_msg=p)
        assert tconv.provider_info(p)
    with pytest.raises(ValueError, match="provider='blas'"):
        tconv.conv2d(x, w, provider="blas")
    m = tt.Conv2d(4, 2, 3)
    m.provider = "reference"
    torch.testing.assert_close(m(torch.from_numpy(x).float()),
                               F.conv2d(torch.from_numpy(x).float(), m.weight, m.bias),
                               rtol=1e-5, atol=1e-5)
