#pragma once
/// \file Tensor-core append for TurboQuant_prod (tq-prod-2/3/4 at head_dim 64/128, Hadamard
/// rotation, bf16 input): the QJL sign bits sign(S·r) of a d × d Gaussian matrix S acting on
/// the rotated residual r, which store_kernel forms as a sequential d-term float sum per sign
/// (≥ 3.2 warp-instructions per byte at d = 128), are formed here for a tile of 16 vectors at
/// once as mma.m16n8k16 (rows: vectors, columns: S's rows, k: channels).
///
/// Per warp and tile of 16 consecutive vectors (token·kv_heads + head; heads share S and the
/// rotation):
///   * encode, per group of 256/D vectors (a lane owns 8 consecutive channels, as in
///     append_tq_kernel, whose norm, division, FWHT and bucketize this repeats operation for
///     operation, so the (b−1)-bit codes, ‖x‖ and γ are bit-exact): y, the codes, the residual
///     r = ‖x‖·y − fp16(‖x‖)·c[code] (the twin's), γ = ‖r‖ by the twin's tree; then r times
///     append_mma_scale(γ) (a power of two: signs unchanged) split into fp16 hi + lo rows of the
///     warp's A tile;
///   * P = R·Sᵀ: for each of D/16 k-tiles, two ldmatrix.x4 (hi, lo) and, per 8-column n-tile,
///     one LDS.128 of S's (hi, lo) B fragments and three mma (rh·Sh + rh·Sl + rl·Sh, fp32
///     accumulate; append/append_mma.h bounds the error);
///   * signs from the accumulators (bit = P > 0, the twin's acc > 0): S's rows are permuted so
///     that each lane's accumulators are one contiguous run of D/4 signs per row, staged with the
///     codes as one word; the tile's codes and (‖x‖, γ) go out as the widest stores the layout
///     aligns (16 B at d = 128).
/// S (hi, lo, in B-fragment order: D²·4 bytes, 64 KB at d = 128) is filled once per CTA and
/// shared by its warps; a CTA is one per SM, and every warp keeps one tile's 16-byte input loads
/// in flight in registers at every point of its loop (a group's registers are reloaded with the
/// next tile's group as soon as they are read).

#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "append/append_mma.h"
#include "append/append_tq_bucket.h"
#include "append/append_tq_kernel.cuh"
#include "append/fast_div.h"
#include "common/cuda_util.cuh"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu::dev {

constexpr int kMmaTile = 16;  ///< vectors per warp-tile (the mma's M)

/// Shape and shared-memory budget of append_mma_kernel<D, ·>.
template <int D>
struct MmaAppendShape {
  /// Warps per CTA (one CTA per SM: S takes D²·4 bytes): enough that the warps' next tiles,
  /// 32·D bytes each, are ≥ 32 KB in flight per SM (8 × 4 KB at d = 128, 16 × 2 KB at d = 64;
  /// 9 to 12 warps at d = 128 put 3 on a scheduler, capping registers at 168, which spills).
  static constexpr int kWarps = D == 64 ? 16 : 8;
  static constexpr int kLanes = D / 8;             ///< lanes per vector
  static constexpr int kVpw = 32 / kLanes;         ///< vectors per group
  static constexpr int kGroups = kMmaTile / kVpw;  ///< groups per tile
  static constexpr int kKT = D / 16, kNT = D / 8;  ///< mma k-tiles, n-tiles
  static constexpr int kARow = D + 8;              ///< halves per A row (+16 B: ldmatrix
                                                   ///< rows 16 B apart in bank, no conflict)
  static constexpr unsigned kSBytes = D * D * 4;   ///< S hi + lo
  static constexpr unsigned kABytes = 2 * kMmaTile * kARow * 2;  ///< A tile hi + lo
  static constexpr unsigned kScratchBytes = 2 * 256 * 4;         ///< two transpose buffers
  static constexpr unsigned kStageBytes = kMmaTile * (D / 2) + kMmaTile * 4;  ///< codes + meta
  static constexpr unsigned kWarpBytes = kABytes + kScratchBytes + kStageBytes;
  static constexpr unsigned kSmemBytes = kSBytes + kWarps * kWarpBytes;  ///< dynamic
};

