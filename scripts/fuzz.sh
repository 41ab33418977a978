#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by scripts/test-sanitizers.sh (build-asan/fuzz/).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]   default: 25 s each, every harness (the CI smoke run)
# A 10-minute campaign per harness: scripts/fuzz.sh 600. New inputs go to build-asan/fuzz-work/
# (the committed seeds in fuzz/corpus/ are only read); a crash, leak, timeout or out-of-memory
# leaves its input in build-asan/fuzz-artifacts/ and fails the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${JEVONS_ASAN_BUILD_DIR:-$root/build-asan}
seconds=${1:-25}
shift || true
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  harnesses=(scenario profile sweep_grid measured_ops trace_azure trace_mooncake trace_csv)
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p "$build/fuzz-artifacts"
status=0
for h in "${harnesses[@]}"; do
  exe="$build/fuzz/fuzz_$h"
  [[ -x $exe ]] || { echo "[fuzz] $exe is missing: run scripts/test-sanitizers.sh first" >&2; exit 2; }
  work="$build/fuzz-work/$h"
  mkdir -p "$work"
  log="$build/fuzz-work/$h.log"
  echo "[fuzz] $h for ${seconds}s"
  if "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$h-" "$work" "$root/fuzz/corpus/$h" >"$log" 2>&1; then
    echo "[fuzz] $h: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') executions, no findings"
  else
    echo "[fuzz] $h FAILED; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
done
exit $status
