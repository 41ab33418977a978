#pragma once
/// \file Tensor-core append for TurboQuant_prod (tq-prod-2/3/4 at head_dim 64/128, Hadamard
/// rotation, bf16 input): the QJL sign bits sign(S·r) of a d × d Gaussian matrix S acting on
/// the rotated residual r, which store_kernel forms as a sequential d-term float sum per sign
/// (≥ 3.2 warp-instructions per byte at d = 128), are formed here for a tile of 32 vectors at
/// once as two m-tiles of mma.m16n8k16 (rows: vectors, columns: S's rows, k: channels).
///
/// Per warp and tile of 32 consecutive vectors (token·kv_heads + head; heads share S and the
/// rotation), one vector per lane:
///   * input: the tile's rows arrive by cp.async into one of two warp-private stages, 16 B
///     apart in bank per row, while the warp works on the previous tile (64·D bytes in flight
///     per warp); each lane reads its own row (conflict-free LDS.128s);
///   * encode: append_lane_encode (append/append_lane_encode.h), the twin's operations in its
///     order on registers alone (no shuffles or transposes: a lane holds the whole vector, so
///     every pair of the norm tree, FWHT and γ tree is a pair of its registers): the (b−1)-bit
///     codes, ‖x‖, γ bit-exact, and r·rs as fp16 hi + lo (rs a power of two from ‖x‖, folded into
///     the residual: no multiply per channel), which the lane writes as its row of the A tile as
///     they come (hi over its own, already read, input row); a vector whose γ·rs leaves the
///     split's range (rare: tiny, huge or near-exact) has its rows redone from its global row
///     (append_mma_redo, out of the loop's path);
///   * P = R·(−S)ᵀ: for each of D/16 k-tiles, four ldmatrix.x4 (hi, lo of both m-tiles) and, per
///     8-column n-tile, one LDS.128 of S's (hi, lo) B fragments serving both m-tiles and six mma
///     (rh·Sh + rh·Sl + rl·Sh each, fp32 accumulate; append/append_mma.h bounds the error);
///   * signs: S is negated when staged, so the twin's bit P > 0 is the accumulator's sign bit,
///     shifted in by one funnel shift; S's rows are permuted so that each lane's accumulators are
///     one contiguous run of D/4 signs per row, staged as one word; each lane then stores its own
///     vector: codes from its registers, signs from the staged row, (‖x‖, γ).
/// S (hi, lo, in B-fragment order: D²·4 bytes, 64 KB at d = 128) is filled once per CTA and
/// shared by its warps; a CTA is one per SM.

#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "append/append_lane_encode.h"
#include "append/append_mma.h"
#include "append/append_tq_bucket.h"
#include "append/append_tq_kernel.cuh"
#include "append/fast_div.h"
#include "common/cuda_util.cuh"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu::dev {

constexpr int kMmaTile = 32;  ///< vectors per warp-tile: one per lane, two mma m-tiles

