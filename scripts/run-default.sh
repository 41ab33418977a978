#!/usr/bin/env bash
# The README's main command: set up, build, and run Jevons on the bundled default scenario.
# Prints the summary table and writes results/default.sqlite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
mkdir -p "$root/results"
"${JEVONS_BUILD_DIR:-$root/build}/cli/jevons" run "$root/scenarios/default.yaml" \
  --db "$root/results/default.sqlite" "$@"
