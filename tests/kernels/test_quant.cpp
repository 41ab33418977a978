// TurboQuant accuracy on the CPU twins (turboquant.md §7.2, 7.5–7.8, 7.11, 7.13) and the exact
// byte layout contract with core's KvFormat.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <utility>

#include "append/append.h"
#include "codebook/codebook.h"
#include "common/numeric.h"
#include "jevons/core/kv_format.h"
#include "quant/quant.h"
#include "test_util.h"

using namespace jevons;
using namespace jevons::kernels;
using namespace jevons::kernels::test;

namespace {

const std::vector<std::string> kFormats = {
    "bf16",     "fp16",     "fp8",       "int4-kivi", "int2-kivi", "tq-mse-1", "tq-mse-2",
    "tq-mse-3", "tq-mse-4", "tq-prod-2", "tq-prod-3", "tq-prod-4", "tq-2.5",   "tq-3.5"};

CodecOptions dense(std::uint64_t seed = 1) {
  CodecOptions o;
  o.rotation = RotationKind::kDense;
  o.seed = seed;
  return o;
}

/// tq-prod-b for b = 1..4 (b = 1 has no KvFormat name: the QJL-only reference).
KvFormat prod_format(int b) {
  KvFormat f = KvFormat::parse("tq-prod-2");
  f.bits = b;
  return f;
}

// Mean ‖x − x̃‖² over random unit vectors.
double mse_of(const VectorCodec& c, const std::vector<float>& x, std::size_t n) {
  const std::uint32_t d = c.dim();
  std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes() + 1);
  std::vector<float> y(d);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    c.encode(&x[i * d], code.data(), meta.data());
    c.decode(code.data(), meta.data(), y.data());
    for (std::uint32_t j = 0; j < d; ++j) total += std::pow(double{y[j]} - x[i * d + j], 2);
  }
  return total / static_cast<double>(n);
}

}  // namespace

TEST_CASE("Every format stores exactly KvFormat::bytes_per_vector", "[quant][layout]") {
  for (const auto& name : kFormats)
    for (std::uint32_t d : {64u, 128u, 256u}) {
      const KvFormat f = KvFormat::parse(name);
      const VectorCodec c = VectorCodec::make(f, d, CodecOptions{});
      INFO(name << " d=" << d);
      CHECK(c.vector_bytes() == f.bytes_per_vector(d));
      const HostKvCache cache(c, c, 5, 32, 3);
      CHECK(cache.k_pool.size() == 5ull * 32 * 3 * f.bytes_per_vector(d));
      CHECK(cache.v_pool.size() == cache.k_pool.size());
    }
  // Spot values from turboquant.md §7.13 (d = 128).
  CHECK(VectorCodec::make(KvFormat::parse("tq-prod-3"), 128, {}).vector_bytes() == 52);
  CHECK(VectorCodec::make(KvFormat::parse("tq-mse-4"), 128, {}).vector_bytes() == 66);
  // 32×3 + 96×2 code bits are 2.25 bits/channel (the paper's "= 2.5" only holds once the two fp16
  // norms are counted: 40 bytes per 128 channels).
  CHECK(KvFormat::parse("tq-2.5").bits_per_value(128) == Approx(2.5));
  CHECK_THROWS_AS(VectorCodec::make(KvFormat::parse("nvfp4"), 128, {}), std::invalid_argument);
  CHECK_THROWS_AS(make_pool_layout(VectorCodec::make(KvFormat::parse("bf16"), 128, {}), 1, 24, 1),
                  std::invalid_argument);
}

TEST_CASE("TurboQuant_mse distortion on random unit vectors, d=128 (within 3%)",
          "[quant][accuracy]") {
  const std::uint32_t d = 128;
  const std::size_t n = 3000;
  const auto x = unit_vectors(n, d, 2024);
  const double expected[] = {0.361, 0.116, 0.034, 0.0093};
  for (int b = 1; b <= 4; ++b) {
    const VectorCodec c =
        VectorCodec::make(KvFormat::parse("tq-mse-" + std::to_string(b)), d, dense());
    const double mse = mse_of(c, x, n);
    std::printf("tq-mse-%d  d=128 dense  MSE %.5f (reference %.4f)\n", b, mse, expected[b - 1]);
    CHECK(mse == Approx(expected[b - 1]).epsilon(0.03));
  }
}

