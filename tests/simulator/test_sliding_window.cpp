// Sliding-window and chunked layers in the step time (docs/latency-model.md): the replica's running
// Σ min(KV, W) over its decoders, the windowed prefill pairs, and the split KV-read term of
// LatencyModel::step.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "entities/replica.h"
#include "jevons/core/kv_accounting.h"
#include "sim_fixture.h"
#include "timing/latency_model.h"

using namespace jevons;
using namespace jevons::sim;

namespace {

struct Decoder {
  std::uint32_t join_len;
  std::int64_t join_step;
};

// Brute force: Σ over decoders of min(join_len + (s − join_step) + 1, W).
std::uint64_t brute_window_sum(const std::vector<Decoder>& ds, std::int64_t s, std::uint64_t w) {
  std::uint64_t sum = 0;
  for (const auto& d : ds) {
    const auto kv = static_cast<std::uint64_t>(d.join_len + (s - d.join_step) + 1);
    sum += std::min(kv, w);
  }
  return sum;
}

void remove_random(std::vector<Decoder>& ds, WindowedKvSum& sum, std::mt19937_64& rng, double p) {
  std::bernoulli_distribution leave(p);
  for (std::size_t i = 0; i < ds.size();) {
    if (leave(rng)) {
      sum.leave(ds[i].join_len, ds[i].join_step);
      ds[i] = ds.back();
      ds.pop_back();
    } else {
      ++i;
    }
  }
}

}  // namespace

TEST_CASE("WindowedKvSum equals brute-force sum of min(KV, W) under random joins and leaves",
          "[replica][window]") {
  // Small windows make many decoders cross at the same step and leave just before, at or after
  // their crossing; the event order is the replica's: preemptions and swap-ins/handoffs before a
  // step is formed, completions after it, finished prefills joining at the next step.
  for (const std::uint64_t w : {1ull, 2ull, 7ull, 64ull, 1024ull}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      INFO("window " << w << " seed " << seed);
      std::mt19937_64 rng(seed * 7919 + w);
      std::uniform_int_distribution<std::uint32_t> len(1, static_cast<std::uint32_t>(3 * w + 5));
      std::uniform_int_distribution<int> joins(0, 4);
      std::uniform_int_distribution<int> jump(1, 3);
      std::bernoulli_distribution skip(0.1), repeat(0.1);
      WindowedKvSum sum(w);
      std::vector<Decoder> ds;
      std::int64_t s = 0;
      std::uint64_t checks = 0, crossed = 0;
      for (int it = 0; it < 3000; ++it) {
        // Steps are consecutive while the replica runs; let some jump (idle gaps in the algebra
        // do not happen in the replica, but the structure must not depend on that).
        s += skip(rng) ? jump(rng) : 1;
        remove_random(ds, sum, rng, 0.03);  // preempted while forming step s
        for (int j = joins(rng); j > 0; --j) {
          ds.push_back({len(rng), s});  // swap-in or disaggregated decode: first step s
          sum.join(ds.back().join_len, s);
        }
        const std::uint64_t got = sum.at_step(s);
        REQUIRE(got == brute_window_sum(ds, s, w));
        if (repeat(rng)) REQUIRE(sum.at_step(s) == got);  // formed again after an idle return
        REQUIRE(sum.below_window() + sum.past_window() == ds.size());
        crossed += sum.past_window();
        ++checks;
        remove_random(ds, sum, rng, 0.05);  // finished at the end of step s
        for (int j = joins(rng); j > 0; --j) {
          ds.push_back({len(rng), s + 1});  // prefill finished in step s
          sum.join(ds.back().join_len, s + 1);
        }
      }
      CHECK(checks == 3000);
      CHECK(crossed > 0);
      // Everyone leaves; once the last crossing step has passed, no heap entry remains.
      for (const auto& d : ds) sum.leave(d.join_len, d.join_step);
      ds.clear();
      s += static_cast<std::int64_t>(w) + 2;
      CHECK(sum.at_step(s) == 0);
      CHECK(sum.heap_entries() == 0);
    }
  }
  WindowedKvSum none(0);
  none.join(100, 0);
  CHECK(none.at_step(5) == 0);
}

TEST_CASE("windowed_attention_pairs equals the brute-force count of attended keys",
          "[latency][window]") {
  for (std::uint64_t w : {1ull, 3ull, 16ull, 100ull}) {
    for (std::uint64_t o = 0; o <= 130; o += 7) {
      for (std::uint64_t c = 0; c <= 140; c += 3) {
        double pairs = 0;
        for (std::uint64_t j = 1; j <= c; ++j) pairs += static_cast<double>(std::min(o + j, w));
        INFO("w " << w << " o " << o << " c " << c);
        REQUIRE(windowed_attention_pairs(static_cast<double>(c), static_cast<double>(o),
                                         static_cast<double>(w)) == pairs);
      }
    }
  }
  CHECK(windowed_attention_pairs(10, 5, 0) == 0);
  // Below the window it is the full causal count c·(o + (c+1)/2).
  CHECK(windowed_attention_pairs(100, 200, 1024) == 100 * (200 + 101 / 2.0));
}

