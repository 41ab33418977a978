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

/// The lane's Hadamard signs s_0..s_7 (±1) folded into the encode: σ = s_0 goes into the
/// division, and with ρ_k = s_k·s_0 the butterflies of stages 1, 2, 4 take τ = ρ_a·ρ_b
/// (split_fwht_front). tau[0..3]: stage 1's pairs; tau[4], tau[5]: stage 2's pairs 0/2 and 4/6
/// (whose registers carry ρ_0 and ρ_4 after stage 1); tau[6]: stage 4's (ρ_4).
JEVONS_HD void split_sign_fold(const float (&sg)[8], float& sigma, float (&tau)[7]) {
  float rho[8];
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k) rho[k] = (sg[k] < 0.0f) == (sg[0] < 0.0f) ? 1.0f : -1.0f;
  sigma = sg[0] < 0.0f ? -1.0f : 1.0f;
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 4; ++k) tau[k] = rho[2 * k] * rho[2 * k + 1];
  tau[4] = rho[0] * rho[2];
  tau[5] = rho[4] * rho[6];
  tau[6] = rho[0] * rho[4];
}

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

/// The fast path's condition, per lane: its 8 channels are ≥ 2^-40 in magnitude and its segment
/// norm lies in [2^-40, 2^40]. When it holds in every lane of the warp, every square is an exact
/// float (bf16 channels: at most 16 significant bits, magnitudes in [2^-80, 2^80]), so the FMA
/// tree (split_tree_first) equals the twin's, and split_divide_fast is correctly rounded.
JEVONS_HD bool split_fast_ok(const float (&x)[8], float norm) {
  float m = fabsf(x[0]);
  JEVONS_LANE_UNROLL
  for (int k = 1; k < 8; ++k) m = fminf(m, fabsf(x[k]));
  return norm >= 0x1p-40f && norm <= 0x1p40f && m >= 0x1p-40f;
}

/// x_k ← σ·x_k/‖x_seg‖, each quotient correctly rounded (σ = ±1), under split_fast_ok:
/// append_tq_kernel's shared reciprocal (one approximate reciprocal, one Newton step, then per
/// channel quotient, FMA remainder and corrected quotient: correctly rounded while nothing leaves
/// the normal range), with σ in the reciprocal and in the remainder's divisor: q0 = (σr)·x is
/// σ·(r·x) exactly, fma(q0, −σ‖x‖, x) equals fma(r·x, −‖x‖, x) bit for bit, and fma(σr, rem, q0)
/// is σ times the unsigned quotient (round to nearest is sign-symmetric).
JEVONS_HD void split_divide_fast(float (&x)[8], float norm, float sigma) {
  using namespace lane_ops;
  const float sn = mul(sigma, norm);
  const float r0 = rcp_approx(norm);
  const float r = mul(sigma, fma(r0, fma(r0, -norm, 1.0f), r0));
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k) {
    const float q0 = mul(r, x[k]);
    x[k] = fma(r, fma(q0, -sn, x[k]), q0);
  }
}

/// The same by IEEE division (any input): ‖x‖ = 0 gives 0 as the twin's does (up to the sign of
/// zero, which no code sees).
JEVONS_HD void split_divide_ieee(float (&x)[8], float norm, float sigma) {
  const float sn = lane_ops::mul(sigma, norm);
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 8; ++k) x[k] = norm > 0.0f ? lane_ops::div(x[k], sn) : 0.0f;
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

/// One butterfly on ρ_a·a and ρ_b·b with τ = ρ_a·ρ_b: a ← a + τ·b, b ← a − τ·b (each one FFMA:
/// the product is exact, so its one rounding is the twin's a ± b, up to the sign ρ_a that both
/// results then carry).
JEVONS_HD void split_bfly(float& a, float& b, float t) {
  const float lo = lane_ops::fma(b, t, a), hi = lane_ops::fma(b, -t, a);
  a = lo;
  b = hi;
}

/// FWHT stages 1, 2, 4 of the lane's 8 consecutive channels on v_k = σ·u_k (split_divide), the
/// twin's input being s_k·u_k = ρ_k·v_k: afterwards every register carries ρ_0 = 1, i.e. holds
/// the twin's value.
JEVONS_HD void split_fwht_front(float (&x)[8], const float (&tau)[7]) {
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 4; ++k) split_bfly(x[2 * k], x[2 * k + 1], tau[k]);
  split_bfly(x[0], x[2], tau[4]);
  split_bfly(x[1], x[3], tau[4]);
  split_bfly(x[4], x[6], tau[5]);
  split_bfly(x[5], x[7], tau[5]);
  JEVONS_LANE_UNROLL
  for (int k = 0; k < 4; ++k) split_bfly(x[k], x[k + 4], tau[6]);
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

}  // namespace jevons::kernels
