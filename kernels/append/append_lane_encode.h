#pragma once
/// \file The per-vector encode of append_mma_kernel (tq-prod-b, Hadamard rotation) for one vector
/// held whole in one thread's registers, host-callable so that the CPU test runs this very code
/// against VectorCodec::encode (tests/kernels/test_append_mma.cpp).
///
/// Why one vector per lane: with a vector spread over 16 lanes (8 channels each) the twin's
/// norm tree, FWHT and γ tree need shuffles and shared-memory transposes to pair its elements
/// (~41 warp-instructions per lane-channel, most of them moving data). Held whole by one lane,
/// every pairing of the twin's order is a pair of registers, so the encode is the twin's
/// arithmetic and little else: the tree sums, the FWHT stages and the divisions are exactly
/// tree_sum's, fwht_inplace's and encode's operations, in their order, on the same floats.
///
/// Operation for operation (VectorCodec::encode, tq-prod, one Hadamard segment, identity
/// permutation), on x_j·s_j (the caller applies the Hadamard signs s_j to the input: squares and
/// quotients of ±x are ± those of x, exactly):
///   * ‖x‖ = sqrt(tree_sum(x_j²)), pairwise from the top index bit down;
///   * u_j = x_j/‖x‖ correctly rounded: the shared reciprocal with one Newton step and an FMA
///     correction (append_tq_kernel's fast path, correctly rounded while nothing leaves the
///     normal range, which the guard checks with a wide margin) or IEEE division;
///   * fwht_inplace's stages h = 1 … D/2, a + b and a − b;
///   * codes: bucketize(boundaries, RN(v·scale)) through the thresholds on the unscaled v
///     (append_tq_bucket.h): b − 1 ≤ 2 compares with the thresholds, b − 1 = 3 the table, whose
///     cells carry c[base] and c[base + 1];
///   * r_j = ‖x‖·RN(v_j·scale) − fp16(‖x‖)·c[code_j], γ = sqrt(tree_sum(r_j²));
///   * r_j·2^e split into fp16 hi = fp16(trunc11(r_j·2^e)) and lo = fp16(r_j·2^e − trunc11(·))
///     (append_mma.h's bound): 2^e =
///     append_mma_scale(γ), applied after γ; or (kPreScaled, the kernel's form) 2^e = rs, a power
///     of two chosen from ‖x‖ before the residual, which is then formed scaled (every value the
///     twin's times rs, exactly, under the conditions stated below) and split as it comes, with no
///     multiply per channel; where γ·rs falls outside [1, 2^15) (split_ok false: tiny, huge or
///     near-exact vectors) the caller redoes the split in the first form.
/// Zero and tiny vectors (‖x‖ = 0) give u = 0 as the twin's does, up to the sign of zero, which
/// no code, norm or product sees.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "append/append_mma.h"
#include "append/append_tq_bucket.h"
#include "common/hd.h"
#include "common/numeric.h"
#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

// Every loop of the encode unrolls on the device (each index a register); host compilers ignore it.
#if defined(__CUDA_ARCH__)
#define JEVONS_LANE_UNROLL _Pragma("unroll")
#else
#define JEVONS_LANE_UNROLL
#endif

