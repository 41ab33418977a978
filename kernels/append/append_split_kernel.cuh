#pragma once
/// \file Warp-cooperative append for the catalog's outlier splits, tq-3.5 (B0 = 4, B1 = 3) and
/// tq-2.5 (3, 2) at head_dim D = 64/128/256: segment 0 = the head's D/4 outlier channels (a
/// per-head permutation puts them first) with a Hadamard rotation of size m = D/4, segment 1 =
/// the other 3m channels with kBlockHadamard (Rotation::apply: signs, a Hadamard of size m on
/// each of its three blocks, the Q₃ mix y_b ← fma(−2/3, (y1 + y2) + y3, y_b), the scale),
/// each with its own fp16 norm and codebook (VectorCodec::encode).
///
/// It is append_tq_kernel (append_tq_kernel.cuh, whose comments give the reasons for the shared
/// machinery) on four blocks of m channels, lane ll owning codec channels 8·ll … 8·ll + 7 (block
/// b = ll / L, L = m/8 lanes per block), so every lane runs the same FWHT of size m:
///   * the permutation, per KV head, is folded into the first shared-memory round trip: a lane
///     loads its 16 contiguous input bytes (original channels 8·ll … 8·ll + 7), converts them to
///     float and writes each to its codec slot in the warp's scratch through a per-head table of
///     byte offsets (append_split_scatter_table). The scratch holds a position's three regular
///     channels side by side and an outlier channel next to two zeros (append_split_layout.h),
///     so after one warp barrier a lane reads its norm tree's positions as one 16-byte load each
///     (the tree's first levels over the three blocks are then in-lane: split_tree_first), and
///     its 8 codec channels once more, one float each;
///   * the squares are exact floats whenever every channel of the warp's vectors lies in
///     [2^-40, 2^40] (bf16 inputs), so the tree's square-and-add is one FMA; a warp vote on that
///     range (split_input_ok on the input words, split_fast_ok on the sums of squares; it is also
///     the division's fast-path guard) sends any other warp through the IEEE path, which
///     recomputes the norms with separate multiplies and adds and divides by __fdiv_rn;
///   * FWHT of size m: stages 1, 2, 4 in registers with the signs folded in (split_sign_fold),
///     the stages 8 … m/2 across the block's L lanes by shfl_xor;
///   * the Q₃ mix through a second round trip: every lane writes its 8 values, each of a lane
///     group's four lanes mixes 2 of its 8 positions over blocks 1-3 and writes them back, and
///     every lane reads its own 8 again (block 0's are untouched);
///   * bucketize through the segment's table (both widths, 1 … 4 bits) and Horner packing
///     (split_pack); the code staging by one predicated store sequence per segment width (tq-3.5)
///     or the same PRMT, shift and two stores in every lane (tq-2.5, split_stage25); the two norms
///     (one shuffle) as one 4-byte word, at d = 128/256 the norm lane's value of the code chunks'
///     4-byte store.

#include <cstdint>

#include "append/append_split_lane.h"
#include "append/append_split_layout.h"
#include "append/append_tq_kernel.cuh"

