// The latency model against published measurements (data/published/, docs/validation.md §3):
// the H100 step times within 10 % with the committed data/latency-model.yaml, and the suite's
// machinery (offline runs, bad input, the fit's determinism).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/published.h"
#include "jevons/simulator/published.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {
std::string data_dir() {
  return JEVONS_TEST_DATA_DIR;
}
}  // namespace

TEST_CASE("H100 Llama-3.1-8B step times are reproduced within 10 % by the calibrated model",
          "[published][validation]") {
  const Catalog cat = Catalog::load(data_dir());
  REQUIRE_FALSE(cat.latency().empty());
  const PublishedSteps steps =
      load_published_steps(data_dir() + "/published/h100-llama31-8b-steps.json");
  REQUIRE(steps.steps.size() == 13);
  const auto pred = predict_published_steps(steps, cat);
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const auto& s = steps.steps[i];
    INFO(s.phase << " batch " << s.batch << " tokens " << s.context_tokens << ": measured "
                 << s.measured_ms << " ms, model " << pred[i] << " ms");
    CHECK(std::abs(pred[i] / s.measured_ms - 1) <= 0.10);
  }
}

TEST_CASE("the roofline defaults miss the H100 step times the calibration reproduces",
          "[published][validation]") {
  // The same steps with `latency_model: roofline` (no latency-model.yaml): batch-1 decode is
  // well below the measured 6.53 ms (no per-layer costs), which is why the file exists.
  Catalog cat = Catalog::load(data_dir());
  cat.latency() = LatencyCalibration{};
  const PublishedSteps steps =
      load_published_steps(data_dir() + "/published/h100-llama31-8b-steps.json");
  const auto pred = predict_published_steps(steps, cat);
  CHECK(pred[0] / steps.steps[0].measured_ms - 1 < -0.10);
}

TEST_CASE("latency-model.yaml: GPUs without an entry use the defaults, and say so", "[published]") {
  const Catalog cat = Catalog::load(data_dir());
  const LatencyParams fitted = cat.latency().resolve("h100-sxm", "bf16");
  CHECK(fitted.gpu_fitted);
  const LatencyParams projected = cat.latency().resolve("rubin", "fp4");
  CHECK_FALSE(projected.gpu_fitted);
  CHECK(projected.description.find("projected") != std::string::npos);
  CHECK(projected.gemm_efficiency ==
        Approx(cat.latency().defaults().gemm_efficiency.at("fp4").value));
  // Every TurboQuant format has an explicit decode speed: never silently the byte floor.
  for (const char* f : {"tq-2.5", "tq-3.5", "tq-mse-4", "fp8"}) {
    INFO(f);
    CHECK(cat.latency().kv_speed(f).has_value());
  }
}

TEST_CASE("GPUs without an entry take their architecture's, then their vendor's fitted figures",
          "[published]") {
  const Catalog cat = Catalog::load(data_dir());
  const LatencyCalibration& lc = cat.latency();
  auto own = [&](const char* gpu, const char* prec) {
    return lc.gpus().at(gpu).gemm_efficiency.at(prec).value;
  };
  // Same die: the H200 at bf16 (no entry of its own) is the H100 at bf16, not a pooled mean.
  const LatencyParams h200 = lc.resolve("h200", "bf16");
  CHECK_FALSE(h200.gpu_fitted);
  CHECK(h200.gemm_efficiency == Approx(own("h100-sxm", "bf16")));
  CHECK(h200.description.find("architecture, Hopper") != std::string::npos);
  // Same vendor: a Blackwell Ultra part at fp8 from the NVIDIA parts fitted at fp8.
  const LatencyParams b300 = lc.resolve("b300", "fp8");
  CHECK(b300.gemm_efficiency ==
        Approx(std::sqrt(own("h100-sxm", "fp8") * own("h200", "fp8"))).epsilon(1e-9));
  CHECK(b300.description.find("vendor, NVIDIA") != std::string::npos);
  // The AMD part from the AMD part: far below the NVIDIA figure, as the MI300X's fitted one is.
  CHECK(lc.resolve("mi355x", "fp8").gemm_efficiency == Approx(own("mi300x", "fp8")));
  CHECK(lc.resolve("mi355x", "fp8").gemm_efficiency < 0.7 * b300.gemm_efficiency);
  // No fitted GPU of the family: the pooled defaults, which mix every vendor.
  const LatencyParams tpu = lc.resolve("tpu-v7", "fp8");
  CHECK(tpu.gemm_efficiency == Approx(lc.defaults().gemm_efficiency.at("fp8").value));
  CHECK(tpu.description.find("default") != std::string::npos);
  // A catalog without vendor and architecture (hand-built) keeps the pooled defaults.
  LatencyCalibration bare = lc;
  bare.set_gpu_families({});
  CHECK(bare.resolve("b300", "fp8").gemm_efficiency ==
        Approx(lc.defaults().gemm_efficiency.at("fp8").value));
}