/// Shape and shared-memory budget of append_mma_kernel<D, ·>.
template <int D>
struct MmaAppendShape {
  /// Warps per CTA (one CTA per SM: S takes D²·4 bytes). Each warp keeps its next tile's input,
  /// 64·D bytes, in flight through cp.async while it encodes the current one: 6 × 8 KB at
  /// d = 128 (what fits beside S in 227 KB), 12 × 4 KB at d = 64, 48 KB per SM either way.
  static constexpr int kWarps = D == 64 ? 12 : 6;
  static constexpr int kKT = D / 16, kNT = D / 8;  ///< mma k-tiles, n-tiles
  static constexpr int kARow = D + 8;              ///< halves per A / input row (+16 B: a lane's
                                                   ///< LDS.128 of its own row and ldmatrix rows
                                                   ///< are 16 B apart in bank, no conflict)
  static constexpr unsigned kSBytes = D * D * 4;   ///< S hi + lo
  static constexpr unsigned kRowsBytes = kMmaTile * kARow * 2;  ///< one buffer of 32 rows
  /// Per warp: two input stages (the current tile's is overwritten by its A hi rows, each lane
  /// its own row, once read), the A lo rows and the sign rows.
  static constexpr unsigned kSignBytes = kMmaTile * (D / 8);
  static constexpr unsigned kWarpBytes = 3 * kRowsBytes + kSignBytes;
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

__device__ __forceinline__ void mma_cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void mma_cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
/// A lane's chunks of one row of its tile copy: N (4 or 8) copies of 16 B at src + 32i − kBias into
/// dst + 32i, all issued only while rem > kRow (the row exists), under one predicate in one asm
/// block (separate blocks let ptxas turn the shared predicate into branches). The offsets are
/// immediates, within LDGSTS's ±2 KB reach of the one base register (src is biased by kBias).
template <int N, int kRow, int kBias>
__device__ __forceinline__ void cp_async_row(int rem, std::uint32_t dst, const void* src) {
  static_assert(N == 4 || N == 8, "a lane's chunks of a row");
  if constexpr (N == 4)
    asm volatile(
        "{\n\t.reg .pred q;\n\tsetp.gt.s32 q, %0, %3;\n\t"
        "@q cp.async.cg.shared.global [%1], [%2+%4], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+32], [%2+%5], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+64], [%2+%6], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+96], [%2+%7], 16;\n\t}" ::"r"(rem),
        "r"(dst), "l"(src), "n"(kRow), "n"(-kBias), "n"(32 - kBias), "n"(64 - kBias),
        "n"(96 - kBias));
  else
    asm volatile(
        "{\n\t.reg .pred q;\n\tsetp.gt.s32 q, %0, %3;\n\t"
        "@q cp.async.cg.shared.global [%1], [%2+%4], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+32], [%2+%5], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+64], [%2+%6], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+96], [%2+%7], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+128], [%2+%8], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+160], [%2+%9], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+192], [%2+%10], 16;\n\t"
        "@q cp.async.cg.shared.global [%1+224], [%2+%11], 16;\n\t}" ::"r"(rem),
        "r"(dst), "l"(src), "n"(kRow), "n"(-kBias), "n"(32 - kBias), "n"(64 - kBias),
        "n"(96 - kBias), "n"(128 - kBias), "n"(160 - kBias), "n"(192 - kBias), "n"(224 - kBias));
}

/// The warp's barrier: bar.sync on named barrier `id` with the warp's 32 threads (one BAR where
/// __syncwarp, whose convergence ptxas cannot prove past the loop's divergent stores, takes a
/// divergence check and a collective sequence, ~4 instructions). The warp is converged at each use
/// (the tile loop is warp-uniform and its divergent branches close before), as bar.sync requires;
/// it orders the warp's shared-memory accesses as __syncwarp does.
__device__ __forceinline__ void warp_bar(std::uint32_t id) {
  asm volatile("bar.sync %0, 32;" ::"r"(id) : "memory");
}

/// The lane's vector again from its global row, encoded as append_lane_encode<…, false> does (the
/// residual scaled after γ, by append_mma_scale(γ)), its A rows written anew: for the rare vector
/// whose pre-scaled residual leaves γ·rs outside the split's range (append_lane_encode), where the
/// hi rows already overwrote the input. Codes, ‖x‖ and γ are the same either way; only hi/lo
/// differ. __noinline__ asks for it out of the loop's path; ptxas (nvcc 13) inlines it anyway but
/// places it as a cold block after the tile loop, which branches to it and back (sass_budget.py's
/// loop range does not include it: it is a slow path, like the IEEE division's).
template <int D, int BITS>
__device__ __noinline__ void append_mma_redo(const uint4* src, const std::uint32_t* flip,
                                             LaneCodebook cb, uint4* hrow, uint4* lrow) {
  float x[D];
#pragma unroll
  for (int c = 0; c < D / 8; ++c) {
    const uint4 w = src[c];
    const std::uint32_t ww[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      x[8 * c + 2 * k] = __uint_as_float(ww[k] * 0x10000u + flip[8 * c + 2 * k]);
      x[8 * c + 2 * k + 1] = __uint_as_float((ww[k] ^ flip[8 * c + 2 * k + 1]) & 0xffff0000u);
    }
  }
  LaneEncoded<D, BITS> e;
  append_lane_encode<D, BITS, true, false>(
      x, cb, e, lane_min_abs(x), [&](int c, const std::uint32_t* h, const std::uint32_t* l) {
        hrow[c] = make_uint4(h[0], h[1], h[2], h[3]);
        lrow[c] = make_uint4(l[0], l[1], l[2], l[3]);
      });
}

/// grid.x: CTAs of MmaAppendShape<D>::kWarps warps striding over 32-vector tiles; grid.y: tensor.
/// BITS: the (b−1) mse bits of tq-prod-b. Requires (launcher): one segment with QJL, Hadamard,
/// identity permutation, bf16 input 16-byte aligned, meta [‖x‖, γ], exact bucketize table.
template <int D, int BITS>
__global__ void __launch_bounds__(MmaAppendShape<D>::kWarps * 32, 1)
    append_mma_kernel(StoreTensor t0, StoreTensor t1, AppendMmaArgs a, const std::int64_t* slots) {
  using P = MmaAppendShape<D>;
  constexpr int kKT = P::kKT, kNT = P::kNT, kARow = P::kARow;
  constexpr int kMseBytes = D * BITS / 8;
  constexpr int kCodeBytes = kMseBytes + D / 8;  // codes | sign bits
  // Store widths: a vector's codes start offset·kCodeBytes into a 16-byte aligned head block.
  constexpr int kW = append_store_width(kCodeBytes) < append_store_width(kMseBytes)
                         ? append_store_width(kCodeBytes)
                         : append_store_width(kMseBytes);
  constexpr int kWs = kW < D / 8 ? kW : D / 8;  // the sign run's stores
  static_assert(kW >= 8 && kWs >= 8, "codes and signs go out in 8- or 16-byte words");
  constexpr int kThr = (1 << BITS) - 1;
  constexpr int kCpr = D / 8;  // 16-byte chunks per input row
  static_assert(BITS >= 1 && BITS <= 3, "tq-prod-2..4");
  static_assert(P::kWarps * 32 >= D, "prologue threads");

  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ __align__(16) LaneBucketCell s_tab[BITS >= 3 ? kAppendBucketCells : 1];
  __shared__ float s_cent[16];
  __shared__ float s_thr[16];                        // the thresholds, for append_mma_redo
  __shared__ __align__(16) std::uint32_t s_flip[D];  // Hadamard sign of channel j as a sign bit
  if (a.vectors == 0) return;                        // uniform, before any barrier
  const StoreTensor& t = blockIdx.y == 0 ? t0 : t1;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const auto bar_id = static_cast<std::uint32_t>(warp) + 1;  // named barrier 1.. (0: __syncthreads)
  const float* const thr = a.thr[blockIdx.y];

  // S in B-fragment order: entry (kt, nt, lane) = {Sh, Sh, Sl, Sl} words of k = kt·16 + 2q + {0,1}
  // and + {8, 9} (q = lane & 3) at column n = nt·8 + lane / 4, so one conflict-free LDS.128 per
  // lane gives both B fragments of a tile. Sᵀ is what the set uploads (S[n][k] = Sᵀ[k][n]).
  uint4* const s_S = reinterpret_cast<uint4*>(smem);
  for (int e = static_cast<int>(threadIdx.x); e < kKT * kNT * 32; e += P::kWarps * 32) {
    int n, k0;
    append_mma_b_coords(e, D, n, k0);
    const float* st = t.tables.qjl_t;
    std::uint32_t h01, l01, h89, l89;
    // −S (exact): the accumulators hold −P, whose sign bit is the twin's bit P > 0 (below).
    split_hl(-st[k0 * D + n], -st[(k0 + 1) * D + n], h01, l01);
    split_hl(-st[(k0 + 8) * D + n], -st[(k0 + 9) * D + n], h89, l89);
    s_S[e] = make_uint4(h01, h89, l01, l89);
  }
  if constexpr (BITS >= 3) {
    for (unsigned c = threadIdx.x; c < kAppendBucketCells; c += P::kWarps * 32) {
      int count = 0;
      const AppendBucketCell e =
          append_bucket_entry(thr, kThr, a.cell_s[blockIdx.y], a.cell_o[blockIdx.y], c, count);
      s_tab[c] = lane_bucket_cell(e, t.desc.seg[0].centroids, BITS);
      if (count > 1) __trap();  // the launcher checked it; unreachable
    }
  }
  if (threadIdx.x < 16) s_cent[threadIdx.x] = t.desc.seg[0].centroids[threadIdx.x];
  if (threadIdx.x < kThr) s_thr[threadIdx.x] = thr[threadIdx.x];
  if (threadIdx.x < D) s_flip[threadIdx.x] = t.tables.rot[0][threadIdx.x] < 0.0f ? 0x80000000u : 0u;
  // Thresholds and centroids in registers at b − 1 ≤ 2 (the encode selects among them).
  float t_reg[BITS <= 2 ? kThr : 1], c_reg[BITS <= 2 ? 1 << BITS : 1];
#pragma unroll
  for (int j = 0; j < (BITS <= 2 ? kThr : 1); ++j) t_reg[j] = thr[j];
#pragma unroll
  for (int j = 0; j < (BITS <= 2 ? 1 << BITS : 1); ++j) c_reg[j] = t.desc.seg[0].centroids[j];
  __syncthreads();
  const LaneCodebook cb{BITS <= 2 ? t_reg : thr,
                        a.cell_s[blockIdx.y],
                        a.cell_o[blockIdx.y],
                        s_tab,
                        BITS <= 2 ? c_reg : s_cent,
                        a.scale[blockIdx.y],
                        lane_prescale_ok(BITS <= 2 ? c_reg : s_cent, 1 << BITS)};

  unsigned char* const wbase = smem + P::kSBytes + warp * P::kWarpBytes;
  auto* const a_lo = reinterpret_cast<__half*>(wbase + 2 * P::kRowsBytes);  // [32][kARow]
  std::uint8_t* const sign_rows = wbase + 3 * P::kRowsBytes;                // [32][D/8]
  const std::uint32_t wsmem = static_cast<std::uint32_t>(__cvta_generic_to_shared(wbase));

  const std::uint32_t tiles = (a.vectors + kMmaTile - 1) / kMmaTile;
  const std::uint32_t stride = gridDim.x * P::kWarps;
  // This lane's cp.async chunks: lane pair m = lane / 2 copies rows 2m and 2m + 1 of a tile, lane
  // 2m + h the chunks 2i + h (i < kCpr / 2) of each, so that each copy instruction reads 32 B
  // (a whole sector) of 16 rows, a lane's global offsets span one row and a half (one biased base
  // register reaches them all), and one compare per row predicates its copies (where a row per
  // copy took a compare per copy).
  constexpr int kHalf = kCpr / 2;                        // chunks per row per lane
  constexpr int kBias = (2 * D + (kHalf - 1) * 32) / 2;  // half the span of the offsets
  const int m = lane >> 1;
  const auto* const in =
      reinterpret_cast<const unsigned char*>(t.input) + (2 * m * (D / 8) + (lane & 1)) * 16 + kBias;
  const std::uint32_t dst0 =
      wsmem + static_cast<std::uint32_t>(2 * m * kARow * 2 + (lane & 1) * 16);
  // Tile `tile`'s rows into stage `st`; rows past the end are not read (their vectors are not
  // stored). Always one commit, so the group count stays in step with the tiles.
  auto issue = [&](std::uint32_t tile, int st) {
    const unsigned char* src = in + std::size_t{tile} * (kMmaTile * D * 2);
    const int rem = static_cast<int>(a.vectors) - static_cast<int>(tile * kMmaTile) - 2 * m;
    const std::uint32_t dst = dst0 + static_cast<std::uint32_t>(st) * P::kRowsBytes;
    cp_async_row<kHalf, 0, kBias>(rem, dst, src);
    cp_async_row<kHalf, 1, kBias - 2 * D>(rem, dst + kARow * 2, src);
    mma_cp_async_commit();
  };
  std::uint8_t* const pool = t.pool;
  const std::uint32_t page_bytes = a.page_bytes[blockIdx.y];
  const std::uint32_t head_bytes = a.head_bytes[blockIdx.y];
  const std::uint32_t meta_base = a.meta_base[blockIdx.y];
  const FastDiv page_tokens = a.page_tokens[blockIdx.y];

  std::uint32_t tl = blockIdx.x * P::kWarps + warp;
  int st = 0;
  issue(tl, 0);
  while (tl < tiles) {
    const std::uint32_t next = tl + stride;
    warp_bar(
        bar_id);  // the previous tile's mma read the stage and A rows that are overwritten next
    issue(next, st ^ 1);  // in flight through this tile's encode, mma and stores
    // This lane's vector: its head block and in-page offset (null base: past the end), resolved
    // before the encode so that the slot load's latency hides behind it.
    std::uint8_t* vbase = nullptr;
    std::uint32_t voff = 0;
    {
      const std::uint32_t vid = tl * kMmaTile + static_cast<std::uint32_t>(lane);
      if (vid < a.vectors) {
        const std::uint32_t token = a.kv_heads.div(vid);
        const std::uint32_t head = vid - token * a.kv_heads.d;
        const auto slot = static_cast<std::uint32_t>(__ldg(slots + token));  // < 2^31
        const std::uint32_t page = page_tokens.div(slot);
        voff = slot - page * page_tokens.d;
        vbase = pool + std::uint64_t{page} * page_bytes + head * head_bytes;
      }
    }
    mma_cp_async_wait<1>();
    warp_bar(bar_id);
    // The lane's own row (LDS.128s 16 B apart in bank: conflict-free), Hadamard signs applied as
    // sign-bit flips of the bf16 input (exact; append_tq_kernel's argument).
    unsigned char* const rows = wbase + st * P::kRowsBytes;
    float x[D];
    // min |x_j| for the division's guard, on the bf16 pairs: min.xorsign.abs.bf16x2 gives
    // min(|a|, |b|) per half (its sign, an xor, is dropped at the end), one instruction per two
    // channels; bf16 → f32 is exact, so this is lane_min_abs(x).
    std::uint32_t mn2 = 0;  // the first pair itself (its |·| is taken by the next min)
    {
      const uint4* row = reinterpret_cast<const uint4*>(rows + lane * kARow * 2);
      const uint4* fl = reinterpret_cast<const uint4*>(s_flip);
#pragma unroll
      for (int c = 0; c < D / 8; ++c) {
        const uint4 w = row[c], f0 = fl[2 * c], f1 = fl[2 * c + 1];
        const std::uint32_t ww[4] = {w.x, w.y, w.z, w.w},
                            ff[8] = {f0.x, f0.y, f0.z, f0.w, f1.x, f1.y, f1.z, f1.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
          x[8 * c + 2 * k] = __uint_as_float(ww[k] * 0x10000u + ff[2 * k]);
          x[8 * c + 2 * k + 1] = __uint_as_float((ww[k] ^ ff[2 * k + 1]) & 0xffff0000u);
          if (c + k == 0)
            mn2 = ww[k];
          else
            asm("min.xorsign.abs.bf16x2 %0, %0, %1;" : "+r"(mn2) : "r"(ww[k]));
        }
      }
    }
    // Both halves' min by one more min against the pair swapped (a PRMT), then the high half as
    // a float: min(|lo|, |hi|) exactly (bf16 → f32 is exact).
    asm("min.xorsign.abs.bf16x2 %0, %0, %1;" : "+r"(mn2) : "r"(__byte_perm(mn2, 0, 0x1032)));
    const float min_abs = __uint_as_float(mn2 & 0x7fff0000u);
    LaneEncoded<D, BITS> enc;
    // A rows as the encode forms them: hi over the lane's own input row (read above), lo in the lo
    // buffer.
    auto* const a_hi = reinterpret_cast<__half*>(rows);
    {
      uint4* const hrow = reinterpret_cast<uint4*>(a_hi + lane * kARow);
      uint4* const lrow = reinterpret_cast<uint4*>(a_lo + lane * kARow);
      append_lane_encode<D, BITS, true, true>(
          x, cb, enc, min_abs, [&](int c, const std::uint32_t* h, const std::uint32_t* l) {
            hrow[c] = make_uint4(h[0], h[1], h[2], h[3]);
            lrow[c] = make_uint4(l[0], l[1], l[2], l[3]);
          });  // bf16: exact squares
      // Rare (γ·rs out of the split's range, or fp16(‖x‖) or the codebook outside the pre-scaled
      // form's conditions with γ so too): the A rows again from the vector's global row.
      if (!enc.split_ok && vbase != nullptr)
        append_mma_redo<D, BITS>(
            reinterpret_cast<const uint4*>(t.input) +
                std::size_t{tl * kMmaTile + static_cast<std::uint32_t>(lane)} * (D / 8),
            s_flip, LaneCodebook{s_thr, cb.cell_s, cb.cell_o, s_tab, s_cent, cb.hscale, false},
            hrow, lrow);
    }
    // Codes and (‖x‖, γ) straight from the lane's registers.
    if (vbase != nullptr) {
      std::uint8_t* const dst = vbase + voff * kCodeBytes;
#pragma unroll
      for (int c = 0; c < kMseBytes / kW; ++c) {
        constexpr int kWords = kW / 4;
        if constexpr (kWords == 4)
          reinterpret_cast<uint4*>(dst)[c] = make_uint4(enc.codes[4 * c], enc.codes[4 * c + 1],
                                                        enc.codes[4 * c + 2], enc.codes[4 * c + 3]);
        else
          reinterpret_cast<uint2*>(dst)[c] = make_uint2(enc.codes[2 * c], enc.codes[2 * c + 1]);
      }
      *reinterpret_cast<std::uint32_t*>(vbase + (voff * 4 + meta_base)) =
          std::uint32_t{half_bits(enc.norm)} | (std::uint32_t{half_bits(enc.gamma)} << 16);
    }
    warp_bar(bar_id);
    // P = R·Sᵀ for both 16-row m-tiles: each B fragment (one LDS.128) serves two m-tiles, six mma.
    // k-tile 0 is peeled: its first mma per n-tile starts from zero (no accumulator clearing). The
    // k-tiles unroll fully (their addresses are immediates; a rolled loop cost ~10 instructions of
    // address and branch per k-tile).
    float acc[2][kNT][4];
    auto k_tile = [&](const int kt, auto first) {
      std::uint32_t ah[2][4], al[2][4];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const int off = append_mma_a_offset(lane, kt, kARow) + mt * 16 * kARow;
        ldmatrix_x4(ah[mt], a_hi + off);
        ldmatrix_x4(al[mt], a_lo + off);
      }
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) {
        const uint4 b = s_S[(kt * kNT + nt) * 32 + lane];
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
          if constexpr (decltype(first)::value)
            mma_hl0(acc[mt][nt], ah[mt], b.x, b.y);
          else
            mma_hl(acc[mt][nt], ah[mt], b.x, b.y);
          mma_hl(acc[mt][nt], ah[mt], b.z, b.w);
          mma_hl(acc[mt][nt], al[mt], b.x, b.y);
        }
      }
    };
    k_tile(0, std::true_type{});
