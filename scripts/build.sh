#!/usr/bin/env bash
# Configures and builds Jevons into build/ (or $JEVONS_BUILD_DIR). Extra arguments go to cmake configure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${JEVONS_BUILD_DIR:-$root/build}
jobs=${JEVONS_JOBS:-$(nproc)}
# ccache when present (and no launcher chosen by the caller): the kernels-only build then reuses
# the full build's nvcc and g++ results (identical compile lines), so CI's kernels-only stage costs
# seconds instead of a second round of CUDA compiles.
if [[ -z ${CMAKE_CUDA_COMPILER_LAUNCHER:-}${CMAKE_CXX_COMPILER_LAUNCHER:-} ]] && command -v ccache >/dev/null; then
  export CMAKE_CUDA_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=1
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j "$jobs"
