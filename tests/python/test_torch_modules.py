"""tconv.torch's modules as drop-ins for torch.nn's: construction, initialisation,
state_dict, forward (output_size, padding modes), autograd details, and a DCGAN-like
model trained for a few steps with both, from the same initial weights."""

import copy
import io
import itertools

import pytest
import torch

import tconv.torch as tt

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")

KINDS = [(kind, dims) for kind in ("Conv", "ConvTranspose") for dims in (1, 2, 3)]
IDS = [f"{kind}{dims}d" for kind, dims in KINDS]


def pair(kind, dims, *args, **kwargs):
    """The torch.nn module and ours, constructed alike after the same seed."""
    torch.manual_seed(1234)
    reference = getattr(torch.nn, f"{kind}{dims}d")(*args, **kwargs)
    torch.manual_seed(1234)
    ours = getattr(tt, f"{kind}{dims}d")(*args, **kwargs)
    return reference, ours


@pytest.mark.parametrize("kind,dims", KINDS, ids=IDS)
def test_construction_initialisation_and_state_dict_are_torchs(kind, dims):
    reference, ours = pair(kind, dims, 4, 6, 3, stride=2, padding=1, groups=2, bias=True)
    assert isinstance(ours, type(reference))
    assert repr(ours) == repr(reference)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, p.shape) for n, p in reference.named_parameters()]
    for (_, a), (_, b) in zip(ours.state_dict().items(), reference.state_dict().items()):
        assert torch.equal(a, b)  # same seed, same reset_parameters: same values
    reference.reset_parameters()
    ours.load_state_dict(reference.state_dict())  # strict: same keys and shapes
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), reference.parameters()))


