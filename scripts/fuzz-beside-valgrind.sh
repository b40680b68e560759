#!/bin/sh
# The fuzz smoke run and the valgrind subset at once: each keeps one core busy (libFuzzer
# runs one process, valgrind serialises a program's threads), so on two cores side by
# side they take the time of the longer. Fuzzing's report follows valgrind's; either
# failing fails the run.
#   scripts/fuzz-beside-valgrind.sh <fuzz-build> <seconds> <seed> <build> [<test> ...]
set -u
fuzz_build=${1:?usage: fuzz-beside-valgrind.sh <fuzz-build> <seconds> <seed> <build> [<test> ...]}
seconds=${2:?seconds}
seed=${3:?seed}
build=${4:?build}
shift 4
here=$(dirname "$0")
out="$fuzz_build/fuzz-smoke.out"
mkdir -p "$fuzz_build"
"$here/fuzz.sh" "$fuzz_build" "$seconds" "$seed" >"$out" 2>&1 &
fuzz_pid=$!
"$here/valgrind-tests.sh" "$build" "$@"
valgrind_status=$?
wait "$fuzz_pid"
fuzz_status=$?
echo "-- fuzzing for $seconds s from seed $seed"
cat "$out"
[ "$valgrind_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ]
