// The benchmark set-ups of issue 12: closed loop at fixed concurrency (benchmark_serving), the
// server rate search, per-pool engine settings with reserve (no-evict) admission.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/published.h"
#include "jevons/simulator/published.h"
#include "jevons/simulator/rate_search.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {

std::string closed_loop(int concurrency, int requests, const std::string& extra = "") {
  return R"(  duration_s: 100000
  workload:
    classes:
      - name: bench
        arrival: {concurrency: )" +
         std::to_string(concurrency) + ", requests: " + std::to_string(requests) + R"(}
        input_tokens: {dist: uniform, min: 800, max: 1000}
        output_tokens: {dist: uniform, min: 100, max: 200}
)" + extra +
         "  metrics: {interval_s: 100000}\n";
}

std::string error_of(const std::string& sim, const std::string& pools = kOnePool) {
  try {
    sim_scenario(sim, pools);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// P(W ≤ t) for M/D/1 with arrival rate `lambda` and service `d` (Erlang, 1909):
// (1 − ρ) Σ_{k=0}^{⌊t/d⌋} (λ(kd − t))^k / k! · e^{−λ(kd − t)}.
double md1_wait_cdf(double lambda, double d, double t) {
  const int n = static_cast<int>(std::floor(t / d + 1e-12));
  double s = 0, fact = 1;
  for (int k = 0; k <= n; ++k) {
    if (k > 0) fact *= k;
    const double x = lambda * (k * d - t);
    s += std::pow(x, k) / fact * std::exp(-x);
  }
  return (1 - lambda * d) * s;
}

}  // namespace

TEST_CASE("closed loop: Little's law, concurrency = throughput × mean latency", "[closed-loop]") {
  const int n = 16, requests = 2000;
  const auto r = run_sim(closed_loop(n, requests));
  REQUIRE(r.groups.size() == 1);
  const auto& g = r.groups[0];
  CHECK(r.requests_arrived == requests);
  CHECK(g.finished == static_cast<std::uint64_t>(requests));
  // Throughput is over the time to the last completion, so finished / throughput is that time.
  CHECK(static_cast<double>(g.finished) / g.throughput_requests_per_s ==
        Approx(static_cast<double>(g.last_finish_ns) * 1e-9).epsilon(1e-9));
  // n clients are always waiting on a request except in the last round, when they run out
  // (about 1/125 of the run), so X·W sits just under n.
  const double l = g.throughput_requests_per_s * g.e2e.mean_ns * 1e-9;
  CHECK(l == Approx(n).epsilon(0.015));
  CHECK(l <= n);
  // Lengths are drawn in the given ranges, ignore_eos (default) keeps them exact.
  CHECK(g.output_tokens >= 100ull * requests);
  CHECK(g.output_tokens <= 200ull * requests);
  CHECK(g.throughput_tokens_per_s == Approx(static_cast<double>(g.output_tokens) /
                                            (static_cast<double>(g.last_finish_ns) * 1e-9))
                                         .epsilon(1e-9));
}

TEST_CASE("closed loop at concurrency 1 reproduces a single request's latency", "[closed-loop]") {
  const std::string fixed = R"(  duration_s: 100000
  workload:
    classes:
      - name: bench
        arrival: {ARRIVAL}
        input_tokens: 1024
        output_tokens: 128
  metrics: {interval_s: 100000}
)";
  auto with = [&](const std::string& arrival) {
    std::string s = fixed;
    s.replace(s.find("ARRIVAL"), 7, arrival);
    return run_sim(s);
  };
  const auto alone = with("offline_requests: 1");
  const auto loop = with("concurrency: 1, requests: 20");
  REQUIRE(alone.groups.size() == 1);
  REQUIRE(loop.groups.size() == 1);
  const auto& a = alone.groups[0];
  const auto& l = loop.groups[0];
  CHECK(l.finished == 20);
  // Each request runs alone on an idle replica: the same steps, to the nanosecond.
  CHECK(l.e2e.mean_ns == a.e2e.mean_ns);
  CHECK(l.e2e.max_ns == a.e2e.max_ns);
  CHECK(l.ttft.mean_ns == a.ttft.mean_ns);
  CHECK(l.queue.max_ns == 0);
  CHECK(static_cast<double>(l.last_finish_ns) == Approx(20 * a.e2e.mean_ns).epsilon(1e-12));
}