/// Per-launch constants of append_mma_kernel beyond the two tensors (as AppendTqArgs).
struct AppendMmaArgs {
  std::uint32_t vectors;  ///< n_tokens · kv_heads (< 2^30)
  FastDiv kv_heads;
  FastDiv page_tokens[2];
  float thr[2][15];  ///< (b−1)-bit codebook boundaries as thresholds on the unscaled FWHT
  float cell_s[2], cell_o[2];
  float scale[2];  ///< Hadamard scale 1/√D (y = RN(fwht · scale), the twin's)
  std::uint32_t page_bytes[2], head_bytes[2], meta_base[2];
};

__device__ __forceinline__ void mma_hl(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                       std::uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// mma_hl with a zero accumulator (the first k-tile's).
__device__ __forceinline__ void mma_hl0(float (&d)[4], const std::uint32_t (&a)[4],
                                        std::uint32_t b0, std::uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%10,%10,%10,%10};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.0f));
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], const void* p) {
  const auto s = static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}

/// x0, x1 as fp16 hi (a half2, x0 low) and lo = fp16(x − hi): x = hi + lo to ~2^-22·|x|.
__device__ __forceinline__ void split_hl(float x0, float x1, std::uint32_t& hi, std::uint32_t& lo) {
  const __half h0 = __float2half_rn(x0), h1 = __float2half_rn(x1);
  const __half l0 = __float2half_rn(__fsub_rn(x0, __half2float(h0)));
  const __half l1 = __float2half_rn(__fsub_rn(x1, __half2float(h1)));
  hi = std::uint32_t{__half_as_ushort(h0)} | (std::uint32_t{__half_as_ushort(h1)} << 16);
  lo = std::uint32_t{__half_as_ushort(l0)} | (std::uint32_t{__half_as_ushort(l1)} << 16);
}