TEST_CASE("Hadamard fast path: same MSE on random inputs, deterministic on e1",
          "[quant][accuracy]") {
  const std::uint32_t d = 128;
  const std::size_t n = 2000;
  const auto x = unit_vectors(n, d, 77);
  const double random_ref[] = {0.3610, 0.1153, 0.0341, 0.0094};
  const double e1_ref[] = {0.040, 0.255, 0.061, 0.004};
  std::vector<float> e1(d, 0.0f);
  e1[0] = 1.0f;
  for (int b = 1; b <= 4; ++b) {
    const VectorCodec c = VectorCodec::make(KvFormat::parse("tq-mse-" + std::to_string(b)), d, {});
    CHECK(mse_of(c, x, n) == Approx(random_ref[b - 1]).epsilon(0.04));
    // Every rotated coordinate is ±1/√d: the error is the same for all draws (§7.11).
    const double e = mse_of(c, e1, 1);
    INFO("b=" << b << " e1 mse=" << e);
    CHECK(e == Approx(e1_ref[b - 1]).epsilon(0.06));
  }
}

TEST_CASE("TurboQuant_mse inner products: shrinkage 1 - D and d*E[err^2] near D",
          "[quant][accuracy]") {
  const std::uint32_t d = 128;
  const std::size_t n = 3000;
  const auto x = unit_vectors(n, d, 5), y = unit_vectors(n, d, 6);
  const double dmse[] = {0.361, 0.116, 0.034, 0.0093};
  for (int b = 1; b <= 4; ++b) {
    const VectorCodec c =
        VectorCodec::make(KvFormat::parse("tq-mse-" + std::to_string(b)), d, dense(9));
    std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
    std::vector<float> xt(d);
    double shrink = 0, err2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      c.encode(&x[i * d], code.data(), meta.data());
      c.decode(code.data(), meta.data(), xt.data());
      shrink += dot(&x[i * d], xt.data(), d);
      err2 += std::pow(dot(&y[i * d], xt.data(), d) - dot(&y[i * d], &x[i * d], d), 2);
    }
    INFO("b=" << b);
    CHECK(shrink / n == Approx(1.0 - dmse[b - 1]).epsilon(0.01));
    CHECK(d * err2 / n == Approx(dmse[b - 1]).epsilon(0.1));
  }
}

TEST_CASE("TurboQuant_prod is unbiased with d*Var near 1.54/0.58/0.186/0.053",
          "[quant][accuracy]") {
  // b = 1 is the QJL-only case (no MSE stage): KvFormat names start at tq-prod-2, so it is the
  // codec built from a KvFormat with bits = 1. Variance uses i.i.d. Gaussian S (paper Alg. 2)
  // and a dense Π.
  const std::uint32_t d = 128;
  const std::size_t per_seed = 1000;
  const int seeds = 4;
  const double expected[] = {1.54, 0.58, 0.186, 0.053};
  for (int b = 1; b <= 4; ++b) {
    double sum = 0, sum2 = 0;
    std::size_t n = 0;
    for (int s = 0; s < seeds; ++s) {
      const VectorCodec c = VectorCodec::make(prod_format(b), d, dense(100 + s));
      const auto x = unit_vectors(per_seed, d, 300 + s), y = unit_vectors(per_seed, d, 400 + s);
      std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
      std::vector<float> qw(c.work_width());
      for (std::size_t i = 0; i < per_seed; ++i) {
        c.encode(&x[i * d], code.data(), meta.data());
        c.prepare_query(&y[i * d], qw.data());
        const double err =
            c.score(qw.data(), code.data(), meta.data()) - dot(&y[i * d], &x[i * d], d);
        sum += err;
        sum2 += err * err;
        ++n;
      }
    }
    const double count = static_cast<double>(n);
    const double mean = sum / count, var_d = d * (sum2 / count);
    const double sigma = std::sqrt(sum2 / count - mean * mean);
    std::printf("tq-prod-%d d=128 dense  bias %+.5f  d*E[err^2] %.4f (reference %.3f)\n", b, mean,
                var_d, expected[b - 1]);
    INFO("b=" << b << " mean=" << mean << " d*var=" << var_d);
    CHECK(std::fabs(mean) < 4 * sigma / std::sqrt(count));
    CHECK(var_d == Approx(expected[b - 1]).epsilon(0.10));
  }
}

