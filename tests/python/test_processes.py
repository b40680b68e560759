"""tconv beside numpy and torch, whatever the import order.

Debian's numpy and torch use the system's libopenblas.so.0 (the pthreads build) through
libblas.so.3; libtconv.so carries a private, hidden copy of OpenBLAS's OpenMP build. Had
libtconv linked the shared OpenMP build instead (same SONAME), the first library loaded
would have served everyone, and that mix hangs once the OpenMP thread count changes
(torch.set_num_threads(1), then a large GEMM). Each case runs in a fresh interpreter:
import in the given order, set one OpenMP thread, run numpy's, torch's and tconv's
products, and report.
"""

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import ctypes, json, sys
for name in sys.argv[1].split(","):
    __import__(name)
import numpy as np
import tconv
ctypes.CDLL("libgomp.so.1").omp_set_num_threads(1)  # what torch.set_num_threads(1) does
a = np.ones((512, 512), np.float32)
report = {"numpy_matmul": float((a @ a)[0, 0])}
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (8, 32, 16, 16)).astype(np.float32)
w = rng.uniform(-1, 1, (32, 16, 4, 4)).astype(np.float32)
ours = tconv.conv_transpose2d(x, w, stride=2, padding=1)
if "torch" in sys.modules:
    import torch
    torch.set_num_threads(1)
    t = torch.ones(512, 512)
    report["torch_matmul"] = float((t @ t)[0, 0])
    ref = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                               stride=2, padding=1).numpy()
    bound = 16 * 16 * np.finfo(np.float32).eps * np.abs(ref).max()
    report["tconv_vs_torch"] = float(np.abs(ours - ref).max() / bound)
report["blas"] = tconv.blas_info()
print(json.dumps(report))
"""

ORDERS = ["tconv,torch", "torch,tconv", "tconv.torch", "torch,tconv.torch", "numpy,tconv",
          "tconv,numpy"]


@pytest.mark.parametrize("order", ORDERS)
def test_private_openblas_and_no_hang(order):
    done = subprocess.run([sys.executable, "-c", CHILD, order], env=os.environ, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["numpy_matmul"] == 512.0
    if "torch" in order:
        assert report["torch_matmul"] == 512.0
        assert report["tconv_vs_torch"] <= 1.0
    # tconv computes with its own OpenMP build of OpenBLAS in every order
    openblas = report["blas"].splitlines()[0]
    assert openblas.startswith("openblas: OpenBLAS "), report["blas"]
    assert "USE_OPENMP" in openblas and "OpenMP threading" in openblas, report["blas"]
