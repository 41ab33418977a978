// The step-rate fit (timing/step_calibration.h): recovers known rates from data the model
// generated, with and without noise, and refuses unusable input.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "timing/step_calibration.h"

using namespace jevons::sim;

namespace {

// Decode-like (memory-bound) and prefill-like (compute-bound) work for an 8B-class model.
std::vector<StepSample> synthetic(const StepRates& truth, double noise, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  std::vector<StepSample> s;
  const double params = 8e9, bytes = 2 * params;
  for (double batch : {1.0, 4.0, 16.0, 64.0, 256.0})
    for (double ctx : {1024.0, 8192.0}) {
      StepWork w{2 * params * batch + 4 * 32 * 128 * 32 * batch * ctx, bytes,
                 batch * ctx * 131072 * 0.4e-3, batch};
      s.push_back({w, predict_step_ns(w, truth) * (1 + u(rng)), "decode"});
    }
  for (double chunk : {256.0, 1024.0, 4096.0, 8192.0}) {
    StepWork w{2 * params * chunk + 4 * 32 * 128 * 32 * chunk * chunk / 2, bytes, 0, chunk};
    s.push_back({w, predict_step_ns(w, truth) * (1 + u(rng)), "prefill"});
  }
  return s;
}

}  // namespace

TEST_CASE("step fit recovers the rates that generated exact data") {
  const StepRates truth{250e3, 1.0 / 600e3, 1.0 / 3000.0};  // 600 TFLOPS, 3 TB/s, 250 µs
  const auto fit = fit_step_rates(synthetic(truth, 0.0, 1));
  CHECK(fit.points == 14);
  CHECK(fit.rates.overhead_ns == Approx(truth.overhead_ns).epsilon(1e-3));
  CHECK(fit.rates.ns_per_flop == Approx(truth.ns_per_flop).epsilon(1e-3));
  CHECK(fit.rates.ns_per_weight_byte == Approx(truth.ns_per_weight_byte).epsilon(1e-3));
  CHECK(fit.max_abs_rel_error < 1e-4);
}

TEST_CASE("step fit recovers a GEMM efficiency ramp") {
  // Half the large-batch FLOP rate at 6 tokens, as single-threaded Eigen shows on the CPU.
  const StepRates truth{250e3, 1.0 / 600e3, 1.0 / 3000.0, 6.0};
  const auto samples = synthetic(truth, 0.0, 1);
  const auto fit = fit_step_rates(samples);
  CHECK(fit.rates.gemm_half_tokens == Approx(6.0).epsilon(1e-2));
  CHECK(fit.rates.ns_per_flop == Approx(truth.ns_per_flop).epsilon(1e-2));
  CHECK(fit.max_abs_rel_error < 1e-3);
  // Compute-bound at few tokens: the ramp makes a 4-token GEMM (1 + 6/4) = 2.5× its FLOP time.
  const StepWork few{1e15, 1, 0, 4};
  CHECK(predict_step_ns(few, fit.rates) - fit.rates.overhead_ns ==
        Approx(1e15 * fit.rates.ns_per_flop * (1 + fit.rates.gemm_half_tokens / 4)));
}

TEST_CASE("step fit stays close under ±3 % measurement noise") {
  const StepRates truth{400e3, 1.0 / 400e3, 1.0 / 2000.0};
  for (std::uint32_t seed : {2u, 3u, 4u}) {
    const auto samples = synthetic(truth, 0.03, seed);
    const auto fit = fit_step_rates(samples);
    CHECK(fit.rates.ns_per_flop == Approx(truth.ns_per_flop).epsilon(0.06));
    CHECK(fit.rates.ns_per_weight_byte == Approx(truth.ns_per_weight_byte).epsilon(0.06));
    CHECK(fit.mean_abs_rel_error < 0.03);
    // The fit is no worse than the truth on its own data (it minimises the error).
    double truth_sq = 0, fit_sq = 0;
    for (const auto& s : samples) {
      truth_sq += std::pow(std::log(predict_step_ns(s.work, truth) / s.measured_ns), 2);
      fit_sq += std::pow(std::log(predict_step_ns(s.work, fit.rates) / s.measured_ns), 2);
    }
    CHECK(fit_sq <= truth_sq * (1 + 1e-9));
  }
}

TEST_CASE("step fit is deterministic") {
  const auto samples = synthetic({300e3, 1.0 / 500e3, 1.0 / 2500.0}, 0.05, 9);
  const auto a = fit_step_rates(samples), b = fit_step_rates(samples);
  CHECK(a.rates.overhead_ns == b.rates.overhead_ns);
  CHECK(a.rates.ns_per_flop == b.rates.ns_per_flop);
  CHECK(a.rates.ns_per_weight_byte == b.rates.ns_per_weight_byte);
}

TEST_CASE("step fit refuses too few or invalid samples") {
  auto s = synthetic({300e3, 1.0 / 500e3, 1.0 / 2500.0}, 0.0, 1);
  s.resize(3);
  CHECK_THROWS_WITH(fit_step_rates(s), Catch::Contains("at least 4"));
  s = synthetic({300e3, 1.0 / 500e3, 1.0 / 2500.0}, 0.0, 1);
  s[3].measured_ns = -1;
  CHECK_THROWS_WITH(fit_step_rates(s), Catch::Contains("invalid sample"));
  s[3].measured_ns = NAN;
  CHECK_THROWS_WITH(fit_step_rates(s), Catch::Contains("invalid sample"));
}

// ---- From profiles to the latency model ------------------------------------------------------

#include <filesystem>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"
#include "timing/latency_model.h"
#include "timing/profile_calibration.h"

using namespace jevons;

