// The `simulation:` section: defaults, full schema, and errors that name file:line, key, value
// and what was expected.
#include <catch2/catch.hpp>
#include <string>

#include "jevons/core/error.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {
std::string error_of(const std::string& sim) {
  try {
    sim_scenario(sim);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("simulation section: full schema parses", "[spec]") {
  const Scenario s = sim_scenario(R"(
  duration_s: 600
  warmup_s: 30
  drain: false
  seed_offset: 3
  workload:
    classes:
      - name: chat
        arrival:
          process: gamma
          rate_per_s: 5
          cv: 2.5
          diurnal: {peak_hour: 15, peak_to_trough: 3}
          weekly: [1, 1, 1, 1, 1, 0.6, 0.5]
          spikes: [{start_s: 100, duration_s: 20, multiplier: 4}]
        input_tokens: {dist: lognormal, mean: 1000, cv: 1.2, max: 32000}
        output_tokens: {dist: empirical, values: [10, 100, 1000]}
        slo: {ttft_ms: 500, tpot_ms: 50}
        pools: [h100]
        prefix_groups: 10
        prefix_tokens: 2048
  batching: {max_num_seqs: 128, max_batched_tokens: 4096, chunked_prefill: false, watermark: 0.02}
  preemption: swap
  prefix_cache: {enabled: true, host_tier_gib_per_gpu: 100}
  router: power-of-two
  timing: {model: roofline}
  metrics: {interval_s: 5, per_request: sampled, sample_fraction: 0.5}
)");
  REQUIRE(s.simulation);
  const SimulationSpec& p = *s.simulation;
  CHECK(p.duration_ns == 600'000'000'000);
  CHECK(p.warmup_ns == 30'000'000'000);
  CHECK_FALSE(p.drain);
  REQUIRE(p.classes.size() == 1);
  const auto& c = p.classes[0];
  CHECK(c.arrival.process == ArrivalSpec::Process::kGamma);
  CHECK(c.arrival.cv == 2.5);
  CHECK(c.arrival.weekly.size() == 7);
  CHECK(c.arrival.spikes.size() == 1);
  CHECK(c.input_tokens.kind == LengthDistSpec::Kind::kLognormal);
  CHECK(c.output_tokens.values.size() == 3);
  CHECK(c.slo.ttft_ns == 500'000'000);
  CHECK(p.batching.max_num_seqs == 128);
  CHECK_FALSE(p.batching.chunked_prefill);
  CHECK(p.preemption == PreemptionMode::kSwap);
  CHECK(p.prefix_cache.host_tier_gib_per_gpu == 100);
  CHECK(p.router == RouterKind::kPowerOfTwo);
  CHECK(p.metrics.per_request == MetricsSpec::PerRequest::kSampled);
}

TEST_CASE("simulation section: errors name the place, the value and what was expected", "[spec]") {
  const std::string typo =
      error_of("  duration_s: 60\n  workload: {classes: [{name: a}]}\n  routr: round-robin\n");
  CHECK(typo.find("simulation.routr") != std::string::npos);
  CHECK(typo.find("did you mean 'router'") != std::string::npos);
  CHECK(typo.find("scenario.yaml:") != std::string::npos);

  const std::string pool = error_of("  workload: {classes: [{name: a, pools: [h10]}]}\n");
  CHECK(pool.find("did you mean 'h100'") != std::string::npos);

  const std::string both = error_of("  workload: {classes: [{name: a}], trace: {path: x.csv}}\n");
  CHECK(both.find("not both") != std::string::npos);

  const std::string warm =
      error_of("  duration_s: 10\n  warmup_s: 20\n  workload: {classes: [{name: a}]}\n");
  CHECK(warm.find("warmup_s < duration_s") != std::string::npos);

  const std::string poisson = error_of("  workload: {classes: [{name: a, arrival: {cv: 2}}]}\n");
  CHECK(poisson.find("process: gamma") != std::string::npos);

  const std::string router = error_of("  router: random\n  workload: {classes: [{name: a}]}\n");
  CHECK(router.find("simulation.router") != std::string::npos);
}