/// grid.x: CTAs of MmaAppendShape<D>::kWarps warps striding over 16-vector tiles; grid.y: tensor.
/// BITS: the (b−1) mse bits of tq-prod-b. Requires (launcher): one segment with QJL, Hadamard,
/// identity permutation, bf16 input 16-byte aligned, meta [‖x‖, γ], exact bucketize table.
template <int D, int BITS>
__global__ void __launch_bounds__(MmaAppendShape<D>::kWarps * 32, 1)
    append_mma_kernel(StoreTensor t0, StoreTensor t1, AppendMmaArgs a, const std::int64_t* slots) {
  using P = MmaAppendShape<D>;
  constexpr int kLanes = P::kLanes, kVpw = P::kVpw, kGroups = P::kGroups;
  constexpr int kKT = P::kKT, kNT = P::kNT, kARow = P::kARow;
  constexpr int kMseBytes = D * BITS / 8;
  constexpr int kCodeBytes = kMseBytes + D / 8;  // codes | sign bits
  constexpr int kW = append_store_width(kCodeBytes);
  constexpr int kChunks = kCodeBytes / kW;
  using Word = typename StoreWord<kW>::type;
  constexpr int kThr = (1 << BITS) - 1;
  static_assert(BITS >= 1 && BITS <= 3, "tq-prod-2..4");
  static_assert(P::kWarps * 32 >= kAppendBucketCells, "a thread per table cell");

  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ AppendBucketCell s_tab[BITS >= 3 ? kAppendBucketCells : 1];
  __shared__ float s_cent[16];
  if (a.vectors == 0) return;  // uniform, before any barrier
  const StoreTensor& t = blockIdx.y == 0 ? t0 : t1;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int g = lane / kLanes, ll = lane % kLanes;
  const float* const thr = a.thr[blockIdx.y];
  const float cell_s = a.cell_s[blockIdx.y], cell_o = a.cell_o[blockIdx.y];
  const float hscale = a.scale[blockIdx.y];

  // S in B-fragment order: entry (kt, nt, lane) = {Sh, Sh, Sl, Sl} words of k = kt·16 + 2q + {0,1}
  // and + {8, 9} (q = lane & 3) at column n = nt·8 + lane / 4, so one conflict-free LDS.128 per
  // lane gives both B fragments of a tile. Sᵀ is what the set uploads (S[n][k] = Sᵀ[k][n]).
  uint4* const s_S = reinterpret_cast<uint4*>(smem);
  for (int e = static_cast<int>(threadIdx.x); e < kKT * kNT * 32; e += P::kWarps * 32) {
    int n, k0;
    append_mma_b_coords(e, D, n, k0);
    const float* st = t.tables.qjl_t;
    std::uint32_t h01, l01, h89, l89;
    split_hl(st[k0 * D + n], st[(k0 + 1) * D + n], h01, l01);
    split_hl(st[(k0 + 8) * D + n], st[(k0 + 9) * D + n], h89, l89);
    s_S[e] = make_uint4(h01, h89, l01, l89);
  }
  if constexpr (BITS >= 3) {
    if (threadIdx.x < kAppendBucketCells) {
      int count = 0;
      s_tab[threadIdx.x] = append_bucket_entry(thr, kThr, cell_s, cell_o, threadIdx.x, count);
      if (count > 1) __trap();  // the launcher checked it; unreachable
    }
  }
  if (threadIdx.x < 16) s_cent[threadIdx.x] = t.desc.seg[0].centroids[threadIdx.x];
  float t_reg[BITS <= 2 ? kThr : 1];
#pragma unroll
  for (int j = 0; j < (BITS <= 2 ? kThr : 1); ++j) t_reg[j] = thr[j];
  // The 2 or 4 centroids in registers at b − 1 ≤ 2, selected per channel by the code's predicates.
  float c_reg[BITS <= 2 ? 1 << BITS : 1];
#pragma unroll
  for (int j = 0; j < (BITS <= 2 ? 1 << BITS : 1); ++j) c_reg[j] = t.desc.seg[0].centroids[j];
  // Hadamard signs as sign-bit flips of the bf16 input (append_tq_kernel's argument).
  std::uint32_t flip_lo[4], flip_hi[4];
  {
    const float4* sp = reinterpret_cast<const float4*>(t.tables.rot[0] + 8 * ll);
    const float4 s0 = __ldg(sp), s1 = __ldg(sp + 1);
    const float sg[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      flip_lo[k] = sg[2 * k] < 0.0f ? 0x80000000u : 0u;
      flip_hi[k] = sg[2 * k + 1] < 0.0f ? 0x80000000u : 0u;
    }
  }
  __syncthreads();

  unsigned char* const wbase = smem + P::kSBytes + warp * P::kWarpBytes;
  __half* const a_hi = reinterpret_cast<__half*>(wbase);  // [16][kARow]
  __half* const a_lo = a_hi + kMmaTile * kARow;
  float* const sa = reinterpret_cast<float*>(wbase + P::kABytes);
  float* const sb = sa + 256;
  std::uint8_t* const stage = wbase + P::kABytes + P::kScratchBytes;  // [16][kCodeBytes]
  auto* const mstage = reinterpret_cast<std::uint32_t*>(stage + kMmaTile * (D / 2));  // [16]

  const std::uint32_t tiles = (a.vectors + kMmaTile - 1) / kMmaTile;
  const std::uint32_t stride = gridDim.x * P::kWarps;
  const auto* const in =
      reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(t.input) + 8 * ll);
  const std::uint32_t last = a.vectors - 1;
  // Past the end a lane loads the last vector again; nothing of a dead vector is stored.
  auto load = [&](std::uint32_t tile, int grp) {
    const std::uint32_t v = min(tile * kMmaTile + grp * kVpw + g, last);
    return __ldg(in + std::size_t{v} * (D / 8));
  };
  std::uint8_t* const pool = t.pool;
  const std::uint32_t page_bytes = a.page_bytes[blockIdx.y];
  const std::uint32_t head_bytes = a.head_bytes[blockIdx.y];
  const std::uint32_t meta_base = a.meta_base[blockIdx.y];
  const FastDiv page_tokens = a.page_tokens[blockIdx.y];
  // Vector row m of tile tl: its head block in the pool (null for a dead vector) and its token's
  // offset in the page. The code chunk is at base + offset·kCodeBytes + chunk·kW, the meta word at
  // base + offset·4 + meta_base (the in-page sum < page_bytes < 2^32: 32-bit).
  auto vector_slot = [&](std::uint32_t tl, int m, std::uint8_t*& base, std::uint32_t& offset) {
    const std::uint32_t vid = tl * kMmaTile + static_cast<std::uint32_t>(m);
    base = nullptr;
    offset = 0;
    if (vid >= a.vectors) return;
    const std::uint32_t token = a.kv_heads.div(vid);
    const std::uint32_t head = vid - token * a.kv_heads.d;
    const auto slot = static_cast<std::uint32_t>(__ldg(slots + token));  // < 2^31 (launcher)
    const std::uint32_t page = page_tokens.div(slot);
    offset = slot - page * page_tokens.d;
    base = pool + std::uint64_t{page} * page_bytes + head * head_bytes;
  };

  // One group of tile tl: vectors m = grp·kVpw + g, this lane's 8 channels from `cur`.
  // `cur` is reloaded with tile `next`'s load for the same group as soon as x is formed from it,
  // so the load issues into the registers it frees (a copy of the old value costs 4 MOVs).
  auto encode = [&](const int grp, uint4& cur, const std::uint32_t next) {
    const int m = grp * kVpw + g;
    float x[8];
    {
      const std::uint32_t w[4] = {cur.x, cur.y, cur.z, cur.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        x[2 * k] = __uint_as_float(w[k] * 0x10000u + flip_lo[k]);
        x[2 * k + 1] = __uint_as_float((w[k] ^ flip_hi[k]) & 0xffff0000u);
      }
    }
    cur = load(next, grp);
    // Tree sum of 8 values per lane in transposed order, then the lane butterfly (the twin's
    // tree_sum over D, append_tq_kernel's argument); `buf` is rewritten only after a __syncwarp
    // that follows its last reads (buffers alternate: sa, sb, sa, sb per group).
    auto tree = [&](float* buf, const float(&v)[8]) {
      reinterpret_cast<float4*>(buf)[2 * lane] =
          make_float4(__fmul_rn(v[0], v[0]), __fmul_rn(v[1], v[1]), __fmul_rn(v[2], v[2]),
                      __fmul_rn(v[3], v[3]));
      reinterpret_cast<float4*>(buf)[2 * lane + 1] =
          make_float4(__fmul_rn(v[4], v[4]), __fmul_rn(v[5], v[5]), __fmul_rn(v[6], v[6]),
                      __fmul_rn(v[7], v[7]));
      __syncwarp();
      float q[8];
#pragma unroll
      for (int k = 0; k < 8; ++k) q[k] = buf[g * D + ll + kLanes * k];
#pragma unroll
      for (int s = 4; s > 0; s >>= 1)
#pragma unroll
        for (int k = 0; k < s; ++k) q[k] = __fadd_rn(q[k], q[k + s]);
#pragma unroll
      for (int s = kLanes / 2; s > 0; s >>= 1)
        q[0] = __fadd_rn(q[0], __shfl_xor_sync(0xffffffffu, q[0], s, kLanes));
      return __fsqrt_rn(q[0]);
    };
    const float norm = tree(sa, x);
    // u = x / ‖x‖, IEEE (append_tq_kernel's shared-reciprocal fast path under the same guard).
    {
      float mn = fabsf(x[0]);
#pragma unroll
      for (int k = 1; k < 8; ++k) mn = fminf(mn, fabsf(x[k]));
      if (norm >= 0x1p-40f && norm <= 0x1p40f && mn >= 0x1p-40f) {
        float r0;
        asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r0) : "f"(norm));
        const float r = __fmaf_rn(r0, __fmaf_rn(r0, -norm, 1.0f), r0);
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          const float q0 = __fmul_rn(r, x[k]);
          x[k] = __fmaf_rn(r, __fmaf_rn(q0, -norm, x[k]), q0);
        }
      } else {
#pragma unroll
        for (int k = 0; k < 8; ++k) x[k] = norm > 0.0f ? __fdiv_rn(x[k], norm) : 0.0f;
      }
    }
    // FWHT in the twin's stage order (append_tq_kernel: registers, transpose, shuffles, back).
    fwht8(x);
    reinterpret_cast<float4*>(sb)[2 * lane] = make_float4(x[0], x[1], x[2], x[3]);
    reinterpret_cast<float4*>(sb)[2 * lane + 1] = make_float4(x[4], x[5], x[6], x[7]);
    __syncwarp();
    const int tbase = g * D + (ll & 7) + 64 * (ll >> 3);