TEST_CASE("latency-model.yaml bad input names file, key and value", "[published][bad_input]") {
  const std::string text = R"(sources: {}
defaults:
  gemm_efficiency: {bf16: [0.6, fitted]}
  bandwidth_efficiency: [1.9, fitted]
  step_overhead_us: [100, nowhere]
  layer_fixed_us: [30, fitted]
  attention_kernel_us: [14, fitted]
  attention_efficiency: [0.5, fitted]
  moe_gemm_efficiency: [0.6, fitted]
  moe_dispatch_us: [20, fitted]
  moe_expert_us: [5, fitted]
  moe_permute_passes: [4, fitted]
  moe_dequant_efficiency: [1, fitted]
  mla_layer_us: [0, fitted]
  allreduce_latency_us: [8, fitted]
  allreduce_bandwidth_efficiency: [0.8, fitted]
kv_formats: {tq-9: {time_vs_bf16: [1, fitted]}}
)";
  try {
    LatencyCalibration::parse(text, "lm.yaml");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("lm.yaml") != std::string::npos);
    CHECK(m.find("defaults.bandwidth_efficiency") != std::string::npos);
    CHECK(m.find("1.9") != std::string::npos);
    CHECK(m.find("nowhere") != std::string::npos);
    CHECK(m.find("tq-9") != std::string::npos);
  }
}

TEST_CASE("the published suite loads, and every row runs through the simulator", "[published]") {
  const Catalog cat = Catalog::load(data_dir());
  const PublishedSuite suite = load_published_suite(data_dir() + "/published/serving.yaml", cat);
  REQUIRE(suite.rows.size() >= 20);
  int fit = 0, holdout = 0;
  for (const auto& r : suite.rows) (r.split == "fit" ? fit : holdout)++;
  CHECK(fit >= 8);
  CHECK(holdout >= 8);
  // One static row end to end: a batch of 64 requests of 2,048 + 128 tokens on one H200.
  for (const auto& r : suite.rows) {
    if (r.id != "T4c") continue;
    const PublishedOutcome o = run_published_row(r, cat);
    CHECK(o.simulated > 0);
    CHECK(std::isfinite(o.error));
    CHECK(o.latency_source.find("latency-model.yaml") != std::string::npos);
    // Deterministic: the same row twice gives the same figure.
    CHECK(run_published_row(r, cat).simulated == o.simulated);
  }
}

TEST_CASE("offline throughput is output tokens over the time to the last completion",
          "[published]") {
  // 64 requests of 128 + 128 tokens at t = 0 on one H100: throughput = 64 × 128 / makespan,
  // whatever the (empty) window after the last completion.
  const Catalog cat = Catalog::load(data_dir());
  PublishedRow r;
  r.id = "t";
  r.gpu_id = "h100-sxm";
  r.model_id = "llama-3.1-8b";
  r.weights = WeightPrecision::kBf16;
  r.kv_format = "bf16";
  r.scenario = "static";
  r.input_tokens.value = 128;
  r.output_tokens.value = 128;
  r.requests = 64;
  r.batching.max_num_seqs = 64;
  r.published_tok_s_per_gpu = 1;
  const PublishedOutcome o = run_published_row(r, cat);
  // Every step of a batch of 64 on an 8B model takes ≥ the weight stream (16 GB at 3.35 TB/s,
  // 4.8 ms): 128 decode steps bound the makespan from below, so the rate from above.
  CHECK(o.simulated > 0);
  CHECK(o.simulated < 64.0 * 128 / (128 * 4.8e-3));
}

