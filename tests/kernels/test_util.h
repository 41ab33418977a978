#pragma once
// Shared helpers for the kernels tests: seeded inputs (fixed seeds, so failures reproduce).
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/rng.h"

namespace jevons::kernels::test {

inline std::vector<float> gaussian(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(scale * rng.normal());
  return v;
}

/// `count` random unit vectors of dimension d, row-major.
inline std::vector<float> unit_vectors(std::size_t count, std::uint32_t d, std::uint64_t seed) {
  std::vector<float> v = gaussian(count * d, seed);
  for (std::size_t i = 0; i < count; ++i) {
    double n2 = 0;
    for (std::uint32_t j = 0; j < d; ++j) n2 += double{v[i * d + j]} * v[i * d + j];
    const double inv = 1.0 / std::sqrt(n2);
    for (std::uint32_t j = 0; j < d; ++j) v[i * d + j] = static_cast<float>(v[i * d + j] * inv);
  }
  return v;
}

/// Heavy-tailed KV-like data: Student-t(3) entries plus a few channels scaled up 8×, the outlier
/// channels real keys show (turboquant.md §5.4).
inline std::vector<float> heavy_tailed(std::size_t count, std::uint32_t d, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(count * d);
  for (std::size_t i = 0; i < count; ++i)
    for (std::uint32_t j = 0; j < d; ++j) {
      const double z = rng.normal();
      double chi = 0;
      for (int k = 0; k < 3; ++k) {
        const double g = rng.normal();
        chi += g * g;
      }
      double t = z / std::sqrt(chi / 3.0);
      if (j % 16 == 3) t *= 8.0;
      v[i * d + j] = static_cast<float>(t);
    }
  return v;
}

inline double dot(const float* a, const float* b, std::uint32_t d) {
  double s = 0;
  for (std::uint32_t j = 0; j < d; ++j) s += double{a[j]} * b[j];
  return s;
}

}  // namespace jevons::kernels::test
