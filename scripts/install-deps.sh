#!/bin/sh
# Installs the Debian packages a make target needs, and only those missing.
#   scripts/install-deps.sh build|fuzz|test|bench|python|fresh
# bench: the peers (PyTorch for /usr/bin/python3, oneDNN's C library) and gnuplot.
# test: also the npm packages of the page test (tests/page/package-lock.json, npm ci).
# python: what `pip install .` needs offline (Debian's pip, setuptools, wheel, venv) and
# the packages the binding uses (numpy, torch).
# Runs apt-get as root (or through sudo); does nothing when everything is present.
set -eu

# The library and its command; tconv.wasm (the library compiled for WebAssembly, which
# the command's page carries) needs clang, wasm-ld (lld) and the WASI C library.
build="cmake make gcc libc6-dev pkg-config libopenblas-openmp-dev libdnnl-dev \
clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32"
# clang (already there) for libFuzzer and the thread sanitizer, their runtimes, and LLVM's
# OpenMP runtime (libomp, with the Archer tool that makes OpenMP visible to TSan)
fuzz="$build libclang-rt-14-dev libomp-14-dev"
test="$fuzz libcriterion-dev valgrind"
# The explain page test needs Debian's python3 with its XML/HTML5 parsers and PIL, a
# headless browser to drive the page, and Node.js (tconv.wasm under node's WASI, and
# playwright-core, which drives the browser); the Python binding's tests need numpy, torch
# and pytest.
test="$test python3 python3-numpy python3-torch python3-pytest python3-lxml \
python3-html5lib python3-pil chromium nodejs"
# pip install of the Python package (pyproject.toml: CMake builds the library) into a
# virtual environment that sees Debian's numpy and torch.
python="$build python3 python3-numpy python3-torch python3-pip python3-setuptools \
python3-wheel python3-venv"
# The tests install it too (tests/python/test_install.py).
test="$test python3-pip python3-setuptools python3-wheel python3-venv"
# The benchmark's peers (PyTorch, oneDNN) and its plots.
bench="$build python3-numpy python3-torch gnuplot-nox"
# make fresh-check: a minimal Debian 12 in a chroot, to run the README's commands in.
fresh="debootstrap"

case "${1:-build}" in
  build) wanted=$build ;;
  fuzz) wanted=$fuzz ;;
  test) wanted=$test ;;
  bench) wanted=$bench ;;
  python) wanted=$python ;;
  fresh) wanted=$fresh ;;
  *) echo "usage: $0 build|fuzz|test|bench|python|fresh" >&2; exit 2 ;;
esac

missing=""
for pkg in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $pkg"
  fi
done
# Debian's npm only where the Node.js installed brings none of its own
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1; then
  missing="$missing npm"
fi

if [ -n "$missing" ]; then
  echo "installing:$missing"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  # shellcheck disable=SC2086 # word splitting of the package list is wanted
  $sudo apt-get install -y -q --no-install-recommends $missing
fi

# The page test's npm packages, exactly as locked; again only when the lock changed.
if [ "${1:-build}" = test ]; then
  page="$(cd "$(dirname "$0")/.." && pwd)/tests/page"
  if ! cmp -s "$page/package-lock.json" "$page/node_modules/.tconv-installed-lock"; then
    echo "npm ci in $page"
    (cd "$page" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$page/package-lock.json" "$page/node_modules/.tconv-installed-lock"
  fi
fi