namespace {

struct ModelUnderTest {
  const GpuSpec& gpu;
  const ModelSpec& model;
  KvFootprint kv;
  LatencyModel lm;
  double full_bytes = 0, window_bytes = 0;  // per GPU and token, counted here independently

  ModelUnderTest(const std::string& gpu_id, const std::string& model_id, std::uint32_t tp = 1)
      : gpu(sim_catalog().gpu(gpu_id)),
        model(sim_catalog().model(model_id)),
        kv(model, KvConfig::parse("bf16"), tp),
        lm(gpu, model, kv, WeightPrecision::kBf16, tp, AnalyticalParams{}, TimingSpec{},
           PowerSpec{}, std::nullopt, nullptr, 8192 + 256) {
    for (LayerAttention k : model.layer_attention) {
      const double b = static_cast<double>(kv.bytes_per_token_layer(k)) / tp;
      (k == LayerAttention::kSliding || k == LayerAttention::kChunked ? window_bytes
                                                                      : full_bytes) += b;
    }
  }
  // Memory time of the step without its KV reads (the weights).
  double weights_ns(std::uint32_t seqs) const {
    StepShape s;
    s.decode_seqs = seqs;
    return lm.step(s).memory_ns;
  }
  double ns_per_kv_byte() const { return lm.kv_calibration().seconds_per_byte * 1e9; }
};

StepShape decode_step(std::uint32_t seqs, std::uint64_t context, std::uint64_t window) {
  StepShape s;
  s.decode_seqs = seqs;
  s.decode_kv_tokens = seqs * (context + 1);
  s.decode_window_kv_tokens = seqs * std::min(context + 1, window);
  return s;
}

}  // namespace

TEST_CASE("sliding-window layers are charged min(KV, W) in the step time", "[latency][window]") {
  ModelUnderTest g("h100-sxm", "gemma-3-27b");
  REQUIRE(g.lm.window_tokens() == 1024);
  REQUIRE(g.window_bytes > 0);
  REQUIRE(g.full_bytes + g.window_bytes == static_cast<double>(g.kv.bytes_per_token_per_gpu()));
  const double x = g.ns_per_kv_byte();

  SECTION("far past the window: less KV time than the full charge") {
    const std::uint32_t d = 32;
    const std::uint64_t ctx = 32767;  // 32,768 KV tokens attended per decoder
    const StepShape s = decode_step(d, ctx, 1024);
    StepShape full_charge = s;  // what the model charged before: every layer over all the KV
    full_charge.decode_window_kv_tokens = full_charge.decode_kv_tokens;
    const StepCost c = g.lm.step(s), cf = g.lm.step(full_charge);
    const double kv_ns = c.memory_ns - g.weights_ns(d);
    const double kv_full_ns = cf.memory_ns - g.weights_ns(d);
    CHECK(kv_ns == Approx((32768.0 * g.full_bytes + 1024.0 * g.window_bytes) * d * x));
    CHECK(kv_full_ns ==
          Approx(32768.0 * d * static_cast<double>(g.kv.bytes_per_token_per_gpu()) * x));
    // 10 global layers of 62 over 32,768 tokens, 52 sliding ones over 1,024: 19 % of the reads.
    CHECK(kv_ns / kv_full_ns == Approx((10 * 32768.0 + 52 * 1024.0) / (62 * 32768.0)));
    CHECK(kv_ns < 0.2 * kv_full_ns);
    CHECK(c.time_ns < cf.time_ns);
    CHECK(c.compute_ns < cf.compute_ns);  // the windowed layers' QKᵀ and PV shrink as well
  }
  SECTION("every context below the window: exactly the full charge") {
    for (std::uint64_t ctx : {0ull, 100ull, 1023ull}) {
      INFO("context " << ctx);
      const StepShape s = decode_step(48, ctx, 1024);
      REQUIRE(s.decode_window_kv_tokens == s.decode_kv_tokens);
      const StepCost c = g.lm.step(s);
      const double old_memory =
          g.weights_ns(48) + static_cast<double>(s.decode_kv_tokens) *
                                 static_cast<double>(g.kv.bytes_per_token_per_gpu()) * x;
      CHECK(c.memory_ns == Approx(old_memory).epsilon(1e-12));
    }
  }
  SECTION("prefill: windowed layers attend at most W keys per query") {
    StepShape p;
    p.prefill_seqs = 1;
    p.prefill_tokens = 2048;
    p.prefill_attention_pairs = 2048 * (8192 + 2049 / 2.0);
    p.prefill_window_attention_pairs = windowed_attention_pairs(2048, 8192, 1024);
    CHECK(p.prefill_window_attention_pairs == 2048.0 * 1024);
    StepShape pf = p;
    pf.prefill_window_attention_pairs = pf.prefill_attention_pairs;
    CHECK(g.lm.step(p).compute_ns < g.lm.step(pf).compute_ns);
  }
}

