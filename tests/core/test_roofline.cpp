// The analytical decode estimate: limits and physics it must respect.
#include <catch2/catch.hpp>

#include "catalog_fixture.h"
#include "jevons/core/roofline.h"

using namespace jevons;

TEST_CASE("MoE expert touch fraction", "[roofline]") {
  CHECK(moe_expert_fraction_touched(8, 2, 1) == Approx(0.25));
  CHECK(moe_expert_fraction_touched(8, 2, 2) == Approx(1 - 0.75 * 0.75));
  CHECK(moe_expert_fraction_touched(256, 8, 100000) == Approx(1.0));
  CHECK(moe_expert_fraction_touched(0, 0, 5) == 1.0);  // dense
}

TEST_CASE("MoE weight reads: active params at batch 1, all params at large batch", "[roofline]") {
  const auto& m = test_catalog().model("mixtral-8x22b");
  const double b1 = weight_bytes_read_per_gpu(m, WeightPrecision::kBf16, 1, 1);
  CHECK(b1 == Approx(m.params_active_b * 1e9 * 2).epsilon(1e-9));
  const double big = weight_bytes_read_per_gpu(m, WeightPrecision::kBf16, 1, 100000);
  CHECK(big == Approx(m.params_total_b * 1e9 * 2).epsilon(1e-9));
  const auto& d = test_catalog().model("llama-3.1-8b");
  CHECK(weight_bytes_read_per_gpu(d, WeightPrecision::kFp8, 2, 64) == Approx(8.03e9 / 2));
}

TEST_CASE("batch-1 dense decode is bandwidth bound at weights over bandwidth", "[roofline]") {
  const auto& c = test_catalog();
  const auto& gpu = c.gpu("h100-sxm");
  const auto& m = c.model("llama-3.1-8b");
  AnalyticalParams p;
  p.step_overhead_us = 0;
  const KvFootprint kv(m, KvConfig::parse("bf16"), 1);
  const auto e = estimate_decode_step(gpu, m, kv, WeightPrecision::kBf16, 1, 1024, p);
  const double expect_ns =
      (8.03e9 * 2 + 131072.0 * 1024) / (3.35e12 * p.bandwidth_efficiency) * 1e9;
  CHECK(e.bound == "memory");
  CHECK(static_cast<double>(e.step_time_ns) == Approx(expect_ns).epsilon(1e-6));
  CHECK(e.tokens_per_s_per_gpu == Approx(1e9 / static_cast<double>(e.step_time_ns)));
}

TEST_CASE("compressing KV shortens long-context decode, never lengthens it", "[roofline]") {
  const auto& c = test_catalog();
  const auto& gpu = c.gpu("b200");
  const auto& m = c.model("llama-3.1-70b");
  const AnalyticalParams p;
  std::int64_t prev = std::numeric_limits<std::int64_t>::max();
  for (const char* f : {"bf16", "fp8", "tq-mse-4", "tq-3.5", "tq-2.5"}) {
    const KvFootprint kv(m, KvConfig::parse(f), 1);
    const auto e = estimate_decode_step(gpu, m, kv, WeightPrecision::kFp8, 32, 32768, p);
    CHECK(e.step_time_ns <= prev);
    prev = e.step_time_ns;
  }
}

TEST_CASE("tensor parallelism adds all-reduce time", "[roofline]") {
  const auto& c = test_catalog();
  const auto& m = c.model("llama-3.1-70b");
  const AnalyticalParams p;
  const KvFootprint kv1(m, KvConfig::parse("bf16"), 1), kv4(m, KvConfig::parse("bf16"), 4);
  const auto e1 = estimate_decode_step(c.gpu("h200"), m, kv1, WeightPrecision::kBf16, 8, 4096, p);
  const auto e4 = estimate_decode_step(c.gpu("h200"), m, kv4, WeightPrecision::kBf16, 8, 4096, p);
  CHECK(e1.allreduce_time_ns == 0);
  CHECK(e4.allreduce_time_ns > 0);
  CHECK(e4.memory_time_ns == Approx(e1.memory_time_ns / 4).epsilon(1e-9));
}

TEST_CASE("the batch-independent decode model reads and computes what a step needs, per layer",
          "[roofline]") {
  // DecodeStepModel works out the batch-independent parts once; the reference below is the
  // per-layer definition (weights through weight_bytes_read_per_gpu, attention layer by layer).
  const auto& c = test_catalog();
  const AnalyticalParams p;
  for (const char* model : {"llama-3.1-70b", "mixtral-8x22b", "deepseek-v3", "gemma-3-27b"}) {
    const auto& m = c.model(model);
    for (std::uint32_t tp : {1u, 4u}) {
      const KvFootprint kv(m, KvConfig::parse("tq-mse-3"), tp);
      for (std::uint64_t ctx : {512ull, 40000ull}) {
        const DecodeStepModel step(c.gpu("h200"), m, kv, WeightPrecision::kFp8, ctx, p);
        double attn = 0;
        for (auto kind : m.layer_attention) {
          std::uint64_t held = ctx;
          if (kind == LayerAttention::kSliding || kind == LayerAttention::kChunked)
            held = std::min<std::uint64_t>(ctx, m.window_tokens);
          const double width = kind == LayerAttention::kMla
                                   ? static_cast<double>(2 * m.kv_lora_rank + m.qk_rope_head_dim)
                                   : 2.0 * m.head_dim;
          attn += 2.0 * m.q_heads * width * static_cast<double>(held);
        }
        for (std::uint32_t b : {1u, 7u, 256u}) {
          INFO(model << " tp " << tp << " ctx " << ctx << " batch " << b);
          const auto e = step.at(b);
          CHECK(e.weight_bytes_read_per_gpu ==
                weight_bytes_read_per_gpu(m, WeightPrecision::kFp8, tp, b));
          CHECK(e.kv_bytes_read_per_gpu ==
                b * static_cast<double>(kv.bytes_for_sequence_per_gpu(ctx, 1)));
          CHECK(e.flops_per_gpu == b * (2.0 * m.params_active_b * 1e9 + attn) / tp);
          const auto same =
              estimate_decode_step(c.gpu("h200"), m, kv, WeightPrecision::kFp8, b, ctx, p);
          CHECK(same.step_time_ns == e.step_time_ns);
          CHECK(e.step_time_ns > 0);
        }
      }
    }
  }
}
