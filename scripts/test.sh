#!/usr/bin/env bash
# The README's test command: set up, build, and run every test through CTest.
# GPU tests skip with a message when no CUDA device is present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${JEVONS_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${JEVONS_JOBS:-$(nproc)}"
