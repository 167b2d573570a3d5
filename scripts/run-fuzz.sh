#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR for SECONDS, starting from the checked-in seed corpus
# (tests/fuzz/corpus/<target>/, never modified) plus what earlier runs found (BUILD_DIR/fuzz-corpus/).
# A crash, leak, timeout or out-of-memory leaves its input in BUILD_DIR/fuzz-crashes/ and fails.
# Usage: scripts/run-fuzz.sh BUILD_DIR SECONDS TARGET...
set -u
build=$1
seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-crashes"
failed=()
summary=()
for target in "$@"; do
  exe="$build/tests/fuzz/${target}_fuzzer"
  seeds="$root/tests/fuzz/corpus/$target"
  work="$build/fuzz-corpus/$target"
  mkdir -p "$work"
  log="$build/fuzz-$target.log"
  echo "== $target: ${seconds}s (log: $log)"
  # The outer timeout: after an out-of-memory, LeakSanitizer's final check of a 2 GB heap was seen
  # to take minutes; a run that overstays counts as failed instead of stalling make fuzz.
  timeout --kill-after=10 $((seconds + 180)) "$exe" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-crashes/$target-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -ne 0 ]; then
    failed+=("$target")
    summary+=("$target: FAILED after ${runs:-?} runs (exit $rc)")
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
  else
    summary+=("$target: ok, ${runs:-?} runs")
  fi
done
echo
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "crashing inputs are in $build/fuzz-crashes/: fix the defect, then add the input to tests/fuzz/corpus/<target>/" \
       "so that the fuzz_replay_<target> test of 'make test' keeps it fixed"
  exit 1
fi
