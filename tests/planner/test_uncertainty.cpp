// The band run: the sampling design, quantiles through the pipeline against a known answer,
// determinism across threads and ranks, and the one break-even definition.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/break_even.h"
#include "jevons/planner/projection.h"
#include "jevons/planner/uncertainty.h"

using namespace jevons;
using namespace jevons::planner;

namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

/// Compressed replicas serve `gain` times the tokens of baseline ones (the closed form of
/// test_projection.cpp); with a latency calibration giving the compressed format a decode time
/// t × bf16, the gain is divided by t, so capacity depends on the attention speed.
class FakeOracle : public CapacityOracle {
 public:
  explicit FakeOracle(double gain) : gain_(gain) {}
  ReplicaCapacity capacity(const CapacityQuery& q) override {
    ReplicaCapacity r;
    r.tensor_parallel = 1;
    double gain = q.kv.name() == "bf16" ? 1.0 : gain_;
    if (q.kv.name() != "bf16" && q.latency)
      if (auto sp = q.latency->kv_speed(q.kv.name())) gain /= sp->time_vs_bf16;
    r.tokens_per_s = 1000.0 * gain / q.prompt_scale;
    r.rate_per_s = r.tokens_per_s / 1000;
    r.weight_bytes = 20e9;
    r.kv_bytes_in_use = 40e9;
    r.hbm_bytes = 80.0 * (1 << 30);
    r.method = "fake";
    return r;
  }
  std::string method() const override { return "fake"; }

 private:
  double gain_;
};

std::string scenario_yaml(const std::string& uncertainty, double eps = 1.2,
                          double context_elasticity = 0) {
  return R"(name: band-test
seed: 1
horizon: {start: 2026Q1, quarters: 8}
planner:
  baseline_format: bf16
  compressed_format: tq-3.5
  adoption: {start: 2025Q4, speed_per_quarter: 50, ceiling: 1}
  classes:
    - name: chat
      model: llama-3.1-8b
      tokens_per_s: 1.0e6
      growth_per_year: 2
      input_tokens: {dist: lognormal, mean: 1000, cv: 1}
      output_tokens: {dist: lognormal, mean: 200, cv: 1}
      slo: {ttft_ms: 2000, tpot_ms: 50}
      elasticity: {short_run: )" +
         std::to_string(eps / 2) + ", long_run: " + std::to_string(eps) + R"(, low: 0, high: 3}
      context_elasticity: )" +
         std::to_string(context_elasticity) + R"(
      peak_to_average: 1.5
    - name: code
      model: llama-3.1-8b
      tokens_per_s: 5.0e5
      growth_per_year: 2.5
      input_tokens: {dist: lognormal, mean: 3000, cv: 1}
      output_tokens: {dist: lognormal, mean: 300, cv: 1}
      slo: {ttft_ms: 3000, tpot_ms: 50}
      elasticity: {short_run: 0.5, long_run: 1.0, low: 0, high: 3}
      peak_to_average: 1.5
  fleet:
    generations:
      - {gpu: h100-sxm, installed: 0, deliveries_per_quarter: 1.0e9, weights: bf16}
)" + uncertainty;
}

Scenario load(const std::string& text) {
  return Scenario::parse(text, "band-test.yaml", catalog());
}

Band run_band(const Scenario& s, const UncertaintySpec& spec, unsigned threads,
              std::size_t ranks = 1, bool break_even = false) {
  std::vector<Catalog> speed_catalogs;
  for (double x : speed_grid(spec)) speed_catalogs.push_back(catalog_at_speed(catalog(), s, x));
  std::vector<std::unique_ptr<FakeOracle>> owned;
  std::vector<BandOracles> oracles;
  for (unsigned t = 0; t < threads; ++t) {
    BandOracles o;
    owned.push_back(std::make_unique<FakeOracle>(4.0));
    o.base = owned.back().get();
    for (std::size_t k = 0; k < speed_catalogs.size(); ++k) {
      owned.push_back(std::make_unique<FakeOracle>(4.0));
      o.at_speed.push_back(owned.back().get());
    }
    oracles.push_back(o);
  }
  BandOptions opt;
  opt.break_even = break_even;
  // Ranks: each computes its block, the blocks are concatenated in rank order (as the gather).
  std::vector<SampleOutcome> all;
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto [b, e] = rank_block(spec.samples, r, ranks);
    auto part = run_samples(s, catalog(), spec, speed_catalogs, oracles, b, e, opt);
    for (auto& p : part) all.push_back(SampleOutcome::unpack(p.pack(), p.values.size()));
  }
  return reduce_band(s, spec, all, {}, opt);
}

