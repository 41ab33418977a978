#pragma once
/// \file The tensor-core append's arithmetic that is not bit-exact, in host-callable form: how
/// append_mma_kernel scales the tq-prod residual before its fp16 hi/lo split, the product it then
/// forms on the tensor cores (emulated here on the host), and the tolerance inside which a QJL
/// sign may differ from the CPU twin's. Shared by the kernel, the CPU test that checks the bound
/// against float64 (tests/kernels/test_append_mma.cpp) and the GPU test that applies the rule.
///
/// Why a tolerance at all: the twin forms each projection P_i = Σ_j S_ij·r_j as a sequential
/// float sum; the kernel forms it as fp16 hi/lo products with fp32 accumulation on the tensor
/// cores (r = rh + rl, S = Sh + Sl, P ≈ rh·Sh + rh·Sl + rl·Sh). Both are within a few fp32 ulps
/// of Σ|S_ij·r_j| of the exact value, but not equal, so a sign bit can differ only where the
/// exact P_i lies that close to 0. Everything else the kernel stores (codes, ‖x‖, γ) is bit-exact:
/// its rotation is the twin's FWHT, not a product.
///
/// The bound (per projection; A = Σ_j |S_ij·r_j|, Σ|S| = Σ_j |S_ij|, γ = ‖r‖):
///   * twin (sequential float sum of d terms): |P_cpu − P| ≤ d·2^-24/(1 − d·2^-24)·A
///     ≤ 1.01·2^-16·A for d ≤ 256 (Higham's γ_d);
///   * kernel: S's split (hi = fp16(s), lo = fp16(s − hi)) leaves |s − sh − sl| ≤ 2^-22·|s| + 2^-25
///     (fp16's relative precision twice, plus half its smallest subnormal for sl); r's split
///     (hi = fp16 of r truncated to 11 significant bits, lo = fp16 of the exact rest:
///     append_lane_encode.h's split2) leaves ≤ 2^-21·|r| + 2^-24 (the rest is < 2^-10·|r|; below
///     fp16's normal range hi and lo each round by up to 2^-25); the dropped rl·Sl is
///     ≤ 2^-21·|r_j·S_ij| (+ far smaller absolute terms), so the three products are within
///     2.5·2^-21·A + 2^-24·Σ|S| + 2^-25·√d·γ of r·S; and the fp32 accumulation of 3·d/16 mma steps
///     adds ≤ 3·d/16·2^-23·A even if every step truncates (and ≤ 2^-19·A more if a step aligns its
///     16 products to the largest before adding); in all, at d ≤ 256, under 0.6·2^-16·A:
///     |P_gpu − P| ≤ kMmaRelBound·A + kMmaAbsBound·γ·(Σ|S| + √d), with r scaled by a power of
///     two so that γ lies in [1, 2^15) (append_mma_scale(γ) gives [1, 2), the pre-scaled encode
///     anywhere in the range: the absolute term is in those units ×γ, and |r_j| ≤ γ < 2^15 stays
///     clear of fp16's overflow);
///   * the acceptance rule: a sign may differ iff |P| ≤ qjl_sign_tolerance(A, γ, Σ|S|), which
///     exceeds the sum of both bounds by 4× (relative term) and 8× (absolute term) (the CPU test
///     checks the kernel's bound on the emulated product, the rule on random and constructed
///     near-zero projections).
/// For Gaussian S, P is ~N(0, γ²), so the fraction flagged is about 2·0.4·ε/γ ≈ 1e-3 at d = 128.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/hd.h"

