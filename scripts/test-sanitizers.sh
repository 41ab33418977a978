#!/usr/bin/env bash
# Builds Jevons with clang under AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
# (or $JEVONS_ASAN_BUILD_DIR) and runs the whole CTest suite there; any finding fails the run.
# The same build carries the libFuzzer harnesses (fuzz/), which scripts/fuzz.sh then runs.
# CUDA, the GUI and the benchmarks are off: the sanitizers check host code, and Qt/benchmark
# would only add build time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${JEVONS_ASAN_BUILD_DIR:-$root/build-asan}
jobs=${JEVONS_JOBS:-$(nproc)}
cxx=${JEVONS_ASAN_CXX:-$(command -v clang++-14 || command -v clang++)}

"$root/scripts/setup.sh"
# -O1 keeps the suite fast enough for CI while leaving stack traces readable.
flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DJEVONS_ENABLE_CUDA=OFF -DJEVONS_BUILD_GUI=OFF -DJEVONS_BUILD_BENCH=OFF \
  -DJEVONS_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j "$jobs"

# Leaks are findings too (jevons under mpirun opts out: cli/main.cpp, __lsan_is_turned_off).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd "$build"
ctest --output-on-failure -j "$jobs" "$@"
