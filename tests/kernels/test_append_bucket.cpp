// append_tq_kernel's bucketize (append_tq_bucket.h) against codebook.h's linear count: the same
// lookup logic the kernel runs, on the host, over random and adversarial floats. The GPU test
// compares whole pools; this one pins down the per-float argument (thresholds in x, the table,
// ties and values equal to boundaries, NaN, ±0, ±inf, subnormals) for every tq-mse codebook.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "append/append_tq_bucket.h"
#include "append/fast_div.h"
#include "codebook/codebook.h"
#include "jevons/core/kv_format.h"
#include "quant/quant.h"

using namespace jevons;
using namespace jevons::kernels;

namespace {
float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

/// Floats around v: v itself and its neighbours up to 3 ulps away on both sides.
void around(float v, std::vector<float>& out) {
  out.push_back(v);
  float lo = v, hi = v;
  for (int i = 0; i < 3; ++i) {
    lo = std::nextafter(lo, -INFINITY);
    hi = std::nextafter(hi, INFINITY);
    out.push_back(lo);
    out.push_back(hi);
  }
}

/// The b ≤ 2 register paths of the kernel: b = 1 one compare; b = 2 the middle compare as the
/// high bit and the parity of the three as the low bit.
std::uint32_t register_code(const float* thr, int n, float x) {
  if (n == 1) return x > thr[0] ? 1u : 0u;
  const std::uint32_t m0 = x > thr[0] ? 1u : 0u, m1 = x > thr[1] ? 1u : 0u,
                      m2 = x > thr[2] ? 1u : 0u;
  return (m1 << 1) | (m0 ^ m1 ^ m2);
}

void check_codebook(const std::vector<float>& boundaries, float scale, std::uint64_t seed) {
  const int n = static_cast<int>(boundaries.size());
  float thr[15], s = 0, o = 0;
  std::vector<AppendBucketCell> table(kAppendBucketCells);
  REQUIRE(append_bucket_table(boundaries.data(), n, scale, thr, s, o, table.data()));
  std::vector<float> xs;
  // Adversarial: the thresholds, the boundaries divided by the scale, the products' ties, and
  // the special values, each with its neighbours.
  for (int j = 0; j < n; ++j) {
    around(thr[j], xs);
    around(boundaries[j] / scale, xs);
    around(boundaries[j], xs);
  }
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1e-45f, -1e-45f, 1e-38f, -1e-38f,
                  3.4e38f, -3.4e38f, 1.0f, -1.0f})
    around(v, xs);
  // Every cell edge: the smallest float of each cell and its neighbours (found by bisection).
  for (std::uint32_t c = 1; c < kAppendBucketCells; ++c) {
    std::uint32_t lo = append_bucket_key(-INFINITY), hi = append_bucket_key(INFINITY);
    while (hi - lo > 1) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      if (append_bucket_cell(append_bucket_unkey(mid), s, o) >= c)
        hi = mid;
      else
        lo = mid;
    }
    around(append_bucket_unkey(hi), xs);
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> span(thr[0] - 0.1f, thr[n - 1] + 0.1f);
  for (int i = 0; i < 200000; ++i) {
    xs.push_back(normal(rng));                                   // the coordinate law (pre-scale)
    xs.push_back(span(rng));                                     // dense over the table's range
    xs.push_back(from_bits(static_cast<std::uint32_t>(rng())));  // any bit pattern, NaNs included
  }
  std::size_t bad = 0;
  for (float x : xs) {
    const int want = bucketize(boundaries.data(), n, x * scale);  // the twin: y = RN(x·scale)
    const std::uint32_t got = append_bucket_lookup(table.data(), s, o, x);
    if (got != static_cast<std::uint32_t>(want)) ++bad;
    if (n <= 3 && register_code(thr, n, x) != static_cast<std::uint32_t>(want)) ++bad;
  }
  CHECK(bad == 0);
}
}  // namespace

TEST_CASE("append_tq bucketize table gives the boundary count for every float", "[append]") {
  for (std::uint32_t d : {64u, 128u, 256u})
    for (int b = 1; b <= 4; ++b) {
      INFO("d=" << d << " b=" << b);
      const Codebook& cb = lloyd_max_codebook(d, b);
      // The Hadamard scale 1/√d as the rotation computes it, 1 and an arbitrary one.
      for (float scale : {1.0f / std::sqrt(static_cast<float>(d)), 1.0f, 0.7310586f})
        check_codebook(cb.boundaries_f, scale, 1000u * d + b);
    }
}