#pragma unroll
    for (int kt = 1; kt < kKT; ++kt) k_tile(kt, std::false_type{});
    // Signs q·D/4 + 2nt + e (q = lane mod 4) of rows mt·16 + lane/4 (acc[mt][nt][e]) and + 8
    // (acc[mt][nt][2 + e]): S's rows are permuted (append_mma_sign_index) so that they are bit
    // 2nt + e of the lane's own run of D/4 signs, staged as one word per row.
    {
      using Run = std::conditional_t<D == 128, std::uint32_t, std::uint16_t>;
      static_assert(8 * sizeof(Run) == D / 4, "a lane's sign run is one staged word");
      const int q = lane & 3, row = lane >> 2;
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        // The accumulators are −P (S was negated when staged), so bit P > 0 is −P's sign bit:
        // one funnel shift per sign (SHF) where a compare and a predicated add take two. Exact
        // but for P = 0: the sums start from +0 and round to nearest, so −P is +0 there (bit 0,
        // the twin's) unless the tensor core signs a zero otherwise, which the ε rule admits
        // (|P| = 0 ≤ ε). Shifting in from the last sign down puts sign (nt, e) at bit 2nt + e
        // (append_mma_sign_bit).
        std::uint32_t w0 = 0, w1 = 0;
#pragma unroll
        for (int nt = kNT - 1; nt >= 0; --nt)
#pragma unroll
          for (int e = 1; e >= 0; --e) {
            w0 = __funnelshift_l(__float_as_uint(acc[mt][nt][e]), w0, 1);
            w1 = __funnelshift_l(__float_as_uint(acc[mt][nt][2 + e]), w1, 1);
          }
        reinterpret_cast<Run*>(sign_rows + (mt * 16 + row) * (D / 8))[q] = static_cast<Run>(w0);
        reinterpret_cast<Run*>(sign_rows + (mt * 16 + row + 8) * (D / 8))[q] = static_cast<Run>(w1);
      }
    }
    warp_bar(bar_id);
    if (vbase != nullptr) {
      std::uint8_t* const dst = vbase + (voff * kCodeBytes + kMseBytes);
      const std::uint8_t* const src = sign_rows + lane * (D / 8);
#pragma unroll
      for (int c = 0; c < (D / 8) / kWs; ++c) {
        if constexpr (kWs == 16)
          reinterpret_cast<uint4*>(dst)[c] = reinterpret_cast<const uint4*>(src)[c];
        else
          reinterpret_cast<uint2*>(dst)[c] = reinterpret_cast<const uint2*>(src)[c];
      }
    }
    st ^= 1;
    tl = next;
  }
  mma_cp_async_wait<0>();  // nothing outstanding at exit
}

}  // namespace jevons::kernels::gpu::dev