#pragma unroll
    for (int k = 0; k < 8; ++k) x[k] = sb[tbase + 8 * k];
    fwht8(x);
#pragma unroll
    for (int h = 8; h < kLanes; h <<= 1) {
      const float sgn = (ll & h) ? -1.0f : 1.0f;
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const float partner = __shfl_xor_sync(0xffffffffu, x[k], h);
        x[k] = __fmaf_rn(x[k], sgn, partner);
      }
    }
#pragma unroll
    for (int k = 0; k < 8; ++k) sa[tbase + 8 * k] = x[k];
    __syncwarp();
    {
      const float4 y0 = reinterpret_cast<const float4*>(sa)[2 * lane];
      const float4 y1 = reinterpret_cast<const float4*>(sa)[2 * lane + 1];
      x[0] = y0.x, x[1] = y0.y, x[2] = y0.z, x[3] = y0.w;
      x[4] = y1.x, x[5] = y1.y, x[6] = y1.z, x[7] = y1.w;
    }
    // (b−1)-bit codes from the unscaled FWHT (append_tq_bucket.h), packed as the twin packs, and
    // each channel's sc = fp16(‖x‖)·c[code], the residual's product (quant_ref.cpp's): at
    // b − 1 ≤ 2 the 2 or 4 products are formed once per vector and selected by the predicates
    // that form the code (the same rounding of the same operands), at b − 1 = 3 formed per channel
    // from s_cent.
    const float stored = __half2float(__float2half_rn(norm));
    float sc_reg[BITS <= 2 ? 1 << BITS : 1];
