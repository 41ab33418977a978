#pragma once
// Portable random streams. The standard library's distributions (std::normal_distribution, ...)
// give implementation-defined sequences, so a result would change with the compiler; every
// transform here is written out, over xoshiro256** seeded through splitmix64.

#include <cmath>
#include <cstdint>

namespace jevons::sim {

/// splitmix64 step: a full-avalanche mix, used for seeding and for hashing ids.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::uint64_t mix64(std::uint64_t x) {
  std::uint64_t s = x;
  return splitmix64(s);
}

/// Stream kinds, so that two entities with the same index never share a stream.
enum class StreamKind : std::uint64_t {
  kArrivals = 1,
  kLengths = 2,
  kRouter = 3,
  kTraceScale = 4,
  kSampling = 5,
  kPrefix = 6,
};

/// xoshiro256** (Blackman & Vigna): 256-bit state, fast, and identical on every platform.
class Rng {
 public:
  Rng() : Rng(0) {}
  explicit Rng(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }
  /// The stream of entity `index` of `kind` under the run's `seed`.
  static Rng stream(std::uint64_t seed, StreamKind kind, std::uint64_t index) {
    return Rng(mix64(seed ^ mix64(static_cast<std::uint64_t>(kind) * 0x100000001B3ull + index)));
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: safe under log().
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  /// Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2^-64 · n).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  double exponential(double mean) { return -mean * std::log(uniform_pos()); }
  /// Standard normal by Box–Muller (both outputs used; the spare is cached).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = uniform_pos();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586 * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }
  /// Gamma(shape, scale) by Marsaglia & Tsang (2000); shape < 1 via the u^(1/shape) boost.
  double gamma(double shape, double scale) {
    if (shape < 1.0) {
      const double u = uniform_pos();
      return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = uniform_pos();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace jevons::sim
