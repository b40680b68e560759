"""pip install, as the README says it: a copy of the repository's sources (what a fresh
clone has, without build trees) in a temporary folder, a virtual environment that sees
Debian's numpy and torch, then offline `pip wheel` (the CMake build runs afresh), `pip
install` of that wheel, the package used from another directory, `pip uninstall`, and
`pip install --no-build-isolation` of the sources themselves.

Nothing here reads the build under test: the package carries the library its own build
made. The results are checked against PyTorch.
"""

import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

USE = r"""
import json, sys
import numpy as np
import torch
import tconv
import tconv.torch as tt

rng = np.random.default_rng(5)
x = rng.uniform(-1, 1, (2, 3, 7, 6)).astype(np.float32)
w = rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32)
b = rng.uniform(-1, 1, 4).astype(np.float32)
y = tconv.conv2d(x, w, b, stride=2, padding=1)
y_ref = torch.nn.functional.conv2d(*map(torch.from_numpy, (x, w, b)), stride=2,
                                   padding=1).numpy()
wt = rng.uniform(-1, 1, (3, 2, 4, 4)).astype(np.float32)
z = tt.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
ref = torch.nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
z.load_state_dict(ref.state_dict())
xt = torch.from_numpy(x)
# each output sums at most 3 * 3 * 3 (conv) or 3 * 2 * 2 (transposed) products of terms
# of magnitude below 1: the dot-product bound L * eps * sum|terms|
eps = float(np.finfo(np.float32).eps)
print(json.dumps({
    "library_path": tconv.library_path,
    "version": tconv.__version__,
    "tconv_file": tconv.__file__,
    "conv_error": float(np.abs(y - y_ref).max() / (27 * eps * 28)),
    "convt_error": float((z(xt) - ref(xt)).abs().max() / (12 * eps * 13)),
}))
"""


def copy_sources(dst):
    """The repository as a fresh clone has it: no build trees (build*, dist), no git
    metadata, no Python caches or egg-info."""
    def ignore(folder, names):
        at_root = pathlib.Path(folder) == REPO
        return [n for n in names
                if n in ("__pycache__", ".git") or n.endswith(".egg-info")
                or (at_root and (n.startswith("build") or n in ("dist", ".venv")))]
    shutil.copytree(REPO, dst, ignore=ignore, symlinks=True)


def header_version():
    text = (REPO / "include/tconv/tconv.h").read_text()
    return ".".join(re.search(rf"#define TCONV_VERSION_{p} (\d+)", text).group(1)
                    for p in ("MAJOR", "MINOR", "PATCH"))


def same_file(a, b):
    return pathlib.Path(a).resolve() == pathlib.Path(b).resolve()


def run(args, cwd, env, timeout=600):
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def tmp_path():
    """A temporary folder removed afterwards (pytest keeps its own: this one holds a build
    tree, a venv and a wheel)."""
    with tempfile.TemporaryDirectory(prefix="tconv-install-") as folder:
        yield pathlib.Path(folder)


def test_pip_wheel_install_use_elsewhere_uninstall(tmp_path):
    tested_library = os.environ.get("TCONV_LIBRARY")
    # the environment of someone who has not set up anything for tconv
    env = {k: v for k, v in os.environ.items() if k not in ("TCONV_LIBRARY", "PYTHONPATH")}
    env.update(PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONDONTWRITEBYTECODE="1")
    src, venv, elsewhere = tmp_path / "src", tmp_path / "venv", tmp_path / "elsewhere"
    copy_sources(src)
    elsewhere.mkdir()
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], tmp_path, env)
    python = venv / "bin" / "python"
    site = pathlib.Path(run([python, "-c", "import sysconfig; "
                             "print(sysconfig.get_paths()['platlib'])"], tmp_path, env).strip())

    # pip wheel: the CMake build afresh, the library inside the package
    run([python, "-m", "pip", "wheel", "--no-build-isolation", "--no-index", "--no-deps",
         "-w", tmp_path / "dist", src], tmp_path, env)
    wheels = list((tmp_path / "dist").iterdir())
    expected = f"tconv-{header_version()}-py3-none-linux_{platform.machine()}.whl"
    assert [w.name for w in wheels] == [expected]
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    assert {"tconv/__init__.py", "tconv/_native.py", "tconv/_plans.py",
            "tconv/functional.py", "tconv/torch.py", "tconv/libtconv.so.1"} <= names

    # pip install of the wheel; used from another directory, with the library it carries
    run([python, "-m", "pip", "install", "--no-index", wheels[0]], tmp_path, env)
    report = json.loads(run([python, "-c", USE], elsewhere, env))
    assert same_file(report["library_path"], site / "tconv" / "libtconv.so.1")
    assert same_file(report["tconv_file"], site / "tconv" / "__init__.py")
    assert report["version"] == header_version()
    assert report["conv_error"] <= 1 and report["convt_error"] <= 1
    # TCONV_LIBRARY still comes first
    if tested_library:
        chosen = run([python, "-c", "import tconv; print(tconv.library_path)"], elsewhere,
                     {**env, "TCONV_LIBRARY": tested_library})
        assert chosen.strip() == tested_library

    # pip uninstall leaves nothing of tconv behind
    run([python, "-m", "pip", "uninstall", "-y", "tconv"], tmp_path, env)
    assert sorted(p.name for p in site.glob("tconv*")) == []
    gone = subprocess.run([str(python), "-c", "import tconv"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert gone.returncode != 0 and "ModuleNotFoundError" in gone.stderr

    # the README's pip install of the sources (the CMake build directory is reused)
    run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", src],
        tmp_path, env)
    report = json.loads(run([python, "-c", USE], elsewhere, env))
    assert same_file(report["library_path"], site / "tconv" / "libtconv.so.1")
    assert report["conv_error"] <= 1 and report["convt_error"] <= 1
    run([python, "-m", "pip", "uninstall", "-y", "tconv"], tmp_path, env)
    assert sorted(p.name for p in site.glob("tconv*")) == []