#pragma unroll
    for (int j = 0; j < (BITS <= 2 ? 1 << BITS : 1); ++j) sc_reg[j] = __fmul_rn(stored, c_reg[j]);
    std::uint32_t packed = 0;
    float sc[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      if constexpr (BITS == 1) {
        asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %2, %3;\n\t@p add.u32 %0, %0, %6;\n\t"
            "selp.f32 %1, %5, %4, p;\n\t}"
            : "+r"(packed), "=f"(sc[k])
            : "f"(x[k]), "f"(t_reg[0]), "f"(sc_reg[0]), "f"(sc_reg[1]), "r"(1u << k));
      } else if constexpr (BITS == 2) {
        asm("{\n\t.reg .pred p, q;\n\t.reg .f32 t, lo, hi;\n\tsetp.gt.f32 p, %2, %3;\n\t"
            "selp.f32 t, %5, %4, p;\n\tsetp.gt.f32 q, %2, t;\n\t@p add.u32 %0, %0, %10;\n\t"
            "@q add.u32 %0, %0, %11;\n\tselp.f32 lo, %7, %6, q;\n\tselp.f32 hi, %9, %8, q;\n\t"
            "selp.f32 %1, hi, lo, p;\n\t}"
            : "+r"(packed), "=f"(sc[k])
            : "f"(x[k]), "f"(t_reg[1]), "f"(t_reg[0]), "f"(t_reg[2]), "f"(sc_reg[0]),
              "f"(sc_reg[1]), "f"(sc_reg[2]), "f"(sc_reg[3]), "r"(2u << (2 * k)),
              "r"(1u << (2 * k)));
      } else {
        const AppendBucketCell e = s_tab[append_bucket_cell(x[k], cell_s, cell_o)];
        packed += e.base << (k * BITS);
        std::uint32_t code = e.base;  // + 1 past the threshold: the centroid's index directly
        asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %2, %3;\n\t@p add.u32 %0, %0, %4;\n\t"
            "@p add.u32 %1, %1, 1;\n\t}"
            : "+r"(packed), "+r"(code)
            : "f"(x[k]), "f"(e.threshold), "r"(1u << (k * BITS)));
        sc[k] = __fmul_rn(stored, s_cent[code]);
      }
    }
    std::uint8_t* my = stage + m * kCodeBytes + ll * BITS;
    if constexpr (BITS == 3) {
      my[0] = static_cast<std::uint8_t>(packed);
      my[1] = static_cast<std::uint8_t>(packed >> 8);
      my[2] = static_cast<std::uint8_t>(packed >> 16);
    } else if constexpr (BITS == 2) {
      *reinterpret_cast<std::uint16_t*>(my) = static_cast<std::uint16_t>(packed);
    } else {
      *my = static_cast<std::uint8_t>(packed);
    }
    // Residual in the rotated domain against the stored fp16 norm (quant_ref.cpp's):
    // r = ‖x‖·y − fp16(‖x‖)·c[code], y = RN(fwht · scale).
    float r[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const float y = __fmul_rn(x[k], hscale);
      r[k] = __fsub_rn(__fmul_rn(norm, y), sc[k]);
    }
    const float gamma = tree(sb, r);  // (sb's last reads, the transpose, precede two barriers)
    // The A tile row m: r·2^e split into fp16 hi + lo (append_mma.h: γ·2^e in [1, 2)).
    const float rs = append_mma_scale(gamma);
    std::uint32_t hi[4], lo[4];
