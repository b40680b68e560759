#!/usr/bin/python3
"""What a call through tconv.torch costs on a layer too small for the arithmetic to
matter: the seed's ConvTranspose2d(2 -> 1, kernel 3, stride 2, padding 1) on a 3x3 map
(a 5x5 output), and its adjoint Conv2d(1 -> 2) on the 5x5 map, batch 1, one thread.

For each layer, tconv.torch's module against torch.nn's (the same weights), in the ways a
model calls a layer: forward in training (parameters that want gradients), forward and
backward (input, weight and bias gradients through autograd), and forward under
torch.no_grad(); then the functional forms. Each row is the best of ROUNDS rounds, the
two sides measured in alternation, so a load spike on this shared machine hits both.
It prints microseconds per call for both sides and their ratio (tconv / torch).

  TCONV_LIBRARY=build/libtconv.so PYTHONPATH=python /usr/bin/python3 bench/python_overhead.py
  ... [--quick] [--threads N] [--csv FILE]

--breakdown adds where tconv's forward spends its time, from a bare ctypes call and the C
forward of a planned geometry up to the module's forward through autograd.
"""

import argparse
import ctypes
import csv
import sys
import timeit

import torch

import tconv
import tconv.torch as tt

#: The layers: (name, torch.nn class name, constructor args, input shape)
LAYERS = [
    ("convt 2x3x3->1x5x5", "ConvTranspose2d", (2, 1, 3, 2, 1), (1, 2, 3, 3)),
    ("conv  1x5x5->2x3x3", "Conv2d", (1, 2, 3, 2, 1), (1, 1, 5, 5)),
]


def set_threads(n):
    """torch's OpenMP pool (whose thread count tconv's calls from this thread inherit:
    one libgomp in the process) and Debian's OpenBLAS, which torch's GEMMs use."""
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass


def per_call_us(fn, number, rounds):
    """Best of `rounds` timings of `number` calls, in microseconds per call."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number * 1e6


def compare(cases, number, rounds):
    """cases: [(label, torch_fn, tconv_fn)]; returns [(label, torch_us, tconv_us)], each
    side the best over rounds, the sides alternating within a round."""
    best = {}
    for _ in range(rounds):
        for label, *fns in cases:
            for side, fn in enumerate(fns):
                t = per_call_us(fn, number, 1)
                best[label, side] = min(best.get((label, side), float("inf")), t)
    return [(label, best[label, 0], best[label, 1]) for label, *_ in cases]


def layer_cases(kind, args, shape):
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(*args)
    ours = getattr(tt, kind)(*args)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(*shape)
    with torch.no_grad():
        assert torch.allclose(ours(x), ref(x), atol=1e-6)
    xg = x.clone().requires_grad_()
    grad = torch.ones_like(ref(x))

    def train_step(module):
        def step():
            module(xg).backward(grad)
        return step

    def no_grad(module):
        def forward():
            with torch.no_grad():
                return module(x)
        return forward

    fname = "conv_transpose2d" if kind.startswith("ConvTranspose") else "conv2d"
    stride, padding = args[3], args[4]
    w, b = ref.weight.detach(), ref.bias.detach()
    torch_f, ours_f = getattr(torch.nn.functional, fname), getattr(tt, fname)
    return [
        ("module forward", lambda: ref(x), lambda: ours(x)),
        ("module forward+backward", train_step(ref), train_step(ours)),
        ("module forward, no_grad", no_grad(ref), no_grad(ours)),
        (f"{fname} (no grad wanted)", lambda: torch_f(x, w, b, stride, padding),
         lambda: ours_f(x, w, b, stride, padding)),
    ]


def breakdown(kind, args, shape, number, rounds):
    """Where a forward of tconv.torch goes, from the bare C call up. Uses the binding's
    internals (tconv._plans, tconv.torch's helpers), so it follows them."""
    from tconv import _native, _plans
    from tconv import torch as tconv_torch

    torch.manual_seed(0)
    module = getattr(tt, kind)(*args)
    x = torch.randn(*shape)
    w, b = module.weight.detach(), module.bias.detach()
    transposed = kind.startswith("ConvTranspose")
    key = (transposed, 2, "float32", x.shape, w.shape, module.stride, module.padding,
           module.output_padding if transposed else None, module.groups, module.dilation,
           None, "auto")
    plan = _plans.plan(*key)
    out = torch.empty(plan.out_shape)
    ptrs = (x.data_ptr(), w.data_ptr(), b.data_ptr(), out.data_ptr())
    check = _native._lib.tconv_geometry_check
    g = ctypes.byref(plan.geometry)

    def no_grad():
        with torch.no_grad():
            module(x)

    rows = [
        ("a ctypes call of a trivial C function (geometry_check)",
         lambda: check(g, None)),
        ("the C forward through ctypes (planned geometry)", lambda: plan.forward_ptrs(*ptrs)),
        ("plan made anew (argument checks, geometry init)", lambda: _plans.Plan(*key)),
        ("plan from the memo", lambda: _plans.plan(*key)),
        ("tensors made dense, output allocated, C forward",
         lambda: tconv_torch._forward(plan, x, w, b)),
        ("functional, no gradient wanted (dtype checks, plan, forward)",
         lambda: tconv_torch.conv_transpose2d(x, w, b, args[3], args[4]) if transposed
         else tconv_torch.conv2d(x, w, b, args[3], args[4])),
        ("module forward, no_grad", no_grad),
        ("module forward (autograd Function.apply)", lambda: module(x)),
    ]
    return [(label, min(per_call_us(fn, number, 1) for _ in range(rounds)))
            for label, fn in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    parser.add_argument("--breakdown", action="store_true")
    opts = parser.parse_args()
    number, rounds = (500, 5) if opts.quick else (2000, 15)
    set_threads(opts.threads)
    print(f"tconv.torch per-call cost, {opts.threads} thread(s); tconv {tconv.version()} "
          f"({tconv.library_path}), torch {torch.__version__}")
    print(f"best of {rounds} rounds of {number} calls; microseconds per call")
    print(f"{'layer':20s} {'call':32s} {'torch':>8s} {'tconv':>8s} {'ratio':>6s}")
    rows = []
    for name, kind, args, shape in LAYERS:
        cases = layer_cases(kind, args, shape)
        for label, t_torch, t_ours in compare(cases, number, rounds):
            rows.append((name, label, t_torch, t_ours))
            print(f"{name:20s} {label:32s} {t_torch:8.2f} {t_ours:8.2f} "
                  f"{t_ours / t_torch:6.2f}")
        if opts.breakdown:
            print(f"{'':20s} where tconv's forward goes:")
            for label, t in breakdown(kind, args, shape, number, rounds):
                print(f"{'':20s}   {label:60s} {t:8.2f}")
    if opts.csv:
        with open(opts.csv, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["layer", "call", "threads", "torch_us", "tconv_us", "ratio"])
            for name, label, t_torch, t_ours in rows:
                out.writerow([name, label, opts.threads, f"{t_torch:.3f}", f"{t_ours:.3f}",
                              f"{t_ours / t_torch:.3f}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
