#!/bin/sh
# Installs a build into a temporary prefix and builds the README's example against the
# installed tree alone, three ways: pkg-config with the shared library, pkg-config with a
# static link, and a CMake project using find_package(tconv) (shared and static targets).
# Each program must print the grid worked by hand in examples/quickstart.expected, and
# every place that states the version must state the header's.
#   tests/check_install.sh <build-dir> <source-dir>
set -eu
build=$(cd "${1:?usage: check_install.sh <build-dir> <source-dir>}" && pwd)
src=$(cd "${2:?usage: check_install.sh <build-dir> <source-dir>}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
log="$tmp/log"
expected="$src/examples/quickstart.expected"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# run <what> <command...>: runs quietly into $log, shows the output only on failure
run() {
    what=$1
    shift
    "$@" >"$log" 2>&1 || {
        cat "$log" >&2
        fail "$what: $*"
    }
}
# check_output <what> <program>: the program prints the expected grid
check_output() {
    "$2" >"$tmp/out" 2>"$log" || {
        status=$?
        cat "$log" >&2
        fail "$1: $2 exited with $status"
    }
    cmp -s "$tmp/out" "$expected" || {
        diff "$expected" "$tmp/out" >&2
        fail "$1: wrong output"
    }
    echo "ok: $1"
}
# check_links_installed <what> <program>: libtconv comes from the installed prefix
check_links_installed() {
    ldd "$2" | grep -q "libtconv.so.0 => $prefix/" || {
        ldd "$2" >&2
        fail "$1: libtconv not from $prefix"
    }
}

run "cmake --install" cmake --install "$build" --prefix "$prefix"
libdir=$(dirname "$(find "$prefix" -name libtconv.a)")

# Versions: header, pkg-config, shared library file name, SONAME, run time.
version=$(sed -n 's/^#define TCONV_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
          "$prefix/include/tconv/tconv.h" | paste -sd.)
major=${version%%.*}
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion tconv)" = "$version" ] ||
    fail "pkg-config says $(pkg-config --modversion tconv), the header $version"
[ -f "$libdir/libtconv.so.$version" ] || fail "no libtconv.so.$version in $libdir"
readelf -d "$libdir/libtconv.so.$version" | grep -q "SONAME.*\[libtconv.so.$major\]" ||
    fail "SONAME of libtconv.so.$version is not libtconv.so.$major"
# An empty run path entry means "the current directory" to the loader: none, in the build
# tree or installed.
for lib in "$build/libtconv.so" "$libdir/libtconv.so"; do
    readelf -d "$lib" | grep -E 'R(UN)?PATH.*(\[:|::|:\])' &&
        fail "$lib: empty run path entry"
done
cat >"$tmp/version.c" <<'C'
#include <tconv/tconv.h>
#include <stdio.h>
int main(void)
{
    printf("%s %d.%d.%d\n", tconv_version_string(), TCONV_VERSION_MAJOR, TCONV_VERSION_MINOR,
           TCONV_VERSION_PATCH);
    return tconv_version() != TCONV_VERSION_HEX;
}
C
run "version program" cc "$tmp/version.c" -o "$tmp/version" $(pkg-config --cflags --libs tconv) \
    -Wl,-rpath,"$libdir"
[ "$("$tmp/version")" = "$version $version" ] ||
    fail "run-time version $("$tmp/version") differs from $version"
echo "ok: version $version everywhere (header, pkg-config, file name, SONAME, run time)"

# pkg-config, shared library. Libs has no run path (the prefix may be a system one): a
# private prefix adds its own, as a user would.
run "pkg-config shared build" cc "$src/examples/quickstart.c" -o "$tmp/qs_pc" \
    $(pkg-config --cflags --libs tconv) -Wl,-rpath,"$libdir"
check_links_installed "pkg-config shared" "$tmp/qs_pc"
check_output "pkg-config shared" "$tmp/qs_pc"

# pkg-config, static libtconv: Libs.private brings OpenBLAS (OpenMP build), oneDNN, OpenMP
# and libm. (oneDNN comes as a shared library only, so the program itself stays dynamic.)
run "pkg-config static build" cc "$src/examples/quickstart.c" -o "$tmp/qs_pc_static" \
    -Wl,-Bstatic -ltconv -Wl,-Bdynamic $(pkg-config --cflags --static --libs tconv)
ldd "$tmp/qs_pc_static" | grep -q libtconv && fail "pkg-config static: links libtconv.so"
check_output "pkg-config static" "$tmp/qs_pc_static"

# CMake package: find_package(tconv 0.1) from the installed tree.
run "cmake configure examples" cmake -S "$src/examples" -B "$tmp/cmake" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
grep -q "tconv $version from $libdir/cmake/tconv" "$log" || fail "find_package found another tconv"
run "cmake build examples" cmake --build "$tmp/cmake"
check_links_installed "find_package tconv::tconv" "$tmp/cmake/quickstart"
check_output "find_package tconv::tconv" "$tmp/cmake/quickstart"
ldd "$tmp/cmake/quickstart_static" | grep -q libtconv &&
    fail "tconv::tconv_static links libtconv.so"
ldd "$tmp/cmake/quickstart_static" | grep -q "openblas-openmp/" ||
    fail "tconv::tconv_static: OpenBLAS is not the OpenMP build"
check_output "find_package tconv::tconv_static" "$tmp/cmake/quickstart_static"

# Same major version = same ABI: the package accepts 0.0 .. any same-major version and
# refuses the next major.
cat >"$tmp/compat.cmake" <<'CMAKE'
set(PACKAGE_FIND_VERSION "${want}")
string(REPLACE "." ";" parts "${want}")
list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
include("${dir}/tconvConfigVersion.cmake")
message("${PACKAGE_VERSION_COMPATIBLE}")
CMAKE
compatible() {
    cmake -Dwant="$1" -Ddir="$libdir/cmake/tconv" -P "$tmp/compat.cmake" 2>&1
}
[ "$(compatible "$major.0")" = TRUE ] || fail "the package refuses version $major.0"
next=$((major + 1)).0
[ "$(compatible "$next")" = FALSE ] || fail "the package accepts version $next"
echo "ok: CMake package compatibility SameMajorVersion"