namespace jevons::kernels {
namespace lane_ops {
// IEEE single operations, never contracted into FMAs (device: the _rn intrinsics; host: the
// kernels' -ffp-contract=off, which the test target sets too).
JEVONS_HD float add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
JEVONS_HD float sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
JEVONS_HD float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
JEVONS_HD float fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
JEVONS_HD float sqrt(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
JEVONS_HD float div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
/// An approximation of 1/a for the Newton step (device: MUFU.RCP; host: the rounded quotient;
/// either is within the step's reach, so the corrected quotients are the same).
JEVONS_HD float rcp_approx(float a) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(a));
  return r;
#else
  return 1.0f / a;
#endif
}
/// fp16(x) back as float (round to nearest even).
JEVONS_HD float half_round(float x) {
#if defined(__CUDA_ARCH__)
  return __half2float(__float2half_rn(x));
#else
  return half_to_float(float_to_half(x));
#endif
}
/// x's top 11 significant bits: its float bits with the low 13 mantissa bits cleared (truncation
/// toward zero), exactly an fp16 where |x| is in fp16's normal range.
JEVONS_HD float trunc11(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  u &= 0xffffe000u;
  float t;
  std::memcpy(&t, &u, 4);
  return t;
}
/// fp16 hi and lo halves of x0, x1 as two half2 words (x0 in the low half): hi = fp16(t),
/// t = trunc11(x) (exact but below fp16's normal range), lo = fp16(x − t) (x − t exact). One LOP3
/// per value where an RN hi read back as float (HADD2.F32) took one too, but hi is then only
/// stored, not read again, which lets ptxas form the 16-byte stores without register moves.
/// |x − hi − lo| ≤ 2^-21·|x| + 2^-24 (append_mma.h).
JEVONS_HD void split2(float x0, float x1, std::uint32_t& hi, std::uint32_t& lo) {
  const float t0 = trunc11(x0), t1 = trunc11(x1);
#if defined(__CUDA_ARCH__)
  const __half2 h = __floats2half2_rn(t0, t1);  // one F2FP per pair
  const __half2 l = __floats2half2_rn(__fsub_rn(x0, t0), __fsub_rn(x1, t1));
  hi = *reinterpret_cast<const std::uint32_t*>(&h);
  lo = *reinterpret_cast<const std::uint32_t*>(&l);
#else
  const std::uint16_t h0 = float_to_half(t0), h1 = float_to_half(t1);
  const std::uint16_t l0 = float_to_half(x0 - t0), l1 = float_to_half(x1 - t1);
  hi = std::uint32_t{h0} | (std::uint32_t{h1} << 16);
  lo = std::uint32_t{l0} | (std::uint32_t{l1} << 16);
#endif
}
/// tree_sum's levels s = S, S/2, …, 1 on q (templates: nvcc does not unroll the halving loop,
/// and every index must be a compile-time register).
template <int S>
JEVONS_HD void tree_fold(float* q) {
  if constexpr (S >= 1) {
    JEVONS_LANE_UNROLL
    for (int i = 0; i < S; ++i) q[i] = add(q[i], q[i + S]);
    tree_fold<S / 2>(q);
  }
}
/// fwht_inplace's stages H, 2H, …, D/2 (a + b, a − b on the pairs (j, j + H), bit H of j clear).
template <int D, int H>
JEVONS_HD void fwht_stages(float (&x)[D]) {
  if constexpr (H < D) {
    JEVONS_LANE_UNROLL
    for (int j = 0; j < D; ++j)
      if ((j & H) == 0) {
        const float a = x[j], b = x[j + H];
        x[j] = add(a, b);
        x[j + H] = sub(a, b);
      }
    fwht_stages<D, 2 * H>(x);
  }
}
}  // namespace lane_ops

/// What append_lane_encode produces for one vector.
template <int D, int BITS>
struct LaneEncoded {
  std::uint32_t codes[D * BITS / 32];  ///< the (b−1)-bit codes, packed as pack_codes packs them
  float norm;                          ///< ‖x‖ (float; the pool stores fp16)
  float gamma;                         ///< γ = ‖r‖
  std::uint32_t hi[D / 2], lo[D / 2];  ///< r·2^e as fp16 hi/lo pairs (append_lane_encode)
  bool split_ok;  ///< hi/lo are usable: the scaled γ is in [1, 2^15) (else: kPreScaled only)
};

