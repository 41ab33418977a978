#pragma once
/// \file Portable seeded randomness: identical streams on every platform and standard library.
///
/// std::normal_distribution is implementation-defined, so rotations and QJL matrices would differ
/// between libstdc++ and libc++. We take 53-bit uniforms from std::mt19937_64 (whose output is
/// fixed by the standard) and transform them ourselves (Box-Muller).

#include <cmath>
#include <cstdint>
#include <random>

namespace jevons::kernels {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in (0, 1), never exactly 0 (safe for log).
  double uniform() {
    const std::uint64_t bits = engine_() >> 11;  // 53 bits
    return (static_cast<double>(bits) + 0.5) * (1.0 / 9007199254740992.0);
  }
  /// Standard normal via Box-Muller; caches the second variate.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 6.283185307179586476925 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }
  /// ±1 with equal probability.
  float sign() { return (engine_() >> 63) ? 1.0f : -1.0f; }
  std::uint64_t next_u64() { return engine_(); }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// Derives independent seeds for sub-streams (layer, head, K/V, purpose) from one user seed
/// (splitmix64 finaliser), so changing one stream never shifts another.
constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace jevons::kernels
