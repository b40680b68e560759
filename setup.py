"""The build hook of pyproject.toml: the package is python/tconv plus libtconv.so, which
the project's own CMake build makes (no second build system).

build_py runs CMake, then copies the shared library into the package as
tconv/libtconv.so.1, where tconv._native looks for it after TCONV_LIBRARY. The wheel is
tagged py3-none-<platform>: no Python extension (ctypes), but a native library built for
this machine. Its run-time needs are those of libtconv.so: libgomp and, when the build
found oneDNN, libdnnl.so.2 (Debian's libgomp1 and libdnnl2).

The environment may set
  TCONV_CMAKE_BUILD_DIR  the CMake build directory (default build-python/cmake; an existing
                         one is reused as configured, e.g. the build/ that `make` made)
  TCONV_CMAKE_ARGS       extra arguments for a fresh configure (e.g. -DTCONV_WITH_ONEDNN=OFF)
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: every CPU)
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

ROOT = pathlib.Path(__file__).resolve().parent
# setuptools' own scratch goes beside CMake's, not into the build/ that `make` uses
SCRATCH = ROOT / "build-python"
PACKAGED_LIBRARY = "libtconv.so.1"  # as tconv._native.PACKAGED_LIBRARY


def header_version():
    """The version of include/tconv/tconv.h, which the library and its CMake build state."""
    text = (ROOT / "include" / "tconv" / "tconv.h").read_text()
    parts = [re.search(rf"^#define TCONV_VERSION_{p} +(\d+)$", text, re.M)
             for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise RuntimeError("include/tconv/tconv.h: no TCONV_VERSION_MAJOR/MINOR/PATCH")
    return ".".join(p.group(1) for p in parts)


def cmake_library():
    """Configures (when the build directory is new) and builds the `tconv` target; returns
    the shared library file."""
    build_dir = pathlib.Path(os.environ.get("TCONV_CMAKE_BUILD_DIR") or SCRATCH / "cmake")
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir),
                        "-DCMAKE_BUILD_TYPE=Release", "-DTCONV_BUILD_TESTS=OFF",
                        *shlex.split(os.environ.get("TCONV_CMAKE_ARGS", ""))], check=True)
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "tconv", "--parallel",
                    jobs], check=True)
    library = (build_dir / "libtconv.so").resolve()  # the file the SONAME links point to
    if not library.is_file():
        raise RuntimeError(f"the CMake build made no {build_dir / 'libtconv.so'}")
    return library


class BuildPyWithLibrary(build_py):
    """The package's Python files, then libtconv.so from CMake beside them."""

    def run(self):
        # setuptools never cleans its build directory: a file since removed from the
        # package would still go into the wheel
        package = pathlib.Path(self.build_lib) / "tconv"
        if package.exists():
            shutil.rmtree(package)
        super().run()
        target = package / PACKAGED_LIBRARY
        self.mkpath(str(target.parent))
        self.copy_file(str(cmake_library()), str(target), preserve_mode=True)


class NativeDistribution(Distribution):
    """A distribution with native code, though no extension module: it installs into the
    platform's site-packages (platlib) and its wheel has a platform tag."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """A wheel for this platform (it carries a native library) that any Python 3 can load
    (ctypes, no extension module): py3-none-<platform>."""

    def get_tag(self):
        return "py3", "none", super().get_tag()[2]


SCRATCH.mkdir(exist_ok=True)
setup(
    version=header_version(),
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
    options={"build": {"build_base": str(SCRATCH / "setuptools")},
             "egg_info": {"egg_base": str(SCRATCH)}},
)