#pragma unroll
    for (int k = 0; k < 4; ++k)
      split_hl(__fmul_rn(r[2 * k], rs), __fmul_rn(r[2 * k + 1], rs), hi[k], lo[k]);
    *reinterpret_cast<uint4*>(a_hi + m * kARow + 8 * ll) = make_uint4(hi[0], hi[1], hi[2], hi[3]);
    *reinterpret_cast<uint4*>(a_lo + m * kARow + 8 * ll) = make_uint4(lo[0], lo[1], lo[2], lo[3]);
    if (ll == 0)
      mstage[m] = std::uint32_t{half_bits(norm)} | (std::uint32_t{half_bits(gamma)} << 16);
  };

  std::uint32_t tl = blockIdx.x * P::kWarps + warp;
  uint4 cur[kGroups];
#pragma unroll
  for (int grp = 0; grp < kGroups; ++grp) cur[grp] = load(tl, grp);
  while (tl < tiles) {
    __syncwarp();  // the previous tile's mma (A tile) and stores (stage) read what we overwrite
    // Each group's registers take the next tile's load for that group as soon as they are read,
    // so one tile's loads (kGroups × 16 B per lane) are in flight at every point of the loop,
    // through the mma and the stores, in half the registers of a second buffer.
#pragma unroll
    for (int grp = 0; grp < kGroups; ++grp) encode(grp, cur[grp], tl + stride);
    __syncwarp();
    // Lane m < 16 resolves vector m's slot once for all its stores (the chunk stores take it by
    // shuffle: 3 SHFL a round instead of a division, a slot load and a division each); issued
    // here, its slot load's latency hides behind the mma.
    std::uint8_t* vbase;
    std::uint32_t voff;
    vector_slot(tl, lane & (kMmaTile - 1), vbase, voff);
    // P = R·Sᵀ: rows = the tile's vectors, columns = S's rows; three mma per fragment pair.
    // k-tile 0 is peeled: its first mma per n-tile starts from zero (no accumulator clearing).
    float acc[kNT][4];
    auto k_tile = [&](const int kt, auto first) {
      std::uint32_t ah[4], al[4];
      const int off = append_mma_a_offset(lane, kt, kARow);
      ldmatrix_x4(ah, a_hi + off);
      ldmatrix_x4(al, a_lo + off);
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) {
        const uint4 b = s_S[(kt * kNT + nt) * 32 + lane];
        if constexpr (decltype(first)::value)
          mma_hl0(acc[nt], ah, b.x, b.y);
        else
          mma_hl(acc[nt], ah, b.x, b.y);
        mma_hl(acc[nt], ah, b.z, b.w);
        mma_hl(acc[nt], al, b.x, b.y);
      }
    };
    k_tile(0, std::true_type{});
