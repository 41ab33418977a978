#pragma once
/// \file The per-lane arithmetic of append_split_kernel (the catalog's tq-2.5 / tq-3.5),
/// host-callable so that the CPU test (tests/kernels/test_append_split.cpp) runs these very
/// functions, with the layout maps of append_split_layout.h and the data movement of the kernel
/// replayed lane by lane, against VectorCodec::encode bit for bit. A lane holds 8 consecutive
/// channels of one block of m = D/4; what crosses lanes (shared memory, shuffles) is the kernel's,
/// and the test's replay of it.

#include <cmath>
#include <cstdint>

#include "append/append_lane_encode.h"
#include "append/append_tq_bucket.h"
#include "common/hd.h"

namespace jevons::kernels {

/// The norm tree's first levels at one position, on the scratch's (v0, v1, v2) slots: tree_sum
/// over segment 1's 3m channels adds a[i + 2m] to a[i] and then a[i + m], i.e. (x1² + x3²) + x2²
/// for the blocks' channels x1, x2, x3 (slots 0, 1, 2); an outlier lane reads (x0, 0, 0), for
/// which this is x0² exactly. With `exact_squares` (every channel of the warp's vectors within
/// [2^-40, 2^40]: the bf16 squares are exact floats) the adds fold into FMAs, one rounding each,
/// as the twin's separate multiply and add.
JEVONS_HD float split_tree_first(float v0, float v1, float v2, bool exact_squares) {
  using namespace lane_ops;
  if (exact_squares) return fma(v1, v1, fma(v2, v2, mul(v0, v0)));
  return add(add(mul(v0, v0), mul(v2, v2)), mul(v1, v1));
}

/// The in-lane tree levels over the lane's 8 register partials (positions lb + L·k): k + 4,
/// then k + 2, then k + 1, tree_sum's order.
JEVONS_HD float split_tree_regs(float (&q)[8]) {
  JEVONS_LANE_UNROLL
  for (int s = 4; s > 0; s >>= 1) JEVONS_LANE_UNROLL
  for (int k = 0; k < s; ++k) q[k] = lane_ops::add(q[k], q[k + s]);
  return q[0];
}

/// Half of the fast path's condition, per lane, on its 16 input bytes (8 bf16 channels, in any
/// order: the vote covers every channel of the warp's vectors either way): every channel is at
/// least 2^-40 in magnitude (bf16 magnitude bits ≥ 0x2B80). Device: three min.xorsign.abs.bf16x2
/// (HMNMX2: the smaller magnitude of each half, exact, with some sign), its magnitude (one HFMA2)
/// and one bf16x2 compare of both halves with 2^-40 (HSETP2 and a predicate AND; the integer
/// form, mask, add that carries into bit 15 and compare, took one more); host: the same compare
/// per channel. A NaN channel may pass on the host (and on the device where the min returns the
/// other operand): its sum of squares fails split_fast_ok.
JEVONS_HD bool split_input_ok(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2,
                              std::uint32_t w3) {
#if defined(__CUDA_ARCH__)
  std::uint32_t a, b, m, ok;
  asm("min.xorsign.abs.bf16x2 %0, %1, %2;" : "=r"(a) : "r"(w0), "r"(w1));
  asm("min.xorsign.abs.bf16x2 %0, %1, %2;" : "=r"(b) : "r"(w2), "r"(w3));
  asm("min.xorsign.abs.bf16x2 %0, %1, %2;" : "=r"(m) : "r"(a), "r"(b));
  asm("{\n\t.reg .pred p, q;\n\t.reg .b32 t;\n\tabs.bf16x2 t, %1;\n\t"
      "setp.ge.bf16x2 p|q, t, %2;\n\tand.pred p, p, q;\n\tselp.u32 %0, 1, 0, p;\n\t}"
      : "=r"(ok)
      : "r"(m), "r"(0x2B802B80u));
  return ok != 0;
#else
  bool ok = true;
  for (std::uint32_t w : {w0, w1, w2, w3})
    ok = ok && (w & 0x7fffu) >= 0x2B80u && ((w >> 16) & 0x7fffu) >= 0x2B80u;
  return ok;
#endif
}

/// The fast path's condition, per lane: split_input_ok, and its segment's sum of squares q is ≤
/// 2^80 (so q ≥ x_k² ≥ 2^-80 too: a rounded sum of nonnegative terms is no less than any of
/// them, and ‖x_seg‖ = √q lies in [2^-40, 2^40]). When it holds in every lane of the warp, every
/// channel lies in [2^-40, 2^40] and every square is an exact float (bf16 channels: at most 16
/// significant bits, magnitudes in [2^-80, 2^80]), so the FMA tree (split_tree_first) equals the
/// twin's, split_sqrt_fast is the correctly rounded root and split_divide_fast the correctly
/// rounded quotients. A NaN or infinite q fails it.
JEVONS_HD bool split_fast_ok(bool input_ok, float q) {
  return input_ok && q <= 0x1p80f;
}

/// √q correctly rounded for q in [2^-80, 2^80] (split_fast_ok): device, __fsqrt_rn's own fast
/// path without its range check (approximate reciprocal root, one Newton step on the root and
/// its FMA correction: the sequence nvcc runs for every q in that range); host, std::sqrt.
JEVONS_HD float split_sqrt_fast(float q) {
#if defined(__CUDA_ARCH__)
  float r, s, h;
  asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(q));
  asm("mul.ftz.f32 %0, %1, %2;" : "=f"(s) : "f"(q), "f"(r));
  asm("mul.ftz.f32 %0, %1, 0f3F000000;" : "=f"(h) : "f"(r));
  return __fmaf_rn(__fmaf_rn(-s, s, q), h, s);
#else
  return std::sqrt(q);
#endif
}