TEST_CASE("append_tq bucketize: every tq-mse codec's own boundaries and scale give an exact table",
          "[append]") {
  // What the launcher sees (VectorDesc boundaries, the Hadamard rotation's scale): an inexact
  // table would send the format to store_kernel, so the fast path would silently go unused.
  for (std::uint32_t d : {64u, 128u, 256u})
    for (int b = 1; b <= 4; ++b) {
      INFO("d=" << d << " b=" << b);
      const VectorCodec c =
          VectorCodec::make(KvFormat::parse("tq-mse-" + std::to_string(b)), d, {});
      const VectorDesc& desc = c.desc();
      REQUIRE(c.rotation(0) != nullptr);
      const float scale = c.rotation(0)->hadamard_scale();
      float thr[15], s = 0, o = 0;
      std::vector<AppendBucketCell> table(kAppendBucketCells);
      REQUIRE(append_bucket_table(desc.seg[0].boundaries, (1 << b) - 1, scale, thr, s, o,
                                  table.data()));
      check_codebook(
          std::vector<float>(desc.seg[0].boundaries, desc.seg[0].boundaries + ((1 << b) - 1)),
          scale, 77u * d + b);
    }
}

TEST_CASE("append_tq bucketize: thresholds are exact and unusable tables are refused", "[append]") {
  // X is the largest float whose product stays ≤ B: X passes, the next float up does not.
  for (float scale : {0.125f, 0.0883883476f, 1.0f, 3.0f})
    for (float b : {-1.5f, -0.0f, 0.0f, 1e-40f, 0.3f, 2.0f}) {
      const float x = append_bucket_threshold(b, scale);
      CHECK_FALSE(x * scale > b);
      CHECK(std::nextafter(x, INFINITY) * scale > b);
    }
  float thr[15], s = 0, o = 0;
  std::vector<AppendBucketCell> table(kAppendBucketCells);
  // Two boundaries one ulp apart cannot both sit in separate cells of 256 over a wide range.
  const float crowded[3] = {-100.0f, 1.0f, std::nextafter(1.0f, 2.0f)};
  CHECK_FALSE(append_bucket_table(crowded, 3, 1.0f, thr, s, o, table.data()));
  const float descending[3] = {1.0f, 0.0f, -1.0f};
  CHECK_FALSE(append_bucket_table(descending, 3, 1.0f, thr, s, o, table.data()));
  const float ok[3] = {-1.0f, 0.0f, 1.0f};
  CHECK_FALSE(append_bucket_table(ok, 3, 0.0f, thr, s, o, table.data()));
  CHECK_FALSE(append_bucket_table(ok, 3, -1.0f, thr, s, o, table.data()));
  CHECK(append_bucket_table(ok, 3, 1.0f, thr, s, o, table.data()));
}

TEST_CASE("append_tq FastDiv divides exactly for n < 2^31", "[append]") {
  std::mt19937_64 rng(7);
  std::vector<std::uint32_t> divisors;
  for (std::uint32_t d = 1; d <= 1100; ++d) divisors.push_back(d);
  for (std::uint32_t l = 10; l < 31; ++l)
    for (std::uint32_t e : {(1u << l) - 1, 1u << l, (1u << l) + 1}) divisors.push_back(e);
  divisors.push_back(0x7fffffffu);
  for (int i = 0; i < 200; ++i)
    divisors.push_back(1 + static_cast<std::uint32_t>(rng() % 0x7fffffffu));
  std::size_t bad = 0;
  for (std::uint32_t d : divisors) {
    const jevons::kernels::FastDiv f(d);
    auto check = [&](std::uint32_t n) { bad += f.div(n) == n / d ? 0 : 1; };
    // Around multiples of d (where a quotient steps) and at the ends of the range.
    for (std::uint32_t q : {0u, 1u, 2u, 3u, 1000u, 0x7fffffffu / d})
      for (std::int64_t dn = -2; dn <= 2; ++dn) {
        const std::int64_t n = std::int64_t{q} * d + dn;
        if (n >= 0 && n < (std::int64_t{1} << 31)) check(static_cast<std::uint32_t>(n));
      }
    for (int i = 0; i < 2000; ++i) check(static_cast<std::uint32_t>(rng() & 0x7fffffffu));
  }
  CHECK(bad == 0);
}