@pytest.mark.parametrize("kind,dims", KINDS, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_and_backward_match_torch(kind, dims, dtype):
    reference, ours = pair(kind, dims, 4, 6, 3, stride=2, padding=1, dilation=2, groups=2,
                           dtype=dtype)
    x = torch.randn(2, 4, *[5] * dims, dtype=dtype)
    xr, xo = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out = reference(xr), ours(xo)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(out, out_ref, rtol=tolerance, atol=tolerance)
    grad = torch.randn_like(out)
    out_ref.backward(grad)
    out.backward(grad)
    for got, want in ((xo.grad, xr.grad), (ours.weight.grad, reference.weight.grad),
                      (ours.bias.grad, reference.bias.grad)):
        torch.testing.assert_close(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_transposed_forward_with_output_size(dims):
    reference, ours = pair("ConvTranspose", dims, 3, 2, 3, stride=3, padding=1,
                           dtype=torch.float64)
    x = torch.randn(1, 3, *[4] * dims, dtype=torch.float64)
    for extra in range(3):  # every size output_padding 0..stride-1 reaches
        size = [10 + extra] * dims
        for output_size in (size, [1, 2, *size]):
            want = reference(x, output_size=output_size)
            got = ours(x, output_size=output_size)
            assert got.shape[2:] == tuple(size)
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    unbatched = x[0]
    torch.testing.assert_close(ours(unbatched, output_size=[2, *[11] * dims]),
                               reference(unbatched, output_size=[11] * dims),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_pad_as_torch_does(mode):
    reference, ours = pair("Conv", 2, 2, 3, 3, padding=(1, 2), padding_mode=mode,
                           dtype=torch.float64)
    x = torch.randn(1, 2, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(ours(x), reference(x), rtol=1e-12, atol=1e-12)


def test_conv_same_padding_module():
    reference, ours = pair("Conv", 1, 2, 3, 4, padding="same", dilation=3,
                           dtype=torch.float64)
    x = torch.randn(2, 2, 9, dtype=torch.float64)
    torch.testing.assert_close(ours(x), reference(x), rtol=1e-12, atol=1e-12)


def test_transposed_padding_modes_are_refused_like_torch():
    for module in (torch.nn.ConvTranspose2d, tt.ConvTranspose2d):
        with pytest.raises(ValueError):
            module(2, 3, 3, padding_mode="reflect")


def test_a_model_of_ours_pickles_and_loads_back():
    _, ours = pair("Conv", 2, 2, 3, 3)
    buffer = io.BytesIO()
    torch.save(torch.nn.Sequential(ours), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)[0]
    assert type(loaded) is tt.Conv2d
    x = torch.randn(1, 2, 5, 5)
    torch.testing.assert_close(loaded(x), ours(x), rtol=0, atol=0)


def test_module_algo_attribute():
    _, ours = pair("ConvTranspose", 2, 2, 3, 3, stride=2, dtype=torch.float64)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    fast = ours(x)
    ours.algo = "gather"
    torch.testing.assert_close(ours(x), fast, rtol=1e-13, atol=1e-13)


def test_non_contiguous_and_expanded_tensors():
    w = torch.randn(3, 2, 3, dtype=torch.float64)
    x = torch.randn(5, 2, 1, dtype=torch.float64).expand(5, 2, 8).transpose(0, 1)
    x = x.transpose(0, 1)  # (5, 2, 8), stride 0 on the last axis
    torch.testing.assert_close(tt.conv1d(x, w), torch.nn.functional.conv1d(x, w))


def test_autograd_only_when_a_gradient_is_wanted():
    """Like torch's own layers: an output with a grad_fn when the input or a parameter
    wants a gradient and grad mode is on, a plain tensor otherwise; the same values."""
    reference, ours = pair("ConvTranspose", 2, 2, 3, 3, stride=2, dtype=torch.float64)
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    expected = reference(x)
    trained = ours(x)
    assert trained.grad_fn is not None and expected.grad_fn is not None
    with torch.no_grad():
        inferred = ours(x)
    ours.requires_grad_(False)
    frozen = ours(x)
    for out in (inferred, frozen):
        assert out.grad_fn is None and not out.requires_grad
    for out in (trained, inferred, frozen):
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    frozen_input = ours(x.requires_grad_())  # only the input wants its gradient
    (grad,) = torch.autograd.grad(frozen_input.sum(), x)
    (expected_grad,) = torch.autograd.grad(reference(x).sum(), x)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-12, atol=1e-12)


def test_a_copied_module_computes_alike():
    _, ours = pair("Conv", 2, 2, 3, 3, stride=2)
    x = torch.randn(1, 2, 7, 7)
    torch.testing.assert_close(copy.deepcopy(ours)(x), ours(x), rtol=0, atol=0)


def test_double_backward_is_refused():
    x = torch.randn(1, 2, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(tt.conv1d(x, w).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        gx.sum().backward()


def test_non_tensor_and_non_cpu_inputs_are_refused():
    w = torch.randn(3, 2, 2)
    with pytest.raises(TypeError):
        tt.conv1d([[[1.0, 2.0]]], w)
    with pytest.raises(ValueError, match="CPU"):
        tt.conv1d(torch.randn(1, 2, 5, device="meta"), w)


# ---- a DCGAN-like model ---------------------------------------------------------------------

def generator(nn, nz=8, ngf=4):
    """DCGAN's generator at small width: a 1x1 code to a 32x32 image."""
    block = lambda i, o, *a: [nn.ConvTranspose2d(i, o, 4, *a, bias=False),  # noqa: E731
                              torch.nn.BatchNorm2d(o), torch.nn.ReLU(True)]
    return torch.nn.Sequential(*block(nz, 4 * ngf, 1, 0), *block(4 * ngf, 2 * ngf, 2, 1),
                               *block(2 * ngf, ngf, 2, 1),
                               nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),
                               torch.nn.Tanh())


def discriminator(nn, ndf=4):
    """DCGAN's discriminator: a 32x32 image to one logit."""
    return torch.nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1), torch.nn.LeakyReLU(0.2),
        nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(2 * ndf),
        torch.nn.LeakyReLU(0.2),
        nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(4 * ndf),
        torch.nn.LeakyReLU(0.2),
        nn.Conv2d(4 * ndf, 1, 4, 1, 0), torch.nn.Flatten())


def train(nn, dtype, weights, steps=5, batch=8, nz=8):
    """A few GAN steps (Adam, BCE) from the given initial weights; returns the losses."""
    g, d = generator(nn).to(dtype), discriminator(nn).to(dtype)
    g.load_state_dict(weights[0])
    d.load_state_dict(weights[1])
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    data = torch.Generator().manual_seed(7)
    real_label, fake_label = torch.ones(batch, 1, dtype=dtype), torch.zeros(batch, 1,
                                                                            dtype=dtype)
    losses = []
    for _ in range(steps):
        real = torch.rand(batch, 1, 32, 32, generator=data, dtype=dtype) * 2 - 1
        noise = torch.randn(batch, nz, 1, 1, generator=data, dtype=dtype)
        fake = g(noise)
        loss_d = bce(d(real), real_label) + bce(d(fake.detach()), fake_label)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(d(fake), real_label)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        losses += [loss_d.item(), loss_g.item()]
    return torch.tensor(losses, dtype=torch.float64)


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)],
                         ids=["float64", "float32"])
def test_dcgan_trains_like_torch_nn(dtype, rtol):
    """The same model from torch.nn and from tconv.torch, the same initial weights (the
    torch.nn model's state_dict, loaded unchanged into ours), the same data: the losses
    of each step agree to rtol: 1e-12 in float64, 1e-5 in float32 (seen here: 2e-16 and
    2e-7; the margin is for Adam, whose division by small second moments can amplify
    rounding differences over the steps)."""
    torch.manual_seed(0)
    weights = (generator(torch.nn).to(dtype).state_dict(),
               discriminator(torch.nn).to(dtype).state_dict())
    reference = train(torch.nn, dtype, weights)
    ours = train(tt, dtype, weights)
    assert torch.isfinite(reference).all() and len(set(reference.tolist())) > 2
    torch.testing.assert_close(ours, reference, rtol=rtol, atol=0)


def test_every_layer_of_the_model_is_ours():
    model = itertools.chain(generator(tt).modules(), discriminator(tt).modules())
    convs = [m for m in model if isinstance(m, torch.nn.modules.conv._ConvNd)]
    assert len(convs) == 8 and all(type(m).__module__ == "tconv.torch" for m in convs)
