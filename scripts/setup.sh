#!/usr/bin/env bash
# Installs the Debian packages Jevons builds against, skipping any already present.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  ccache  # build.sh and kernels-only.sh share nvcc/g++ results (CI's kernels-only stage reuses stage 1's)
  libboost-dev libboost-math-dev libboost-mpi-dev libopenmpi-dev openmpi-bin
  libeigen3-dev libsqlite3-dev sqlite3 libssl-dev
  catch2 libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev xvfb xauth
  libbenchmark-dev
  clang-14 libclang-rt-14-dev  # test-sanitizers.sh and fuzz.sh: ASan/UBSan/LSan and libFuzzer
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] all Debian packages present"
fi
