#pragma once
/// \file Bit-exact scalar conversions (fp16, bf16, fp8 E4M3) and the canonical reduction order.
///
/// The CPU twins and the CUDA kernels must produce identical codes, so every rounding step that
/// feeds a code is defined here once: IEEE round-to-nearest-even conversions written out by hand
/// (they match `__float2half_rn`, `__float2bfloat16_rn` and `__nv_cvt_float_to_fp8(..., SATFINITE,
/// E4M3)`), and a fixed pairwise summation tree (`tree_sum`) that the CUDA kernels reproduce with
/// shared memory. No FMA contraction may touch these paths: kernels/CMakeLists.txt compiles the
/// twins with -ffp-contract=off and the kernels use __fmul_rn/__fadd_rn.

#include <cmath>
#include <cstdint>
#include <cstring>

namespace jevons::kernels {

inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// float → IEEE binary16 bits, round to nearest even, overflow to ±inf.
inline std::uint16_t float_to_half(float f) {
  const std::uint32_t x = float_bits(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u)
    return static_cast<std::uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0u));
  if (mag >= 0x477ff000u)
    return static_cast<std::uint16_t>(sign | 0x7c00u);  // ≥ 65520 rounds to inf
  if (mag >= 0x38800000u) {                             // normal half
    std::uint32_t r = mag - 0x38000000u;
    r += 0xfffu + ((r >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | (r >> 13));
  }
  if (mag > 0x33000000u) {  // half subnormal (2^-25 itself ties to even zero)
    const int e = static_cast<int>(mag >> 23);
    const std::uint32_t m = (mag & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;
    std::uint32_t k = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (k & 1u))) ++k;
    return static_cast<std::uint16_t>(sign | k);
  }
  return static_cast<std::uint16_t>(sign);
}

/// IEEE binary16 bits → float (exact).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (man << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

/// float → bfloat16 bits, round to nearest even (NaN stays NaN).
inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
inline float bf16_to_float(std::uint16_t b) {
  return bits_float(static_cast<std::uint32_t>(b) << 16);
}

/// float → FP8 E4M3 ("fn": max 448, no inf), round to nearest even, saturating to ±448.
inline std::uint8_t float_to_fp8_e4m3(float f) {
  const std::uint8_t sign = (float_bits(f) >> 31) ? 0x80u : 0u;
  if (std::isnan(f)) return 0x7fu;
  float a = std::fabs(f);
  if (a >= 448.0f) return static_cast<std::uint8_t>(sign | 0x7eu);
  if (a < 0.015625f) {  // below 2^-6: subnormal, step 2^-9
    const float k = std::nearbyint(a * 512.0f);
    return static_cast<std::uint8_t>(sign | static_cast<std::uint8_t>(k));
  }
  int e = 0;
  std::frexp(a, &e);                               // a = m·2^e, m in [0.5, 1)
  e -= 1;                                          // a in [2^e, 2^(e+1))
  float q = std::nearbyint(std::ldexp(a, 3 - e));  // in [8, 16]
  if (q >= 16.0f) {
    q = 8.0f;
    ++e;
  }
  if (e > 8) return static_cast<std::uint8_t>(sign | 0x7eu);
  const int code = ((e + 7) << 3) | (static_cast<int>(q) - 8);
  return static_cast<std::uint8_t>(sign | (code > 0x7e ? 0x7e : code));
}
inline float fp8_e4m3_to_float(std::uint8_t v) {
  const int e = (v >> 3) & 0xf;
  const int m = v & 0x7;
  if ((v & 0x7f) == 0x7f) return std::nanf("");
  const float mag = e == 0 ? std::ldexp(static_cast<float>(m), -9)
                           : std::ldexp(static_cast<float>(8 + m), e - 10);
  return (v & 0x80) ? -mag : mag;
}

/// Smallest power of two ≥ n (n ≥ 1).
constexpr std::uint32_t next_pow2(std::uint32_t n) {
  std::uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

/// Canonical float sum of a[0..n): pairwise tree over the array zero-padded to a power of two,
/// `a[i] += a[i + s]` for s = P/2, P/4, ..., 1. The CUDA kernels reduce in exactly this order,
/// so norms (and hence codes) agree bit for bit. Destroys `a` (scratch of length n).
inline float tree_sum(float* a, std::uint32_t n) {
  for (std::uint32_t s = next_pow2(n) / 2; s > 0; s /= 2)
    for (std::uint32_t i = 0; i < s && i + s < n; ++i) a[i] += a[i + s];
  return n ? a[0] : 0.0f;
}

}  // namespace jevons::kernels