/// x_k ← x_k/‖x_seg‖ (the signs are already in x_k), each quotient correctly rounded, under
/// split_fast_ok: append_tq_kernel's shared reciprocal (one approximate reciprocal, one Newton
/// step, then per channel quotient, FMA remainder and corrected quotient: correctly rounded
/// while nothing leaves the normal range).
JEVONS_HD void split_divide_fast(float (&x)[8], float norm) {
  using namespace lane_ops;
  const float r0 = rcp_approx(norm);
  const float r = fma(r0, fma(r0, -norm, 1.0f), r0);
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k) {
    const float q0 = mul(r, x[k]);
    x[k] = fma(r, fma(q0, -norm, x[k]), q0);
  }
}

/// The same by IEEE division (any input): ‖x‖ = 0 gives 0 as the twin's does (up to the sign of
/// zero, which no code sees).
JEVONS_HD void split_divide_ieee(float (&x)[8], float norm) {
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k) x[k] = norm > 0.0f ? lane_ops::div(x[k], norm) : 0.0f;
}

/// FWHT stages 1, 2, 4 of the lane's 8 consecutive channels (fwht_inplace's butterflies).
JEVONS_HD void split_fwht8(float (&x)[8]) {
  JEVONS_LANE_UNROLL
  for (int h = 1; h < 8; h <<= 1) JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k)
    if ((k & h) == 0) {
      const float a = x[k], b = x[k + h];
      x[k] = lane_ops::add(a, b);
      x[k + h] = lane_ops::sub(a, b);
    }
}

/// kBlockHadamard's mix constant (Rotation::apply): −2/3 as a float.
constexpr float kSplitMix = static_cast<float>(-2.0 / 3.0);

/// The Q₃ mix at one position of the three regular blocks, the twin's order: t = (y1 + y2) + y3,
/// then y_b ← fma(−2/3, t, y_b).
JEVONS_HD void split_mix(float& y1, float& y2, float& y3) {
  using namespace lane_ops;
  const float t = add(add(y1, y2), y3);
  y1 = fma(kSplitMix, t, y1);
  y2 = fma(kSplitMix, t, y2);
  y3 = fma(kSplitMix, t, y3);
}