/// A bucketize table cell with the two centroids its codes can take (base, base + 1): one 16-byte
/// load gives the code and c[code] by the cell's compare, where the 8-byte cell and a centroid
/// read by code cost a second load and its address (three instructions more per channel).
struct LaneBucketCell {
  float threshold;     ///< AppendBucketCell::threshold
  std::uint32_t base;  ///< AppendBucketCell::base
  float c_base;        ///< c[base]
  float c_next;        ///< c[base + 1] (c[base] past the last centroid: its compare is false)
};

/// The lane table from the bucketize table and the 2^bits centroids.
JEVONS_HD LaneBucketCell lane_bucket_cell(const AppendBucketCell& e, const float* cent, int bits) {
  const std::uint32_t last = (1u << bits) - 1u;
  const std::uint32_t b = e.base < last ? e.base : last;
  return {e.threshold, e.base, cent[b], cent[b + 1 <= last ? b + 1 : b]};
}

/// Codebook inputs of the encode: the boundaries as thresholds on the unscaled FWHT
/// (append_tq_bucket.h), at b − 1 = 3 the cell map and its table, and the centroids.
struct LaneCodebook {
  const float* thr;  ///< [2^BITS − 1]
  float cell_s, cell_o;
  const LaneBucketCell* table;  ///< [kAppendBucketCells], BITS = 3 only
  const float* cent;            ///< [2^BITS]
  float hscale;                 ///< Hadamard scale 1/√D
  bool prescale;                ///< lane_prescale_ok(cent): the residual may be formed pre-scaled
};

/// Whether a codebook admits the pre-scaled residual of append_lane_encode<…, true>: every
/// centroid c has 2^-22 ≤ |c| ≤ 2^4 (so fp16(‖x‖)·c is never 0 or tiny, which bounds every nonzero
/// residual away from the subnormals; see there). Real codebooks (|c| ~ 1/√d) all do.
JEVONS_HD bool lane_prescale_ok(const float* cent, int n) {
  bool ok = true;
  for (int j = 0; j < n; ++j) {
    const float a = fabsf(cent[j]);
    ok = ok && a >= 0x1p-22f && a <= 0x1p4f;
  }
  return ok;
}

/// The pre-scaled residual's power of two for ‖x‖ (append_lane_encode<…, true>): 2^(12 − e),
/// e = ⌊log2 ‖x‖⌋, so that ‖x‖·2^(12−e) ∈ [2^12, 2^13). ‖x‖ must be normal (the caller's guard).
JEVONS_HD float lane_prescale(float norm) {
  std::uint32_t u;
  std::memcpy(&u, &norm, 4);
  const std::uint32_t s = (254u + 12u - ((u >> 23) & 0xffu)) << 23;
  float f;
  std::memcpy(&f, &s, 4);
  return f;
}

/// min_abs over x: the smallest |x_j| (NaNs ignored, as fminf does), which the division's guard
/// needs (a parameter so that a caller may form it from its input's own format).
template <int D>
JEVONS_HD float lane_min_abs(const float (&x)[D]) {
  float mn = fabsf(x[0]);
  JEVONS_LANE_UNROLL
  for (int k = 1; k < D; ++k) mn = fminf(mn, fabsf(x[k]));
  return mn;
}

/// The default sink of append_lane_encode: nothing beyond `out`.
struct LaneNoSink {
  JEVONS_HD void operator()(int, const std::uint32_t*, const std::uint32_t*) const {}
};

/// Encodes x (D floats, the Hadamard signs already applied; destroyed) into `out`; `min_abs` is
/// lane_min_abs(x) (or the same value formed otherwise). kExactSquares: every x_j has at most 12
/// significant bits (the kernel's bf16 input), so x_j² is exact where it is normal.
template <int D, int BITS, bool kExactSquares = false, bool kPreScaled = false,
          class Sink = LaneNoSink>
