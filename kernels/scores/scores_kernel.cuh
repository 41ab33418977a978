#pragma once
/// \file Lane-level readers of compressed vectors, shared by the scores, decode-attention and
/// dequant kernels. A "lane" owns 8 consecutive codec-domain channels [8l, 8l+8): 8 codes are
/// exactly `bits` bytes, one sign byte, 16 bf16 bytes, so every load is a whole unit.
///
/// MODE selects a compile-time path: 0 generic (runtime VectorDesc, any format), 16 bf16. (The
/// single-segment tq-mse/tq-prod formats decode through decode_pipelined_kernel.cuh instead.)

#include <cuda_fp8.h>

#include <cstdint>

#include "common/cuda_util.cuh"
#include "packing/packing.h"
#include "quant/vector_desc.h"

namespace jevons::kernels::gpu::dev {

constexpr int kModeGeneric = 0;
constexpr int kModeBf16 = 16;

/// v[i] = stored value of codec channel 8l+i, norm applied (QJL part excluded, see lane_signs).
/// `cent`: shared [2][16] centroid tables of the segments.
template <int MODE>
__device__ __forceinline__ void lane_values(const VectorDesc& d, const float (*cent)[16],
                                            const std::uint8_t* code, const std::uint8_t* meta,
                                            int l, float v[8]) {
  if constexpr (MODE == kModeBf16) {
    const uint4 w = *reinterpret_cast<const uint4*>(code + 16 * l);
    const std::uint32_t parts[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      v[2 * i] = __uint_as_float(parts[i] << 16);
      v[2 * i + 1] = __uint_as_float(parts[i] & 0xffff0000u);
    }
  } else {
    static_assert(MODE == kModeGeneric, "lane_values: MODE is kModeGeneric or kModeBf16");
    switch (d.kind) {
      case CodecKind::kBf16:
      case CodecKind::kFp16: {
        const uint4 w = *reinterpret_cast<const uint4*>(code + 16 * l);
        const std::uint32_t parts[4] = {w.x, w.y, w.z, w.w};
        for (int i = 0; i < 4; ++i) {
          const auto lo = static_cast<std::uint16_t>(parts[i] & 0xffffu);
          const auto hi = static_cast<std::uint16_t>(parts[i] >> 16);
          if (d.kind == CodecKind::kBf16) {
            v[2 * i] = __uint_as_float(std::uint32_t{lo} << 16);
            v[2 * i + 1] = __uint_as_float(std::uint32_t{hi} << 16);
          } else {
            v[2 * i] = __half2float(__ushort_as_half(lo));
            v[2 * i + 1] = __half2float(__ushort_as_half(hi));
          }
        }
        return;
      }
      case CodecKind::kFp8: {
        const uint2 w = *reinterpret_cast<const uint2*>(code + 8 * l);
        for (int i = 0; i < 8; ++i) {
          const auto byte =
              static_cast<__nv_fp8_storage_t>(((i < 4 ? w.x : w.y) >> (8 * (i & 3))) & 0xffu);
          v[i] = __half2float(__half(__nv_cvt_fp8_to_halfraw(byte, __NV_E4M3))) * d.fp8_scale;
        }
        return;
      }
      case CodecKind::kKivi: {
        const int bits = static_cast<int>(d.kivi_bits);
        const std::uint32_t w = load_bytes(code + bits * l, bits);
        const std::uint32_t g = static_cast<std::uint32_t>(8 * l) / d.kivi_group;
        const float scale = load_half(meta, 2 * g), zero = load_half(meta, 2 * g + 1);
        for (int i = 0; i < 8; ++i)
          v[i] = zero + scale * static_cast<float>(group_code(w, i, bits));
        return;
      }
      case CodecKind::kTq: {
        const int seg =
            (d.num_segments == 2 && 8 * l >= static_cast<int>(d.seg[1].channel_offset)) ? 1 : 0;
        const SegmentDesc& S = d.seg[seg];
        const int bits = static_cast<int>(S.bits);
        const int group = (8 * l - static_cast<int>(S.channel_offset)) / 8;
        const std::uint32_t w = load_bytes(code + S.code_offset + group * bits, bits);
        const float norm = load_half(meta, S.norm_index);
        for (int i = 0; i < 8; ++i) v[i] = norm * cent[seg][group_code(w, i, bits)];
        return;
      }
    }
  }
}

/// tq-prod: this lane's 8 QJL signs (bit i ↔ channel 8l+i) and the estimator coefficient
/// √(π/2)/d · γ.
__device__ __forceinline__ void lane_signs(const VectorDesc& d, const std::uint8_t* code,
                                           const std::uint8_t* meta, int l, unsigned* bits,
                                           float* coef) {
  *bits = code[d.sign_offset + l];
  *coef = d.qjl_scale * load_half(meta, d.gamma_index);
}

/// Sum over the TG lanes of a token group (TG a power of two, groups lane-aligned).
template <int TG>
__device__ __forceinline__ float group_sum(float x) {
  const unsigned lane = threadIdx.x & 31u;
  const unsigned mask = TG == 32 ? 0xffffffffu : (((1u << TG) - 1u) << (lane & ~(TG - 1u)));
#pragma unroll
  for (int o = TG / 2; o > 0; o >>= 1) x += __shfl_xor_sync(mask, x, o);
  return x;
}

/// Finishes one row held in shared `sm` ([work_width] codec-domain floats) into `out[j]`
/// (original channel order): adds Sᵀ·sketch for tq-prod, then applies Tᵀ. `T`: [dim][dim]
/// transform of this KV head; `S`: [dim][dim] QJL matrix. All HEAD_DIM threads call it.
template <int HEAD_DIM>
__device__ __forceinline__ float finish_row(float* sm, int j, bool identity, const float* T,
                                            bool has_qjl, const float* S) {
  if (has_qjl) {
    float x = sm[j];
    for (int i = 0; i < HEAD_DIM; ++i)
      x += S[static_cast<std::size_t>(i) * HEAD_DIM + j] * sm[HEAD_DIM + i];
    __syncthreads();
    sm[j] = x;
  }
  __syncthreads();
  if (identity) return sm[j];
  float o = 0.0f;
  for (int i = 0; i < HEAD_DIM; ++i) o += T[static_cast<std::size_t>(i) * HEAD_DIM + j] * sm[i];
  return o;
}

/// Loads both segments' centroids into shared memory (call with all threads, then sync).
__device__ __forceinline__ void load_centroids(const VectorDesc& d, float (*cent)[16]) {
  const int t = static_cast<int>(threadIdx.x);
  if (t < 32) cent[t / 16][t % 16] = d.seg[t / 16].centroids[t % 16];
}

}  // namespace jevons::kernels::gpu::dev
