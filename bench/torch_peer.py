#!/usr/bin/python3
"""PyTorch as a peer of tconv_bench.

Runs as a child of the bench: reads one command per line on stdin, answers one line on
stdout. Tensors come and go as raw float32 files in a directory the bench names.

  shape DIR LAYER DIMS N CIN COUT GROUPS IN.. K.. S.. P.. OP.. D.. OUT..
                            LAYER conv (Conv{1,2,3}d) or convt (ConvTranspose{1,2,3}d):
                            load DIR/{in,weight,bias,gout}.bin (OP is ignored for conv)
  check                     forward + the three gradients once, into DIR/{out,gin,gw,gb}.bin
  time PASS THREADS BUDGET MIN MAX WARMUP   -> "ms MEDIAN runs N rss BYTES"
  quit
"""
import ctypes
import os
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:  # the bench then runs without this peer
    print(f"unavailable {type(e).__name__}: {e}", flush=True)
    sys.exit(0)

# Debian's torch uses OpenBLAS (pthreads build) for its GEMMs: give it the same thread
# count as torch's own OpenMP pool, or a 1-thread run would still use every core.
try:
    _openblas = ctypes.CDLL("libopenblas.so.0")
except OSError:
    _openblas = None


def set_threads(n):
    torch.set_num_threads(n)
    if _openblas is not None:
        _openblas.openblas_set_num_threads(n)


def rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def rss_peak():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
st = {}


def load(name, shape):
    a = np.fromfile(os.path.join(st["dir"], name), dtype=np.float32)
    return torch.from_numpy(a.reshape(shape)).contiguous()


def save(name, t):
    t.detach().contiguous().numpy().astype(np.float32).tofile(os.path.join(st["dir"], name))


def cmd_shape(args):
    st["dir"] = args[0]
    layer = args[1]
    dims, n, cin, cout, groups = (int(v) for v in args[2:7])
    v = [int(x) for x in args[7:]]
    ax = [v[i * dims:(i + 1) * dims] for i in range(7)]
    size_in, k, s, p, op, d, size_out = ax
    st.update(layer=layer, stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
    st["x"] = load("in.bin", [n, cin] + size_in)
    if layer == "conv":
        st["w"] = load("weight.bin", [cout, cin // groups] + k)
    else:
        st["w"] = load("weight.bin", [cin, cout // groups] + k)
    st["b"] = load("bias.bin", [cout])
    st["g"] = load("gout.bin", [n, cout] + size_out)
    st["conv"] = CONV[dims] if layer == "conv" else CONVT[dims]


def forward(x, w, b):
    if st["layer"] == "conv":
        return st["conv"](x, w, b, stride=st["stride"], padding=st["padding"],
                          dilation=st["dilation"], groups=st["groups"])
    return st["conv"](x, w, b, stride=st["stride"], padding=st["padding"],
                      output_padding=st["output_padding"], groups=st["groups"],
                      dilation=st["dilation"])


def fwd_bwd():
    x = st["x"].detach().requires_grad_()
    w = st["w"].detach().requires_grad_()
    b = st["b"].detach().requires_grad_()
    out = forward(x, w, b)
    gx, gw, gb = torch.autograd.grad(out, (x, w, b), st["g"])
    return out, gx, gw, gb


def fwd_only():
    with torch.no_grad():
        return forward(st["x"], st["w"], st["b"])


def cmd_check():
    out, gx, gw, gb = fwd_bwd()
    save("out.bin", out)
    save("gin.bin", gx)
    save("gw.bin", gw)
    save("gb.bin", gb)


def cmd_time(args):
    which, threads = args[0], int(args[1])
    budget, least, most, warmup = float(args[2]), int(args[3]), int(args[4]), float(args[5])
    set_threads(threads)
    fn = fwd_only if which == "fwd" else fwd_bwd
    rss_reset()
    t0 = time.perf_counter()
    first = None
    while True:
        t = time.perf_counter()
        fn()
        first = first if first is not None else time.perf_counter() - t
        if time.perf_counter() - t0 >= warmup:
            break
    most = 1 if first > budget else most
    times = []
    start = time.perf_counter()
    while len(times) < most and (len(times) < least or time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return f"ms {1e3 * statistics.median(times):.6f} runs {len(times)} rss {rss_peak()}"


def main():
    torch.manual_seed(0)
    print(f"ready torch {torch.__version__}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "shape":
                cmd_shape(words[1:])
                reply = "ok"
            elif words[0] == "check":
                cmd_check()
                reply = "ok"
            elif words[0] == "time":
                reply = cmd_time(words[1:])
            elif words[0] == "quit":
                break
            else:
                reply = f"error unknown command {words[0]}"
        except Exception as e:  # report, keep serving
            reply = f"error {type(e).__name__}: {e}".replace("\n", " ")
        print(reply, flush=True)


if __name__ == "__main__":
    main()
