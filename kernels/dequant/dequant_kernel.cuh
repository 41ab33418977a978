#pragma once
/// \file Dequantize kernel: one block of HEAD_DIM threads per stored vector; the first
/// HEAD_DIM/8 lanes read the codes (scores_kernel.cuh lane readers) into the codec domain, then all
/// threads rotate back (finish_row), exactly the decode combine's last step.

#include "append/pool_layout.h"
#include "scores/scores_kernel.cuh"

namespace jevons::kernels::gpu::dev {

struct DequantArgs {
  VectorDesc d;
  PoolLayout layout;
  const std::uint8_t* pool;
  const std::int64_t* slots;
  std::uint64_t n;
  bool identity;
  const float* transform;  ///< [kv_heads][dim][dim]
  const float* qjl;        ///< [dim][dim]
  float* out;              ///< [n][kv_heads][dim]
};

template <int HEAD_DIM>
__global__ void dequant_kernel(DequantArgs a) {
  constexpr int TG = HEAD_DIM / 8;
  __shared__ float cent[2][16];
  __shared__ float sm[2 * HEAD_DIM];
  load_centroids(a.d, cent);
  __syncthreads();
  const int j = static_cast<int>(threadIdx.x);
  const std::uint64_t vid = blockIdx.x;
  const std::uint32_t head = static_cast<std::uint32_t>(vid % a.layout.kv_heads);
  const std::int64_t slot = a.slots[vid / a.layout.kv_heads];
  const auto page = static_cast<std::uint64_t>(slot / a.layout.page_tokens);
  const auto off = static_cast<std::uint32_t>(slot % a.layout.page_tokens);
  const std::uint8_t* code = a.pool + a.layout.code_offset(page, head, off);
  const std::uint8_t* meta = a.pool + a.layout.meta_offset(page, head, off);
  if (j < TG) {
    float v[8];
    lane_values<kModeGeneric>(a.d, cent, code, meta, j, v);
    for (int i = 0; i < 8; ++i) sm[8 * j + i] = v[i];
    if (a.d.has_qjl) {
      unsigned bits;
      float coef;
      lane_signs(a.d, code, meta, j, &bits, &coef);
      for (int i = 0; i < 8; ++i) sm[HEAD_DIM + 8 * j + i] = ((bits >> i) & 1u) ? coef : -coef;
    }
  }
  __syncthreads();
  const float o = finish_row<HEAD_DIM>(
      sm, j, a.identity, a.transform + static_cast<std::size_t>(head) * HEAD_DIM * HEAD_DIM,
      a.d.has_qjl != 0, a.qjl);
  a.out[vid * HEAD_DIM + j] = o;
}

}  // namespace jevons::kernels::gpu::dev
