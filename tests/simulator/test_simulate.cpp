// Whole-simulation invariants: conservation, KV capacity, Little's law, determinism, edge cases,
// preemption (recompute and swap), prefix caching with a host tier, disaggregation, routers.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "jevons/core/error.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {

void check_conservation(const SimulationReport& r) {
  CHECK(r.requests_arrived == r.requests_finished + r.requests_rejected + r.requests_unfinished);
  std::uint64_t arrived = 0, done = 0;
  for (const auto& g : r.groups) {
    arrived += g.arrived;
    done += g.finished + g.rejected + g.unfinished;
  }
  CHECK(arrived == done);
}

void check_kv_within_capacity(const SimulationReport& r) {
  for (const auto& s : r.timeseries) {
    REQUIRE(s.kv_used_bytes <= s.kv_capacity_bytes);
    REQUIRE(s.hbm_kv_bytes <= s.kv_capacity_bytes);
  }
  for (const auto& p : r.pools) {
    CHECK(p.peak_kv_occupancy <= 1.0);
    CHECK(p.mean_kv_occupancy <= 1.0);
  }
}

// A busy chat workload on one H100 replica: enough to fill KV and batch deeply.
const std::string kBusy = R"(
  duration_s: 120
  warmup_s: 10
  workload:
    classes:
      - name: chat
        arrival: {process: gamma, rate_per_s: 12, cv: 2}
        input_tokens: {dist: lognormal, mean: 1500, cv: 1.0, max: 30000}
        output_tokens: {dist: lognormal, mean: 300, cv: 1.0, max: 4000}
        slo: {ttft_ms: 2000, tpot_ms: 80}
  metrics: {interval_s: 1}
)";

}  // namespace

TEST_CASE("conservation, KV capacity and Little's law on a busy replica", "[simulate]") {
  const SimulationReport r = run_sim(kBusy);
  REQUIRE(r.requests_arrived > 1000);
  check_conservation(r);
  check_kv_within_capacity(r);
  CHECK(r.requests_unfinished == 0);  // drained
  REQUIRE(r.pools.size() == 1);
  const PoolMetrics& p = r.pools[0];
  CHECK(p.steps > 0);
  CHECK(p.mean_batch_sequences > 1);
  CHECK(p.energy_j > 0);
  // Little's law on the waiting queues: time-average length = arrival rate × mean wait.
  REQUIRE(p.mean_queue_delay_ns > 0);
  CHECK(p.mean_queue_length ==
        Approx(p.arrival_rate_per_s * p.mean_queue_delay_ns * 1e-9).epsilon(1e-6));
  REQUIRE(r.groups.size() == 1);
  const GroupMetrics& g = r.groups[0];
  CHECK(g.ttft.p50_ns <= g.ttft.p90_ns);
  CHECK(g.ttft.p90_ns <= g.ttft.p99_ns);
  CHECK(g.e2e.p50_ns >= g.ttft.p50_ns);
  CHECK(g.throughput_tokens_per_s > 0);
  CHECK(g.goodput_requests_per_s <= g.throughput_requests_per_s);
}

TEST_CASE("same scenario and seed: identical results; another seed: different",
          "[simulate][determinism]") {
  const SimulationReport a = run_sim(kBusy);
  const SimulationReport b = run_sim(kBusy);
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.events == b.events);
  CHECK(a.requests_finished == b.requests_finished);
  REQUIRE(a.groups.size() == b.groups.size());
  CHECK(a.groups[0].ttft.p99_ns == b.groups[0].ttft.p99_ns);
  CHECK(a.groups[0].e2e.mean_ns == b.groups[0].e2e.mean_ns);
  CHECK(a.pools[0].energy_j == b.pools[0].energy_j);
  const SimulationReport c = run_sim(kBusy, kOnePool, 43);
  CHECK(c.fingerprint != a.fingerprint);
  CHECK(c.requests_arrived != a.requests_arrived);
}

