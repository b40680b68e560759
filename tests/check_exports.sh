#!/bin/sh
# The shared library exports exactly the functions the public header declares with
# TCONV_API: no tconv__ internal, no helper such as im2col, no BLAS or OpenMP symbol.
#   tests/check_exports.sh <libtconv.so> <tconv.h>
set -eu
lib=${1:?usage: check_exports.sh <libtconv.so> <tconv.h>}
header=${2:?usage: check_exports.sh <libtconv.so> <tconv.h>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{ print $NF }' | sort >"$tmp/exported"
# "TCONV_API <type> [*]name(" possibly over two lines (preprocessor lines aside): the
# identifier before the '('.
grep -v '^#' "$header" | tr '\n' ' ' | grep -o 'TCONV_API [^;(]*(' |
    sed 's/.*[^A-Za-z0-9_]\([A-Za-z0-9_]*\)[ ]*($/\1/' | sort >"$tmp/declared"

[ -s "$tmp/declared" ] || { echo "FAIL: no TCONV_API declaration found in $header"; exit 1; }
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
    echo "FAIL: exported (<) and declared (>) symbols differ:"
    diff "$tmp/exported" "$tmp/declared" | grep '^[<>]'
    exit 1
fi
grep -v '^tconv_[a-z]' "$tmp/exported" && { echo "FAIL: symbols outside tconv_*"; exit 1; }
echo "ok: $(wc -l <"$tmp/exported") symbols exported, all declared TCONV_API in" \
    "$(basename "$header")"
