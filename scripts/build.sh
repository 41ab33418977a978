#!/usr/bin/env bash
# Configures and builds Jevons into build/ (or $JEVONS_BUILD_DIR). Extra arguments go to cmake configure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${JEVONS_BUILD_DIR:-$root/build}
jobs=${JEVONS_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j "$jobs"