namespace jevons::kernels {

constexpr double kMmaRelBound = 0x1p-16;  ///< kernel: |P_gpu − P| ≤ this·A + …
constexpr double kMmaAbsBound = 0x1p-23;  ///< … + this·γ·(Σ|S| + √d)

/// Power-of-two factor that brings γ = ‖r‖ into [1, 2) (γ = 0 or subnormal: 2^126; inf/NaN:
/// 2^1), so the scaled residual's components (|r_j| ≤ γ) fit fp16 with room for the lo part.
/// Exact (a power of two), so the signs of S·(c·r) are those of S·r.
JEVONS_HD float append_mma_scale(float gamma) {
  std::uint32_t u;
  std::memcpy(&u, &gamma, 4);
  std::uint32_t e = (u >> 23) & 0xffu;
  e = e < 1u ? 1u : (e > 253u ? 253u : e);
  const std::uint32_t s = (254u - e) << 23;
  float f;
  std::memcpy(&f, &s, 4);
  return f;
}

/// The kernel's fragment index maps, host-callable so that the CPU test can replay them against
/// the PTX fragment layouts of mma.m16n8k16 and ldmatrix (tests/kernels/test_append_mma.cpp).
///
/// Which row of S (which sign) column c (0-7) of n-tile nt of the product holds. The columns are
/// permuted so that the accumulators of lane q = lane mod 4 (columns 2q, 2q + 1 of every n-tile)
/// are signs q·d/4 … q·d/4 + d/4 − 1, in order (nt, e): each lane forms one contiguous run of
/// d/4 sign bits per row (a whole word at d = 128, a half-word at d = 64), with no shuffles.
JEVONS_HD int append_mma_sign_index(int nt, int c, int d) {
  return (c >> 1) * (d / 4) + 2 * nt + (c & 1);
}

/// Shared-memory entry e of S (B-fragment order, e = (kt·D/8 + nt)·32 + lane) holds, hi and lo,
/// S[n][k0], S[n][k0 + 1] (the lane's b0 register) and S[n][k0 + 8], S[n][k0 + 9] (b1), n the
/// row of column lane / 4 of n-tile nt (append_mma_sign_index).
JEVONS_HD void append_mma_b_coords(int e, int d, int& n, int& k0) {
  const int l = e & 31, nt = (e >> 5) % (d / 8), kt = (e >> 5) / (d / 8);
  n = append_mma_sign_index(nt, l >> 2, d);
  k0 = kt * 16 + 2 * (l & 3);
}

/// Row address (in halves, from the A tile's start) that `lane` gives ldmatrix.x4 for k-tile kt,
/// rows `row` halves apart: lanes 0-15 rows 0-15 at column kt·16, lanes 16-31 the same rows 8
/// columns on, so the four matrices are the A fragment's a0/a1 (rows 0-7 / 8-15, k 0-7) and
/// a2/a3 (k 8-15).
JEVONS_HD int append_mma_a_offset(int lane, int kt, int row) {
  return (lane & 15) * row + kt * 16 + (lane >> 4) * 8;
}

/// Accumulator element e (0, 1) of n-tile nt (column 2q + e, q = lane mod 4) of the lane's rows:
/// this bit of the lane's run of d/4 signs, which starts at sign q·d/4 (append_mma_sign_index).
JEVONS_HD std::uint32_t append_mma_sign_bit(int nt, int e) {
  return 1u << (2 * nt + e);
}

/// ε of the acceptance rule: a QJL sign bit of the tensor-core append may differ from the twin's
/// only if the exact projection lies within this of 0. `abs_sum` = Σ_j |S_ij·r_j|, `s_abs_sum` =
/// Σ_j |S_ij|, `gamma` = ‖r‖.
inline double qjl_sign_tolerance(double abs_sum, double gamma, double s_abs_sum) {
  return 0x1p-13 * abs_sum + 0x1p-20 * gamma * (s_abs_sum + 16.0);
}

/// The kernel's bound on its own error (without the twin's), for the CPU test.
inline double append_mma_error_bound(double abs_sum, double gamma, double s_abs_sum,
                                     std::uint32_t d) {
  return kMmaRelBound * abs_sum + kMmaAbsBound * gamma * (s_abs_sum + std::sqrt(double(d)));
}

}  // namespace jevons::kernels
