#pragma once
/// \file Device quantizer: the exact arithmetic of VectorCodec::encode, block-cooperative (one
/// thread per channel, STORE_THREADS / HEAD_DIM vectors per block), and the store kernel used by
/// gpu::append (K and V in one launch) and gpu::quantize_vectors.

#include <cuda_fp8.h>

#include <cstdint>

#include "append/pool_layout.h"
#include "codebook/codebook.h"
#include "common/cuda_util.cuh"
#include "quant/vector_desc.h"
#include "rotation/rotation_kernel.cuh"

namespace jevons::kernels::gpu::dev {

constexpr int kStoreThreads = 256;

/// Device tables of one DeviceCodecSet (pointers into its buffers).
struct EncodeTables {
  const std::uint16_t* perm;  ///< [kv_heads][dim]
  const float* rot[2];        ///< per segment: signs [n] (Hadamard kinds) or Πᵀ [n][n]
  std::uint32_t rot_kind[2];
  float hadamard_scale[2];
  const float* qjl_t;                 ///< [dim][dim] Sᵀ (tq-prod), read by columns (coalesced)
  std::uint32_t identity_perm;        ///< 1 when perm is the identity for every head
  const std::uint32_t* perm_scatter;  ///< split formats: [kv_heads][dim] (DeviceCodecSet)
};

/// One tensor to store: what, where, from what input.
struct StoreTensor {
  VectorDesc desc;
  EncodeTables tables;
  PoolLayout layout;
  std::uint8_t* pool;
  const void* input;  ///< [n][kv_heads][dim]
  std::uint32_t input_bf16;
};

/// Encodes the vector whose channel `j` this thread holds as `x_j` (original channel order).
/// Shared scratch: xo, buf, ys [HEAD_DIM] floats and codes [HEAD_DIM] bytes for this vector.
/// `store` false: compute (to keep barriers aligned) but write nothing.
template <int HEAD_DIM>
__device__ void encode_vector(const VectorDesc& d, const EncodeTables& t, std::uint32_t head,
                              float x_j, int j, float* xo, float* buf, float* ys,
                              std::uint8_t* codes, std::uint8_t* code, std::uint8_t* meta,
                              bool store) {
  switch (d.kind) {
    case CodecKind::kBf16:
      if (store) store_u16(code + 2 * j, __bfloat16_as_ushort(__float2bfloat16_rn(x_j)));
      return;
    case CodecKind::kFp16:
      if (store) store_u16(code + 2 * j, half_bits(x_j));
      return;
    case CodecKind::kFp8:
      if (store)
        code[j] = static_cast<std::uint8_t>(
            __nv_cvt_float_to_fp8(__fdiv_rn(x_j, d.fp8_scale), __NV_SATFINITE, __NV_E4M3));
      return;
    case CodecKind::kKivi: {
      // A group of 32 channels is one warp (vectors start warp-aligned): shuffle min/max, which
      // are exact in any order.
      float mn = x_j, mx = x_j;
      for (int o = 16; o > 0; o >>= 1) {
        mn = fminf(mn, __shfl_xor_sync(0xffffffffu, mn, o));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      }
      const float levels = static_cast<float>((1u << d.kivi_bits) - 1u);
      const std::uint16_t sh = half_bits(__fdiv_rn(__fsub_rn(mx, mn), levels));
      const std::uint16_t zh = __half_as_ushort(__float2half_rn(mn));
      const float s = __half2float(__ushort_as_half(sh)), z = __half2float(__ushort_as_half(zh));
      float q = s > 0.0f ? rintf(__fdiv_rn(__fsub_rn(x_j, z), s)) : 0.0f;
      q = fminf(fmaxf(q, 0.0f), levels);
      codes[j] = static_cast<std::uint8_t>(q);
      __syncwarp();
      const int bits = static_cast<int>(d.kivi_bits);
      if (store && (j & 7) == 0) {
        std::uint32_t w = 0;
        for (int i = 0; i < 8; ++i) w |= static_cast<std::uint32_t>(codes[j + i]) << (i * bits);
        for (int i = 0; i < bits; ++i)
          code[(j / 8) * bits + i] = static_cast<std::uint8_t>(w >> (8 * i));
      }
      if (store && (j & 31) == 0) {
        store_u16(meta + 4 * (j / 32), sh);
        store_u16(meta + 4 * (j / 32) + 2, zh);
      }
      return;
    }
    case CodecKind::kTq:
      break;
  }
  // TurboQuant: permute, per-segment norm, normalise, rotate, bucketize, pack.
  xo[j] = x_j;
  __syncthreads();
  const float xs = xo[t.perm[head * HEAD_DIM + j]];
  const int seg = (d.num_segments == 2 && j >= static_cast<int>(d.seg[1].channel_offset)) ? 1 : 0;
  const SegmentDesc& S = d.seg[seg];
  const int off = static_cast<int>(S.channel_offset);
  const int local = j - off;
  const int n = static_cast<int>(S.dim);
  buf[j] = __fmul_rn(xs, xs);
  segment_tree_sum<HEAD_DIM>(buf, j, local, n);
  const float norm = __fsqrt_rn(buf[off]);
  __syncthreads();
  const float u = norm > 0.0f ? __fdiv_rn(xs, norm) : 0.0f;
  const float y = rotate_channel<HEAD_DIM>(buf, j, local, n, off, t.rot_kind[seg], t.rot[seg],
                                           t.hadamard_scale[seg], u);
  const int idx = ::jevons::kernels::bucketize(S.boundaries, (1 << S.bits) - 1, y);
  codes[j] = static_cast<std::uint8_t>(idx);
  ys[j] = y;
  __syncthreads();
  const int bits = static_cast<int>(S.bits);
  if (store && (local & 7) == 0) {
    std::uint32_t w = 0;
    for (int i = 0; i < 8; ++i) w |= static_cast<std::uint32_t>(codes[j + i]) << (i * bits);
    std::uint8_t* dst = code + S.code_offset + (local / 8) * bits;
    for (int i = 0; i < bits; ++i) dst[i] = static_cast<std::uint8_t>(w >> (8 * i));
  }
  if (store && local == 0) store_u16(meta + 2 * S.norm_index, half_bits(norm));
  if (!d.has_qjl) return;
  // QJL on the rotated residual against the fp16 norm the decoder will use (see quant_ref.cpp).
  const float stored = __half2float(__float2half_rn(norm));
  const float r = __fsub_rn(__fmul_rn(norm, y), __fmul_rn(stored, S.centroids[idx]));
  __syncthreads();
  xo[j] = r;
  buf[j] = __fmul_rn(r, r);
  segment_tree_sum<HEAD_DIM>(buf, j, j, HEAD_DIM);
  const float gamma = __fsqrt_rn(buf[0]);
  // Sᵀ[i][j] = S[j][i]: the warp reads consecutive floats for each i; same order as the twin.
  float acc = 0.0f;
  for (int i = 0; i < HEAD_DIM; ++i)
    acc = __fadd_rn(acc, __fmul_rn(t.qjl_t[static_cast<std::size_t>(i) * HEAD_DIM + j], xo[i]));
  codes[j] = acc > 0.0f ? 1 : 0;
  __syncthreads();
  if (store && (j & 7) == 0) {
    std::uint32_t w = 0;
    for (int i = 0; i < 8; ++i) w |= static_cast<std::uint32_t>(codes[j + i]) << i;
    code[d.sign_offset + j / 8] = static_cast<std::uint8_t>(w);
  }
  if (store && j == 0) store_u16(meta + 2 * d.gamma_index, half_bits(gamma));
}

/// grid.x: ⌈n·kv_heads / vectors-per-block⌉, grid.y: tensor index (0 = K, 1 = V).
template <int HEAD_DIM>
__global__ void __launch_bounds__(kStoreThreads)
    store_kernel(StoreTensor t0, StoreTensor t1, std::uint64_t n, std::uint32_t kv_heads,
                 const std::int64_t* slots) {
  constexpr int kVpb = kStoreThreads / HEAD_DIM;
  __shared__ float xo[kVpb][HEAD_DIM], buf[kVpb][HEAD_DIM], ys[kVpb][HEAD_DIM];
  __shared__ std::uint8_t codes[kVpb][HEAD_DIM];
  const StoreTensor& t = blockIdx.y == 0 ? t0 : t1;
  const int lv = static_cast<int>(threadIdx.x) / HEAD_DIM;
  const int j = static_cast<int>(threadIdx.x) % HEAD_DIM;
  const std::uint64_t vid = static_cast<std::uint64_t>(blockIdx.x) * kVpb + lv;
  const bool live = vid < n * kv_heads;
  const std::uint64_t token = live ? vid / kv_heads : 0;
  const auto head = static_cast<std::uint32_t>(live ? vid % kv_heads : 0);
  float x = 0.0f;
  std::uint8_t* code = nullptr;
  std::uint8_t* meta = nullptr;
  if (live) {
    const std::size_t e = (token * kv_heads + head) * HEAD_DIM + j;
    x = t.input_bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(t.input)[e])
                     : static_cast<const float*>(t.input)[e];
    const std::int64_t slot = slots[token];
    const auto page = static_cast<std::uint64_t>(slot / t.layout.page_tokens);
    const auto offset = static_cast<std::uint32_t>(slot % t.layout.page_tokens);
    code = t.pool + t.layout.code_offset(page, head, offset);
    meta = t.pool + t.layout.meta_offset(page, head, offset);
  }
  encode_vector<HEAD_DIM>(t.desc, t.tables, head, x, j, xo[lv], buf[lv], ys[lv], codes[lv], code,
                          meta, live);
}

}  // namespace jevons::kernels::gpu::dev
