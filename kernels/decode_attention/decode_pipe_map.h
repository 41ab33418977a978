#pragma once
/// \file Where decode_pipelined_kernel finds each code: its segments, the channel ↔ mma-fragment
/// maps and the extraction of a thread's run of code bits. Host-callable so that the CPU test
/// (tests/kernels/test_decode_pipe_map.cpp) runs this very code on bytes the CPU twin encoded and
/// compares every code and channel with the twin's reading (read_code at the segment's offset).
///
/// Segments. Single-segment formats (tq-mse-b, the mse part of tq-prod) are one segment of D
/// channels. The outlier-split formats are two tq-mse instances side by side in the codec domain
/// and in the code block (codes of segment 0 | codes of segment 1, each a little-endian bit
/// stream), each with its own codebook and fp16 norm: tq-3.5 = D/4 channels at 4 bits + 3D/4 at
/// 3, tq-2.5 = D/4 at 3 + 3D/4 at 2 (KvFormat's outlier share is 1/4 for both). A score is
/// n0·⟨q0, c0[codes0]⟩ + n1·⟨q1, c1[codes1]⟩, so no mma k-step may mix the segments (its
/// accumulator is scaled by one norm per token), and in Vᵀ·P no 16-row m-tile may (its B operand
/// is P·n of one segment). D/4 and 3D/4 are multiples of 16 at D = 64/128/256, so every k-block
/// (8 channels) and m-tile (16 channels) falls inside one segment.
///
/// Maps (free permutations of a dot product, chosen so a thread's codes are one contiguous run):
///  * Q·Kᵀ: thread (g, qp) owns channels [qp·Ds/4, (qp+1)·Ds/4) of each segment s of token g;
///    segment s's local k-block kb carries channel Cs + qp·Ds/4 + 2kb + h at its half h (mma k
///    2qp, 2qp+1 for h = 0; 2qp+8, 2qp+9 for h = 1), the k-blocks of segment 0 first.
///  * Vᵀ·P: thread g owns channels [g·Ds/8, (g+1)·Ds/8) of each segment of 4 tokens; segment s's
///    local m-tile mt carries channel Cs + g·Ds/8 + 2mt + r in row g + 8r.
/// A run starts at bit code_bit(s) + idx·run_bits of the token's code block (idx = qp or g).
/// Where the run is whole bytes at an address aligned for the load width it is loaded directly
/// (direct_align > 0); otherwise (odd byte counts, runs that start mid-byte, 2-byte aligned rows)
/// run_words takes it from the 16-byte aligned slice region as aligned words and funnel shifts.

#include <cstdint>

#include "common/hd.h"

namespace jevons::kernels::pipe {

/// Shape of the segments of a format: BITS1 = 0 for one segment of BITS-bit codes, else the
/// outlier split with segment 0 = D/4 channels at BITS and segment 1 = 3D/4 at BITS1.
template <int D, int BITS, int BITS1>
struct Segs {
  static constexpr bool kSplit = BITS1 != 0;
  static constexpr int kCount = kSplit ? 2 : 1;
  static constexpr int kD0 = kSplit ? D / 4 : D;
  static constexpr int kMseBytes = (kD0 * BITS + (D - kD0) * BITS1) / 8;
  static_assert(!kSplit || (BITS == 4 && BITS1 == 3) || (BITS == 3 && BITS1 == 2),
                "split formats: tq-3.5 (4 + 3 bits) and tq-2.5 (3 + 2 bits)");
  static_assert(kD0 % 16 == 0 && (D - kD0) % 16 == 0, "segments must hold whole m-tiles");

