// Synthetic-step building blocks: layer shapes against the catalog's parameter counts, the CPU
// twins of causal softmax and SiLU·mul against float64, and a tiny CPU step end to end.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "jevons/core/catalog.h"
#include "model_step/model_step.h"

using namespace jevons;
using namespace jevons::kernels;

TEST_CASE("layer shapes reproduce each dense model's published parameter count") {
  const Catalog cat = Catalog::load(Catalog::default_dir());
  int checked = 0;
  for (const auto& m : cat.models()) {
    if (m.intermediate_size == 0) continue;
    const LayerDims d = LayerDims::of(m, 1);
    // Layers (QKV, O, MLP) + untied embedding and LM head; norms are negligible.
    const double params = double(d.layer_weights()) * m.layers + 2.0 * d.vocab * d.hidden;
    INFO(m.id);
    CHECK(params / 1e9 == Approx(m.params_total_b).epsilon(0.01));
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("layer shapes shard heads and MLP under tensor parallelism") {
  const Catalog cat = Catalog::load(Catalog::default_dir());
  const ModelSpec& m = cat.model("llama-3.1-70b");
  const LayerDims d1 = LayerDims::of(m, 1), d8 = LayerDims::of(m, 8), d16 = LayerDims::of(m, 16);
  CHECK(d8.q_heads * 8 == d1.q_heads);
  CHECK(d8.kv_heads == 1);
  CHECK(d8.intermediate * 8 == d1.intermediate);
  CHECK(d16.kv_heads == 1);  // fewer KV heads than shards: replicated
  CHECK_THROWS_AS(LayerDims::of(m, 3), std::invalid_argument);
  CHECK_THROWS_WITH(LayerDims::of(cat.model("deepseek-v3"), 1), Catch::Contains("dense GQA"));
}

TEST_CASE("causal softmax twin matches float64 and respects the mask") {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0, 3);
  for (auto [keys, chunk, offset, heads] :
       {std::tuple{37u, 5u, 32u, 3u}, std::tuple{64u, 64u, 0u, 2u},
        std::tuple{129u, 17u, 112u, 1u}}) {
    const std::uint32_t queries = chunk * heads;
    std::vector<float> s(std::size_t{keys} * queries), p(s.size());
    for (auto& x : s) x = n(rng);
    const float scale = 0.3f;
    causal_softmax_ref(s.data(), keys, queries, chunk, offset, scale, p.data());
    for (std::uint32_t q = 0; q < queries; ++q) {
      const std::uint32_t visible = std::min(keys, offset + q % chunk + 1);
      double m = -INFINITY, sum = 0, total = 0;
      for (std::uint32_t j = 0; j < visible; ++j) m = std::max(m, double{s[q * keys + j]} * scale);
      for (std::uint32_t j = 0; j < visible; ++j)
        sum += std::exp(double{s[q * keys + j]} * scale - m);
      for (std::uint32_t j = 0; j < keys; ++j) {
        const double want = j < visible ? std::exp(double{s[q * keys + j]} * scale - m) / sum : 0.0;
        CHECK(p[q * keys + j] == Approx(want).margin(1e-6));
        total += p[q * keys + j];
      }
      CHECK(total == Approx(1.0).epsilon(1e-5));
    }
  }
}

TEST_CASE("silu_mul twin is silu(gate) times up") {
  const std::uint32_t width = 7, tokens = 3;
  std::vector<float> gu(2 * width * tokens), out(width * tokens);
  for (std::size_t i = 0; i < gu.size(); ++i) gu[i] = 0.37f * float(i) - 4.0f;
  silu_mul_ref(gu.data(), width, tokens, out.data());
  for (std::uint32_t t = 0; t < tokens; ++t)
    for (std::uint32_t i = 0; i < width; ++i) {
      const double g = gu[t * 2 * width + i], u = gu[t * 2 * width + width + i];
      CHECK(out[t * width + i] == Approx(g / (1 + std::exp(-g)) * u).epsilon(1e-5));
    }
}

TEST_CASE("a tiny synthetic step runs on the CPU and scales by layers") {
  LayerDims d;
  d.hidden = 256;
  d.q_heads = 4;
  d.kv_heads = 2;
  d.head_dim = 64;
  d.intermediate = 512;
  d.vocab = 1000;
  for (bool prefill : {false, true}) {
    StepRequest r;
    r.prefill = prefill;
    r.batch = prefill ? 1 : 3;
    r.context = 100;
    r.chunk = prefill ? 40 : 1;
    const StepTiming t = measure_step_cpu(d, KvConfig::parse("tq-3.5"), r, 2, 16, 2);
    CHECK(t.layers_measured == 2);
    CHECK(t.layers_ns > 0);
    CHECK(t.lm_head_ns > 0);
    CHECK(t.step_ns(10) == Approx(5 * t.layers_ns + t.lm_head_ns));
    CHECK(step_device_bytes(d, KvConfig::parse("bf16"), r, 2, 16, 4) >
          step_device_bytes(d, KvConfig::parse("tq-2.5"), r, 2, 16, 4));
  }
}
