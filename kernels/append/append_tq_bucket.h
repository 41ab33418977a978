#pragma once
/// \file Table bucketize of append_tq_kernel: the code bucketize(boundaries, n, y) gives for
/// y = RN(x·scale), found from x by one FFMA, one saturating F2I, one table load and one compare.
/// Shared by the kernel (device), its launcher (host: eligibility) and the CPU test that checks
/// it against the linear count over many random and adversarial floats.
///
/// Why it is exact, for every float x (NaN, ±0, ±inf, subnormals, boundaries and ties included):
///
/// 1. Thresholds in x. Let scale be positive and finite. RN(x·scale) is a non-decreasing function
///    of x (the exact product is, and rounding to nearest is monotone), so for a boundary B the
///    set {x : RN(x·scale) > B} is an up-set of the floats. X = the largest float x (in the total
///    order of sign-magnitude keys, −inf … −0 < +0 … +inf) with !(RN(x·scale) > B); it exists
///    because x = −inf gives −inf, which is never > B. For non-NaN x: RN(x·scale) > B ⟺ x > X.
///    (key(x) > key(X) gives x ≥ X numerically, equal only for x = +0, X = −0, but ±0 give the
///    same product, so X is never −0 while +0 lies above it.) A NaN x gives a NaN y, which the
///    twin counts below no boundary, and x > X is false as well. So bucketize(B, n, RN(x·scale))
///    = #{j : x > X_j}, and the X_j ascend with the B_j.
/// 2. Cells. cell(x) = clamp(⌊RN(x·s + o)⌋, 0, 255) with s > 0 (one FFMA, then F2I.U8.FLOOR,
///    which saturates to [0, 255] and sends NaN to 0) is non-decreasing in x. For a non-NaN x in
///    cell c: a threshold with cell(X_j) < c has X_j < x (x ≤ X_j would give cell(x) ≤ cell(X_j)),
///    so it is counted; one with cell(X_j) > c has X_j > x, not counted. With
///    base[c] = #{j : cell(X_j) < c} (the ascending X_j make these j = 0 … base[c] − 1), the code
///    is base[c] + #{j : cell(X_j) = c, x > X_j}. If at most one threshold falls in each cell, that
///    one is X_{base[c]} and the code is base[c] + (x > X_{base[c]}); if none falls in c,
///    X_{base[c]} (or +inf past the last) lies in a higher cell, so the compare is false, as
///    required. A NaN x lands in cell 0, base 0, and NaN > X_0 is false: code 0, the twin's.
/// The one condition, at most one threshold per cell, is checked by the launcher with these same
/// IEEE operations (append_tq_bucket_table); formats that fail it keep store_kernel.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/hd.h"

namespace jevons::kernels {

constexpr int kAppendBucketCells = 256;  ///< cells of the table (F2I.U8 saturates to 0..255)

/// One table cell: the only threshold that can decide its codes and the count below it.
struct AppendBucketCell {
  float threshold;     ///< X_{base} (+inf past the last threshold)
  std::uint32_t base;  ///< #{j : cell(X_j) < this cell}
};

JEVONS_HD std::uint32_t append_bucket_key(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending with the float order
}

JEVONS_HD float append_bucket_unkey(std::uint32_t k) {
  const std::uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

/// X: the largest float x with !(RN(x·scale) > b), by bisection over the keys from −inf (which
/// always qualifies) to +inf. `scale` must be positive and finite.
JEVONS_HD float append_bucket_threshold(float b, float scale) {
  std::uint32_t lo = append_bucket_key(-INFINITY), hi = append_bucket_key(INFINITY);
  // Invariant: key lo qualifies; every key above hi does not.
  if (!(append_bucket_unkey(hi) * scale > b)) return INFINITY;
  while (hi - lo > 1) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (append_bucket_unkey(mid) * scale > b)
      hi = mid;
    else
      lo = mid;
  }
  return append_bucket_unkey(lo);
}

/// Cell scale and offset: cells 1..254 span [X_0, X_{n−1}] (any s > 0 is exact; the span only
/// makes one threshold per cell likely). Defaults for a single or degenerate threshold range.
JEVONS_HD void append_bucket_params(const float* thr, int n, float& s, float& o) {
  const float lo = thr[0], hi = thr[n - 1];
  s = 1.0f;
  if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
    const float q = 253.0f / (hi - lo);
    if (std::isfinite(q) && q > 0.0f) s = q;
  }
  o = std::isfinite(lo) ? 1.0f - lo * s : 0.0f;
  if (!std::isfinite(o)) o = 0.0f;
}

