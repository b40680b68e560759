#!/bin/sh
# Runs test executables under valgrind's memcheck; any memory error or leak fails.
#   scripts/valgrind-tests.sh <build-dir> [<test>[:<criterion filter>] ...]
# With no test named, every test ctest knows in <build-dir> runs, whole.
#
# Criterion runs each test in a child process it starts itself: without
# --trace-children=yes valgrind checks the runner and none of the tests (a scratch test
# reading past a malloc'd block passes unreported). And a child's error does not fail its
# test (Criterion has already counted it), so every process writes its own log, and the
# logs are read afterwards: each must say "ERROR SUMMARY: 0 errors". Definite and possible
# leaks count as errors. --exit-on-first-error makes a memory error also fail the test in
# which it happens, so the report names it. tests/valgrind.supp hides what belongs to the
# OpenMP runtime (each entry says why).
set -u
dir=${1:?usage: valgrind-tests.sh <build-dir> [<test>[:<filter>] ...]}
shift
logs="$dir/valgrind"
rm -rf "$logs"
mkdir -p "$logs"

if [ $# -eq 0 ]; then
  # shellcheck disable=SC2046 # one word per test name is wanted
  set -- $(ctest --test-dir "$dir" -N | sed -n 's/^ *Test *#[0-9]*: //p')
fi

status=0
for spec in "$@"; do
  name=${spec%%:*}
  filter=""
  case "$spec" in *:*) filter=${spec#*:} ;; esac
  exe="$dir/tests/$name"
  [ -x "$exe" ] || exe="$dir/$name"
  if [ ! -x "$exe" ]; then
    echo "$name: no executable in $dir"
    status=1
    continue
  fi
  set -- valgrind --trace-children=yes --error-exitcode=1 --exit-on-first-error=yes \
    --leak-check=full --errors-for-leak-kinds=definite,possible \
    --suppressions="$(dirname "$0")/../tests/valgrind.supp" \
    --log-file="$logs/$name.%p.log" "$exe"
  [ -n "$filter" ] && set -- "$@" --filter "$filter"
  if ! "$@" >"$logs/$name.out" 2>&1; then
    echo "$name: failed under valgrind"
    status=1
  fi
  synthesis=$(grep -h "Synthesis" "$logs/$name.out" | sed 's/^\[====\] //')
  echo "$name${filter:+ ($filter)}: ${synthesis:-$(tail -n 1 "$logs/$name.out")}"
done

processes=$(find "$logs" -name '*.log' | wc -l)
if [ "$processes" -eq 0 ]; then
  echo "valgrind: no process was checked"
  exit 1
fi
dirty=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/*.log)
if [ -n "$dirty" ]; then
  for f in $dirty; do
    echo "== $f"
    grep -E -A14 "Invalid|uninitialised|Mismatched|definitely lost in|possibly lost in|\
ERROR SUMMARY" "$f" | head -60
  done
  status=1
fi
echo "valgrind: $processes processes checked (runners and test workers), \
$(echo "$dirty" | grep -c .) with errors; logs in $logs"
exit $status
