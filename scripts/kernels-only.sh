#!/usr/bin/env bash
# Builds the kernels-only target (JEVONS_KERNELS_ONLY: the CUDA kernels and CPU twins, the GPU
# tests' plain runner, jevons-profile, bench_kernels_gpu) with every other package hidden from
# CMake, then checks with ldd that its binaries need nothing beyond the C/C++ runtimes (the CUDA
# runtime is linked statically). This is what a lent GPU machine, which has only the CUDA
# toolkit, CMake and a compiler, can build; CI runs it to keep it so.
#   scripts/kernels-only.sh [BUILD_DIR]     (default build-kernels-only/; JEVONS_JOBS, CUDA arch 90)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-kernels-only}
jobs=${JEVONS_JOBS:-$(nproc)}
# ccache when present (and no launcher chosen by the caller): the kernels-only build then reuses
# the full build's nvcc and g++ results (identical compile lines), so CI's kernels-only stage costs
# seconds instead of a second round of CUDA compiles.
if [[ -z ${CMAKE_CUDA_COMPILER_LAUNCHER:-}${CMAKE_CXX_COMPILER_LAUNCHER:-} ]] && command -v ccache >/dev/null; then
  export CMAKE_CUDA_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=1
fi
hidden=()
for pkg in Boost Eigen3 fmt yaml-cpp nlohmann_json Catch2 SQLite3 OpenSSL CLI11 Qt6 benchmark \
  GTest Python3; do
  hidden+=("-DCMAKE_DISABLE_FIND_PACKAGE_${pkg}=ON")
done
start=$SECONDS
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DJEVONS_KERNELS_ONLY=ON \
  -DJEVONS_BUILD_GUI=OFF -DCMAKE_CUDA_ARCHITECTURES="${JEVONS_CUDA_ARCH:-90}" "${hidden[@]}" >/dev/null
targets=(jevons-profile)
if grep -q '^JEVONS_ENABLE_CUDA:BOOL=ON' "$build/CMakeCache.txt"; then
  targets+=(jevons_kernels_gpu_tests bench_kernels_gpu)
else
  echo "kernels-only: no nvcc, so only the CPU side (jevons-profile) is built"
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
echo "kernels-only: configured and built ${targets[*]} in $((SECONDS - start)) s"

# Anything the dynamic loader would have to find beyond these is a dependency the GPU machine
# does not have.
allowed='^(linux-vdso\.so|ld-linux[-a-z0-9_]*\.so|libc\.so|libm\.so|libstdc\+\+\.so|libgcc_s\.so|libdl\.so|libpthread\.so|librt\.so)'
status=0
for t in "${targets[@]}"; do
  exe=$(find "$build" -type f -name "$t" -perm -u+x | head -n 1)
  if [[ -z $exe ]]; then
    echo "kernels-only: $t was not built" >&2
    status=1
    continue
  fi
  while read -r lib _; do
    [[ -z $lib ]] && continue
    name=$(basename "$lib")
    if ! [[ $name =~ $allowed ]]; then
      echo "kernels-only: $t needs $name, which a machine with only the CUDA toolkit lacks" >&2
      status=1
    fi
  done < <(ldd "$exe" | sed 's/^[[:space:]]*//')
  echo "kernels-only: $t needs only: $(ldd "$exe" | awk '{print $1}' | xargs -n1 basename | tr '\n' ' ')"
done
exit $status
