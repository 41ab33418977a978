#pragma once
/// \file Warp-cooperative append for the single-segment Hadamard TurboQuant_mse formats
/// (tq-mse-1..4 at head_dim 64/128/256): the bandwidth-bound path of gpu::append.
///
/// store_kernel (quant/quant_kernel.cuh) gives every channel a thread and walks the encode through
/// CTA barriers, so each thread has one 2-byte load in flight and ~30 barriers per vector. Here a
/// lane owns 8 consecutive channels (one 16-byte load of bf16, two of fp32), a vector is a group
/// of D/8 lanes (256/D vectors per warp, consecutive vectors, so a warp's load is one contiguous
/// 512-byte run), nothing waits on another warp, and every warp keeps the loads of its next three
/// vector groups in flight while it encodes the current one (kAppendDepth; with 3 CTAs of 8 warps
/// per SM at ≤ 80 registers, 36 KB per SM, over the 32 KB Little's law asks for; docs/kernels.md
/// and bench/kernels/sass_budget.py).
///
/// The arithmetic is VectorCodec::encode's, operation for operation, so the codes stay
/// bit-identical to the twin:
///   * norm: tree_sum's pairwise tree combines index bits from the top one down. After a
///     warp-private shared-memory transpose a lane holds channels ll + (D/8)·k, k = 0..7, so the
///     top three bits are register bits (seven in-lane adds) and the rest lane bits (a shuffle
///     each), instead of eight shuffles per stage in the consecutive layout.
///   * FWHT: stages 1, 2, 4 in registers, 8, 16, 32 in registers after a transpose, ≥ 64 by
///     shfl_xor as one FFMA self·(±1) + partner: the upper element's partner + (−self) is IEEE
///     a − b exactly, the lower's self + partner equals a + b (addition commutes bit for bit).
///   * bucketize: y = RN(x·scale) > B ⟺ x > X for a threshold X per boundary, so codes come from
///     x without the multiply: b = 1, 2 compare with the 1 or 3 thresholds held in registers
///     (b = 2: the middle compare is the high bit, a compare with the upper or lower threshold it
///     selects the low bit); b = 3, 4
///     look x up in a 256-cell shared-memory table (one FFMA, F2I, LDS.64, compare), exact by the
///     argument in append_tq_bucket.h. Both give codebook.h's count of boundaries below y.

#include <cstdint>

#include "append/append_tq_bucket.h"
#include "append/fast_div.h"
#include "append/pool_layout.h"
#include "common/cuda_util.cuh"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu::dev {

constexpr int kAppendWarps = 8;    ///< warps per CTA
constexpr int kAppendDepth = 3;    ///< vector groups whose loads each warp keeps in flight
constexpr int kAppendMinCtas = 3;  ///< CTAs per SM the register budget is sized for (≤ 80 regs)

/// Bytes of one packed-code store: the widest power of two ≤ 16 dividing the vector's code bytes
/// (token codes sit offset·code_bytes into a 16-byte aligned head block).
constexpr int append_store_width(int code_bytes) {
  int w = 16;
  while (code_bytes % w != 0) w /= 2;
  return w;
}

template <int W>
struct StoreWord;
template <>
struct StoreWord<16> {
  using type = uint4;
};
template <>
struct StoreWord<8> {
  using type = uint2;
};
template <>
struct StoreWord<4> {
  using type = std::uint32_t;
};
template <>
struct StoreWord<2> {
  using type = std::uint16_t;
};
template <>
struct StoreWord<1> {
  using type = std::uint8_t;
};

/// Per-launch constants of append_tq_kernel beyond the two tensors.
struct AppendTqArgs {
  std::uint32_t vectors;  ///< n_tokens · kv_heads (< 2^30, checked by the launcher)
  FastDiv kv_heads;
  FastDiv page_tokens[2];  ///< per tensor (K and V pools may differ)
  // Per tensor, from append_bucket_table on the host: the boundaries as thresholds on the
  // pre-scale value and the cell map of the bucketize table (the kernel builds the table itself).
  float thr[2][15];
  float cell_s[2], cell_o[2];
  // Per tensor, the pool layout's in-page sizes, precomputed (the kernel would otherwise rebuild
  // them from PoolLayout's fields inside the loop, where registers are short): page and head
  // block bytes, and the byte offset of the norms inside a head block.
  std::uint32_t page_bytes[2], head_bytes[2], meta_base[2];
};