  static constexpr int dim(int s) { return s == 0 ? kD0 : D - kD0; }
  static constexpr int bits(int s) { return s == 0 ? BITS : BITS1; }
  static constexpr int chan(int s) { return s == 0 ? 0 : kD0; }             ///< first channel
  static constexpr int code_bit(int s) { return s == 0 ? 0 : kD0 * BITS; }  ///< first code bit
  static constexpr int k_run_bits(int s) { return dim(s) / 4 * bits(s); }
  static constexpr int v_run_bits(int s) { return dim(s) / 8 * bits(s); }
  static constexpr int k_blocks(int s) { return dim(s) / 8; }
  static constexpr int k_block0(int s) { return chan(s) / 8; }  ///< first k-block of Q·Kᵀ
  static constexpr int v_tiles(int s) { return dim(s) / 16; }
  static constexpr int v_tile0(int s) { return chan(s) / 16; }  ///< first m-tile of Vᵀ·P
  /// Words a run occupies once extracted (fields never read past them).
  static constexpr int words_of(int run_bits) { return (run_bits + 31) / 32; }
};

/// Channel (codec domain) of Q·Kᵀ's segment s, thread qp, local k-block kb, half h.
template <class S>
JEVONS_HD constexpr int k_channel(int s, int qp, int kb, int h) {
  return S::chan(s) + qp * (S::dim(s) / 4) + 2 * kb + h;
}
/// Channel of Vᵀ·P's segment s, thread g, local m-tile mt, row g + 8r.
template <class S>
JEVONS_HD constexpr int v_channel(int s, int g, int mt, int r) {
  return S::chan(s) + g * (S::dim(s) / 8) + 2 * mt + r;
}

/// Largest power of two ≤ 16 dividing n (n > 0).
constexpr int pow2_align(int n) {
  int a = 1;
  while (a < 16 && n % (2 * a) == 0) a *= 2;
  return a;
}

/// Load width (bytes) at which every thread's run of `run_bits` bits starting at `code_bit` +
/// idx·run_bits in any token row of `row_bytes` is whole, aligned bytes; 0 when it is not (the
/// run then goes through run_words). Widths under 4 only for a single 2-byte load.
constexpr int direct_align(int row_bytes, int code_bit, int run_bits) {
  if (code_bit % 8 != 0 || run_bits % 16 != 0) return 0;
  const int nb = run_bits / 8;
  int a = pow2_align(row_bytes);
  if (pow2_align(code_bit / 8 == 0 ? 16 : code_bit / 8) < a)
    a = pow2_align(code_bit / 8 == 0 ? 16 : code_bit / 8);
  if (pow2_align(nb) < a) a = pow2_align(nb);
  if (a >= 4 || (a == 2 && nb == 2)) return a;
  return 0;
}

/// (lo:hi) >> sh, sh in [0, 32).
JEVONS_HD std::uint32_t funnel_r(std::uint32_t lo, std::uint32_t hi, std::uint32_t sh) {
#if defined(__CUDA_ARCH__)
  return __funnelshift_r(lo, hi, sh);
#else
  sh &= 31u;
  return sh ? (lo >> sh) | (hi << (32u - sh)) : lo;
#endif
}

/// Bits [pos, pos+N) of a little-endian word array `w` (N ≤ 8), moved to start at bit `to`
/// (masked). `pos`, `N`, `to` are compile-time after unrolling: a shift or funnel shift and an
/// AND, which with the OR of the lane offset the caller adds make one LOP3.
template <int N>
JEVONS_HD std::uint32_t field_at(const std::uint32_t* w, int pos, int to) {
  const int wi = pos >> 5, sh = pos & 31;
  std::uint32_t x;
  if (sh + N <= 32) {
    x = w[wi];
  } else {
    x = funnel_r(w[wi], w[wi + 1], static_cast<std::uint32_t>(sh));
    return (to >= 0 ? (x << to) : 0u) & (((1u << N) - 1u) << to);
  }
  const std::uint32_t v = sh >= to ? (x >> (sh - to)) : (x << (to - sh));
  return v & (((1u << N) - 1u) << to);
}

/// w[0..NW) = bits [sh, sh + 32·NW) of the little-endian words p[0..NW] (sh < 32): NW + 1
/// aligned loads and NW funnel shifts.
template <int NW>
JEVONS_HD void run_words_at(const std::uint32_t* p, std::uint32_t sh, std::uint32_t* w) {
  std::uint32_t x[NW + 1];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int k = 0; k <= NW; ++k) x[k] = p[k];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int k = 0; k < NW; ++k) w[k] = funnel_r(x[k], x[k + 1], sh);
}

/// w[0..NW) = bits [bitpos, bitpos + 32·NW) of the little-endian word array `words`.
template <int NW>
JEVONS_HD void run_words(const std::uint32_t* words, std::uint32_t bitpos, std::uint32_t* w) {
  run_words_at<NW>(words + (bitpos >> 5), bitpos & 31u, w);
}

/// Bit offset of thread run (segment s, idx = qp for Q·Kᵀ or g for Vᵀ·P) of token row `tok`
/// from the start of a slice's code region (rows of `row_bytes`): run_words' `bitpos`. When
/// row_bytes is a multiple of 4 a row is a whole number of words, so the kernel splits it into a
/// per-thread (word, shift) computed once and a compile-time word offset per token.
template <class S>
JEVONS_HD constexpr std::uint32_t run_bit(int s, bool k_side, int idx, int tok, int row_bytes) {
  return static_cast<std::uint32_t>(tok * row_bytes * 8 + S::code_bit(s) +
                                    idx * (k_side ? S::k_run_bits(s) : S::v_run_bits(s)));
}

}  // namespace jevons::kernels::pipe