JEVONS_HD void append_lane_encode(float (&x)[D], const LaneCodebook& cb, LaneEncoded<D, BITS>& out,
                                  float min_abs, Sink sink = {}) {
  using namespace lane_ops;
  static_assert(BITS >= 1 && BITS <= 3 && (D & (D - 1)) == 0 && D >= 64, "tq-prod-2..4");
  constexpr int kThr = (1 << BITS) - 1;
  // ‖x‖: tree_sum's pairs (i, i + s), s = D/2 … 1, over the squares. With kExactSquares (at most
  // 12 significant bits per x_j, the kernel's bf16) and every |x_j| ≥ 2^-40, each x_j² is exact
  // (normal; one that overflows is inf either way), so RN(RN(x_i²) + RN(x_j²)) =
  // RN(x_i·x_i + RN(x_j²)): the first level is one FFMA per pair. Vectors outside that take the
  // IEEE path below, which recomputes the norm with the twin's squares.
  const bool small = !(min_abs >= 0x1p-40f);
  float q[D / 2];
  JEVONS_LANE_UNROLL
  for (int i = 0; i < D / 2; ++i)
    q[i] = kExactSquares ? fma(x[i], x[i], mul(x[i + D / 2], x[i + D / 2]))
                         : add(mul(x[i], x[i]), mul(x[i + D / 2], x[i + D / 2]));
  lane_ops::tree_fold<D / 4>(q);
  float norm = sqrt(q[0]);
  // u = x/‖x‖: the shared reciprocal with one Newton step and an FMA correction (correctly rounded
  // while nothing leaves the normal range, which the guard checks with a wide margin), else IEEE
  // division (zeros included).
  if (norm >= 0x1p-40f && norm <= 0x1p40f && !small) {
    const float r0 = rcp_approx(norm);
    const float r = fma(r0, fma(r0, -norm, 1.0f), r0);
    JEVONS_LANE_UNROLL
    for (int k = 0; k < D; ++k) {
      const float q0 = mul(r, x[k]);
      x[k] = fma(r, fma(q0, -norm, x[k]), q0);
    }
  } else {
    if (kExactSquares && small) {
      JEVONS_LANE_UNROLL
      for (int i = 0; i < D / 2; ++i) q[i] = add(mul(x[i], x[i]), mul(x[i + D / 2], x[i + D / 2]));
      lane_ops::tree_fold<D / 4>(q);
      norm = sqrt(q[0]);
    }
    JEVONS_LANE_UNROLL
    for (int k = 0; k < D; ++k) x[k] = norm > 0.0f ? div(x[k], norm) : 0.0f;
  }
  // fwht_inplace, stage by stage.
  lane_ops::fwht_stages<D, 1>(x);
  // Codes and sc_j = fp16(‖x‖)·c[code_j]; at b − 1 ≤ 2 the 2 or 4 products once per vector,
  // selected by the compares that form the code (the same product of the same operands).
  const float stored = half_round(norm);
  // kPreScaled: the residual is formed already multiplied by rs = lane_prescale(‖x‖) (a power of
  // two), from ‖x‖·rs and fp16(‖x‖)·rs, so that it goes to the fp16 split without a multiply per
  // channel; γ is its tree over rs. Exact, operation for operation (every scaled value is the
  // twin's times rs), when nothing leaves the normal range in either scale, which holds when
  // fp16(‖x‖) ≥ 2^-14 (a normal fp16, or inf) and the codebook passes lane_prescale_ok
  // (2^-22 ≤ |c| ≤ 2^4): then |sc| = RN(fp16(‖x‖)·|c|) ≥ 2^-36, so a nonzero r = RN(ny − sc)
  // (ny = RN(‖x‖·y)) is at least 2^-25·|sc| ≥ 2^-61 (Sterbenz where ny and sc are within a factor
  // 2, else ≥ |sc|/2), its square normal; where |ny| < 2^-100 both scales give r = −sc exactly;
  // ‖x‖ < 2^16 and |y| ≤ 1 keep every square and sum far from overflow; and scaled,
  // ‖x‖·rs ∈ [2^12, 2^13) keeps the same bounds times rs ∈ [2^-3, 2^27]. Where fp16(‖x‖) = inf
  // (‖x‖ ≥ 65520), every sc is ±inf in both scales, so every r is ∓inf (ny is finite) and γ inf,
  // either way. Otherwise rs = 1 (the twin's own values).
  float rs = 1.0f;
  if constexpr (kPreScaled)
    if (cb.prescale && stored >= 0x1p-14f) rs = lane_prescale(norm);
  const float norm_s = kPreScaled ? mul(norm, rs) : norm;
  const float stored_s = kPreScaled ? mul(stored, rs) : stored;
  // Codes and sc_j = fp16(‖x‖)·c[code_j]; at b − 1 ≤ 2 the 2 or 4 products once per vector,
  // selected by the compares that form the code (the same product of the same operands).
  float sc_tab[BITS <= 2 ? 1 << BITS : 1];
  JEVONS_LANE_UNROLL
  for (int j = 0; j < (BITS <= 2 ? 1 << BITS : 1); ++j) sc_tab[j] = mul(stored_s, cb.cent[j]);
  float t[BITS <= 2 ? kThr : 1];
  JEVONS_LANE_UNROLL
  for (int j = 0; j < (BITS <= 2 ? kThr : 1); ++j) t[j] = cb.thr[j];
  JEVONS_LANE_UNROLL
  for (int w = 0; w < D * BITS / 32; ++w) out.codes[w] = 0;
  JEVONS_LANE_UNROLL
  for (int k = 0; k < D; ++k) {
    const int bit = k * BITS, w = bit / 32, sh = bit % 32;
    const float v = x[k];
    float sc;
#if defined(__CUDA_ARCH__)
    // The same compares and selections as the host's below, with the code bits added to the
    // packed word under the compares' predicates (one predicated add of an immediate each, where
    // building each code first takes SELs and a shift-add).
    if constexpr (BITS == 1) {
      const bool p = v > t[0];
      if (p) out.codes[w] += 1u << sh;
      sc = p ? sc_tab[1] : sc_tab[0];
    } else if constexpr (BITS == 2) {
      const bool p = v > t[1];
      const float tq = p ? t[2] : t[0];
      const bool q = v > tq;
      if (sh == 0) {
        // A word's first code: a select and a predicated add (the same compares as p and q),
        // where the adds to a zero word compile to two selects and an add.
        asm("{\n\t.reg .pred pp, qq;\n\tsetp.gt.f32 pp, %1, %2;\n\tsetp.gt.f32 qq, %1, %3;\n\t"
            "selp.u32 %0, 2, 0, pp;\n\t@qq add.u32 %0, %0, 1;\n\t}"
            : "=r"(out.codes[w])
            : "f"(v), "f"(t[1]), "f"(tq));
      } else {
        if (p) out.codes[w] += 2u << sh;
        if (q) out.codes[w] += 1u << sh;
      }
      const float s_lo = q ? sc_tab[1] : sc_tab[0], s_hi = q ? sc_tab[3] : sc_tab[2];
      sc = p ? s_hi : s_lo;
    } else if (BITS == 3 && sh + BITS <= 32) {
      // The cell's base goes in by one shift-add, its + 1 under the compare's predicate, which
      // also selects the centroid (a code that crosses a word takes the host's form below).
      const LaneBucketCell e = cb.table[append_bucket_cell(v, cb.cell_s, cb.cell_o)];
      const bool p = v > e.threshold;
      out.codes[w] += e.base << sh;
      if (p) out.codes[w] += 1u << sh;
      sc = mul(stored_s, p ? e.c_next : e.c_base);
    } else if (BITS == 3) {
      // A code that crosses a word: the base incremented in place under the compare's predicate
      // (the same compare as p's), then its two parts.
      const LaneBucketCell e = cb.table[append_bucket_cell(v, cb.cell_s, cb.cell_o)];
      const bool p = v > e.threshold;
      std::uint32_t code = e.base;
      asm("{\n\t.reg .pred pp;\n\tsetp.gt.f32 pp, %1, %2;\n\t@pp add.u32 %0, %0, 1;\n\t}"
          : "+r"(code)
          : "f"(v), "f"(e.threshold));
      out.codes[w] += code << sh;
      out.codes[w + 1] += code >> (32 - sh);
      sc = mul(stored_s, p ? e.c_next : e.c_base);
    } else
#endif
    {
      std::uint32_t code;
      if constexpr (BITS == 1) {
        const bool p = v > t[0];
        code = p ? 1u : 0u;
        sc = p ? sc_tab[1] : sc_tab[0];
      } else if constexpr (BITS == 2) {
        // The middle compare is the high bit; it selects the threshold of the low bit.
        const bool p = v > t[1];
        const bool lo = v > (p ? t[2] : t[0]);
        code = (p ? 2u : 0u) + (lo ? 1u : 0u);
        const float s_lo = lo ? sc_tab[1] : sc_tab[0], s_hi = lo ? sc_tab[3] : sc_tab[2];
        sc = p ? s_hi : s_lo;
      } else {
        const LaneBucketCell e = cb.table[append_bucket_cell(v, cb.cell_s, cb.cell_o)];
        const bool p = v > e.threshold;
        code = e.base + (p ? 1u : 0u);
        sc = mul(stored_s, p ? e.c_next : e.c_base);
      }
      out.codes[w] += code << sh;
      if (sh + BITS > 32) out.codes[w + 1] += code >> (32 - sh);
    }
    // r = ‖x‖·y − fp16(‖x‖)·c[code], y = RN(v·scale): the twin's residual (times rs).
    x[k] = sub(mul(norm_s, mul(v, cb.hscale)), sc);
  }
  if constexpr (kPreScaled) {
    // The split needs no γ here: it goes out (sink(k, hi_k, lo_k) too) before γ's tree.
    JEVONS_LANE_UNROLL
    for (int k = 0; k < D / 2; ++k) {
      split2(x[2 * k], x[2 * k + 1], out.hi[k], out.lo[k]);
      if (k % 4 == 3) sink(k / 4, &out.hi[k - 3], &out.lo[k - 3]);
    }
  }
  // γ: tree_sum over r² (times rs²).
  JEVONS_LANE_UNROLL
  for (int i = 0; i < D / 2; ++i) q[i] = add(mul(x[i], x[i]), mul(x[i + D / 2], x[i + D / 2]));
  lane_ops::tree_fold<D / 4>(q);
  const float gs = sqrt(q[0]);
  out.norm = norm;
  if constexpr (kPreScaled) {
    // γ = γ·rs / rs exactly (powers of two in the normal range). The split above holds where γ·rs
    // is in [1, 2^15) (append_mma.h's condition); else (γ·rs = 0 too: rare, and zeros either
    // way) the caller redoes it.
    std::uint32_t ub;
    std::memcpy(&ub, &rs, 4);
    ub = (254u - (ub >> 23)) << 23;
    float rs_inv;
    std::memcpy(&rs_inv, &ub, 4);
    out.gamma = mul(gs, rs_inv);
    out.split_ok = gs >= 1.0f && gs < 0x1p15f;  // (γ·rs = 0 takes the redo: zeros either way)
  } else {
    out.gamma = gs;
    const float rs2 = append_mma_scale(gs);
    JEVONS_LANE_UNROLL
    for (int k = 0; k < D / 2; ++k) {
      split2(mul(x[2 * k], rs2), mul(x[2 * k + 1], rs2), out.hi[k], out.lo[k]);
      if (k % 4 == 3) sink(k / 4, &out.hi[k - 3], &out.lo[k - 3]);
    }
    out.split_ok = true;
  }
}

}  // namespace jevons::kernels