namespace {

// A GPU profile whose steps were produced by known rates through the latency model's own work
// accounting: what a perfectly roofline-shaped H100 would have measured.
Profile synthetic_gpu_profile(const Catalog& cat, const StepRates& truth) {
  Profile p;
  p.meta.device_name = "synthetic H100";
  p.meta.device_kind = "gpu";
  p.meta.gpu_catalog_id = "h100-sxm";
  p.meta.date_utc = "2026-11-23T00:00:00Z";
  for (const char* id : {"llama-3.1-8b", "llama-3.1-70b"})
    for (const char* fmt : {"bf16", "tq-3.5"}) {
      for (std::uint32_t b : {1u, 8u, 32u, 128u})
        for (std::uint64_t ctx : {1024u, 8192u})
          p.steps.push_back({id, "decode", fmt, "bf16", 1, b, b, ctx, 2, 0});
      for (std::uint32_t c : {256u, 1024u, 4096u})
        p.steps.push_back({id, "prefill", fmt, "bf16", 1, 1, c, c, 2, 0});
    }
  for (auto& s : p.steps) {
    const ModelSpec& m = cat.model(s.model_id);
    const KvFootprint kv(m, KvConfig::parse(s.kv_format), 1);
    const sim::LatencyModel lm(cat.gpu("h100-sxm"), m, kv, WeightPrecision::kBf16, 1, {}, {}, {},
                               std::nullopt, nullptr, 1u << 16);
    s.time_ns = predict_step_ns(lm.work(lm.shape_of(s)), truth);
  }
  return p;
}

}  // namespace

TEST_CASE("latency model calibrated on a GPU profile reproduces its steps, and projects others") {
  const Catalog cat = Catalog::load(Catalog::default_dir());
  const StepRates truth{180e3, 1.0 / 520e3, 1.0 / 2900.0};
  const Profile prof = synthetic_gpu_profile(cat, truth);
  const auto cal = calibrate_steps(prof, cat);
  REQUIRE(cal);
  CHECK(cal->fit.points == prof.steps.size());
  CHECK(cal->fit.max_abs_rel_error < 1e-3);
  CHECK(cal->fit.rates.ns_per_flop == Approx(truth.ns_per_flop).epsilon(1e-3));

  const ModelSpec& m = cat.model("llama-3.1-70b");
  const KvFootprint kv(m, KvConfig::parse("tq-3.5"), 1);
  const sim::LatencyModel same(cat.gpu("h100-sxm"), m, kv, WeightPrecision::kBf16, 1, {}, {}, {},
                               std::nullopt, nullptr, 1u << 16, &*cal);
  CHECK(same.step_calibrated());
  CHECK_THAT(same.calibration_source(), !Catch::Contains("projected"));
  for (const auto& s : prof.steps)
    if (s.model_id == m.id && s.kv_format == "tq-3.5")
      CHECK(double(same.step(same.shape_of(s)).time_ns) == Approx(s.time_ns).epsilon(1e-3));

  // B200 at fp8: FLOP rate scaled by the catalog's B200 fp8 / H100 bf16 ratio, bytes by HBM.
  const GpuSpec& b200 = cat.gpu("b200");
  const sim::LatencyModel other(b200, m, kv, WeightPrecision::kFp8, 1, {}, {}, {}, std::nullopt,
                                nullptr, 1u << 16, &*cal);
  CHECK_THAT(other.calibration_source(), Catch::Contains("projected to b200 fp8"));
  sim::StepShape prefill;
  prefill.prefill_seqs = 1;
  prefill.prefill_tokens = 8192;
  prefill.prefill_attention_pairs = 8192.0 * 8193 / 2;
  const double h100_ns = double(same.step(prefill).time_ns) - truth.overhead_ns;
  const double b200_ns = double(other.step(prefill).time_ns) - truth.overhead_ns;
  CHECK(h100_ns / b200_ns ==
        Approx(b200.dense_tflops("fp8") / cat.gpu("h100-sxm").dense_tflops("bf16")).epsilon(0.02));

  // A CPU profile's steps are never applied to a GPU.
  Profile cpu = prof;
  cpu.meta.device_kind = "cpu";
  cpu.meta.device_name = "synthetic CPU";
  const auto ccal = calibrate_steps(cpu, cat);
  REQUIRE(ccal);
  const sim::LatencyModel untouched(cat.gpu("h100-sxm"), m, kv, WeightPrecision::kBf16, 1, {}, {},
                                    {}, std::nullopt, nullptr, 1u << 16, &*ccal);
  CHECK_FALSE(untouched.step_calibrated());
}

TEST_CASE("committed profiles: the calibrated model predicts held-out measured steps") {
  const Catalog cat = Catalog::load(Catalog::default_dir());
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& dir : fs::directory_iterator(Catalog::default_dir() + "/profiles")) {
    const fs::path file = dir.path() / "profile.json";
    if (!fs::exists(file)) continue;
    const Profile prof = Profile::load(file.string());
    const auto samples = step_samples(prof, cat);
    if (samples.size() < 6) continue;
    const auto h = holdout_check(samples);
    INFO(file.string() << ": held-out mean " << h.mean_abs_rel_error << ", max "
                       << h.max_abs_rel_error);
    if (prof.meta.device_kind == "gpu") {
      // The bar: within 10 % of measured step times on the measured GPU.
      CHECK(h.max_abs_rel_error <= 0.10);
    } else {
      // Single-threaded Eigen on the CPU is not roofline-shaped (its GEMM efficiency climbs with
      // the batch), so the CPU profile checks the pipeline at its measured level
      // (docs/validation.md §2), not the 10 % bar.
      CHECK(h.mean_abs_rel_error <= 0.20);  // measured 13.6 %
    }
    ++checked;
  }
  CHECK(checked >= 1);
}