TEST_CASE("a published row's reserve admission holds each request's whole length: no preemption",
          "[published]") {
  // TensorRT-LLM's GUARANTEED_NO_EVICT (engine `admission: reserve`): 600 requests of
  // 500 + 2,000 tokens on one H100 (Llama-3.1-8B, bf16), more sequences allowed than the KV
  // holds at full length. Optimistic admission fills the KV with prompts and must preempt as
  // outputs grow; reserve admission never does, and by Little's law its batch cannot exceed
  // what the KV holds at 2,500 tokens each.
  const Catalog cat = Catalog::load(data_dir());
  const auto row_text = [](const char* admission) {
    return std::string(
               "sources: {s: x}\nrows:\n  - {id: A, split: holdout, source: s, gpu: "
               "h100-sxm, gpus: 1, model: llama-3.1-8b, weights: bf16, kv: bf16, "
               "scenario: offline, input_tokens: {dist: fixed, value: 500}, "
               "output_tokens: {dist: fixed, value: 2000}, requests: 600, engine: "
               "{max_num_seqs: 1024, max_batched_tokens: 8192, chunked_prefill: false, "
               "admission: ") +
           admission + "}, tok_s_per_gpu: 1}\n";
  };
  const std::string path = "published_admission.yaml";
  PublishedOutcome reserve, optimistic;
  for (const char* a : {"reserve", "optimistic"}) {
    std::ofstream(path) << row_text(a);
    const PublishedSuite s = load_published_suite(path, cat);
    REQUIRE(s.rows.size() == 1);
    CHECK(s.rows[0].batching.admission ==
          (std::string(a) == "reserve" ? AdmissionPolicy::kReserve : AdmissionPolicy::kOptimistic));
    (std::string(a) == "reserve" ? reserve : optimistic) = run_published_row(s.rows[0], cat);
  }
  CHECK(optimistic.preemptions > 0);
  CHECK(reserve.preemptions == 0);
  // 2,500 tokens × 128 KiB per token (32 layers × 8 KV heads × 128 × 2 × 2 B) per sequence.
  const double seq_gb = 2500.0 * 32 * 8 * 128 * 2 * 2 / 1e9;
  CHECK(reserve.mean_batch_sequences <= reserve.kv_capacity_gb_per_gpu / seq_gb + 1);
  CHECK(reserve.mean_batch_sequences > 0.5 * reserve.kv_capacity_gb_per_gpu / seq_gb);
  // A misspelt policy names the key, the value and the choices.
  std::ofstream(path) << row_text("reserved");
  try {
    load_published_suite(path, cat);
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("engine.admission") != std::string::npos);
    CHECK(m.find("reserved") != std::string::npos);
    CHECK(m.find("optimistic") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("the published suite's bad input names file, line, key and value",
          "[published][bad_input]") {
  const Catalog cat = Catalog::load(data_dir());
  const std::string path = "published_bad.yaml";
  {
    std::ofstream f(path);
    f << "sources: {s: x}\nrows:\n  - {id: A, source: s, gpu: h100-sxn, model: llama-3.1-8b, "
         "scenario: offline, requests: 10, tok_s_per_gpu: 5}\n";
  }
  try {
    load_published_suite(path, cat);
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find(path) != std::string::npos);
    CHECK(m.find("rows[0].gpu") != std::string::npos);
    CHECK(m.find("h100-sxn") != std::string::npos);
    CHECK(m.find("h100-sxm") != std::string::npos);  // the did-you-mean hint
  }
  std::remove(path.c_str());
}

namespace {
// One H100 serving 256 offline requests of 512 + 128 tokens, with `analytical` (a YAML mapping
// body, may be empty) as the scenario's analytical section.
jevons::SimulationReport offline_run(const std::string& analytical) {
  const std::string text =
      std::string("name: t\nseed: 3\nkv_formats: [bf16]\nworkload: {context_tokens: [1024]}\n") +
      (analytical.empty() ? "" : "analytical: " + analytical + "\n") +
      "pools:\n  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1}\n"
      "simulation:\n  duration_s: 1\n  drain: true\n  workload:\n"
      "    classes:\n      - name: c\n        arrival: {offline_requests: 256}\n"
      "        input_tokens: 512\n        output_tokens: 128\n";
  const Catalog& cat = sim_catalog();
  return simulate(Scenario::parse(text, "t.yaml", cat), cat, std::nullopt);
}
}  // namespace

TEST_CASE("offline_requests: every request at t = 0, throughput to the last completion",
          "[published][simulate]") {
  const SimulationReport r = offline_run("");
  REQUIRE(r.groups.size() == 1);
  const auto& g = r.groups[0];
  CHECK(g.finished == 256);
  REQUIRE(g.last_finish_ns > 0);
  CHECK(g.throughput_tokens_per_s ==
        Approx(256.0 * 128 / (static_cast<double>(g.last_finish_ns) * 1e-9)).epsilon(1e-9));
  // Every request was queued at t = 0: the first to be scheduled waited nothing.
  CHECK(g.queue.p50_ns >= 0);
  CHECK(r.pools[0].latency_source.find("fitted for h100-sxm bf16") != std::string::npos);
}

TEST_CASE("analytical keys override the calibrated figures; latency_model: roofline ignores them",
          "[published][simulate]") {
  const double calibrated = offline_run("").groups[0].throughput_tokens_per_s;
  // A given key wins over data/latency-model.yaml: 20 ms more per step is far slower.
  const double slow = offline_run("{step_overhead_us: 20000}").groups[0].throughput_tokens_per_s;
  CHECK(slow < 0.8 * calibrated);
  // The roofline mode has no per-layer costs and streams at 0.90: faster than calibrated here.
  const SimulationReport roof = offline_run("{latency_model: roofline}");
  CHECK(roof.pools[0].latency_source == "roofline defaults");
  CHECK(roof.groups[0].throughput_tokens_per_s != Approx(calibrated).epsilon(0.01));
}
