// Rotations: orthogonality, inner products preserved (§7.3), rotated coordinates ~ N(0, 1/d)
// (§7.4), determinism, and the Hadamard transform's structured-input behaviour (§7.11).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "rotation/rotation.h"
#include "test_util.h"

using namespace jevons::kernels;
using namespace jevons::kernels::test;

TEST_CASE("Rotations preserve inner products and norms and invert", "[rotation]") {
  for (auto kind : {RotationKind::kDense, RotationKind::kHadamard})
    for (std::uint32_t d : {64u, 96u, 128u, 256u}) {
      const Rotation r = Rotation::make(d, kind, 7);
      INFO("d=" << d << " kind=" << int(kind));
      CHECK(r.kind() == ((kind == RotationKind::kHadamard && d != 96) ? RotationKind::kHadamard
                                                                      : RotationKind::kDense));
      const auto q = gaussian(d, 1), k = gaussian(d, 2);
      std::vector<float> rq(d), rk(d), back(d);
      r.apply(q.data(), rq.data());
      r.apply(k.data(), rk.data());
      const double ip = dot(q.data(), k.data(), d), rip = dot(rq.data(), rk.data(), d);
      CHECK(std::fabs(rip - ip) <=
            2e-6 * std::sqrt(dot(q.data(), q.data(), d) * dot(k.data(), k.data(), d)));
      CHECK(dot(rq.data(), rq.data(), d) == Approx(dot(q.data(), q.data(), d)).epsilon(2e-6));
      r.apply_transpose(rq.data(), back.data());
      for (std::uint32_t j = 0; j < d; ++j) CHECK(back[j] == Approx(q[j]).margin(2e-6));
      // The materialised matrix is orthogonal and equals apply().
      const auto& m = r.matrix();
      for (std::uint32_t i = 0; i < d; i += 13)
        for (std::uint32_t j = 0; j < d; j += 7) {
          double s = 0;
          for (std::uint32_t t = 0; t < d; ++t) s += double{m[i * d + t]} * m[j * d + t];
          CHECK(s == Approx(i == j ? 1.0 : 0.0).margin(2e-6));
        }
      for (std::uint32_t i = 0; i < d; ++i) {
        double s = 0;
        for (std::uint32_t t = 0; t < d; ++t) s += double{m[i * d + t]} * q[t];
        CHECK(s == Approx(rq[i]).margin(1e-5));
      }
    }
}

TEST_CASE("Same seed gives the same rotation; a new seed a new one", "[rotation]") {
  for (auto kind : {RotationKind::kDense, RotationKind::kHadamard}) {
    const Rotation a = Rotation::make(128, kind, 42), b = Rotation::make(128, kind, 42),
                   c = Rotation::make(128, kind, 43);
    CHECK(a.matrix() == b.matrix());
    CHECK(a.matrix() != c.matrix());
  }
  // Rng is mt19937_64 underneath: its stream is fixed by the C++ standard.
  Rng rng(5489u);
  std::mt19937_64 ref(5489u);
  for (int i = 0; i < 10; ++i) CHECK(rng.next_u64() == ref());
}

TEST_CASE("Rotated unit vectors have mean 0, variance 1/d, kurtosis 3", "[rotation]") {
  const std::uint32_t d = 128;
  const std::size_t n = 2000;
  const auto x = unit_vectors(n, d, 11);
  const Rotation r = Rotation::make(d, RotationKind::kDense, 3);
  double m1 = 0, m2 = 0, m4 = 0;
  std::vector<float> y(d);
  for (std::size_t i = 0; i < n; ++i) {
    r.apply(&x[i * d], y.data());
    for (float v : y) {
      m1 += v;
      m2 += double{v} * v;
      m4 += double{v} * v * v * v;
    }
  }
  const double cnt = double(n) * d;
  m1 /= cnt;
  m2 /= cnt;
  m4 /= cnt;
  CHECK(std::fabs(m1) < 5e-4);
  CHECK(m2 == Approx(1.0 / d).epsilon(0.01));
  CHECK(m4 / (m2 * m2) == Approx(3.0).epsilon(0.05));
}

TEST_CASE("Hadamard maps e1 to ±1/sqrt(d) in every coordinate", "[rotation]") {
  const std::uint32_t d = 128;
  const Rotation r = Rotation::make(d, RotationKind::kHadamard, 9);
  std::vector<float> e(d, 0.0f), y(d);
  e[0] = 1.0f;
  r.apply(e.data(), y.data());
  for (float v : y) CHECK(std::fabs(v) == Approx(1.0 / std::sqrt(128.0)).epsilon(1e-6));
}
