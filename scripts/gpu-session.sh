#!/usr/bin/env bash
# Everything a lent GPU is for, in one command sized for a 10-minute device window (under 9 min on
# an H100). It builds the kernels-only target on the GPU machine itself (CUDA toolkit + CMake
# only; no binary carried from elsewhere, so nothing depends on another machine's glibc), then
# runs the steps most valuable first, each under its own timeout and within one overall budget,
# so a slow step costs only itself:
#   1. build        scripts/kernels-only.sh (arch from nvidia-smi, all cores)
#   2. gpu-tests    every GPU test against the CPU twins
#   3. bench        B=32 / L=16k decode vs the project's bf16 kernel and the byte floor (L2 flushed;
#                   tq-mse-4/3 run the pipelined tensor-core kernel, each line names its kernel)
#   4. profile      jevons-profile --quick (attention grid + synthetic steps)
#   5. memcheck, racecheck, synccheck   compute-sanitizer on the reduced GPU suite
# Everything lands in one archive, OUT/gpu-session.tar.gz (logs capped, under the device tool's
# 16 MiB per file), plus OUT/summary.txt (one line per step: rc, seconds). Commit the profile as
# data/profiles/<gpu-slug>/profile.json and the figures in bench/RESULTS.md.
#
#   (device tool) scripts/gpu-session.sh "$OUT"
#   scripts/gpu-session.sh --dry-run [OUT]    everything but the device calls, on the CPU (CI):
#       builds (or reuses $JEVONS_BUILD_DIR), lists the tests, prints the bench plan, reads the
#       decode kernels' SASS budget (bench/kernels/sass_budget.py --check, CPU only), runs a tiny
#       CPU profile, prints the sanitizer commands, packs the archive.
# Env: JEVONS_BUILD_DIR (default build-gpu/), JEVONS_SESSION_BUDGET_S (default 530).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dry=0
if [[ ${1:-} == --dry-run ]]; then
  dry=1
  shift
fi
out=${1:-${OUT:-$root/gpu-out}}
build=${JEVONS_BUILD_DIR:-$root/build-gpu}
budget=${JEVONS_SESSION_BUDGET_S:-530}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export JEVONS_DATA_DIR=${JEVONS_DATA_DIR:-$root/data}
start=$SECONDS
status=0
: >"$work/summary.txt"

# step NAME LIMIT_S CMD...: runs CMD under `timeout` (its limit, or what is left of the budget),
# logs to NAME.log, records "NAME rc seconds" and carries on whatever happens.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - (SECONDS - start)))
  ((limit > left)) && limit=$left
  if ((limit < 5)); then
    echo "$name skipped: session budget spent" | tee -a "$work/summary.txt"
    status=1
    return
  fi
  echo "::: $name (limit ${limit} s)"
  local t=$SECONDS
  timeout --kill-after=5 "$limit" "$@" >"$work/$name.log" 2>&1
  local rc=$?
  ((rc == 124 || rc == 137)) && echo "(timed out after ${limit} s)" >>"$work/$name.log"
  echo "$name rc=$rc $((SECONDS - t)) s" >>"$work/summary.txt"
  echo "::: $name rc=$rc in $((SECONDS - t)) s"
  tail -n 4 "$work/$name.log"
  ((rc == 0)) || status=1
}

if ((dry)); then
  echo "dry run: no device calls" >"$work/nvidia-smi.txt"
  arch=90
else
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv \
    >"$work/nvidia-smi.txt" 2>&1
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
  [[ $arch =~ ^[0-9]+$ ]] || arch=90
fi

# 1. Build: ~10 CUDA translation units in parallel; reuses $build when it is already configured.
JEVONS_CUDA_ARCH=$arch step build 200 "$root/scripts/kernels-only.sh" "$build"
tests=$build/tests/kernels/jevons_kernels_gpu_tests
bench=$build/bench/kernels/bench_kernels_gpu
profile=$build/kernels/jevons-profile
cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

# The toolkit that builds everything (CUDA version and arch go into the archive).
{ command -v nvcc && nvcc --version; echo "arch sm_$arch"; } >"$work/nvcc.txt" 2>&1

if ((dry)); then
  step gpu-tests 20 "$tests" --list
  step bench 20 "$bench" --quick --dry-run
  # CPU only, so never on the lent machine's minutes: the pipelined decode kernel's instructions
  # per byte and bytes in flight against 0.35 and 32 KB (exit 77 without cuobjdump: not a failure).
  step sass-budget 60 bash -c 'python3 "$1" --check "$2"; rc=$?; ((rc == 77)) && rc=0; exit $rc' \
    _ "$root/bench/kernels/sass_budget.py" "$build"
  # The CPU twins through the same profiler, tiny grid: exercises the profile writer end to end.
  step profile 60 "$profile" --device cpu --quick --formats bf16,tq-3.5 --contexts 256 \
    --step-models none --out "$work/profile"
  for tool in memcheck racecheck synccheck; do
    step "$tool" 10 echo "would run: $cs --tool $tool --error-exitcode 1 $tests (reduced suite)"
  done
else
  step gpu-tests 60 "$tests"
  step bench 45 "$bench" --quick --iterations 10 --json "$work/bench_kernels_gpu.json"
  step profile 100 "$profile" --device gpu --quick --out "$work/profile"
  if [[ -x $cs ]]; then
    for tool in memcheck racecheck synccheck; do
      JEVONS_GPU_TESTS_REDUCED=1 step "$tool" 45 "$cs" --tool "$tool" --error-exitcode 1 "$tests" \
        "~*synthetic step*"
    done
  else
    echo "compute-sanitizer not found: sanitizer steps skipped" | tee -a "$work/summary.txt"
  fi
fi

echo "total $((SECONDS - start)) s of a ${budget} s budget, status $status" >>"$work/summary.txt"
# One archive: logs capped at 2 MiB each (tails kept), so it stays far below 16 MiB.
for f in "$work"/*.log; do
  [[ -f $f ]] || continue
  if (($(stat -c %s "$f") > 2097152)); then
    tail -c 2097152 "$f" >"$f.tail" && mv "$f.tail" "$f"
  fi
done
tar -czf "$out/gpu-session.tar.gz" -C "$work" .
cp "$work/summary.txt" "$out/summary.txt"
size=$(stat -c %s "$out/gpu-session.tar.gz")
echo "::: archive $out/gpu-session.tar.gz ($size bytes), summary:"
cat "$out/summary.txt"
if ((size > 16 * 1024 * 1024)); then
  echo "archive over the 16 MiB return limit" >&2
  status=1
fi
exit $status