/// Stages h = 1, 2, 4 of the twin's FWHT on 8 registers (fwht_inplace's butterfly).
__device__ __forceinline__ void fwht8(float (&x)[8]) {
#pragma unroll
  for (int h = 1; h < 8; h <<= 1)
#pragma unroll
    for (int k = 0; k < 8; ++k)
      if ((k & h) == 0) {
        const float a = x[k], b = x[k + h];
        x[k] = __fadd_rn(a, b);
        x[k + h] = __fsub_rn(a, b);
      }
}

/// grid.x: CTAs of kAppendWarps warps, each warp striding over groups of 256/D vectors;
/// grid.y: tensor (t0, t1). Requires t.desc: kTq, one segment, no QJL, Hadamard rotation,
/// identity permutation, BITS = seg[0].bits, bf16 input (checked by the launcher: fp32 input is
/// a test path and takes store_kernel, which keeps the prefetch registers here at 4 per group).
template <int D, int BITS>
__global__ void __launch_bounds__(kAppendWarps * 32, kAppendMinCtas)
    append_tq_kernel(StoreTensor t0, StoreTensor t1, AppendTqArgs a, const std::int64_t* slots) {
  constexpr int kLanes = D / 8;      // lanes per vector
  constexpr int kVpw = 32 / kLanes;  // vectors per warp
  constexpr int kCodeBytes = D * BITS / 8;
  constexpr int kW = append_store_width(kCodeBytes);
  constexpr int kChunks = kCodeBytes / kW;  // stores per vector
  static_assert(kChunks < kLanes, "a lane left over for the norm's store");
  using Word = typename StoreWord<kW>::type;

  constexpr int kThr = (1 << BITS) - 1;
  static_assert(kAppendWarps * 32 == kAppendBucketCells, "one thread per table cell");
  __shared__ AppendBucketCell s_tab[BITS >= 3 ? kAppendBucketCells : 1];
  // Two scratch buffers per warp, used in turn by the four round trips of a group (squares: A,
  // FWHT transpose: B, back-transpose: A, code staging: B), so each buffer is rewritten only
  // after a __syncwarp that follows its last reads: 4 warp barriers per group instead of 8.
  __shared__ __align__(16) float s_x[2][kAppendWarps][256];
  if (a.vectors == 0) return;  // uniform over the grid, before any barrier
  const StoreTensor& t = blockIdx.y == 0 ? t0 : t1;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int g = lane / kLanes;
  const int ll = lane % kLanes;
  const float* const thr = a.thr[blockIdx.y];
  const float cell_s = a.cell_s[blockIdx.y], cell_o = a.cell_o[blockIdx.y];
  if constexpr (BITS >= 3) {
    int count = 0;
    s_tab[threadIdx.x] = append_bucket_entry(thr, kThr, cell_s, cell_o, threadIdx.x, count);
    // The launcher checked at most one threshold per cell with the same IEEE fma; a cell with two
    // would give wrong codes silently, so it stops the kernel instead (unreachable).
    if (count > 1) __trap();
  }
  // b = 1, 2: the thresholds themselves, in registers for the whole loop.
  float t_reg[BITS <= 2 ? kThr : 1];
#pragma unroll
  for (int j = 0; j < (BITS <= 2 ? kThr : 1); ++j) t_reg[j] = thr[j];
  // Hadamard signs of this lane's 8 channels, the same for every vector (heads share rotations),
  // as sign-bit masks over the bf16 pairs of the input words: u·s = (s·x)/‖x‖ exactly (IEEE
  // division and rounding are sign-symmetric) and (s·x)² = x², so flipping the input's sign bits
  // is the twin's multiply by ±1. Per input word: the high channel is (w ^ hi) & 0xffff0000, one
  // LOP3; the low one is w·2^16 + lo, one IMAD, since adding 2^31 modulo 2^32 flips bit 31 only.
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
  float* const sa = s_x[0][warp];
  float* const sb = s_x[1][warp];
  auto* const stage = reinterpret_cast<std::uint8_t*>(sb);
  const std::uint32_t groups = (a.vectors + kVpw - 1) / kVpw;
  const std::uint32_t stride = gridDim.x * kAppendWarps;
  // This lane's first input word, as an opaque 64-bit register pair: each load is then one
  // IMAD.WIDE (v · 2D + base) instead of nvcc's re-association into v·D | 8·ll, a shift and a
  // 64-bit add with the uniform base.
  const uint4* in;
  asm("mov.b64 %0, %1;"
      : "=l"(in)
      : "l"(reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(t.input) + 8 * ll)));
  // Pool addressing hoisted out of the loop: t is a select between two kernel parameters, and
  // PoolLayout's offsets multiply four fields in 64 bits, which per vector cost ~100 instructions.
  std::uint8_t* const pool = t.pool;
  // A page is under 4 GiB (launcher), so everything inside one is 32-bit and only the page's
  // base is a 64-bit multiply-add.
  const std::uint32_t page_bytes = a.page_bytes[blockIdx.y];
  const std::uint32_t head_bytes = a.head_bytes[blockIdx.y];
  const std::uint32_t meta_base = a.meta_base[blockIdx.y];
  const FastDiv page_tokens = a.page_tokens[blockIdx.y];
  // The store's in-page offset per lane: lanes ll < kChunks write code chunk ll, lane kChunks
  // the norm (offset · lane_mul + lane_off past the head block).
  const std::uint32_t lane_mul = ll < kChunks ? kCodeBytes : 2;
  const std::uint32_t lane_off = ll < kChunks ? ll * kW : meta_base;
  // This lane's 16 bytes of vector group `w`. Past the end it loads the last vector again
  // (one IMNMX instead of a predicated load, zeroing and moves): a dead vector's lanes are all
  // dead (a vector is kLanes lanes of one group), its shuffles stay within them, and nothing of
  // it is stored.
  const std::uint32_t last = a.vectors - 1;  // vectors ≥ 1 (checked on entry)
  auto load = [&](std::uint32_t w) {
    const std::uint32_t v = min(w * kVpw + g, last);
    return __ldg(in + std::size_t{v} * (D / 8));
  };
  std::uint32_t wg = blockIdx.x * kAppendWarps + warp;
  // One group: encode and store the vectors of group wg from this lane's 16 input bytes.
  auto encode = [&](const std::uint32_t grp, const uint4 cur) {
    const std::uint32_t vid = grp * kVpw + g;
    const bool live = vid < a.vectors;
    const std::uint32_t token = a.kv_heads.div(vid);
    // The slot is needed only at the store, hundreds of instructions later: loaded here, not
    // carried through the prefetch registers.
    const std::int64_t slot = live ? __ldg(slots + token) : -1;
    float x[8];
    {
      const std::uint32_t w[4] = {cur.x, cur.y, cur.z, cur.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        x[2 * k] = __uint_as_float(w[k] * 0x10000u + flip_lo[k]);
        x[2 * k + 1] = __uint_as_float((w[k] ^ flip_hi[k]) & 0xffff0000u);
      }
    }
    // Norm: squares to the warp's scratch, read back transposed (lane ll: channels ll + kLanes·k).
    // (A's last reads, the previous group's back-transpose, precede its code-staging barrier.)
    reinterpret_cast<float4*>(sa)[2 * lane] = make_float4(
        __fmul_rn(x[0], x[0]), __fmul_rn(x[1], x[1]), __fmul_rn(x[2], x[2]), __fmul_rn(x[3], x[3]));
    reinterpret_cast<float4*>(sa)[2 * lane + 1] = make_float4(
        __fmul_rn(x[4], x[4]), __fmul_rn(x[5], x[5]), __fmul_rn(x[6], x[6]), __fmul_rn(x[7], x[7]));
    __syncwarp();
    float q[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) q[k] = sa[g * D + ll + kLanes * k];
#pragma unroll
    for (int s = 4; s > 0; s >>= 1)
#pragma unroll
      for (int k = 0; k < s; ++k) q[k] = __fadd_rn(q[k], q[k + s]);
        // Butterfly (xor) instead of shfl_down + broadcast: after the stage of stride s, lane ll
        // holds the partial sum lane ll mod s would hold in the twin's tree (the same two operands,
        // possibly swapped: IEEE addition commutes bit for bit), so every lane ends with the root,
        // no broadcast.
#pragma unroll
    for (int s = kLanes / 2; s > 0; s >>= 1)
      q[0] = __fadd_rn(q[0], __shfl_xor_sync(0xffffffffu, q[0], s, kLanes));
    const float norm = __fsqrt_rn(q[0]);
    // u = (s·x) / ‖x‖ (IEEE). The eight quotients share one divisor, so the
    // reciprocal of __fdiv_rn's fast path is computed once; that path (approximate reciprocal,
    // one Newton step, quotient, remainder by FMA, corrected quotient) is correctly rounded while
    // nothing leaves the normal range, which the guard checks with a wide margin (|x| ≥ 2^-40, norm
    // in [2^-40, 2^40]: quotients ≥ 2^-80). Anything else, zeros included, takes __fdiv_rn itself.
    {
      float m = fabsf(x[0]);
#pragma unroll
      for (int k = 1; k < 8; ++k) m = fminf(m, fabsf(x[k]));
      if (norm >= 0x1p-40f && norm <= 0x1p40f && m >= 0x1p-40f) {
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
    // FWHT in the twin's stage order. Channel j = 8·ll + r: stages h = 1, 2, 4 pair registers.
    // Then a transpose through the warp's scratch gives lane ll channels (ll mod 8) + 8·r +
    // 64·⌊ll/8⌋, so stages 8, 16, 32 pair registers too and only h ≥ 64 (d = 128: one stage, d =
    // 256: two, d = 64: none) needs shuffles; a second transpose brings y back to 8 consecutive
    // channels for packing. Two shared-memory round trips cost ~20 instructions; each shuffle
    // stage they replace costs 24.
    fwht8(x);
    // (B's last reads, the previous group's code loads, precede the squares' barrier.)
    reinterpret_cast<float4*>(sb)[2 * lane] = make_float4(x[0], x[1], x[2], x[3]);
    reinterpret_cast<float4*>(sb)[2 * lane + 1] = make_float4(x[4], x[5], x[6], x[7]);
    __syncwarp();
    const int tbase = g * D + (ll & 7) + 64 * (ll >> 3);
#pragma unroll
    for (int k = 0; k < 8; ++k) x[k] = sb[tbase + 8 * k];
    fwht8(x);
#pragma unroll
    for (int h = 8; h < kLanes; h <<= 1) {
      // partner + (±1)·self in one FFMA: the product is exact, so the single rounding is the
      // add's, bit for bit the twin's a + b / a − b.
      const float sgn = (ll & h) ? -1.0f : 1.0f;
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const float partner = __shfl_xor_sync(0xffffffffu, x[k], h);
        x[k] = __fmaf_rn(x[k], sgn, partner);
      }
    }
    // (A's last reads, the squares, precede the transpose's barrier.)
#pragma unroll
    for (int k = 0; k < 8; ++k) sa[tbase + 8 * k] = x[k];
    __syncwarp();
    {
      const float4 y0 = reinterpret_cast<const float4*>(sa)[2 * lane];
      const float4 y1 = reinterpret_cast<const float4*>(sa)[2 * lane + 1];
      x[0] = y0.x, x[1] = y0.y, x[2] = y0.z, x[3] = y0.w;
      x[4] = y1.x, x[5] = y1.y, x[6] = y1.z, x[7] = y1.w;
    }
    // Bucketize on the pre-scale value (the code of y = RN(x·scale), append_tq_bucket.h) and
    // pack: code of channel 8·ll + k in bits [k·BITS, k·BITS + BITS).
    // Codes are added into place (fields do not overlap, so + is |): a passed threshold is one
    // predicated add of 1 << k·BITS, a table base one shift-add.
    std::uint32_t packed = 0;
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      if constexpr (BITS == 1) {
        packed |= (x[k] > t_reg[0] ? ~0u : 0u) & (1u << k);  // compare-to-mask, masked or
      } else if constexpr (BITS == 2) {
        // Count of 3 ascending thresholds X_0 ≤ X_1 ≤ X_2: x > X_2 implies x > X_1 implies
        // x > X_0, so the count's high bit is hi = (x > X_1) and its low bit x > (hi ? X_2 : X_0)
        // (NaN: both compares false, code 0, as before). Two predicated adds place them (one
        // FSEL and two compares instead of three compares, two selects and an add).
        asm("{\n\t.reg .pred p, q;\n\t.reg .f32 t;\n\tsetp.gt.f32 p, %1, %2;\n\t"
            "selp.f32 t, %4, %3, p;\n\tsetp.gt.f32 q, %1, t;\n\t@p add.u32 %0, %0, %5;\n\t"
            "@q add.u32 %0, %0, %6;\n\t}"
            : "+r"(packed)
            : "f"(x[k]), "f"(t_reg[1]), "f"(t_reg[0]), "f"(t_reg[2]), "r"(2u << (2 * k)),
              "r"(1u << (2 * k)));
      } else {
        const AppendBucketCell e = s_tab[append_bucket_cell(x[k], cell_s, cell_o)];
        packed += e.base << (k * BITS);
        // One predicated add (nvcc otherwise builds base + 1, selects and shifts: three).
        asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %1, %2;\n\t@p add.u32 %0, %0, %3;\n\t}"
            : "+r"(packed)
            : "f"(x[k]), "f"(e.threshold), "r"(1u << (k * BITS)));
      }
    }
    // Stage the packed codes so the pool sees kW-byte stores (16 B where the layout allows).
    // (B's last reads, the transpose, precede the back-transpose's barrier.)
    std::uint8_t* my = stage + g * kCodeBytes + ll * BITS;
    if constexpr (BITS == 3) {
      my[0] = static_cast<std::uint8_t>(packed);
      my[1] = static_cast<std::uint8_t>(packed >> 8);
      my[2] = static_cast<std::uint8_t>(packed >> 16);
    } else if constexpr (BITS == 4) {
      *reinterpret_cast<std::uint32_t*>(my) = packed;
    } else if constexpr (BITS == 2) {
      *reinterpret_cast<std::uint16_t*>(my) = static_cast<std::uint16_t>(packed);
    } else {
      *my = static_cast<std::uint8_t>(packed);
    }
    __syncwarp();
    {
      // One in-page offset and one 64-bit pointer per lane: lanes ll < kChunks store a kW-byte
      // chunk of the codes, lane kChunks the fp16 norm (kChunks < kLanes), so the two stores
      // share the address arithmetic. Computed unconditionally (a dead vector's slot, -1, gives
      // a garbage address that no store uses) so the stores are predicated, not branched over.
      const bool store = slot >= 0;
      const std::uint32_t head = vid - token * a.kv_heads.d;
      // The launcher only takes pools of fewer than 2^31 slots, so the 32-bit divider serves.
      const std::uint32_t us = static_cast<std::uint32_t>(slot);
      const std::uint32_t page = page_tokens.div(us);
      const std::uint32_t offset = us - page * page_tokens.d;
      // block + offset·kCodeBytes + ll·kW (codes) or block + meta_base + 2·offset (norm): two
      // IMADs with the lane's multiplier and offset chosen once, before the loop.
      const std::uint32_t in_page = offset * lane_mul + (head * head_bytes + lane_off);
      // As an integer: a dead vector's address lies outside the pool and is never a pointer
      // that is stored through. __stwb (st.global.wb, the default caching) keeps the stores
      // global through the integer round trip (a plain store would become a generic ST).
      auto* const dst = reinterpret_cast<std::uint8_t*>(reinterpret_cast<std::uintptr_t>(pool) +
                                                        std::uint64_t{page} * page_bytes + in_page);
      if (store && ll < kChunks)
        __stwb(reinterpret_cast<Word*>(dst),
               reinterpret_cast<const Word*>(stage + g * kCodeBytes)[ll]);
      if (store && ll == kChunks)
        __stwb(reinterpret_cast<unsigned short*>(dst),
               static_cast<unsigned short>(half_bits(norm)));
    }
  };
  // Four groups per iteration, so the four load buffers rotate by name instead of by twelve
  // register moves per group; each group's load is issued before the group three ahead of it is
  // encoded, which keeps kAppendDepth = 3 groups' loads in flight per warp.
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
