#!/bin/sh
# Runs one build's test suites and shows what a reader wants: Criterion's synthesis line
# per suite, the PASS/FAIL/SKIP line of each script test, every failure in full, and
# ctest's verdict. The whole log stays in <build>/test.log. Exits with ctest's status.
#   scripts/run-tests.sh <build-dir>
set -u
dir=${1:?usage: run-tests.sh <build-dir>}
log="$dir/test.log"
ctest --test-dir "$dir" --verbose >"$log" 2>&1
status=$?
awk '
  /Synthesis:/ { sub(/^[0-9]+: /, ""); print; next }
  /\[FAIL\]|\[----\]|ERROR|Sanitizer|runtime error|\*\*\*|FAIL:|SKIP:|PASS:/ { sub(/^[0-9]+: /, ""); print; next }
  /tests passed|tests failed|Total Test time|The following tests FAILED|Failed/ { print }
' "$log"
exit $status
