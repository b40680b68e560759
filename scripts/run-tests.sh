#!/bin/sh
# Runs one build's test suites and shows what a reader wants: Criterion's synthesis line
# per suite, pytest's summary line, the install checks' "ok:" lines, the PASS/FAIL lines of
# script tests, every failure in full, and ctest's verdict. The whole log stays in
# <build>/test.log. Exits with ctest's status, or 1 if a sanitizer reported anything.
#   scripts/run-tests.sh <build-dir> [<test name>]
# With a test name, only that test runs (a build that makes only some executables).
set -u
dir=${1:?usage: run-tests.sh <build-dir> [<test name>]}
log="$dir/test.log"
if [ $# -ge 2 ]; then
  ctest --test-dir "$dir" --verbose -R "^$2\$" >"$log" 2>&1
else
  # two suites at a time: much of a suite's time is one busy core (Python, pip, a
  # Criterion runner between its workers), so the other core takes the next suite
  ctest --test-dir "$dir" --verbose --parallel "$(nproc)" >"$log" 2>&1
fi
status=$?
awk '
  /Synthesis:|^[0-9]+: ok:|^[0-9]+: stress_threads:|[0-9]+ (passed|failed)/ { sub(/^[0-9]+: /, ""); print; next }
  /\[FAIL\]|\[----\]|ERROR|FAIL:|FAILED|SKIP:|PASS:|Sanitizer|runtime error|\*\*\*/ { sub(/^[0-9]+: /, ""); print; next }
  /tests passed|tests failed|Total Test time|The following tests FAILED|Failed/ { print }
' "$log"
# A sanitizer report inside a Criterion worker (a leak found at the worker's exit, above
# all) does not fail the test that ran there: Criterion has already counted it passed. Any
# report in the log fails the run.
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer" \
    "$log"; then
  echo "sanitizer reports in $log:"
  grep -E -A12 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer" \
    "$log" | head -60
  status=1
fi
exit $status
