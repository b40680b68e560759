"""The NumPy binding itself: finding the library, versions, argument handling (layouts,
unbatched inputs, dtypes, `needs`, algorithms), errors, threads. Expected values come
from the float64 gather algorithm (the library's oracle) or from the same call made on a
contiguous batched copy; PyTorch is compared with in test_conformance.py."""

import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import tconv

REPO = pathlib.Path(__file__).resolve().parents[2]


def random(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def header_version():
    text = (REPO / "include/tconv/tconv.h").read_text()
    parts = [re.search(rf"#define TCONV_VERSION_{p} (\d+)", text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def run_python(code, env_extra=None, env_drop=()):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=120)


# ---- the library and its version ---------------------------------------------------------

def test_library_is_the_one_named_by_tconv_library():
    assert os.environ.get("TCONV_LIBRARY"), "the tests run against TCONV_LIBRARY"
    assert tconv.library_path == os.environ["TCONV_LIBRARY"]


def test_version_is_the_headers():
    assert tconv.__version__ == tconv.version() == header_version()


def test_without_tconv_library_the_build_tree_is_used():
    """The README's `PYTHONPATH=python python3 -c "import tconv"` from the repository."""
    build_tree = REPO / "build" / "libtconv.so"
    if not build_tree.exists():
        pytest.skip("no build/libtconv.so in this checkout")
    done = run_python("import tconv; print(tconv.library_path)",
                      {"PYTHONPATH": str(REPO / "python")}, ("TCONV_LIBRARY",))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(build_tree)


def test_a_missing_library_is_an_import_error():
    done = run_python("import tconv", {"TCONV_LIBRARY": "/nonexistent/libtconv.so"})
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "TCONV_LIBRARY" in done.stderr


def test_import_does_not_import_torch():
    done = run_python("import sys, tconv; print('torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_algorithms():
    names = tconv.algorithms()
    assert names[0] == "auto" and {"gemm", "scatter", "gather"} <= set(names)
    with pytest.raises(ValueError, match="not an algorithm"):
        tconv.conv1d(random((1, 1, 4), 0), random((1, 1, 2), 1), algo="fastest")


# ---- results ----------------------------------------------------------------------------

LAYERS = [
    # (function, input shape, weight shape, keyword arguments)
    ("conv1d", (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv2d", (3, 3, 7, 6), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0))),
    ("conv3d", (2, 2, 5, 4, 3), (4, 1, 2, 3, 2), dict(padding=1, groups=2)),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2,
                                                    groups=2)),
    ("conv_transpose2d", (2, 2, 3, 4), (2, 3, 3, 2), dict(stride=2, padding=(1, 0),
                                                          dilation=(1, 2))),
    ("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 3), dict(stride=(2, 1, 2),
                                                                output_size=(5, 4, 6))),
]
IDS = [layer[0] for layer in LAYERS]


def call(name, x, w, b=None, **kwargs):
    return getattr(tconv, name)(x, w, b, **kwargs)


def backward(name, x, w, g, **kwargs):
    return getattr(tconv, name + "_backward")(x, w, g, **kwargs)


def out_channels(name, w, kwargs):
    return w.shape[1] * kwargs.get("groups", 1) if "transpose" in name else w.shape[0]


@pytest.mark.parametrize("name,x_shape,w_shape,kwargs", LAYERS, ids=IDS)
@pytest.mark.parametrize("algo", ["gemm", "scatter"])
def test_every_algorithm_agrees_with_the_oracle(name, x_shape, w_shape, kwargs, algo):
    x, w = random(x_shape, 1), random(w_shape, 2)
    b = random((out_channels(name, w, kwargs),), 3)
    expected = call(name, x, w, b, algo="gather", **kwargs)
    g = random(expected.shape, 4)
    expected_grads = backward(name, x, w, g, algo="gather", **kwargs)
    np.testing.assert_allclose(call(name, x, w, b, algo=algo, **kwargs), expected,
                               rtol=0, atol=1e-12)
    for got, ref in zip(backward(name, x, w, g, algo=algo, **kwargs), expected_grads):
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def strided(a):
    """A view of `a`'s values that is not contiguous: every other element of a wider
    array along the last axis."""
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    view = wide[..., ::2]
    assert not view.flags.c_contiguous or a.size <= 1
    return view


@pytest.mark.parametrize("name,x_shape,w_shape,kwargs", LAYERS, ids=IDS)
def test_strided_and_fortran_inputs_give_the_contiguous_result(name, x_shape, w_shape,
                                                               kwargs):
    x, w = random(x_shape, 5), random(w_shape, 6)
    expected = call(name, x, w, **kwargs)
    np.testing.assert_array_equal(call(name, strided(x), strided(w), **kwargs), expected)
    np.testing.assert_array_equal(call(name, np.asfortranarray(x), np.asfortranarray(w),
                                       **kwargs), expected)
    g = random(expected.shape, 7)
    for got, ref in zip(backward(name, strided(x), np.asfortranarray(w), strided(g),
                                 **kwargs),
                        backward(name, x, w, g, **kwargs)):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("name,x_shape,w_shape,kwargs", LAYERS, ids=IDS)
def test_unbatched_input_is_one_image_of_a_batch(name, x_shape, w_shape, kwargs):
    x, w = random(x_shape, 8), random(w_shape, 9)
    b = random((out_channels(name, w, kwargs),), 10)
    one = call(name, x[0], w, b, **kwargs)
    np.testing.assert_array_equal(one, call(name, x[:1], w, b, **kwargs)[0])
    g = random(one.shape, 11)
    unbatched = backward(name, x[0], w, g, **kwargs)
    batched = backward(name, x[:1], w, g[np.newaxis], **kwargs)
    assert unbatched[0].shape == x_shape[1:]
    np.testing.assert_array_equal(unbatched[0], batched[0][0])
    np.testing.assert_array_equal(unbatched[1], batched[1])
    np.testing.assert_array_equal(unbatched[2], batched[2])


@pytest.mark.parametrize("name,x_shape,w_shape,kwargs", LAYERS, ids=IDS)
def test_each_gradient_alone_equals_all_three(name, x_shape, w_shape, kwargs):
    x, w = random(x_shape, 12), random(w_shape, 13)
    g = random(call(name, x, w, **kwargs).shape, 14)
    everything = backward(name, x, w, g, **kwargs)
    for i in range(3):
        needs = tuple(j == i for j in range(3))
        alone = backward(name, x, w, g, needs=needs, **kwargs)
        assert all(alone[j] is None for j in range(3) if j != i)
        np.testing.assert_array_equal(alone[i], everything[i])
    assert backward(name, x, w, g, needs=(False, False, False), **kwargs) == (None,) * 3


@pytest.mark.parametrize("name,x_shape,w_shape,kwargs", LAYERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_dtype_out(name, x_shape, w_shape, kwargs, dtype):
    x, w = random(x_shape, 15, dtype), random(w_shape, 16, dtype)
    out = call(name, x, w, **kwargs)
    assert out.dtype == dtype and out.flags.c_contiguous
    grads = backward(name, x, w, np.ones_like(out), **kwargs)
    assert [gr.dtype for gr in grads] == [dtype] * 3
    assert [gr.shape for gr in grads[:2]] == [x.shape, w.shape]


def test_float32_agrees_with_float64_to_float32_precision():
    x, w = random((2, 3, 9, 8), 17), random((3, 4, 3, 3), 18)
    exact = tconv.conv_transpose2d(x, w, stride=2, padding=1, algo="gather")
    single = tconv.conv_transpose2d(x.astype(np.float32), w.astype(np.float32), stride=2,
                                    padding=1)
    bound = tconv.conv_transpose2d(np.abs(x), np.abs(w), stride=2, padding=1)
    assert np.all(np.abs(single - exact) <= 2 * 3 * 9 * np.finfo(np.float32).eps * bound)


def test_big_endian_input_is_accepted():
    x, w = random((1, 2, 6), 19), random((3, 2, 2), 20)
    np.testing.assert_array_equal(tconv.conv1d(x.astype(">f8"), w), tconv.conv1d(x, w))


def test_batch_zero_gives_empty_results():
    x, w = np.zeros((0, 2, 5, 5)), random((2, 3, 3, 3), 21)
    out = tconv.conv_transpose2d(x, w, random((3,), 22), stride=2)
    assert out.shape == (0, 3, 11, 11)
    gx, gw, gb = tconv.conv_transpose2d_backward(x, w, out, stride=2)
    assert gx.shape == x.shape
    np.testing.assert_array_equal(gw, np.zeros_like(w))
    np.testing.assert_array_equal(gb, np.zeros(3))


def test_same_padding_keeps_the_size_and_pads_the_right_when_odd():
    """An even kernel pads one more zero after than before (PyTorch's choice): the
    first output then sees no padding on the left."""
    x, w = random((1, 1, 6), 23), np.array([[[1.0, 2.0]]])
    out = tconv.conv1d(x, w, padding="same")
    expected = x[0, 0] + 2 * np.append(x[0, 0, 1:], 0.0)
    np.testing.assert_array_equal(out[0, 0], expected)
    gx, _, _ = tconv.conv1d_backward(x, w, np.ones_like(out), padding="same")
    assert gx.shape == x.shape
    np.testing.assert_array_equal(gx[0, 0], [1, 3, 3, 3, 3, 3])


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(x), y> = <x, conv_transpose(y)> with the same weight and parameters."""
    x, w = random((2, 4, 9, 7), 24), random((6, 2, 3, 2), 25)
    params = dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2), groups=2)
    y = tconv.conv2d(x, w, **params)
    g = random(y.shape, 26)
    back = tconv.conv_transpose2d(g, w, output_size=x.shape[2:], **params)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y, g), np.vdot(x, back), rtol=1e-13)


# ---- errors -------------------------------------------------------------------------------

def test_library_errors_carry_status_and_message():
    with pytest.raises(tconv.Error) as caught:
        tconv.conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), stride=2,
                               padding=1, output_size=(9, 9))
    assert isinstance(caught.value, ValueError)
    assert caught.value.status == "EUNREACHABLE"
    assert "output_size[0] = 9 is not reachable" in str(caught.value)
    with pytest.raises(tconv.Error, match=r"stride\[1\] = 0: must be positive") as caught:
        tconv.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), stride=(1, 0))
    assert caught.value.status == "EINVAL"


@pytest.mark.parametrize("x,w,kwargs,message", [
    (np.ones((1, 2, 5), np.int64), np.ones((1, 2, 2)), {}, "expected float32 or float64"),
    (np.ones((1, 2, 5), np.float32), np.ones((1, 2, 2)), {}, "the same dtype"),
    (np.ones((1, 2, 5)), np.ones((1, 2, 2)), dict(bias=np.ones(1, np.float32)),
     "the same dtype"),
    (np.ones((1, 2, 5)), np.ones((1, 2, 2)), dict(bias=np.ones((1, 1))), "bias of shape"),
    (np.ones((1, 2, 5)), np.ones((1, 2, 2)), dict(stride=1.5), "stride=1.5"),
    (np.ones((1, 2, 5)), np.ones((1, 2, 2)), dict(padding=[1, 1]), "padding=.1, 1."),
    (np.ones((1, 3, 5)), np.ones((1, 2, 2)), {}, "have 2 channels, but got 3"),
], ids=["int input", "weight dtype", "bias dtype", "bias shape", "float stride",
        "padding length", "channels"])
def test_argument_errors_name_the_argument(x, w, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tconv.conv1d(x, w, **kwargs)


def test_checks_are_made_whatever_calls_came_before():
    """A call's checked arguments are kept for the next call with equal arguments; equal
    is not the same: 2.0 == 2, but a float stride is refused after stride 2 was used, and
    a list of ints works as its tuple does."""
    x, w = np.ones((1, 2, 9)), np.ones((3, 2, 3))
    first = tconv.conv1d(x, w, stride=2)
    for stride in (2.0, (2.0,), np.float64(2)):
        with pytest.raises(ValueError, match="stride="):
            tconv.conv1d(x, w, stride=stride)
    np.testing.assert_array_equal(tconv.conv1d(x, w, stride=[2]), first)
    np.testing.assert_array_equal(tconv.conv1d(x, w, stride=(2,)), first)


def test_backward_checks_grad_output():
    x, w = np.ones((1, 2, 5)), np.ones((3, 2, 2))
    with pytest.raises(ValueError, match="grad_output of shape"):
        tconv.conv1d_backward(x, w, np.ones((1, 3, 5)))
    with pytest.raises(ValueError, match="same dtype"):
        tconv.conv1d_backward(x, w, np.ones((1, 3, 4), np.float32))
    with pytest.raises(ValueError, match="three flags"):
        tconv.conv1d_backward(x, w, np.ones((1, 3, 4)), needs=(True,))


def test_a_failed_call_leaves_no_partial_result():
    """The library writes nothing on failure; the binding returns nothing either."""
    result = None
    with pytest.raises(ValueError):
        result = tconv.conv2d(np.ones((1, 2, 2, 2)), np.ones((3, 2, 3, 3)))
    assert result is None


# ---- threads ------------------------------------------------------------------------------

def test_concurrent_calls_from_python_threads_agree():
    """ctypes releases the GIL: the library runs these at once, and each call is alone
    with its own workspace, so every result is the single-threaded one, bit for bit."""
    x, w = random((4, 8, 12, 12), 27, np.float32), random((8, 4, 3, 3), 28, np.float32)
    expected = tconv.conv_transpose2d(x, w, stride=2, padding=1)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: tconv.conv_transpose2d(x, w, stride=2, padding=1),
                                range(16)))
    for r in results:
        np.testing.assert_array_equal(r, expected)
