// Codebooks against turboquant.md §2.2 (exact Beta law, d = 128) and the Lloyd fixed point (§7.1).
#include <catch2/catch.hpp>
#include <cmath>

#include "codebook/codebook.h"

using namespace jevons::kernels;

TEST_CASE("Lloyd-Max centroids match the reference table for d=128", "[codebook]") {
  // Positive half, × √d, from turboquant.md §2.2 "exact Beta, d=128" (4 significant digits).
  const std::vector<std::vector<double>> ref = {
      {0.7994},
      {0.4524, 1.5051},
      {0.2444, 0.7533, 1.3366, 2.1314},
      {0.1279, 0.3864, 0.6536, 0.9371, 1.2477, 1.6043, 2.0459, 2.6887}};
  const double s = std::sqrt(128.0);
  for (int b = 1; b <= 4; ++b) {
    const Codebook& cb = lloyd_max_codebook(128, b);
    REQUIRE(cb.centroids.size() == (1u << b));
    for (std::size_t k = 0; k < ref[b - 1].size(); ++k) {
      INFO("b=" << b << " k=" << k);
      // The table is rounded to 4 decimals by an independent computation; 3e-4 covers both.
      CHECK(cb.centroids[cb.centroids.size() / 2 + k] * s == Approx(ref[b - 1][k]).margin(3e-4));
    }
  }
}

TEST_CASE("Codebook MSE matches the reference and sits between the bounds", "[codebook]") {
  const double mse128[] = {0.3609, 0.1160, 0.03397, 0.00932};
  const double mse64[] = {0.3584, 0.1145, 0.0334, 0.0091};
  for (int b = 1; b <= 4; ++b) {
    const double lower = std::pow(4.0, -b);
    const double upper = std::sqrt(3.0) * M_PI / 2 * lower;
    for (std::uint32_t d : {64u, 128u, 256u}) {
      const Codebook& cb = lloyd_max_codebook(d, b);
      INFO("d=" << d << " b=" << b << " mse=" << cb.mse);
      CHECK(cb.mse > lower);
      CHECK(cb.mse < upper);
    }
    CHECK(lloyd_max_codebook(128, b).mse == Approx(mse128[b - 1]).epsilon(2e-3));
    CHECK(lloyd_max_codebook(64, b).mse == Approx(mse64[b - 1]).epsilon(6e-3));
  }
  // Index entropy at b = 4: ≈3.77 bits (turboquant.md §7.12).
  CHECK(lloyd_max_codebook(128, 4).index_entropy_bits == Approx(3.77).margin(0.01));
}

TEST_CASE("Centroids are the conditional means of their cells (Lloyd fixed point)", "[codebook]") {
  for (std::uint32_t d : {64u, 128u, 256u})
    for (int b = 1; b <= 4; ++b) {
      const Codebook& cb = lloyd_max_codebook(d, b);
      const std::size_t n = cb.centroids.size();
      for (std::size_t k = 0; k < n; ++k) {
        const double lo = k == 0 ? -1.0 : cb.boundaries[k - 1];
        const double hi = k + 1 == n ? 1.0 : cb.boundaries[k];
        const double mean = sphere_coordinate_conditional_mean(d, lo, hi);
        INFO("d=" << d << " b=" << b << " k=" << k);
        CHECK(std::fabs(mean - cb.centroids[k]) <= 1e-6 * std::fabs(cb.centroids[k]));
        CHECK(cb.centroids[k] == Approx(-cb.centroids[n - 1 - k]).epsilon(1e-12));
      }
      for (std::size_t k = 0; k + 1 < n; ++k)
        CHECK(cb.boundaries[k] == Approx(0.5 * (cb.centroids[k] + cb.centroids[k + 1])));
    }
}

TEST_CASE("Density is normalised and bucketize finds the nearest centroid", "[codebook]") {
  double mass = 0;
  const int steps = 20000;
  for (int i = 0; i < steps; ++i)
    mass += sphere_coordinate_density(128, -1.0 + (i + 0.5) * 2.0 / steps);
  CHECK(mass * 2.0 / steps == Approx(1.0).epsilon(1e-6));

  const Codebook& cb = lloyd_max_codebook(128, 3);
  for (float y = -0.3f; y <= 0.3f; y += 0.0013f) {
    const int idx = bucketize(cb.boundaries_f.data(), 7, y);
    int best = 0;
    for (int k = 1; k < 8; ++k)
      if (std::fabs(y - cb.centroids_f[k]) < std::fabs(y - cb.centroids_f[best])) best = k;
    CHECK(idx == best);
  }
  CHECK(&lloyd_max_codebook(128, 3) == &cb);  // cached
  CHECK_THROWS(compute_lloyd_max(128, 5));
  CHECK_THROWS(compute_lloyd_max(2, 2));
}

TEST_CASE("Committed codebooks match a fresh solve bit for bit", "[codebook]") {
  // codebook_table.inc is data the kernels use instead of the Boost solver (the kernels-only
  // build has none); regenerate every entry here and compare exactly, so a change to the solver
  // or a hand edit of the table cannot go unnoticed.
  const auto pairs = committed_codebooks();
  REQUIRE(pairs.size() == 32);  // d ∈ {16,32,48,64,96,128,192,256} × b ∈ 1..4
  for (const auto& [dim, bits] : pairs) {
    const Codebook fresh = compute_lloyd_max(dim, bits);
    const Codebook& stored = lloyd_max_codebook(dim, bits);
    INFO("d=" << dim << " b=" << bits);
    CHECK(codebook_table_entry(stored) == codebook_table_entry(fresh));
    CHECK(stored.centroids == fresh.centroids);
    CHECK(stored.boundaries == fresh.boundaries);
    CHECK(stored.centroids_f == fresh.centroids_f);
    CHECK(stored.boundaries_f == fresh.boundaries_f);
    CHECK(stored.mse == fresh.mse);
    CHECK(stored.index_entropy_bits == fresh.index_entropy_bits);
  }
  // Every TurboQuant segment the formats use at the kernels' head dims has a committed codebook.
  for (std::uint32_t d : {64u, 128u, 256u})
    for (std::uint32_t seg : {d, d / 4, d - d / 4})
      for (int b = 1; b <= 4; ++b) CHECK_NOTHROW(lloyd_max_codebook(seg, b));
  CHECK_THROWS_AS(lloyd_max_codebook(100, 2), std::invalid_argument);
}