/// The in-register stages after the FWHT transpose (append_split_fwht_position): register
/// distances H0, 2·H0, … 4, a + b and a − b.
template <int H0>
JEVONS_HD void split_fwht_regs(float (&x)[8]) {
  JEVONS_LANE_UNROLL
  for (int h = H0; h < 8; h <<= 1) JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k)
    if ((k & h) == 0) {
      const float a = x[k], b = x[k + h];
      x[k] = lane_ops::add(a, b);
      x[k + h] = lane_ops::sub(a, b);
    }
}

/// A cross-lane stage's butterfly in the lane holding `self`: partner + (±1)·self, the lower
/// element's a + b (sgn = +1) or the upper's a − b (sgn = −1, partner = a), one rounding.
JEVONS_HD float split_shuffle_bfly(float self, float partner, float sgn) {
  return lane_ops::fma(self, sgn, partner);
}

/// Codes of the lane's 8 rotated values through its segment's bucketize table
/// (append_tq_bucket.h: the code of RN(x·scale) from x), packed by Horner from channel 7 down:
/// packed·2^b + base, then +1 where x passes the cell's threshold, so code k lands in bits
/// [k·b, k·b + b) for either width (radix = 2^b).
JEVONS_HD std::uint32_t split_pack(const float (&x)[8], const AppendBucketCell* tab, float cell_s,
                                   float cell_o, std::uint32_t radix) {
  std::uint32_t packed = 0;
  JEVONS_LANE_UNROLL
  for (int k = 7; k >= 0; --k) {
    const AppendBucketCell e = tab[append_bucket_cell(x[k], cell_s, cell_o)];
    packed = packed * radix + e.base;
#if defined(__CUDA_ARCH__)
    // One predicated add (nvcc otherwise selects and adds: two).
    asm("{\n\t.reg .pred p;\n\tsetp.gt.f32 p, %1, %2;\n\t@p add.u32 %0, %0, 1;\n\t}"
        : "+r"(packed)
        : "f"(x[k]), "f"(e.threshold));
#else
    packed += x[k] > e.threshold ? 1u : 0u;
#endif
  }
  return packed;
}

/// tq-2.5's code staging (B0 = 3, B1 = 2) as the same two stores in every lane, no predicate:
/// the lane's bytes at its offset `at` (append_split_code_offset) are a 2-byte store of w >> 8 at
/// at + off16 (even) and a 1-byte store of w at at + off8, w = split_stage25_word(packed, sel):
///   * segment 0 (3 bytes at 3·lb): lb odd, off8 = 0, off16 = 1, w = packed; lb even, off16 = 0,
///     off8 = 2, w = packed's bytes (2, 0, 1);
///   * segment 1 (2 bytes at an even offset): off16 = off8 = 0, w = packed's bytes (0, 0, 1), so
///     the 1-byte store writes byte 0 once more, with the same value.
/// (One PRMT, one shift and two stores, where the predicated 2-byte-or-3-byte sequence took 7.)
struct SplitStage25 {
  std::uint32_t sel;  ///< __byte_perm selector
  int off16, off8;
};

JEVONS_HD constexpr SplitStage25 split_stage25(int seg, int lb) {
  return seg != 0   ? SplitStage25{0x3100u, 0, 0}
         : (lb & 1) ? SplitStage25{0x3210u, 1, 0}
                    : SplitStage25{0x3102u, 0, 2};
}

/// __byte_perm(packed, 0, sel) (device: one PRMT).
JEVONS_HD std::uint32_t split_stage25_word(std::uint32_t packed, std::uint32_t sel) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(packed, 0u, sel);
#else
  std::uint32_t w = 0;
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t b = (sel >> (4 * i)) & 7u;
    w |= (b < 4 ? (packed >> (8 * b)) & 0xffu : 0u) << (8 * i);
  }
  return w;
#endif
}

}  // namespace jevons::kernels