TEST_CASE("full-attention models: the window term is absent and the step time unchanged",
          "[latency][window]") {
  for (std::uint32_t tp : {1u, 4u}) {
    ModelUnderTest l("h100-sxm", "llama-3.1-70b", tp);
    INFO("tp " << tp);
    CHECK(l.lm.window_tokens() == 0);
    CHECK(l.window_bytes == 0);
    const StepShape s = decode_step(64, 8191, 0);
    CHECK(s.decode_window_kv_tokens == 0);
    // Whatever a caller puts in the window fields, nothing reads them.
    StepShape junk = s;
    junk.decode_window_kv_tokens = 123456789;
    junk.prefill_window_attention_pairs = 987654321;
    const StepCost c = l.lm.step(s), cj = l.lm.step(junk);
    CHECK(c.time_ns == cj.time_ns);
    CHECK(c.memory_ns == cj.memory_ns);
    CHECK(c.compute_ns == cj.compute_ns);
    // Bit for bit the former KV term: K × (every layer's bytes per token per GPU) × s_kv.
    const double old_memory =
        l.weights_ns(64) + static_cast<double>(s.decode_kv_tokens) *
                               static_cast<double>(l.kv.bytes_per_token_per_gpu()) *
                               l.lm.kv_calibration().seconds_per_byte * 1e9;
    CHECK(c.memory_ns == old_memory);
  }
}

namespace {

// The decode steps of a request decoding alone: join_len = its prompt, one token per step.
std::int64_t lone_decode_ns(const LatencyModel& lm, std::uint64_t prompt, std::uint32_t tokens,
                            std::uint64_t window) {
  std::int64_t total = 0;
  for (std::uint32_t i = 0; i < tokens; ++i) {
    total += lm.step(decode_step(1, prompt + i, window)).time_ns;
  }
  return total;
}

}  // namespace

TEST_CASE("a simulated replica passes Σ min(KV, W) to the latency model", "[simulate][window]") {
  // Two requests far apart, each decoding alone: the time from first token to finish is exactly
  // the sum of the step times of one decoder at its KV lengths. The first decodes far past the
  // 1,024-token window; the second starts below it and crosses it.
  for (const char* model : {"gemma-3-27b", "llama-3.1-8b"}) {
    INFO(model);
    const std::string pools = std::string("pools:\n  - {name: p, gpu: h100-sxm, model: ") + model +
                              ", gpus: 1, tensor_parallel: 1}\n";
    const std::string sim =
        "  duration_s: 200\n  workload: {trace: {path: sliding_window.csv, format: csv}}\n"
        "  metrics: {per_request: all}\n";
    const Scenario sc = sim_scenario(sim, pools);
    const SimulationReport r = simulate(sc, sim_catalog(), std::nullopt);
    REQUIRE(r.requests_finished == 2);
    REQUIRE(r.requests.size() == 2);

    ModelUnderTest m("h100-sxm", model);
    const SimulationSpec& spec = *sc.simulation;
    const LatencyModel lm(m.gpu, m.model, m.kv, WeightPrecision::kBf16, 1, sc.analytical,
                          spec.timing, spec.power, std::nullopt, nullptr,
                          spec.batching.max_batched_tokens + spec.batching.max_num_seqs, nullptr,
                          &sim_catalog().latency());  // as the simulator builds it
    const std::uint64_t w = lm.window_tokens();
    CHECK(w == (std::string(model) == "gemma-3-27b" ? 1024u : 0u));
    for (const RequestRow& row : r.requests) {
      INFO("request " << row.id << " prompt " << row.input_tokens);
      REQUIRE(row.preemptions == 0);
      const std::int64_t decode_ns = row.finish_ns - row.first_token_ns;
      CHECK(decode_ns == lone_decode_ns(lm, row.input_tokens, row.output_tokens - 1, w));
      if (w > 0 && row.input_tokens > w) {
        // Charged in full (the former model) the same decode would have taken longer.
        std::int64_t full = 0;
        for (std::uint32_t i = 0; i + 1 < row.output_tokens; ++i) {
          StepShape s = decode_step(1, row.input_tokens + i, w);
          s.decode_window_kv_tokens = s.decode_kv_tokens;
          full += lm.step(s).time_ns;
        }
        CHECK(decode_ns < full);
      }
    }
  }
}