TEST_CASE("edge cases: empty trace, zero rate, a request larger than KV", "[simulate][edge]") {
  SECTION("empty trace: refused, not run as an idle fleet") {
    CHECK_THROWS_WITH(run_sim("  duration_s: 60\n  workload: {trace: {path: empty.csv}}\n"),
                      Catch::Contains("empty.csv: the trace has no requests"));
  }
  SECTION("zero rate") {
    const auto r = run_sim(
        "  duration_s: 60\n  workload: {classes: [{name: idle, arrival: {rate_per_s: 0}}]}\n");
    CHECK(r.requests_arrived == 0);
    CHECK(r.pools[0].energy_j > 0);  // idle power still counts
    CHECK(r.pools[0].steps == 0);
  }
  SECTION("a request longer than the whole KV capacity is rejected, never hangs") {
    // Llama-3.1-8B bf16 on one H100: ~55 GiB of KV at 128 KiB per token ≈ 450k tokens.
    const auto r = run_sim(R"(
  duration_s: 10
  workload:
    classes:
      - name: huge
        arrival: {rate_per_s: 2}
        input_tokens: 2000000
        output_tokens: 10
      - name: small
        arrival: {rate_per_s: 2}
        input_tokens: 100
        output_tokens: 10
)");
    check_conservation(r);
    std::uint64_t rejected = 0, finished = 0;
    for (const auto& g : r.groups) {
      if (g.class_name == "huge") {
        rejected += g.rejected;
        CHECK(g.finished == 0);
      } else {
        finished += g.finished;
        CHECK(g.rejected == 0);
      }
    }
    CHECK(rejected > 5);
    CHECK(finished > 5);
  }
}

TEST_CASE("KV pressure: recompute and swap preemption keep every invariant",
          "[simulate][preemption]") {
  // A small KV budget (utilization 0.3) and long outputs force preemption.
  const std::string pools = R"(
pools:
  - name: h100
    gpu: h100-sxm
    model: llama-3.1-8b
    gpus: 1
    memory: {utilization: 0.3}
)";
  for (const char* mode : {"recompute", "swap"}) {
    const auto r = run_sim(std::string(R"(
  duration_s: 60
  preemption: )") + mode + R"(
  workload:
    classes:
      - name: long
        arrival: {rate_per_s: 4}
        input_tokens: {dist: lognormal, mean: 2000, cv: 0.5}
        output_tokens: {dist: lognormal, mean: 2000, cv: 0.5, max: 8000}
  metrics: {interval_s: 0.5}
)",
                           pools);
    INFO(mode);
    check_conservation(r);
    check_kv_within_capacity(r);
    CHECK(r.requests_unfinished == 0);
    CHECK(r.pools[0].preemptions > 0);
    if (std::string(mode) == "swap") {
      CHECK(r.pools[0].swaps_out > 0);
      CHECK(r.pools[0].swaps_in == r.pools[0].swaps_out);
      bool used_host = false;
      for (const auto& s : r.timeseries) used_host = used_host || s.host_swap_bytes > 0;
      CHECK(used_host);
    } else {
      CHECK(r.pools[0].swaps_out == 0);
    }
  }
}

TEST_CASE("prefix cache: shared prompts hit, and the host tier holds evicted blocks",
          "[simulate][prefix]") {
  const std::string pools = R"(
pools:
  - name: h100
    gpu: h100-sxm
    model: llama-3.1-8b
    gpus: 1
    memory: {utilization: 0.35}
)";
  const std::string sim = R"(
  duration_s: 120
  prefix_cache: {enabled: true, host_tier_gib_per_gpu: 64}
  workload:
    classes:
      - name: agents
        arrival: {rate_per_s: 6}
        prefix_groups: 40
        prefix_tokens: 8192
        input_tokens: 300
        output_tokens: 100
  metrics: {interval_s: 1}
)";
  const auto r = run_sim(sim, pools);
  check_conservation(r);
  check_kv_within_capacity(r);
  REQUIRE(r.groups.size() == 1);
  const auto& g = r.groups[0];
  CHECK(g.prefix_hit_rate > 0.3);
  CHECK(g.prefix_hit_rate <= 1.0);
  CHECK(g.prefix_hit_tokens_host > 0);  // 40 × 8k-token prefixes overflow the HBM tier
  bool host = false;
  for (const auto& s : r.timeseries) host = host || s.host_prefix_bytes > 0;
  CHECK(host);
  // Without the cache, the same workload computes every prompt token.
  std::string off = sim;
  off.replace(off.find("enabled: true"), 13, "enabled: false");
  const auto r0 = run_sim(off, pools);
  CHECK(r0.groups[0].prefix_hit_rate == 0);
  CHECK(r0.groups[0].ttft.mean_ns > g.ttft.mean_ns);
}