TEST_CASE("closed loop: without ignore_eos the model stops at its own end", "[closed-loop]") {
  const auto eos = run_sim(closed_loop(4, 200,
                                       "        ignore_eos: false\n"
                                       "        eos_output_tokens: 50\n"));
  REQUIRE(eos.groups.size() == 1);
  CHECK(eos.groups[0].output_tokens == 50ull * 200);  // min(max_tokens ≥ 100, EOS at 50)
  const auto longer = run_sim(closed_loop(4, 200,
                                          "        ignore_eos: false\n"
                                          "        eos_output_tokens: 1000\n"));
  const auto ignored = run_sim(closed_loop(4, 200));
  // An EOS past every max_tokens changes nothing: the same draws, the same run.
  CHECK(longer.groups[0].output_tokens == ignored.groups[0].output_tokens);
  CHECK(longer.fingerprint != 0);
}

TEST_CASE("closed loop and engine settings: bad input names the key", "[closed-loop][spec]") {
  CHECK_THAT(error_of(R"(  workload:
    classes:
      - name: c
        arrival: {concurrency: 8}
)"),
             Catch::Contains("simulation.workload.classes[0].arrival.requests") &&
                 Catch::Contains("--num-prompts"));
  CHECK_THAT(error_of(R"(  workload:
    classes:
      - name: c
        arrival: {concurrency: 8, requests: 10, offline_requests: 5}
)"),
             Catch::Contains("not both"));
  CHECK_THAT(error_of(R"(  workload:
    classes:
      - name: c
        ignore_eos: false
)"),
             Catch::Contains("ignore_eos") && Catch::Contains("eos_output_tokens"));
  CHECK_THAT(
      error_of(R"(  workload: {classes: [{name: c}]}
  pool_engines:
    h10: {max_num_seqs: 4}
)"),
      Catch::Contains("simulation.pool_engines.h10") && Catch::Contains("did you mean 'h100'"));
  CHECK_THAT(error_of(R"(  workload: {classes: [{name: c}]}
  batching: {admission: guaranteed}
)"),
             Catch::Contains("simulation.batching.admission") && Catch::Contains("reserve"));
}

namespace {

// Two identical pools of one H100 each serving Llama-3.1-8B, each fed its own class of 600
// requests of ~1,000 + 4,000 tokens at t = 0: 600 × 5,000 tokens is several times the KV
// capacity of one replica, so admission decides how many run at once.
const std::string kTwoPools = R"(
pools:
  - {name: trt, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}
  - {name: vllm, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}
)";

std::string pressure(const std::string& engines) {
  return R"(  duration_s: 1
  max_drain_s: 100000
  batching: {max_num_seqs: 1024}
)" + engines +
         R"(  workload:
    classes:
      - {name: a, arrival: {offline_requests: 600}, input_tokens: 1000, output_tokens: 4000, pools: [trt]}
      - {name: b, arrival: {offline_requests: 600}, input_tokens: 1000, output_tokens: 4000, pools: [vllm]}
  metrics: {interval_s: 100000}
)";
}

}  // namespace

TEST_CASE("reserve admission never preempts and runs fewer requests at once under KV pressure",
          "[admission]") {
  const auto r = run_sim(pressure("  pool_engines:\n    trt: {admission: reserve}\n"), kTwoPools);
  REQUIRE(r.pools.size() == 2);
  const auto& trt = r.pools[0];
  const auto& vllm = r.pools[1];
  CHECK(r.requests_finished == 1200);
  CHECK(trt.preemptions == 0);
  CHECK(vllm.preemptions > 0);
  // The whole output is reserved up front: fewer sequences fit at once.
  CHECK(trt.mean_batch_sequences < vllm.mean_batch_sequences);
  // A reserved request holds 5,000 tokens' blocks from admission: the number running is at
  // most the capacity over that.
  const double kv_tokens = static_cast<double>(trt.kv_capacity_bytes_per_gpu) /
                           (128.0 * 1024);  // bf16 Llama-3.1-8B: 128 KiB per token
  CHECK(trt.mean_batch_sequences <= kv_tokens / 5000 + 1);
  CHECK(trt.peak_kv_occupancy <= 1.0);
  // Both pools produced every token.
  CHECK(trt.output_tokens == 600ull * 4000);
  CHECK(vllm.output_tokens >= 600ull * 4000);  // recompute re-emits nothing but re-prefills
  // Swapping the settings swaps the outcomes: each pool honours its own.
  const auto s = run_sim(pressure("  pool_engines:\n    vllm: {admission: reserve}\n"), kTwoPools);
  CHECK(s.pools[1].preemptions == 0);
  CHECK(s.pools[0].preemptions == vllm.preemptions);
  CHECK(s.pools[0].mean_batch_sequences == Approx(vllm.mean_batch_sequences));
  CHECK(s.pools[1].mean_batch_sequences == Approx(trt.mean_batch_sequences));
}

