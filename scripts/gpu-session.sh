#!/usr/bin/env bash
# Everything a lent GPU is for, in one command, on a machine with only the NVIDIA driver, a CUDA
# toolkit (for compute-sanitizer) and no Debian packages. Build here first, then carry build/:
#   ./scripts/build.sh && cmake --build build --target jevons_kernels_gpu_tests bench_kernels_gpu jevons-profile
#   (device tool) scripts/gpu-session.sh "$OUT"      with carry: build/kernels build/tests/kernels build/bench/kernels
# Writes into OUT (default ./gpu-out): the GPU test log, compute-sanitizer memcheck/racecheck logs,
# bench_kernels_gpu JSON, and profile/profile.json (attention grid + synthetic steps). Commit the
# profile as data/profiles/<gpu-slug>/profile.json and the figures in bench/RESULTS.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/gpu-out}
build=${JEVONS_BUILD_DIR:-$root/build}
mkdir -p "$out"
export JEVONS_DATA_DIR=${JEVONS_DATA_DIR:-$root/data}
status=0
run() {  # name, command...: logs to OUT/name.log, keeps going, remembers a failure
  local name=$1
  shift
  echo "::: $name"
  local t=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "::: $name rc=$rc in $((SECONDS - t)) s"
  tail -n 5 "$out/$name.log"
  ((rc == 0)) || status=1
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$out/nvidia-smi.csv" 2>&1
run gpu-tests "$build/tests/kernels/jevons_kernels_gpu_tests"
if command -v compute-sanitizer >/dev/null || [[ -x /usr/local/cuda/bin/compute-sanitizer ]]; then
  cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  # The sanitizers slow kernels ~100x: the bit-exactness and attention cases, not the step smoke.
  run memcheck "$cs" --tool memcheck --error-exitcode 1 "$build/tests/kernels/jevons_kernels_gpu_tests" "~*synthetic step*"
  run racecheck "$cs" --tool racecheck --error-exitcode 1 "$build/tests/kernels/jevons_kernels_gpu_tests" "~*synthetic step*"
fi
run bench "$build/bench/kernels/bench_kernels_gpu" --json "$out/bench_kernels_gpu.json"
run profile "$build/kernels/jevons-profile" --device gpu --out "$out/profile"
exit $status
