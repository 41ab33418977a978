#!/usr/bin/env bash
# Starts jevons-gui under Xvfb, runs a scenario (default: scenarios/default.yaml) and saves the
# window as a PNG (default: docs/gui-screenshot.png).
#   scripts/screenshot-gui.sh [SCENARIO] [PNG]
# Env: BUILD_DIR (default build), JEVONS_GUI_SIZE (default 1280x800; the README shows that size).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scenario="${1:-$root/scenarios/default.yaml}"
png="${2:-$root/docs/gui-screenshot.png}"
build="${BUILD_DIR:-$root/build}"
size="${JEVONS_GUI_SIZE:-1280x800}"
exe="$build/gui/jevons-gui"
if [[ ! -x "$exe" ]]; then
  echo "screenshot-gui: $exe not found; build first (cmake --build $build --target jevons-gui)" >&2
  exit 2
fi
command -v xvfb-run >/dev/null || { echo "screenshot-gui: xvfb-run not found (apt-get install xvfb xauth)" >&2; exit 2; }
# A throwaway settings directory: a developer's saved window layout must not change the picture.
export XDG_CONFIG_HOME="$(mktemp -d)"
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
mkdir -p "$(dirname "$png")"
xvfb-run -a -s "-screen 0 ${size}x24" \
  "$exe" --size "$size" --screenshot "$png" "$scenario"
echo "screenshot: $png"
