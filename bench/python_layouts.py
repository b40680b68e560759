#!/usr/bin/python3
"""A channels-last layer through tconv.torch against the same layer in NCHW: the
layouts issue's "within 1.05x of NCHW, no copy in or out" through the binding.

Two layers a backend is handed in channels_last: a DCGAN up-convolution
(ConvTranspose2d(256 -> 128, k4 s2 p1) on 8x8, batch 16) and a ResNet-50 3x3
(Conv2d(128 -> 128, k3 p1) on 28x28, batch 4). For each, tconv.torch's functional form
on the same values in both memory formats, forward and forward + backward (input and
weight gradients through autograd), the two formats measured in alternation, best of
ROUNDS rounds. It prints milliseconds per call and channels-last / NCHW time (< 1:
channels-last is faster), and checks the outputs match and that the channels-last
output (and input gradient) come back channels-last.

  TCONV_LIBRARY=build/libtconv.so PYTHONPATH=python /usr/bin/python3 bench/python_layouts.py
  ... [--quick] [--threads N]
"""

import argparse
import sys
import timeit

import torch

import tconv.torch as tt

#: (name, functional, input shape, weight shape, keyword arguments)
LAYERS = [
    ("dcgan convt 256->128 8x8 b16", tt.conv_transpose2d, (16, 256, 8, 8), (256, 128, 4, 4),
     dict(stride=2, padding=1)),
    ("resnet conv 128->128 28x28 b4", tt.conv2d, (4, 128, 28, 28), (128, 128, 3, 3),
     dict(padding=1)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rounds, number = (3, 3) if args.quick else (7, 5)
    torch.manual_seed(0)
    print(f"tconv.torch, channels_last against NCHW; {torch.get_num_threads()} thread(s); "
          f"best of {rounds} rounds of {number} calls; ms per call")
    print(f"{'layer':32} {'pass':8} {'nchw':>9} {'nhwc':>9} {'nhwc/nchw':>10}")
    worst = 0.0
    for name, fn, xs, ws, kw in LAYERS:
        x = torch.randn(xs)
        w = torch.randn(ws) * 0.05
        xl = x.contiguous(memory_format=torch.channels_last)
        y = fn(x, w, **kw)
        yl = fn(xl, w, **kw)
        if not yl.is_contiguous(memory_format=torch.channels_last):
            sys.exit(f"{name}: the channels-last output is not channels-last")
        if not torch.allclose(y, yl, rtol=1e-4, atol=1e-4):
            sys.exit(f"{name}: the layouts disagree")
        g, gl = torch.randn_like(y), torch.randn_like(y).contiguous(
            memory_format=torch.channels_last)

        def forward(inp):
            return lambda: fn(inp, w, **kw)

        def training(inp, grad):
            def step():
                a = inp.detach().requires_grad_()
                b = w.detach().requires_grad_()
                fn(a, b, **kw).backward(grad)
            return step

        for label, first, last in (("fwd", forward(x), forward(xl)),
                                   ("fwd+bwd", training(x, g), training(xl, gl))):
            best = [float("inf"), float("inf")]
            for _ in range(rounds):
                for side, f in enumerate((first, last)):
                    f()
                    best[side] = min(best[side], timeit.timeit(f, number=number) / number)
            ratio = best[1] / best[0]
            worst = max(worst, ratio)
            print(f"{name:32} {label:8} {best[0] * 1e3:9.3f} {best[1] * 1e3:9.3f} "
                  f"{ratio:9.2f}x")
    print(f"slowest channels-last / NCHW: {worst:.2f}x (target: within 1.05x)")


if __name__ == "__main__":
    main()