TEST_CASE("per-pool batch caps and token budgets are honoured independently", "[admission]") {
  const std::string sim = R"(  duration_s: 1
  max_drain_s: 100000
  batching: {max_num_seqs: 256, max_batched_tokens: 8192}
  pool_engines:
    trt: {max_num_seqs: 4}
    vllm: {max_batched_tokens: 512, chunked_prefill: true}
  workload:
    classes:
      - {name: a, arrival: {offline_requests: 64}, input_tokens: 2000, output_tokens: 64, pools: [trt]}
      - {name: b, arrival: {offline_requests: 64}, input_tokens: 2000, output_tokens: 64, pools: [vllm]}
  metrics: {interval_s: 100000}
)";
  const Scenario sc = sim_scenario(sim, kTwoPools);
  const auto& spec = *sc.simulation;
  CHECK(spec.batching_for("trt").max_num_seqs == 4);
  CHECK(spec.batching_for("trt").max_batched_tokens == 8192);  // inherited
  CHECK(spec.batching_for("vllm").max_num_seqs == 256);        // inherited
  CHECK(spec.batching_for("vllm").max_batched_tokens == 512);
  const auto r = simulate(sc, sim_catalog(), std::nullopt);
  CHECK(r.requests_finished == 128);
  CHECK(r.pools[0].mean_batch_sequences <= 4.0);
  CHECK(r.pools[0].mean_batch_sequences > 3.0);
  // A 512-token budget prefills a 2,000-token prompt in 4 chunks: at least 64 × 4 prefill
  // steps, plus 63 decode steps for the last request; the 8,192-token pool needs far fewer.
  CHECK(r.pools[1].steps >= 64 * 4);
  CHECK(r.pools[1].mean_batch_sequences > 4.0);
}

TEST_CASE("rate search finds the M/D/1 rate where p99 TTFT meets its limit", "[rate-search]") {
  // One replica, one sequence at a time, a constant 10 ms step, one output token: each request
  // is served in exactly one step, an M/D/1 queue with D = 10 ms. TTFT = wait + D, so the p99
  // TTFT limit of 100 ms is a p99 wait of 90 ms, met up to λ* where P(W ≤ 90 ms) = 0.99.
  const double d = 0.010, limit = 0.100;
  double lo = 1, hi = 1 / d - 1e-6;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (md1_wait_cdf(mid, d, limit - d) >= 0.99 ? lo : hi) = mid;
  }
  const double expected = lo;  // 77.35 requests/s, ρ = 0.77
  CHECK(expected == Approx(77.35).epsilon(0.001));
  const Scenario sc = sim_scenario(R"(  duration_s: 2000
  warmup_s: 100
  batching: {max_num_seqs: 1}
  timing: {model: constant, constant_step_ms: 10}
  workload:
    classes:
      - {name: q, arrival: {rate_per_s: 10}, input_tokens: 16, output_tokens: 1}
  metrics: {interval_s: 100000}
)");
  RateSearchOptions o;
  o.p99_ttft_ms = 100;
  o.bisections = 10;
  const RateSearchResult r = search_max_rate(sc, sim_catalog(), o);
  REQUIRE(r.best);
  // Bracketed by doubling from 10/s (10, 20, 40 pass, 80 fails), then bisected to 0.04/s.
  CHECK(r.probes.size() == 4 + 10);
  CHECK(r.rate_per_s == Approx(expected).epsilon(0.03));
  for (const auto& p : r.probes) {
    // Every probe below the answer passed, every one above it failed on the TTFT limit.
    if (p.rate_per_s <= r.rate_per_s) CHECK(p.passed);
    if (p.rate_per_s > r.rate_per_s) {
      CHECK_FALSE(p.passed);
      CHECK_THAT(p.reason, Catch::Contains("p99 TTFT"));
    }
  }
  // The same search bisecting under a given upper bound finds the same rate.
  o.upper_rate_per_s = 100;
  const RateSearchResult b = search_max_rate(sc, sim_catalog(), o);
  CHECK(b.probes.size() == 10);
  CHECK(b.rate_per_s == Approx(expected).epsilon(0.03));
}

