#!/bin/sh
# Runs one build's test suites and shows what a reader wants: Criterion's synthesis line
# per suite, pytest's summary line, the install checks' "ok:" lines, every failure in
# full, and ctest's verdict. The whole log stays in <build>/test.log. Exits with ctest's
# status.
#   scripts/run-tests.sh <build-dir>
set -u
dir=${1:?usage: run-tests.sh <build-dir>}
log="$dir/test.log"
ctest --test-dir "$dir" --verbose >"$log" 2>&1
status=$?
awk '
  /Synthesis:|^[0-9]+: ok:|[0-9]+ (passed|failed)/ { sub(/^[0-9]+: /, ""); print; next }
  /\[FAIL\]|\[----\]|ERROR|FAIL:|FAILED|SKIP:|PASS:|Sanitizer|runtime error|\*\*\*/ { sub(/^[0-9]+: /, ""); print; next }
  /tests passed|tests failed|Total Test time|The following tests FAILED|Failed/ { print }
' "$log"
exit $status