#pragma unroll 1
    for (int kt = 1; kt < kKT; ++kt) k_tile(kt, std::false_type{});
    // Signs q·D/4 + 2nt + e (q = lane mod 4) of rows lane/4 (acc[nt][e]) and lane/4 + 8
    // (acc[nt][2 + e]): S's rows are permuted (append_mma_sign_index) so that they are bit 2nt + e
    // of the lane's own run of D/4 signs, staged as one word per row: no shuffles, no shifts.
    {
      using Run = std::conditional_t<D == 128, std::uint32_t, std::uint16_t>;
      static_assert(8 * sizeof(Run) == D / 4, "a lane's sign run is one staged word");
      std::uint32_t w0 = 0, w1 = 0;
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const std::uint32_t bit = append_mma_sign_bit(nt, e);
          asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %1, 0f00000000;\n\t@p add.u32 %0, %0, %2;\n\t}"
              : "+r"(w0)
              : "f"(acc[nt][e]), "r"(bit));
          asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %1, 0f00000000;\n\t@p add.u32 %0, %0, %2;\n\t}"
              : "+r"(w1)
              : "f"(acc[nt][2 + e]), "r"(bit));
        }
      const int q = lane & 3, row = lane >> 2;
      reinterpret_cast<Run*>(stage + row * kCodeBytes + kMseBytes)[q] = static_cast<Run>(w0);
      reinterpret_cast<Run*>(stage + (row + 8) * kCodeBytes + kMseBytes)[q] = static_cast<Run>(w1);
    }
    __syncwarp();
    // Stores: the tile's code chunks (kW bytes each) and one (‖x‖, γ) word per vector.
#pragma unroll
    for (int round = 0; round < (kMmaTile * kChunks + 31) / 32; ++round) {
      const int i = round * 32 + lane;
      const int m = i / kChunks, ch = i % kChunks;
      const auto base = reinterpret_cast<std::uint8_t*>(__shfl_sync(
          0xffffffffu, reinterpret_cast<unsigned long long>(vbase), m & (kMmaTile - 1)));
      const std::uint32_t off = __shfl_sync(0xffffffffu, voff, m & (kMmaTile - 1));
      if (i < kMmaTile * kChunks && base != nullptr)
        *reinterpret_cast<Word*>(base + (off * kCodeBytes + static_cast<std::uint32_t>(ch * kW))) =
            reinterpret_cast<const Word*>(stage + m * kCodeBytes)[ch];
    }
    if (lane < kMmaTile && vbase != nullptr)
      *reinterpret_cast<std::uint32_t*>(vbase + (voff * 4 + meta_base)) = mstage[lane];
    tl += stride;
  }
}

}  // namespace jevons::kernels::gpu::dev
