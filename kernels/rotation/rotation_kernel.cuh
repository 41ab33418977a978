#pragma once
/// \file Device rotation helpers, reproducing Rotation::apply's float operation order exactly
/// (explicit _rn intrinsics so nvcc never contracts into FMA), plus the canonical tree sum.
///
/// Block-cooperative: thread `j` of a vector owns channel j; a vector's channels may be split
/// into segments [offset, offset+n) that are rotated independently. Every helper executes the same
/// __syncthreads sequence in all threads of the block (loop bounds are compile-time HEAD_DIM).

#include <cstdint>

#include "common/cuda_util.cuh"
#include "rotation/rotation.h"

namespace jevons::kernels::gpu::dev {

/// In-place canonical tree sum of buf[offset .. offset+n) for the segment this thread belongs to
/// (`local` = j − offset); the result lands in buf[offset]. Mirrors tree_sum() in numeric.h.
template <int HEAD_DIM>
__device__ __forceinline__ void segment_tree_sum(float* buf, int j, int local, int n) {
  int p = 1;
  while (p < n) p <<= 1;
  for (int s = HEAD_DIM / 2; s > 0; s >>= 1) {
    __syncthreads();
    if (s < p && local < s && local + s < n) buf[j] = __fadd_rn(buf[j], buf[j + s]);
  }
  __syncthreads();
}

/// y = Π·u for this thread's channel. `buf`: shared scratch [HEAD_DIM] (clobbered); `u`: this
/// thread's input; `kind` a RotationKind: 1 = Hadamard (`data` = signs [n], `scale` = 1/√n),
/// 2 = block Hadamard (n = 3m; `data` = signs [n], `scale` = 1/√m; the segment's blocks start at
/// multiples of m, as every caller's offsets are), 0 = dense (`data` = the transposed matrix Πᵀ,
/// row-major [n][n], so the threads of a warp read consecutive floats: coalesced). Returns y_j.
template <int HEAD_DIM>
__device__ __forceinline__ float rotate_channel(float* buf, int j, int local, int n, int offset,
                                                std::uint32_t kind, const float* data, float scale,
                                                float u) {
  // The split formats rotate their two segments with different kinds (a Hadamard outlier segment
  // beside a block-Hadamard or dense one), so `kind` differs between threads of one block, even
  // of one warp at d = 64. Every path therefore runs in every thread with its work predicated:
  // the same __syncthreads sequence everywhere (a barrier reached by only part of a block is
  // undefined).
  const bool had = kind != 0;
  const int m = kind == 2 ? n / 3 : (had ? n : 0);  // fast-Hadamard block size
  if (had) buf[j] = __fmul_rn(u, data[local]);
  for (int h = 1; h < HEAD_DIM; h <<= 1) {
    __syncthreads();
    const float self = buf[j];
    const float partner = h < m ? buf[j ^ h] : 0.0f;
    __syncthreads();
    if (h < m) buf[j] = (local & h) ? __fsub_rn(partner, self) : __fadd_rn(self, partner);
  }
  __syncthreads();
  float y_had = 0.0f;
  if (had) {
    y_had = buf[j];
    if (kind == 2 && m > 0) {
      // Q₃ mix in the twin's order: t = (y_k + y_{m+k}) + y_{2m+k}, y = fma(−2/3, t, y).
      const int k = offset + (local & (m - 1));
      const float t = __fadd_rn(__fadd_rn(buf[k], buf[k + m]), buf[k + 2 * m]);
      y_had = __fmaf_rn(kBlockMix, t, y_had);
    }
    y_had = __fmul_rn(y_had, scale);
  }
  __syncthreads();
  if (!had) buf[j] = u;
  __syncthreads();
  float acc = 0.0f;
  if (!had) {
    for (int i = 0; i < n; ++i)
      acc =
          __fadd_rn(acc, __fmul_rn(data[static_cast<std::size_t>(i) * n + local], buf[offset + i]));
  }
  __syncthreads();
  return had ? y_had : acc;
}

}  // namespace jevons::kernels::gpu::dev