TEST_CASE("Outlier split: rule picks the loud channels and beats uniform bits on them", "[quant]") {
  const std::uint32_t d = 128;
  const std::size_t n = 400;
  const auto x = heavy_tailed(n, d, 31);
  const auto chosen = select_outlier_channels(x.data(), n, d, d, 32);
  REQUIRE(chosen.size() == 32);
  // heavy_tailed() scales channels j % 16 == 3 by 8: all 8 of them must be chosen.
  for (std::uint32_t j = 3; j < d; j += 16)
    CHECK(std::find(chosen.begin(), chosen.end(), j) != chosen.end());
  CodecOptions o;
  o.outlier_channels = chosen;
  const VectorCodec s25 = VectorCodec::make(KvFormat::parse("tq-2.5"), d, o);
  const VectorCodec s35 = VectorCodec::make(KvFormat::parse("tq-3.5"), d, o);
  const VectorCodec m2 = VectorCodec::make(KvFormat::parse("tq-mse-2"), d, {});
  const VectorCodec m3 = VectorCodec::make(KvFormat::parse("tq-mse-3"), d, {});
  const VectorCodec m4 = VectorCodec::make(KvFormat::parse("tq-mse-4"), d, {});
  const double e25 = mse_of(s25, x, n), e35 = mse_of(s35, x, n);
  const double e2 = mse_of(m2, x, n), e3 = mse_of(m3, x, n), e4 = mse_of(m4, x, n);
  std::printf("heavy-tailed MSE: mse-2 %.3f  tq-2.5 %.3f  mse-3 %.3f  tq-3.5 %.3f  mse-4 %.3f\n",
              e2, e25, e3, e35, e4);
  CHECK(e25 < e2);
  CHECK(e35 < e3);
  CHECK(e35 > e4);
  // Invalid outlier lists are rejected.
  o.outlier_channels = {1, 1};
  CHECK_THROWS(VectorCodec::make(KvFormat::parse("tq-2.5"), d, o));
}

TEST_CASE("Baseline formats round-trip within their precision", "[quant]") {
  const std::uint32_t d = 128;
  const auto x = gaussian(d, 99, 3.0);
  std::vector<float> y(d);
  auto roundtrip = [&](const char* name) {
    const VectorCodec c = VectorCodec::make(KvFormat::parse(name), d, {});
    std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes() + 1);
    c.encode(x.data(), code.data(), meta.data());
    c.decode(code.data(), meta.data(), y.data());
  };
  roundtrip("bf16");
  for (std::uint32_t j = 0; j < d; ++j) CHECK(y[j] == Approx(x[j]).epsilon(1.0 / 256));
  roundtrip("fp16");
  for (std::uint32_t j = 0; j < d; ++j) CHECK(y[j] == Approx(x[j]).epsilon(1.0 / 2048));
  roundtrip("fp8");
  for (std::uint32_t j = 0; j < d; ++j)
    CHECK(y[j] == Approx(x[j]).epsilon(1.0 / 16).margin(1.0 / 512));
  roundtrip("int4-kivi");
  for (std::uint32_t g = 0; g < d; g += 32) {
    float mn = x[g], mx = x[g];
    for (std::uint32_t j = g; j < g + 32; ++j) mn = std::min(mn, x[j]), mx = std::max(mx, x[j]);
    for (std::uint32_t j = g; j < g + 32; ++j)
      CHECK(std::fabs(y[j] - x[j]) <= (mx - mn) / 15 * 0.51 + 1e-2);
  }
}