const BandRow& row(const Band& b, const std::string& series, const std::string& period) {
  for (const auto& r : b.rows)
    if (r.series == series && r.period == period) return r;
  FAIL("no band row " << series << " " << period);
  return b.rows.front();
}

/// A 200-sample band over the uncertainty `inputs` (seed and inputs lines of the section), with
/// the scenario's own final-year installed HBM without and with compression to compare against.
struct OneInputBand {
  double base = 0;       ///< installed HBM without compression at the scenario's values
  double with_base = 0;  ///< the same with compression and its rebound
  Band band;
};

OneInputBand band_of_one_input(const std::string& inputs) {
  const Scenario s = load(scenario_yaml("uncertainty:\n  samples: 200\n" + inputs));
  const auto spec = *read_uncertainty(s);
  FakeOracle oracle(4.0);
  ProjectionProbe probe(s, catalog(), oracle);
  OneInputBand out;
  out.base = final_year_value(probe.counterfactual(), Headline::kHbmInstalled);
  out.with_base = final_year_value(probe.with_rebound(), Headline::kHbmInstalled);
  REQUIRE(out.base > 0);
  out.band = run_band(s, spec, 1);
  return out;
}

}  // namespace

TEST_CASE("a Latin hypercube puts one sample in every stratum of every input", "[band]") {
  const Scenario s = load(scenario_yaml(R"(uncertainty:
  samples: 97
  seed: 5
  inputs:
    elasticity.chat: {dist: uniform, low: 0.5, high: 2}
    growth: {dist: uniform, low: 1, high: 3}
    gpu_price_factor: {dist: triangular, low: 0.5, mode: 1, high: 2}
)"));
  const auto spec = *read_uncertainty(s);
  const auto u = sample_probabilities(spec);
  REQUIRE(u.size() == 97);
  for (std::size_t k = 0; k < 3; ++k) {
    std::set<long> strata;
    for (const auto& row : u) strata.insert(static_cast<long>(std::floor(row[k] * 97)));
    CHECK(strata.size() == 97);
  }
  // Inputs are permuted independently: the first two columns are not in lockstep.
  int same = 0;
  for (const auto& row : u)
    same += static_cast<long>(row[0] * 97) == static_cast<long>(row[1] * 97);
  CHECK(same < 10);
  // Deterministic per seed, different across seeds.
  CHECK(sample_inputs(spec) == sample_inputs(spec));
  auto other = spec;
  other.seed = 6;
  CHECK(sample_inputs(other) != sample_inputs(spec));
  // Monte Carlo draws independently: some strata stay empty at this size.
  other.latin_hypercube = false;
  std::set<long> strata;
  for (const auto& row : sample_probabilities(other)) strata.insert(static_cast<long>(row[0] * 97));
  CHECK(strata.size() < 97);
}

TEST_CASE("rank blocks cover every sample exactly once", "[band]") {
  for (std::size_t n : {0u, 1u, 7u, 1000u})
    for (std::size_t ranks : {1u, 2u, 3u, 8u}) {
      std::size_t next = 0;
      for (std::size_t r = 0; r < ranks; ++r) {
        const auto [b, e] = rank_block(n, r, ranks);
        CHECK(b == next);
        CHECK(e - b <= n / ranks + 1);
        next = e;
      }
      CHECK(next == n);
    }
}

TEST_CASE("quantiles follow type 7 and handle the no-crossing infinities", "[band]") {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  CHECK(quantile_sorted(v, 0.1) == Approx(2));
  CHECK(quantile_sorted(v, 0.5) == Approx(6));
  CHECK(quantile_sorted(v, 0.95) == Approx(10.5));
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(quantile_sorted({-inf, 1, 2, inf, inf}, 0.9) == inf);
  CHECK(quantile_sorted({-inf, 1, 2, inf, inf}, 0.5) == 2);
  CHECK(quantile_sorted({-inf, -inf, 2}, 0.1) == -inf);
}

TEST_CASE("a uniform input with a linear response gives its quantiles through the pipeline",
          "[band]") {
  // HBM per package scales installed HBM and nothing else here (no HBM supply cap), so
  // installed HBM without compression is factor × its base: P10/P50/P90 of uniform(0.8, 1.2)
  // are 0.84, 1.00, 1.16 times the base, to within one LHS stratum (0.4/n of the base).
  const std::size_t n = 200;
  const OneInputBand one = band_of_one_input(
      "  seed: 3\n  inputs:\n    hbm_per_package_factor: {dist: uniform, low: 0.8, high: 1.2}\n");
  const Band& b = one.band;
  const double base = one.base;
  const auto& r = row(b, "hbm_installed_bytes.without", "2027Q4");
  const double tol = 0.4 / static_cast<double>(n) * base;
  CHECK(r.p10 == Approx(0.84 * base).margin(tol));
  CHECK(r.p50 == Approx(1.00 * base).margin(tol));
  CHECK(r.p90 == Approx(1.16 * base).margin(tol));
  // The year period of a stock is its last quarter; the parts add up in every quantile's sample.
  const auto& y = row(b, "hbm_installed_bytes.without", "2027");
  CHECK(y.p50 == r.p50);
  // Installed GPUs do not depend on the factor, so the with-compression series scales too.
  const auto& w = row(b, "hbm_installed_bytes.with", "2027Q4");
  CHECK(w.p50 == Approx(one.with_base).margin(0.4 / n * one.with_base));
}

TEST_CASE("the software efficiency growth reaches the fleet through the band", "[band]") {
  // software_efficiency_growth g divides the GPUs every quarter needs by g^(t/4) (demand fully
  // served here), so installed HBM without compression at 2027Q4 (t = 7) is base · g^(-7/4):
  // its quantiles are that map of uniform(1, 1.5)'s (decreasing, so P10 comes from g's P90),
  // to within one LHS stratum.
  const std::size_t n = 200;
  const OneInputBand one = band_of_one_input(
      "  seed: 4\n  inputs:\n    software_efficiency_growth: {dist: uniform, low: 1.0, high: "
      "1.5}\n");
  const double base = one.base;
  const auto& r = row(one.band, "hbm_installed_bytes.without", "2027Q4");
  auto at = [&](double g) { return base * std::pow(g, -7.0 / 4); };
  // One stratum of g is 0.5/n wide and |d at/dg| < 1.75 · base.
  const double tol = 1.75 * 0.5 / static_cast<double>(n) * base;
  CHECK(r.p10 == Approx(at(1.45)).margin(tol));
  CHECK(r.p50 == Approx(at(1.25)).margin(tol));
  CHECK(r.p90 == Approx(at(1.05)).margin(tol));
}

TEST_CASE("bands are identical across thread and rank counts", "[band]") {
  const Scenario s = load(scenario_yaml(R"(uncertainty:
  samples: 24
  seed: 11
  inputs:
    elasticity: {dist: triangular, low: 0.4, mode: 1.1, high: 2.2}
    growth.code: {dist: lognormal, median: 2.5, sigma: 0.2}
    adoption.ceiling: {dist: uniform, low: 0.5, high: 1}
    gpu_price_factor: {dist: normal, mean: 1, sd: 0.1, low: 0.6, high: 1.4}
    compressed_attention_time: {dist: triangular, low: 0.25, mode: 1, high: 1.5, grid: 3}
)"));
  const auto spec = *read_uncertainty(s);
  const Band one = run_band(s, spec, 1, 1, true);
  for (auto [threads, ranks] : {std::pair{2u, std::size_t{1}}, {3u, 1}, {1u, 2}, {2u, 3}}) {
    INFO(threads << " thread(s), " << ranks << " rank(s)");
    const Band other = run_band(s, spec, threads, ranks, true);
    REQUIRE(other.rows.size() == one.rows.size());
    for (std::size_t i = 0; i < one.rows.size(); ++i) {
      CHECK(other.rows[i].p10 == one.rows[i].p10);  // bit-identical, not approximately
      CHECK(other.rows[i].p50 == one.rows[i].p50);
      CHECK(other.rows[i].p90 == one.rows[i].p90);
    }
    REQUIRE(other.break_even.size() == 3);
    for (std::size_t m = 0; m < 3; ++m) CHECK(other.break_even[m].p50 == one.break_even[m].p50);
  }
  // The band is wide where the inputs are: the net change spreads, and its parts add up.
  const auto& net = row(one, "hbm_installed_bytes.net", "2027Q4");
  CHECK(net.p10 < net.p50);
  CHECK(net.p50 < net.p90);
}

TEST_CASE("the attention speed changes capacity through the grid, interpolated", "[band]") {
  // With the fake oracle, compressed capacity ∝ 1/t: at a grid point the band run gives what
  // the catalog at that speed gives; between points capacity is linear in t.
  const Scenario s = load(scenario_yaml(""));
  std::vector<Catalog> cats;
  for (double x : {0.5, 1.0, 2.0}) cats.push_back(catalog_at_speed(catalog(), s, x));
  FakeOracle base(4.0), o0(4.0), o1(4.0), o2(4.0);
  auto eff_at = [&](double t) {
    ProjectionAdjustments adj;
    adj.speed_grid = {{0.5, &o0, &cats[0].latency()},
                      {1.0, &o1, &cats[1].latency()},
                      {2.0, &o2, &cats[2].latency()}};
    adj.compressed_attention_time = t;
    ProjectionProbe p(s, catalog(), base, adj);
    return final_year_value(p.efficiency(), Headline::kHbmInstalled);
  };
  FakeOracle direct_oracle(4.0);
  ProjectionProbe direct(s, cats[2], direct_oracle);
  CHECK(eff_at(2.0) == Approx(final_year_value(direct.efficiency(), Headline::kHbmInstalled)));
  // Slower attention, less capacity, more GPUs: installed HBM rises with t.
  CHECK(eff_at(0.5) < eff_at(1.0));
  CHECK(eff_at(1.0) < eff_at(1.5));
  CHECK(eff_at(1.5) < eff_at(2.0));
}

TEST_CASE("find_break_even: the first crossing, or none in the range", "[break-even]") {
  const BreakEvenRange r{0, 5, 0.25, 1e-6};
  auto linear = find_break_even([](double e) { return e - 2.1; }, r, 0);
  REQUIRE(linear.found());
  CHECK(linear.elasticity == Approx(2.1).margin(1e-6));
  // Non-monotonic: up through zero at 1.3, back down at 3.2: the first crossing counts.
  auto hump = find_break_even([](double e) { return -(e - 1.3) * (e - 3.2); }, r, 0);
  CHECK(hump.elasticity == Approx(1.3).margin(1e-6));
  auto above = find_break_even([](double) { return 1.0; }, r, 0);
  CHECK(above.status == BreakEvenResult::Status::kAboveAtLow);
  CHECK(std::isnan(above.elasticity));
  CHECK(above.describe() == "none in [0, 5]: raises at every ε");
  auto below = find_break_even([](double e) { return -1 - e; }, r, 0);
  CHECK(below.status == BreakEvenResult::Status::kNoneBelowHigh);
  CHECK(below.ordered_value() == std::numeric_limits<double>::infinity());
  // Within the zero tolerance is not a rise.
  CHECK(find_break_even([](double) { return 1e-12; }, r, 1e-9).status ==
        BreakEvenResult::Status::kNoneBelowHigh);
}

TEST_CASE("one break-even: the projection's, the probe's and the curve's zero agree",
          "[break-even]") {
  // Two classes with different ε and λ: no closed form, so agreement is the test.
  const Scenario s = load(scenario_yaml(""));
  FakeOracle o1(4.0), o2(4.0);
  ProjectionOptions opt;
  const Projection p = project(s, catalog(), o1, opt);
  double stored = std::nan("");
  for (const auto& b : p.break_even)
    if (b.metric == "hbm_installed_bytes" && b.quarter == 7) stored = b.elasticity;
  ProjectionProbe probe(s, catalog(), o2);
  const auto be = probe.break_even(Headline::kHbmInstalled, {0, 5, 0.05, 1e-5});
  REQUIRE(be.found());
  CHECK(stored == Approx(be.elasticity).margin(2e-5));
  // It is where the net-versus-ε curve crosses zero (and the sensitivity rows say so too).
  CHECK(probe.final_year_net_at(be.elasticity - 0.01, Headline::kHbmInstalled) <= 0);
  CHECK(probe.final_year_net_at(be.elasticity + 0.01, Headline::kHbmInstalled) > 0);
  for (const auto& sp : p.sensitivity)
    if (sp.parameter == "elasticity")
      CHECK((sp.hbm_installed_net_bytes > 0) == (sp.value >= be.elasticity));
}

TEST_CASE("with context elasticity and no crossing the break-even is none, never 0",
          "[break-even]") {
  // Longer prompts as tokens cheapen can make compression raise HBM at every ε: the old search
  // reported that as a break-even of 0.
  const Scenario s = load(scenario_yaml("", 1.2, 3.0));
  FakeOracle o(1.05);
  ProjectionProbe probe(s, catalog(), o);
  const auto be = probe.break_even(Headline::kHbmInstalled);
  // Prompts 1.05^3 ≈ 1.16 times longer cut capacity per GPU by more than the 5 % gain.
  REQUIRE(probe.final_year_net_at(0, Headline::kHbmInstalled) > 0);
  CHECK(be.status == BreakEvenResult::Status::kAboveAtLow);
  CHECK(be.describe() == "none in [0, 5]: raises at every ε");
  FakeOracle o2(1.05);
  const Projection p = project(s, catalog(), o2);
  for (const auto& b : p.break_even)
    if (b.metric == "hbm_installed_bytes" && b.quarter == 7) CHECK(std::isnan(b.elasticity));
}

TEST_CASE("the band memo answers as the capacity cache", "[band]") {
  // Tensor parallelism that changes with the prompt scale exercises the per-GPU mixing.
  class Curved : public CapacityOracle {
   public:
    ReplicaCapacity capacity(const CapacityQuery& q) override {
      ReplicaCapacity r;
      r.tensor_parallel = q.prompt_scale > 1.3 ? 2 : 1;
      r.tokens_per_s = 1000.0 / std::sqrt(q.prompt_scale) * r.tensor_parallel;
      r.rate_per_s = r.tokens_per_s / 900;
      r.kv_bytes_in_use = 3e10 * q.prompt_scale;
      r.host_offload_bytes = 1e9 * q.prompt_scale * q.prompt_scale;
      r.host_prefix_bytes = 2e9;
      return r;
    }
    std::string method() const override { return "curved"; }
  };
  const Scenario s = load(scenario_yaml(""));
  Curved inner;
  CachedOracle direct(inner, ""), behind(inner, "");
  auto memo = band_memo(behind);
  CapacityQuery q;
  q.gpu = &catalog().gpu("h100-sxm");
  q.model = &catalog().model("llama-3.1-8b");
  q.kv = s.planner->compressed_format;
  q.demand_class = &s.planner->classes[0];
  for (double scale : {0.7, 1.0, 1.05, 1.189207115002721, 1.31, 1.5, 2.2}) {
    q.prompt_scale = scale;
    const ReplicaCapacity a = direct.capacity(q), b = memo->capacity(q);
    INFO("prompt scale " << scale);
    CHECK(a.tensor_parallel == b.tensor_parallel);
    CHECK(a.tokens_per_s == b.tokens_per_s);
    CHECK(a.kv_bytes_in_use == b.kv_bytes_in_use);
    CHECK(a.host_offload_bytes == b.host_offload_bytes);
    CHECK(a.exact == b.exact);
  }
  // The second pass is answered by the memo alone.
  const auto misses = behind.misses(), hits = behind.hits();
  q.prompt_scale = 1.31;
  memo->capacity(q);
  CHECK(behind.misses() == misses);
  CHECK(behind.hits() == hits);
}