namespace jevons::kernels::gpu::dev {

/// CTAs per SM the register budget is sized for: 2 (≤ 128 registers; the kernel takes ~100). At
/// append_tq_kernel's 3 (≤ 80) nvcc spills and rematerialises lane constants in the loop, ~20-30
/// instructions a group; 2 CTAs keep kAppendDepth groups' loads of 16 warps in flight, 24 KB
/// per SM: Little's law caps the bandwidth at 75 %, above the issue cap (sass_budget.py).
constexpr int kSplitMinCtas = 2;

/// Per-launch constants of append_split_kernel beyond the two tensors ([tensor][segment]).
struct AppendSplitArgs {
  std::uint32_t vectors;  ///< n_tokens · kv_heads (< 2^30, checked by the launcher)
  FastDiv kv_heads;
  FastDiv page_tokens[2];
  std::uint32_t neg_kv_heads, neg_page_tokens[2];  ///< 2^32 − d of the two divisors
  float thr[2][2][15];  ///< append_bucket_table thresholds on the pre-scale value
  float cell_s[2][2], cell_o[2][2];
  std::uint32_t page_bytes[2], head_bytes[2], meta_base[2];
};

/// Stores a lane's packed codes into the staging at `sm` (a shared-memory address), tq-3.5:
/// 4 bytes for an outlier lane (seg0), 3 for a regular one, as predicated instructions (a branch
/// on the segment leaves the warp possibly diverged at the next __syncwarp, and nvcc then reloads
/// lane constants before every access). tq-2.5 takes split_stage25 instead (no predicate).
__device__ __forceinline__ void split_stage43(std::uint32_t sm, std::uint32_t packed, bool seg0) {
  const std::uint32_t s = seg0 ? 1u : 0u;
  // Segment 0 at 4·lb (aligned), segment 1 at m/2 + 3·(ll − L) (any byte).
  asm volatile(
      "{\n\t.reg .pred p;\n\t.reg .b32 t;\n\tsetp.ne.u32 p, %2, 0;\n\t"
      "@p st.shared.b32 [%0], %1;\n\t@!p st.shared.b8 [%0], %1;\n\t"
      "@!p shr.b32 t, %1, 8;\n\t@!p st.shared.b8 [%0+1], t;\n\t"
      "@!p shr.b32 t, %1, 16;\n\t@!p st.shared.b8 [%0+2], t;\n\t}"
      :
      : "r"(sm), "r"(packed), "r"(s)
      : "memory");
}

/// tq-2.5's staging (split_stage25): a 2-byte store of w >> 8 at a16 and a 1-byte store of w at
/// a8 (shared-memory addresses), w = split_stage25_word(packed, sel).
__device__ __forceinline__ void split_stage32(std::uint32_t a16, std::uint32_t a8,
                                              std::uint32_t packed, std::uint32_t sel) {
  const std::uint32_t w = split_stage25_word(packed, sel);
  asm volatile(
      "{\n\t.reg .b32 t;\n\tshr.b32 t, %2, 8;\n\tst.shared.b16 [%0], t;\n\t"
      "st.shared.b8 [%1], %2;\n\t}"
      :
      : "r"(a16), "r"(a8), "r"(w)
      : "memory");
}

/// grid.x: CTAs of kAppendWarps warps striding over groups of 256/D vectors; grid.y: tensor.
/// Requires (launcher, append_split_eligible): kTq, segment 0 of D/4 channels at B0 bits with a
/// Hadamard rotation, segment 1 of 3D/4 at B1 bits with kBlockHadamard, no QJL, the scatter
/// table, bf16 input, exact bucketize tables.
template <int D, int B0, int B1>
__global__ void __launch_bounds__(kAppendWarps * 32, kSplitMinCtas)
    append_split_kernel(StoreTensor t0, StoreTensor t1, AppendSplitArgs a,
                        const std::int64_t* slots) {
  constexpr int kLanes = D / 8;      // lanes per vector
  constexpr int kVpw = 32 / kLanes;  // vectors per warp
  constexpr int M = D / 4;           // channels per block
  constexpr int L = M / 8;           // lanes per block
  constexpr int kCodeBytes = M * (B0 + 3 * B1) / 8;
  // Code stores of 4 bytes where they fit one round (d = 128/256; at d = 256 narrower than the
  // widest the layout allows, the same bytes), so the norms' 4-byte word shares their store.
  constexpr int kW = append_store_width(kCodeBytes) >= 4 && kCodeBytes / 4 < kLanes
                         ? 4
                         : append_store_width(kCodeBytes);
  constexpr int kChunks = kCodeBytes / kW;
  // Store rounds: kChunks code chunks and the norms' word over kLanes lanes (d = 64: 13 or 9
  // chunks over 8 lanes, two rounds).
  constexpr int kRounds = (kChunks + kLanes) / kLanes;
  constexpr int kNormLane = kChunks % kLanes;  // in round kChunks / kLanes
  constexpr bool kNormSeg0 = kNormLane < L;
  using Word = typename StoreWord<kW>::type;
  constexpr int kScratch = kSplitSlots * M;         // floats per vector in scratch A
  constexpr int kStage = (kCodeBytes + 3) / 4 * 4;  // staging bytes per vector (4-aligned rows)

  static_assert(kAppendWarps * 32 == kAppendBucketCells, "one thread per table cell");
  __shared__ AppendBucketCell s_tab[2][kAppendBucketCells];
  // Per warp: A (the scatter and the norm/channel reads), B (the mix round trip), C (the code
  // staging), each rewritten only after a __syncwarp that follows its last reads.
  __shared__ __align__(16) float s_a[kAppendWarps][kVpw * kScratch];
  __shared__ __align__(16) float s_b[kAppendWarps][256];
  __shared__ __align__(16) std::uint8_t s_c[kAppendWarps][kVpw * kStage];
  if (a.vectors == 0) return;  // uniform over the grid, before any barrier
  const StoreTensor& t = blockIdx.y == 0 ? t0 : t1;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int g = lane / kLanes;
  const int ll = lane % kLanes;
  const int blk = ll / L;
  const int lb = ll % L;
  const int seg = blk == 0 ? 0 : 1;
  {
    int c0 = 0, c1 = 0;
    s_tab[0][threadIdx.x] =
        append_bucket_entry(a.thr[blockIdx.y][0], (1 << B0) - 1, a.cell_s[blockIdx.y][0],
                            a.cell_o[blockIdx.y][0], threadIdx.x, c0);
    s_tab[1][threadIdx.x] =
        append_bucket_entry(a.thr[blockIdx.y][1], (1 << B1) - 1, a.cell_s[blockIdx.y][1],
                            a.cell_o[blockIdx.y][1], threadIdx.x, c1);
    // The launcher checked ≤ 1 threshold per cell with the same IEEE fma (unreachable).
    if ((c0 | c1) > 1) __trap();
    // The scratch's zero slots (never written again): every thread zeroes 16 floats, unrolled
    // (a loop here makes nvcc keep the global memory descriptor in vector registers and move it
    // to uniform ones before every access in the main loop, ~10 instructions a group).
    static_assert(kAppendWarps * kVpw * kScratch == 16 * kAppendWarps * 32, "16 floats each");
    float4* const z = reinterpret_cast<float4*>(&s_a[0][0]) + 4 * threadIdx.x;
#pragma unroll
    for (int i = 0; i < 4; ++i) z[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  const AppendBucketCell* const tab = s_tab[seg];
  const float cell_s = a.cell_s[blockIdx.y][seg], cell_o = a.cell_o[blockIdx.y][seg];
  const std::uint32_t radix = 1u << (seg == 0 ? B0 : B1);
  __syncthreads();
  float* const va = s_a[warp] + g * kScratch;
  const auto scat = static_cast<std::uint32_t>(__cvta_generic_to_shared(va));
  // Norm tree reads: position lb + L·k, the regular slots (0-2) or the outlier's (4-6).
  const float4* const tree = reinterpret_cast<const float4*>(va + kSplitSlots * lb + 4 * (1 - seg));
  // The lane's own channels: positions 8·lb + r of block blk.
  const float* const own = va + kSplitSlots * 8 * lb + append_split_slot(blk);
  float* const sb = s_b[warp];
  float* const mix = sb + g * D + append_split_mix_position(blk, lb);
  // The FWHT transpose's positions of this lane (block blk, lane lb): position(M, lb, k) is
  // position(M, 0, k) + position(M, lb, 0), so the register index is an immediate offset.
  float* const fwht_t = sb + g * D + blk * M + append_split_fwht_position(M, lb, 0);
  std::uint8_t* const stage = s_c[warp] + g * kStage;
  const auto my = static_cast<std::uint32_t>(
      __cvta_generic_to_shared(stage + append_split_code_offset(D, B0, B1, ll)));
  static_assert((B0 == 4 && B1 == 3) || (B0 == 3 && B1 == 2), "staging for (4, 3) and (3, 2)");
  const SplitStage25 st25 = split_stage25(seg, lb);
  const std::uint32_t my16 = my + st25.off16, my8 = my + st25.off8;
  // The lane of the same vector holding the other segment's norm.
  const int other_src = g * kLanes + (seg == 0 ? L : 0);
  const std::uint32_t groups = (a.vectors + kVpw - 1) / kVpw;
  const std::uint32_t stride = gridDim.x * kAppendWarps;
  const uint4* in;
  asm("mov.b64 %0, %1;"
      : "=l"(in)
      : "l"(reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(t.input) + 8 * ll)));
  // This lane's 8 scatter offsets of head 0 (the head's row is head·D further).
  const uint4* ptab;
  asm("mov.b64 %0, %1;"
      : "=l"(ptab)
      : "l"(reinterpret_cast<const uint4*>(t.tables.perm_scatter + 8 * ll)));
  std::uint8_t* const pool = t.pool;
  const std::uint32_t page_bytes = a.page_bytes[blockIdx.y];
  const std::uint32_t head_bytes = a.head_bytes[blockIdx.y];
  const std::uint32_t meta_base = a.meta_base[blockIdx.y];
  const FastDiv page_tokens = a.page_tokens[blockIdx.y];
  const std::uint32_t neg_kv_heads = a.neg_kv_heads;
  const std::uint32_t neg_page_tokens = a.neg_page_tokens[blockIdx.y];
  // Per store round, the lane's chunk (idx < kChunks) or the norms' word (idx == kChunks).
  std::uint32_t lane_mul[kRounds], lane_off[kRounds];
#pragma unroll
  for (int r = 0; r < kRounds; ++r) {
    const int idx = r * kLanes + ll;
    lane_mul[r] = idx < kChunks ? kCodeBytes : 4;
    lane_off[r] = idx < kChunks ? idx * kW : meta_base;
  }
  const std::uint32_t last = a.vectors - 1;
  auto load = [&](std::uint32_t w) {
    const std::uint32_t v = min(w * kVpw + g, last);
    return __ldg(in + std::size_t{v} * (D / 8));
  };
  std::uint32_t wg = blockIdx.x * kAppendWarps + warp;
  auto encode = [&](const std::uint32_t grp, const uint4 cur) {
    const std::uint32_t vid = grp * kVpw + g;
    const bool live = vid < a.vectors;
    const std::uint32_t token = a.kv_heads.div(vid);
    const std::uint32_t head = vid + token * neg_kv_heads;
    // The slot: a dead vector's is −1 (a predicated load and a select), or, for tq-2.5 at d =
    // 64/128, token 0's (always there) read unpredicated and `live` ANDed into the store's
    // predicate, which there measured 1-2 instructions a group fewer (elsewhere 2-11 more:
    // ptxas allocates registers differently).
    constexpr bool kSlotOfToken0 = B0 == 3 && D <= 128;
    const std::int64_t slot = kSlotOfToken0 ? __ldg(slots + (live ? token : 0u))
                              : live        ? __ldg(slots + token)
                                            : -1;
    // Permutation: the head's byte offsets for this lane's 8 input channels (a dead vector's
    // head is still < kv_heads, so the read is in bounds).
    const uint4* const ph =
        reinterpret_cast<const uint4*>(reinterpret_cast<const char*>(ptab) + head * (D * 4));
    const uint4 p0 = __ldg(ph), p1 = __ldg(ph + 1);
    const bool input_ok = split_input_ok(cur.x, cur.y, cur.z, cur.w);
    {
      const std::uint32_t w[4] = {cur.x, cur.y, cur.z, cur.w};
      const std::uint32_t e[8] = {p0.x, p0.y, p0.z, p0.w, p1.x, p1.y, p1.z, p1.w};
      // An entry is half the codec slot's byte offset (the address base + 2·e, one LEA, drops
      // bit 31) and the channel's rotation sign in bit 31, flipped into the float's sign bit:
      // the high bf16 as (w ^ e) & 0xffff0000, the low one as (w << 16) ^ (e & 2^31).
      // (A's last reads, the previous group's channel reads, precede its mix barriers.)
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const std::uint32_t lo = (w[k] << 16) ^ (e[2 * k] & 0x80000000u);
        const std::uint32_t hi = (w[k] ^ e[2 * k + 1]) & 0xffff0000u;
        asm volatile("st.shared.b32 [%0], %1;" ::"r"(scat + 2 * e[2 * k]), "r"(lo) : "memory");
        asm volatile("st.shared.b32 [%0], %1;" ::"r"(scat + 2 * e[2 * k + 1]), "r"(hi) : "memory");
      }
    }
    __syncwarp();
    // Norm of the lane's segment in the twin's tree order (split_tree_first, then positions'
    // top bits in registers, then lb's bits by xor shuffles).
    float q[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const float4 v = tree[2 * L * k];
      q[k] = split_tree_first(v.x, v.y, v.z, true);
    }
    q[0] = split_tree_regs(q);
#pragma unroll
    for (int s = L / 2; s > 0; s >>= 1)
      q[0] = __fadd_rn(q[0], __shfl_xor_sync(0xffffffffu, q[0], s));
    float norm = split_sqrt_fast(q[0]);
    float x[8];
#pragma unroll
    for (int r = 0; r < 8; ++r) x[r] = own[kSplitSlots * r];
    if (__all_sync(0xffffffffu, split_fast_ok(input_ok, q[0]))) {
      split_divide_fast(x, norm);
    } else {
      // Some channel of the warp's vectors lies outside [2^-40, 2^40] (zeros included): squares
      // may round, so the norms are recomputed with the twin's separate multiplies and adds.
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const float4 v = tree[2 * L * k];
        q[k] = split_tree_first(v.x, v.y, v.z, false);
      }
      q[0] = split_tree_regs(q);
#pragma unroll
      for (int s = L / 2; s > 0; s >>= 1)
        q[0] = __fadd_rn(q[0], __shfl_xor_sync(0xffffffffu, q[0], s));
      norm = __fsqrt_rn(q[0]);
      split_divide_ieee(x, norm);
    }
    // FWHT of the block in the twin's stage order: 1, 2, 4 in registers; then, at m = 16, stage
    // 8 across the block's 2 lanes by shuffle (partner + (±1)·self, one rounding), and at m ≥ 32
    // the stages 8 … m/2 in registers after a transpose through B (append_split_fwht_position),
    // whose write-back is the mix's input. (B's last reads, the previous group's, precede the
    // scatter barrier.)
    split_fwht8(x);
    if constexpr (M == 16) {
      const float sgn = (lb & 1) ? -1.0f : 1.0f;
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const float partner = __shfl_xor_sync(0xffffffffu, x[k], 1);
        x[k] = split_shuffle_bfly(x[k], partner, sgn);
      }
      reinterpret_cast<float4*>(sb)[2 * lane] = make_float4(x[0], x[1], x[2], x[3]);
      reinterpret_cast<float4*>(sb)[2 * lane + 1] = make_float4(x[4], x[5], x[6], x[7]);
    } else {
      reinterpret_cast<float4*>(sb)[2 * lane] = make_float4(x[0], x[1], x[2], x[3]);
      reinterpret_cast<float4*>(sb)[2 * lane + 1] = make_float4(x[4], x[5], x[6], x[7]);
      __syncwarp();
#pragma unroll
      for (int k = 0; k < 8; ++k) x[k] = fwht_t[append_split_fwht_position(M, 0, k)];
      split_fwht_regs<append_split_fwht_first(M)>(x);
      // (Each position is read and written back by this lane only.)
#pragma unroll
      for (int k = 0; k < 8; ++k) fwht_t[append_split_fwht_position(M, 0, k)] = x[k];
    }
    // Q₃ mix of blocks 1-3: each lane mixes 2 positions over the three blocks.
    __syncwarp();
    {
      float2 y1 = *reinterpret_cast<const float2*>(mix + M);
      float2 y2 = *reinterpret_cast<const float2*>(mix + 2 * M);
      float2 y3 = *reinterpret_cast<const float2*>(mix + 3 * M);
      split_mix(y1.x, y2.x, y3.x);
      split_mix(y1.y, y2.y, y3.y);
      *reinterpret_cast<float2*>(mix + M) = y1;
      *reinterpret_cast<float2*>(mix + 2 * M) = y2;
      *reinterpret_cast<float2*>(mix + 3 * M) = y3;
    }
    __syncwarp();
    {
      const float4 y0 = reinterpret_cast<const float4*>(sb)[2 * lane];
      const float4 y1 = reinterpret_cast<const float4*>(sb)[2 * lane + 1];
      x[0] = y0.x, x[1] = y0.y, x[2] = y0.z, x[3] = y0.w;
      x[4] = y1.x, x[5] = y1.y, x[6] = y1.z, x[7] = y1.w;
    }
    // Bucketize through the segment's table and pack by Horner (split_pack); stage the codes.
    // (C's last reads, the previous group's stores, precede the scatter barrier.)
    const std::uint32_t packed = split_pack(x, tab, cell_s, cell_o, radix);
    if constexpr (B0 == 4)
      split_stage43(my, packed, seg == 0);
    else
      split_stage32(my16, my8, packed, st25.sel);
    const float other = __shfl_sync(0xffffffffu, norm, other_src);
    __syncwarp();
    {
      // slot ≥ 0 by its high word's sign (one compare, not the 64-bit pair).
      const bool store = (!kSlotOfToken0 || live) &&
                         static_cast<std::int32_t>(static_cast<std::uint64_t>(slot) >> 32) >= 0;
      const std::uint32_t us = static_cast<std::uint32_t>(slot);
      const std::uint32_t page = page_tokens.div(us);
      const std::uint32_t offset = us + page * neg_page_tokens;
      const std::uint32_t hb = head * head_bytes;
      const std::uint64_t page_base =
          reinterpret_cast<std::uintptr_t>(pool) + std::uint64_t{page} * page_bytes;
#pragma unroll
      for (int r = 0; r < kRounds; ++r) {
        const int idx = r * kLanes + ll;
        const std::uint32_t in_page = offset * lane_mul[r] + (hb + lane_off[r]);
        auto* const dst = reinterpret_cast<std::uint8_t*>(page_base + in_page);
        if constexpr (kW == 4 && kRounds == 1) {
          // Chunks and the norms' word are both 4 bytes: the norm lane's word is the default
          // that the chunk lanes' load replaces, one store for both.
          const std::uint32_t n0 = half_bits(kNormSeg0 ? norm : other);
          const std::uint32_t n1 = half_bits(kNormSeg0 ? other : norm);
          std::uint32_t word;
          if (idx < kChunks)
            word = reinterpret_cast<const std::uint32_t*>(stage)[idx];
          else
            word = n0 | (n1 << 16);
          if (store && idx <= kChunks) __stwb(reinterpret_cast<unsigned int*>(dst), word);
          continue;
        }
        if (store && idx < kChunks)
          __stwb(reinterpret_cast<Word*>(dst), reinterpret_cast<const Word*>(stage)[idx]);
        if (r == kRounds - 1 && store && idx == kChunks) {
          // The norm lane's segment is known at compile time, so the two norms need no select.
          const std::uint32_t n0 = half_bits(kNormSeg0 ? norm : other);
          const std::uint32_t n1 = half_bits(kNormSeg0 ? other : norm);
          __stwb(reinterpret_cast<unsigned int*>(dst), n0 | (n1 << 16));
        }
      }
    }
  };
  // Four groups per iteration (the load buffers rotate by name), kAppendDepth = 3 in flight.
  uint4 r0 = load(wg), r1 = load(wg + stride), r2 = load(wg + 2 * stride), r3;
  while (wg < groups) {
    r3 = load(wg + 3 * stride);
    encode(wg, r0);
    if ((wg += stride) >= groups) break;
    r0 = load(wg + 3 * stride);
    encode(wg, r1);
    if ((wg += stride) >= groups) break;
    r1 = load(wg + 3 * stride);
    encode(wg, r2);
    if ((wg += stride) >= groups) break;
    r2 = load(wg + 3 * stride);
    encode(wg, r3);
    wg += stride;
  }
}

}  // namespace jevons::kernels::gpu::dev