TEST_CASE("Scalar conversions are exact round trips with round-to-nearest-even", "[numeric]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const auto hb = static_cast<std::uint16_t>(h);
    if (((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff)) continue;  // NaN payloads
    REQUIRE(float_to_half(half_to_float(hb)) == hb);
  }
  for (std::uint32_t c = 0; c < 256; ++c) {
    if ((c & 0x7f) == 0x7f) continue;
    REQUIRE(float_to_fp8_e4m3(fp8_e4m3_to_float(static_cast<std::uint8_t>(c))) == c);
  }
  CHECK(float_to_half(1.0f + 1.0f / 2048) == 0x3c00);     // tie → even
  CHECK(float_to_half(1.0f + 3.0f / 2048) == 0x3c02);     // tie → even (up)
  CHECK(float_to_half(65520.0f) == 0x7c00);               // overflow → inf
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even zero
  CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_bf16(1.0f + 1.0f / 256) == 0x3f80);
  CHECK(float_to_fp8_e4m3(1000.0f) == 0x7e);  // saturate to 448
  CHECK(tree_sum(std::vector<float>{1, 2, 3, 4, 5}.data(), 5) == 15.0f);
}

TEST_CASE("b = 1 TurboQuant_prod is QJL alone: no MSE bits, one sign per channel",
          "[quant][accuracy]") {
  const std::uint32_t d = 128;
  const VectorCodec c = VectorCodec::make(prod_format(1), d, dense(7));
  CHECK(c.desc().seg[0].bits == 0);
  CHECK(c.code_bytes() == d / 8);  // the signs only
  CHECK(c.meta_bytes() == 4);      // ‖x‖ and γ
  // With no MSE stage the residual is the whole (rotated) vector: γ = ‖x‖.
  const auto x = gaussian(d, 8, 2.0);
  std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
  c.encode(x.data(), code.data(), meta.data());
  const double norm = std::sqrt(dot(x.data(), x.data(), d));
  CHECK(half_to_float(static_cast<std::uint16_t>(meta[2] | meta[3] << 8)) ==
        Approx(norm).epsilon(2e-3));
}

TEST_CASE("tq-2.5 / tq-3.5 distortion is the per-segment Lloyd-Max theory (within 3%)",
          "[quant][accuracy]") {
  // Each segment is normalised and quantized on its own with the codebook of its dimension, so
  // E‖x − x̃‖² = Σ_seg ‖x_seg‖² · D_mse(dim_seg, b_seg) up to fp16 norms. Gaussian vectors, dense
  // (Haar) rotations as in the paper; channels [0, d/4) are the outliers.
  const std::uint32_t d = 128, o = 32;
  const std::size_t n = 2000;
  const auto x = gaussian(n * d, 515);
  struct Split {
    const char* name;
    int outlier_bits, regular_bits;
    double paper;  // 1/4·D(b_o) + 3/4·D(b_r) from the d→∞ table (0.361/0.116/0.034/0.0093)
  };
  for (const Split sp : {Split{"tq-2.5", 3, 2, 0.25 * 0.034 + 0.75 * 0.116},
                         Split{"tq-3.5", 4, 3, 0.25 * 0.0093 + 0.75 * 0.034}}) {
    const VectorCodec c = VectorCodec::make(KvFormat::parse(sp.name), d, dense(3));
    REQUIRE(c.desc().seg[0].dim == o);
    REQUIRE(c.desc().seg[0].bits == static_cast<std::uint32_t>(sp.outlier_bits));
    REQUIRE(c.desc().seg[1].bits == static_cast<std::uint32_t>(sp.regular_bits));
    const double d_out = lloyd_max_codebook(o, sp.outlier_bits).mse;
    const double d_reg = lloyd_max_codebook(d - o, sp.regular_bits).mse;
    std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
    std::vector<float> y(d);
    double err = 0, predicted = 0, energy = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float* xi = &x[i * d];
      c.encode(xi, code.data(), meta.data());
      c.decode(code.data(), meta.data(), y.data());
      double e_out = 0, e_reg = 0;
      for (std::uint32_t j = 0; j < d; ++j) {
        err += std::pow(double{y[j]} - xi[j], 2);
        (j < o ? e_out : e_reg) += double{xi[j]} * xi[j];
      }
      predicted += e_out * d_out + e_reg * d_reg;
      energy += e_out + e_reg;
    }
    const double rel = err / energy, theory = predicted / energy;
    std::printf("%s d=128 dense  relative MSE %.5f  theory %.5f  (d→∞ paper figure %.5f)\n",
                sp.name, rel, theory, sp.paper);
    INFO(sp.name << " relative MSE " << rel << " theory " << theory);
    CHECK(rel == Approx(theory).epsilon(0.03));
    // Between the information-theoretic lower bound 4^-b and the paper's √3·π/2·4^-b upper bound,
    // segment by segment.
    for (const auto& [dd, b] :
         {std::pair{d_out, sp.outlier_bits}, std::pair{d_reg, sp.regular_bits}}) {
      CHECK(dd > std::pow(4.0, -b));
      CHECK(dd < std::sqrt(3.0) * M_PI / 2 * std::pow(4.0, -b));
    }
    CHECK(theory == Approx(sp.paper).epsilon(0.06));
  }
}