TEST_CASE("prefill/decode disaggregation moves the KV and finishes everything",
          "[simulate][disagg]") {
  const std::string pools = R"(
pools:
  - {name: prefill, gpu: h100-sxm, model: llama-3.1-8b, gpus: 2}
  - {name: decode, gpu: h100-sxm, model: llama-3.1-8b, gpus: 2}
)";
  const auto r = run_sim(R"(
  duration_s: 60
  disaggregation: {prefill_pools: [prefill], decode_pools: [decode], link: network, network_gbps: 50}
  workload:
    classes:
      - name: chat
        arrival: {rate_per_s: 10}
        input_tokens: 2000
        output_tokens: 200
)",
                         pools);
  check_conservation(r);
  CHECK(r.requests_unfinished == 0);
  REQUIRE(r.pools.size() == 2);
  CHECK(r.pools[0].role == "prefill");
  CHECK(r.pools[1].role == "decode");
  CHECK(r.pools[0].kv_transfers == r.requests_finished);
  CHECK(r.pools[1].output_tokens > r.pools[0].output_tokens);  // decode pool makes most tokens
}

TEST_CASE("every router runs, mixed pools share a class", "[simulate][routing]") {
  const std::string pools = R"(
pools:
  - {name: h100, gpu: h100-sxm, model: llama-3.1-8b, gpus: 4}
  - {name: h200, gpu: h200, model: llama-3.1-8b, gpus: 2}
)";
  for (const char* router :
       {"round-robin", "least-outstanding", "least-kv", "power-of-two", "prefix-affinity"}) {
    INFO(router);
    const auto r = run_sim(std::string("  duration_s: 30\n  router: ") + router + R"(
  prefix_cache: {enabled: true}
  workload:
    classes:
      - {name: a, arrival: {rate_per_s: 30}, input_tokens: 1200, output_tokens: 100, prefix_groups: 8, prefix_tokens: 1024}
)",
                           pools);
    check_conservation(r);
    CHECK(r.requests_unfinished == 0);
    REQUIRE(r.pools.size() == 2);
    CHECK(r.pools[0].steps > 0);
    CHECK(r.pools[1].steps > 0);
  }
}

TEST_CASE("per-request rows: all, sampled, off", "[simulate][rows]") {
  const std::string base =
      "  duration_s: 20\n  workload: {classes: [{name: a, arrival: {rate_per_s: 50}, input_tokens: "
      "100, output_tokens: 20}]}\n";
  const auto all = run_sim(base + "  metrics: {per_request: all}\n");
  CHECK(all.requests.size() == all.requests_arrived);
  for (const auto& row : all.requests) {
    REQUIRE(row.finish_ns >= row.first_token_ns);
    REQUIRE(row.first_token_ns >= row.first_scheduled_ns);
    REQUIRE(row.first_scheduled_ns >= row.arrival_ns);
  }
  const auto some = run_sim(base + "  metrics: {per_request: sampled, sample_fraction: 0.1}\n");
  CHECK(static_cast<double>(some.requests.size()) ==
        Approx(0.1 * static_cast<double>(some.requests_arrived)).epsilon(0.25));
  CHECK(run_sim(base).requests.empty());
}

TEST_CASE("without drain, requests in flight at the end are counted unfinished",
          "[simulate][edge]") {
  const auto r = run_sim(R"(
  duration_s: 5
  drain: false
  workload: {classes: [{name: a, arrival: {rate_per_s: 20}, input_tokens: 500, output_tokens: 2000}]}
)");
  check_conservation(r);
  CHECK(r.requests_unfinished > 0);
}
