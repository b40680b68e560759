"""One OpenBLAS per process, whatever the import order.

libtconv links OpenBLAS's OpenMP build by run path; numpy and torch link Debian's
default libopenblas.so.0 (the pthreads build) through the libblas.so.3 shim, which
defers to whichever libopenblas.so.0 is loaded. Two builds mixed that way hang as soon
as the OpenMP thread count changes (torch.set_num_threads(1) then a large GEMM), so the
binding loads the system's libopenblas.so.0 before libtconv (tconv/_native.py). Each
case runs in a fresh interpreter: import in the given order, set one OpenMP thread, run
numpy's, torch's and tconv's products, and report which BLAS files are mapped.
"""

import json
import os
import pathlib
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
report["maps"] = sorted({line.split()[-1] for line in open("/proc/self/maps")
                         if "blas" in line or "lapack" in line})
print(json.dumps(report))
"""

ORDERS = ["tconv,torch", "torch,tconv", "tconv.torch", "torch,tconv.torch", "numpy,tconv",
          "tconv,numpy"]


@pytest.mark.parametrize("order", ORDERS)
def test_one_openblas_and_no_hang(order):
    done = subprocess.run([sys.executable, "-c", CHILD, order], env=os.environ, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["numpy_matmul"] == 512.0
    if "torch" in order:
        assert report["torch_matmul"] == 512.0
        assert report["tconv_vs_torch"] <= 1.0
    builds = {pathlib.Path(path).parent for path in report["maps"]}
    assert len(builds) == 1, f"OpenBLAS files of several builds mapped: {report['maps']}"
    assert report["blas"]["library"] in report["maps"]