/// cell(x): ⌊RN(x·s + o)⌋ clamped to [0, 255], NaN → 0. Device: FFMA + F2I.U8.FLOOR (PTX
/// cvt.rmi.u8.f32 clamps to the destination range and converts NaN to 0); host: the same IEEE
/// fma and an explicit clamp.
JEVONS_HD std::uint32_t append_bucket_cell(float x, float s, float o) {
#if defined(__CUDA_ARCH__)
  const float t = __fmaf_rn(x, s, o);
  std::uint32_t c;
  asm("{ .reg .u8 q; cvt.rmi.u8.f32 q, %1; cvt.u32.u8 %0, q; }" : "=r"(c) : "f"(t));
  return c;
#else
  const float t = std::fma(x, s, o);
  if (!(t > 0.0f)) return 0;  // negatives, ±0 and NaN
  if (t >= 255.0f) return 255;
  return static_cast<std::uint32_t>(std::floor(t));
#endif
}

/// Entry `c` of the table for thresholds thr[0..n) and cell parameters s, o; `count` receives how
/// many thresholds fall in cell c (the table is exact iff it is ≤ 1 for every cell).
JEVONS_HD AppendBucketCell append_bucket_entry(const float* thr, int n, float s, float o,
                                               std::uint32_t c, int& count) {
  std::uint32_t base = 0;
  count = 0;
  for (int j = 0; j < n; ++j) {
    const std::uint32_t cj = append_bucket_cell(thr[j], s, o);
    base += cj < c ? 1u : 0u;
    count += cj == c ? 1 : 0;
  }
  return {base < static_cast<std::uint32_t>(n) ? thr[base] : INFINITY, base};
}

/// Host and test: thresholds of boundaries[0..n) under `scale`, the cell parameters and the
/// whole table. Returns false (table unusable) unless scale is positive and finite, the
/// thresholds ascend and every cell holds at most one threshold.
inline bool append_bucket_table(const float* boundaries, int n, float scale, float* thr, float& s,
                                float& o, AppendBucketCell* table) {
  if (!(scale > 0.0f) || !std::isfinite(scale) || n < 1 || n > 15) return false;
  for (int j = 0; j < n; ++j) thr[j] = append_bucket_threshold(boundaries[j], scale);
  // Ascending thresholds (from ascending boundaries) make the cells' counts prefixes and let
  // b = 2 read its low bit as the parity of three compares; anything else is refused.
  for (int j = 1; j < n; ++j)
    if (!(thr[j - 1] <= thr[j])) return false;
  append_bucket_params(thr, n, s, o);
  for (int c = 0; c < kAppendBucketCells; ++c) {
    int count = 0;
    table[c] = append_bucket_entry(thr, n, s, o, static_cast<std::uint32_t>(c), count);
    if (count > 1) return false;
  }
  return true;
}

/// The kernel's lookup, on the host: the code of x (= bucketize(boundaries, n, RN(x·scale))).
inline std::uint32_t append_bucket_lookup(const AppendBucketCell* table, float s, float o,
                                          float x) {
  const AppendBucketCell e = table[append_bucket_cell(x, s, o)];
  return e.base + (x > e.threshold ? 1u : 0u);
}

}  // namespace jevons::kernels