TEST_CASE("TurboQuant_prod stays unbiased for queries correlated with the keys; mse does not",
          "[quant][accuracy]") {
  // Attention queries point along their keys, which is where TurboQuant_mse's shrinkage
  // (E⟨y, x̃⟩ = (1 − D)·⟨y, x⟩) shows: its bias grows with ⟨y, x⟩. The prod estimator must stay
  // unbiased there. y = ρ·x + √(1 − ρ²)·z, ρ = 0.9, unit x and z.
  // Unbiasedness holds over the draw of S: for one fixed S the estimate of an aligned pair is
  // scaled by about mean_r ‖S_r‖/√d, a ±0.5 % (b = 1) conditional bias that 4 seeds would
  // mistake for a bias of the estimator. So each seed (S and Π) gets few vectors and the standard
  // error is taken across the seeds' means, which includes that variation.
  const std::uint32_t d = 128;
  const std::size_t per_seed = 40;
  const int seeds = 100;
  const double rho = 0.9;
  for (int b = 1; b <= 4; ++b) {
    const int mse_bits = std::max(1, b - 1);
    double sum = 0, sum2 = 0, msum = 0, msum2 = 0;
    for (int s = 0; s < seeds; ++s) {
      CodecOptions o;  // Hadamard Π: cheap to draw per seed; S is i.i.d. Gaussian either way
      o.seed = 5000 + static_cast<std::uint64_t>(s);
      const VectorCodec c = VectorCodec::make(prod_format(b), d, o);
      const VectorCodec m =
          VectorCodec::make(KvFormat::parse("tq-mse-" + std::to_string(mse_bits)), d, o);
      const auto x = unit_vectors(per_seed, d, 7000 + s), z = unit_vectors(per_seed, d, 9000 + s);
      std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
      std::vector<std::uint8_t> mcode(m.code_bytes()), mmeta(m.meta_bytes());
      std::vector<float> y(d), qw(c.work_width()), mqw(m.work_width());
      double e = 0, me = 0;
      for (std::size_t i = 0; i < per_seed; ++i) {
        for (std::uint32_t j = 0; j < d; ++j)
          y[j] = static_cast<float>(rho * x[i * d + j] + std::sqrt(1 - rho * rho) * z[i * d + j]);
        const double truth = dot(y.data(), &x[i * d], d);
        c.encode(&x[i * d], code.data(), meta.data());
        c.prepare_query(y.data(), qw.data());
        e += c.score(qw.data(), code.data(), meta.data()) - truth;
        m.encode(&x[i * d], mcode.data(), mmeta.data());
        m.prepare_query(y.data(), mqw.data());
        me += m.score(mqw.data(), mcode.data(), mmeta.data()) - truth;
      }
      e /= per_seed;
      me /= per_seed;
      sum += e;
      sum2 += e * e;
      msum += me;
      msum2 += me * me;
    }
    const double mean = sum / seeds, se = std::sqrt((sum2 / seeds - mean * mean) / (seeds - 1));
    const double mmean = msum / seeds,
                 mse_se = std::sqrt((msum2 / seeds - mmean * mmean) / (seeds - 1));
    std::printf(
        "correlated queries (rho 0.9) tq-prod-%d bias %+.5f ± %.5f;  tq-mse-%d bias %+.5f\n", b,
        mean, se, mse_bits, mmean);
    INFO("b=" << b << " prod bias " << mean << " ± " << se << ", mse bias " << mmean);
    CHECK(std::fabs(mean) < 4 * se);
    // The same test catches a biased estimator: tq-mse's shrinkage is many standard errors away.
    CHECK(mmean < -8 * mse_se);
  }
}