TEST_CASE("rate search: an overloaded run that meets its p99 limits is not in steady state",
          "[rate-search]") {
  // ρ = 1.05: the queue grows for the whole window. With only a TPOT limit (one output token:
  // no TPOT at all) every latency limit holds, and only the growth test can refuse the rate.
  const Scenario sc = sim_scenario(R"(  duration_s: 1000
  warmup_s: 100
  batching: {max_num_seqs: 1}
  timing: {model: constant, constant_step_ms: 10}
  workload:
    classes:
      - {name: q, arrival: {rate_per_s: 105}, input_tokens: 16, output_tokens: 1}
  metrics: {interval_s: 100000}
)");
  RateSearchOptions o;
  o.p99_tpot_ms = 50;
  const RateProbe over = probe_rate(sc, sim_catalog(), 105, o);
  CHECK(over.limits_met);
  CHECK_FALSE(over.steady);
  CHECK_FALSE(over.passed);
  CHECK(over.queue_end_ns > 1.5 * over.queue_mid_ns);
  CHECK_THAT(over.reason, Catch::Contains("steady state"));
  const RateProbe under = probe_rate(sc, sim_catalog(), 70, o);  // ρ = 0.7
  CHECK(under.steady);
  CHECK(under.passed);
  o.steady_state_check = false;
  CHECK(probe_rate(sc, sim_catalog(), 105, o).passed);
}

TEST_CASE("rate search refuses a workload without a rate to scale", "[rate-search]") {
  const Scenario sc = sim_scenario(closed_loop(4, 10));
  RateSearchOptions o;
  o.p99_ttft_ms = 100;
  CHECK_THROWS_WITH(search_max_rate(sc, sim_catalog(), o),
                    Catch::Contains("closed-loop") && Catch::Contains("arrival"));
}

TEST_CASE("published suite: a closed_loop row at concurrency 1 runs each request alone",
          "[closed-loop][published]") {
  // A closed_loop row at concurrency 1 issues its requests one after another, each alone on the
  // replica: its throughput is that of one request served alone (a static row of one request),
  // whatever the number of requests.
  PublishedRow r;
  r.id = "cl";
  r.gpu_id = "h100-sxm";
  r.model_id = "llama-3.1-8b";
  r.weights = WeightPrecision::kBf16;
  r.kv_format = "bf16";
  r.input_tokens.value = 1024;
  r.output_tokens.value = 128;
  r.published_tok_s_per_gpu = 1;
  r.scenario = "static";
  r.requests = 1;
  const PublishedOutcome alone = run_published_row(r, sim_catalog());
  r.scenario = "closed_loop";
  r.concurrency = 1;
  r.requests = 12;
  const PublishedOutcome loop = run_published_row(r, sim_catalog());
  CHECK(alone.simulated > 0);
  CHECK(loop.simulated == Approx(alone.simulated).epsilon(1e-9));
  // More clients share the steps: more tokens per second, each request slower.
  r.concurrency = 8;
  r.requests = 96;
  CHECK(run_published_row(r, sim_catalog()).simulated > 4 * alone.simulated);
}

TEST_CASE("published suite: closed_loop rows need a concurrency", "[closed-loop][published]") {
  const std::string path = "published_closed_loop_bad.yaml";
  {
    std::ofstream f(path);
    f << "sources: {s: x}\nrows:\n  - {id: A, source: s, gpu: h100-sxm, model: llama-3.1-8b, "
         "scenario: closed_loop, requests: 10, tok_s_per_gpu: 5}\n"
         "  - {id: B, source: s, gpu: h100-sxm, model: llama-3.1-8b, "
         "scenario: offline, concurrency: 4, requests: 10, tok_s_per_gpu: 5}\n";
  }
  std::string m;
  try {
    load_published_suite(path, sim_catalog());
  } catch (const InputError& e) {
    m = e.what();
  }
  std::remove(path.c_str());
  CHECK_THAT(m, Catch::Contains("rows[0].concurrency") && Catch::Contains("--max-concurrency"));
  CHECK_THAT(m, Catch::Contains("rows[1].concurrency") && Catch::Contains("only on closed_loop"));
}
