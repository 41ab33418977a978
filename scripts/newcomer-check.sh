#!/usr/bin/env bash
# A newcomer's first run, checked: clone the repository (committed files only) into a temporary
# folder and there validate and run every bundled scenario with a short duration, using an
# already-built `jevons` (nothing is rebuilt). A scenario that reads a file outside the
# repository, or one that validates but does not run, fails here.
#
#   scripts/newcomer-check.sh [JEVONS_EXE]       # default: build/cli/jevons ($JEVONS_BUILD_DIR)
#
# Simulations are capped at JEVONS_CHECK_DURATION_S simulated seconds (default 60) and planner
# projections size replicas with the analytical capacity estimate (--analytical-capacity), so
# the whole check takes well under a minute on 2 cores; both overrides are printed as notes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exe=${1:-${JEVONS_BUILD_DIR:-$root/build}/cli/jevons}
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")
if [[ ! -x $exe ]]; then
  echo "newcomer-check: no jevons executable at $exe (build first: scripts/build.sh)" >&2
  exit 2
fi
duration=${JEVONS_CHECK_DURATION_S:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/jevons-newcomer.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A local clone copies what is committed on HEAD and nothing else: no build outputs, no
# untracked files, no ../shared next to it.
git clone --quiet --no-hardlinks "$root" "$work/jevons"
cd "$work/jevons"
export JEVONS_CACHE_DIR=$work/cache  # no capacity cache from earlier runs
export HOME=$work/home
mkdir -p "$HOME"

failed=0
count=0
for scenario in scenarios/*.yaml; do
  count=$((count + 1))
  start=$SECONDS
  if ! out=$("$exe" validate "$scenario" 2>&1); then
    echo "FAIL validate $scenario"
    echo "$out" | sed 's/^/    /'
    failed=$((failed + 1))
    continue
  fi
  if ! out=$("$exe" run "$scenario" --db "$work/results.sqlite" --data-dir data \
      --max-duration-s "$duration" --analytical-capacity 2>&1); then
    echo "FAIL run $scenario"
    echo "$out" | tail -20 | sed 's/^/    /'
    failed=$((failed + 1))
    continue
  fi
  echo "ok   $scenario ($((SECONDS - start)) s)"
done
if ((count == 0)); then
  echo "newcomer-check: no scenarios found in the clone" >&2
  exit 1
fi
if ((failed > 0)); then
  echo "newcomer-check: $failed of $count bundled scenarios failed in a fresh clone" >&2
  exit 1
fi
echo "newcomer-check: all $count bundled scenarios validate and run in a fresh clone ($SECONDS s)"
