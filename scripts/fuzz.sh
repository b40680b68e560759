#!/bin/sh
# Runs the libFuzzer harness (tests/fuzz/fuzz_layers.c) for a fixed time from a fixed seed.
#   scripts/fuzz.sh <fuzz-build-dir> <seconds> <seed>
# Starts from the committed seed corpus (tests/fuzz/corpus, read only) and from what
# earlier runs of this build found (<dir>/corpus, where new inputs go). A failing input is
# written to <dir>/artifacts/ and the run fails. The whole log stays in <dir>/fuzz.log.
set -u
dir=${1:?usage: fuzz.sh <fuzz-build-dir> <seconds> <seed>}
seconds=${2:?seconds}
seed=${3:?seed}
mkdir -p "$dir/corpus" "$dir/artifacts"
log="$dir/fuzz.log"
set -- "$dir/tests/fuzz/fuzz_layers" -seed="$seed" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
  "$dir/corpus" tests/fuzz/corpus
echo "$*"
"$@" >"$log" 2>&1
status=$?
# what a reader wants: the start, the end state, the statistics, and any failure in full
grep -E "^INFO: (Seed|.*files found)|^#[0-9]+[[:space:]]+(INITED|DONE)|^Done|^stat::" "$log"
if [ $status -ne 0 ]; then
  grep -v -E "^#[0-9]+ +(NEW|REDUCE|pulse)" "$log" | tail -n 40
  echo "fuzzing failed (status $status); the input is in $dir/artifacts/"
fi
exit $status
