#!/bin/sh
# Installs a build into a temporary prefix (and once more under a DESTDIR), runs the
# installed `tconv` command, and builds the README's example against the installed tree
# alone, three ways: pkg-config with the shared library, pkg-config with a
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
    ldd "$2" | grep -q "libtconv.so.$major => $prefix/" || {
        ldd "$2" >&2
        fail "$1: libtconv not from $prefix"
    }
}

run "cmake --install" cmake --install "$build" --prefix "$prefix"
libdir=$(dirname "$(find "$prefix" -name libtconv.a)")

# DESTDIR stages the same tree under itself (what `make install DESTDIR=` does).
run "cmake --install with DESTDIR" env DESTDIR="$tmp/stage" \
    cmake --install "$build" --prefix "$prefix"
(cd "$prefix" && find . | sort) >"$tmp/tree"
(cd "$tmp/stage$prefix" && find . | sort) >"$tmp/staged"
cmp -s "$tmp/tree" "$tmp/staged" || {
    diff "$tmp/tree" "$tmp/staged" >&2
    fail "DESTDIR=$tmp/stage installs another tree (>) than the prefix (<)"
}
rm -rf "$tmp/stage"
echo "ok: DESTDIR stages the prefix's tree ($(grep -c . "$tmp/tree") entries)"

# The header's version (the SONAME carries its major)
version=$(sed -n 's/^#define TCONV_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
          "$prefix/include/tconv/tconv.h" | paste -sd.)
major=${version%%.*}

# The command is installed and runs on the prefix's library (its run path is relative).
[ -x "$prefix/bin/tconv" ] || fail "no $prefix/bin/tconv"
ldd "$prefix/bin/tconv" | grep -q "libtconv.so.$major => $prefix/" || {
    ldd "$prefix/bin/tconv" >&2
    fail "bin/tconv: libtconv not from $prefix"
}
"$prefix/bin/tconv" explain --example 1 >"$tmp/explain" 2>"$log" || {
    cat "$log" >&2
    fail "$prefix/bin/tconv explain --example 1 failed"
}
grep -q "9 x 25" "$tmp/explain" || fail "bin/tconv explain --example 1: no 9 x 25 matrix"
echo "ok: bin/tconv runs from the prefix"

# Versions: header, pkg-config, shared library file name, SONAME, run time.
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

# The static library holds the same public API as the shared one and nothing else global:
# its OpenBLAS members and internals are local to it.
nm -g --defined-only "$libdir/libtconv.a" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort \
    >"$tmp/static_syms"
nm -D --defined-only "$libdir/libtconv.so" | awk '{ print $NF }' | sort >"$tmp/shared_syms"
cmp -s "$tmp/static_syms" "$tmp/shared_syms" || {
    diff "$tmp/shared_syms" "$tmp/static_syms" | grep '^[<>]' | head -20 >&2
    fail "libtconv.a's global symbols (>) differ from libtconv.so's exports (<)"
}
echo "ok: libtconv.a defines $(wc -l <"$tmp/static_syms") global symbols, libtconv.so's exports"

# needs <program>: the libraries the loader maps for it, by SONAME, sorted: ldd's list but
# the vDSO, the loader itself and libm (the program's own business; oneDNN brings it
# anyway). Fails if one is not found.
needs() {
    ldd "$1" >"$tmp/ldd" || fail "ldd $1"
    if grep -q "not found" "$tmp/ldd"; then
        cat "$tmp/ldd" >&2
        fail "$1: a library is not found"
    fi
    awk '$1 !~ /^(linux-vdso|\/.*ld-linux|libm\.so)/ { print $1 }' "$tmp/ldd" | sort
}
# check_static_needs <what> <program>: what README's "Install and link" says a program
# linked with libtconv.a needs at run time: directly libgomp (OpenMP), libdnnl (oneDNN,
# when built with it) and libc, and nothing else but what these bring: no libtconv,
# OpenBLAS or libgfortran. That is what the shared libtconv.so needs.
check_static_needs() {
    readelf -d "$2" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^libm\.so' | sort \
        >"$tmp/direct"
    printf '%s\n' $direct_expected | sort >"$tmp/direct_expected"
    cmp -s "$tmp/direct" "$tmp/direct_expected" || {
        diff "$tmp/direct_expected" "$tmp/direct" >&2
        fail "$1: needs directly (>) other libraries than README says (<)"
    }
    needs "$2" >"$tmp/all"
    needs "$libdir/libtconv.so" | sort -u - "$tmp/direct" >"$tmp/all_expected"
    cmp -s "$tmp/all" "$tmp/all_expected" || {
        diff "$tmp/all_expected" "$tmp/all" >&2
        fail "$1: loads (>) other libraries than libtconv.so needs (<)"
    }
    echo "ok: $1 needs at run time $(paste -sd' ' "$tmp/direct"), and through them" \
         "$(grep -vxF -f "$tmp/direct" "$tmp/all" | paste -sd' ') (libm aside)"
}
private=$(pkg-config --static --libs tconv)
direct_expected="libc.so.6"
case "$private" in *-fopenmp*) direct_expected="$direct_expected libgomp.so.1" ;; esac
case "$private" in *-ldnnl*) direct_expected="$direct_expected libdnnl.so.2" ;; esac

# pkg-config, static libtconv: Libs.private brings oneDNN, OpenMP and libm (OpenBLAS is
# inside). oneDNN comes as a shared library only, so the program itself stays dynamic.
run "pkg-config static build" cc "$src/examples/quickstart.c" -o "$tmp/qs_pc_static" \
    -Wl,-Bstatic -ltconv -Wl,-Bdynamic $(pkg-config --cflags --static --libs tconv)
check_static_needs "pkg-config static" "$tmp/qs_pc_static"
check_output "pkg-config static" "$tmp/qs_pc_static"

# CMake package: find_package(tconv 1.0) from the installed tree.
run "cmake configure examples" cmake -S "$src/examples" -B "$tmp/cmake" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
grep -q "tconv $version from $libdir/cmake/tconv" "$log" || fail "find_package found another tconv"
run "cmake build examples" cmake --build "$tmp/cmake"
check_links_installed "find_package tconv::tconv" "$tmp/cmake/quickstart"
check_output "find_package tconv::tconv" "$tmp/cmake/quickstart"
check_static_needs "find_package tconv::tconv_static" "$tmp/cmake/quickstart_static"
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
