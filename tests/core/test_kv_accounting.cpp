// Exact KV bytes per token: pinned to the values computed from each model's config in
// shared/reference/hardware-and-models.md §2.
#include <catch2/catch.hpp>

#include "catalog_fixture.h"
#include "jevons/core/kv_accounting.h"

using namespace jevons;

namespace {
std::uint64_t per_token(const char* model, const char* fmt, std::uint32_t tp = 1) {
  return KvFootprint(test_catalog().model(model), KvConfig::parse(fmt), tp).bytes_per_token();
}
}  // namespace

TEST_CASE("bf16 bytes per token match the published configs", "[kv_accounting]") {
  CHECK(per_token("llama-3.1-8b", "bf16") == 131072);
  CHECK(per_token("llama-3.1-70b", "bf16") == 327680);
  CHECK(per_token("llama-3.1-405b", "bf16") == 516096);
  CHECK(per_token("llama-4-scout", "bf16") == 196608);
  CHECK(per_token("mistral-7b", "bf16") == 131072);
  CHECK(per_token("mixtral-8x22b", "bf16") == 229376);
  CHECK(per_token("gemma-3-27b", "bf16") == 507904);
  CHECK(per_token("qwen3-235b-a22b", "bf16") == 192512);
  CHECK(per_token("gpt-oss-120b", "bf16") == 73728);
  // MLA: 61 layers × (512 + 64) × 2 bytes.
  CHECK(per_token("deepseek-v3", "bf16") == 61 * 576 * 2);
  CHECK(per_token("deepseek-v3", "bf16") == 70272);
}

TEST_CASE("format ratios follow the per-vector layouts", "[kv_accounting]") {
  const double bf16 = static_cast<double>(per_token("llama-3.1-70b", "bf16"));
  CHECK(bf16 / static_cast<double>(per_token("llama-3.1-70b", "fp8")) == Approx(2.0));
  CHECK(bf16 / static_cast<double>(per_token("llama-3.1-70b", "tq-mse-4")) == Approx(512.0 / 132));
  CHECK(bf16 / static_cast<double>(per_token("llama-3.1-70b", "tq-3.5")) == Approx(512.0 / 112));
  CHECK(bf16 / static_cast<double>(per_token("llama-3.1-70b", "tq-2.5")) == Approx(512.0 / 80));
  // Keys and values may differ: the total is the sum of the halves.
  const auto mixed = per_token("llama-3.1-70b", "k:tq-prod-4/v:tq-mse-3");
  CHECK(mixed == 80u * 8u * (68u + 50u));
  // GPT-OSS head_dim 64: tq-mse-4 = 32 + 2 bytes per vector.
  CHECK(per_token("gpt-oss-120b", "tq-mse-4") == 36u * 8u * 2u * 34u);
}

TEST_CASE("sliding and chunked layers hold at most their window", "[kv_accounting]") {
  const auto& gemma = test_catalog().model("gemma-3-27b");
  const KvFootprint fp(gemma, KvConfig::parse("bf16"));
  // 10 global layers hold all 131,072 tokens; 52 local layers hold 1,024 each.
  const std::uint64_t per_layer = 16u * 512u;
  CHECK(fp.bytes_for_sequence(131072) == 10 * per_layer * 131072 + 52 * per_layer * 1024);
  // ~83 KiB effective per token at 128K (reference §2 table).
  CHECK(fp.effective_bytes_per_token(131072) / 1024.0 == Approx(83.25));
  // Below the window every layer holds every token.
  CHECK(fp.bytes_for_sequence(1000) == fp.bytes_per_token() * 1000);

  const KvFootprint scout(test_catalog().model("llama-4-scout"), KvConfig::parse("bf16"));
  CHECK(scout.effective_bytes_per_token(131072) / 1024.0 == Approx(57.0));
  const KvFootprint oss(test_catalog().model("gpt-oss-120b"), KvConfig::parse("bf16"));
  CHECK(oss.effective_bytes_per_token(131072) / 1024.0 == Approx(36.0).epsilon(0.01));
}

TEST_CASE("paged blocks round each layer up to whole blocks", "[kv_accounting]") {
  const KvFootprint fp(test_catalog().model("llama-3.1-8b"), KvConfig::parse("bf16"));
  CHECK(fp.bytes_for_sequence(17, 16) == fp.bytes_per_token() * 32);
  CHECK(fp.bytes_for_sequence(32, 16) == fp.bytes_per_token() * 32);
  CHECK(fp.bytes_for_sequence(1, 1) == fp.bytes_per_token());
  CHECK(fp.bytes_for_sequence(0, 16) == 0);
}

TEST_CASE("tensor parallelism shards heads, then replicates", "[kv_accounting]") {
  const auto& m = test_catalog().model("llama-3.1-70b");  // 8 KV heads
  const auto kv = KvConfig::parse("bf16");
  for (std::uint32_t tp : {1u, 2u, 4u, 8u}) {
    const KvFootprint fp(m, kv, tp);
    CHECK(fp.kv_heads_per_gpu() == 8 / tp);
    CHECK(fp.bytes_per_token() == 327680);  // no replication: the replica total is unchanged
    CHECK(fp.bytes_per_token_per_gpu() * tp == 327680);
  }
  const KvFootprint tp16(m, kv, 16);  // 16 ranks, 8 heads: every head stored twice
  CHECK(tp16.kv_heads_per_gpu() == 1);
  CHECK(tp16.bytes_per_token() == 2 * 327680);

  // MLA latents are replicated on every rank.
  const KvFootprint ds(test_catalog().model("deepseek-v3"), kv, 8);
  CHECK(ds.bytes_per_token_per_gpu() == 70272);
  CHECK(ds.bytes_per_token() == 8 * 70272);
}

TEST_CASE("a sequence's bytes are the sum over its layers, for every catalog model",
          "[kv_accounting]") {
  // KvFootprint sums per attention kind; the reference here walks the layers one by one, so the
  // two can only agree if every layer of every kind is counted with its own window and format.
  for (const auto& m : test_catalog().models()) {
    for (const char* f : {"bf16", "fp8", "tq-mse-3", "tq-2.5"}) {
      for (std::uint32_t tp : {1u, 2u, 8u}) {
        const KvConfig kv = KvConfig::parse(f);
        const KvFootprint fp(m, kv, tp);
        std::uint64_t layers = 0;
        for (auto kind : {LayerAttention::kFull, LayerAttention::kSliding, LayerAttention::kChunked,
                          LayerAttention::kMla})
          layers += fp.layers_of_kind(kind);
        CHECK(layers == m.layers);
        for (std::uint64_t tokens : {1ull, 777ull, 8192ull, 131072ull}) {
          for (std::uint32_t block : {1u, 16u}) {
            std::uint64_t expect = 0;
            for (auto kind : m.layer_attention) {
              std::uint64_t held = tokens;
              if (kind == LayerAttention::kSliding || kind == LayerAttention::kChunked)
                held = std::min<std::uint64_t>(tokens, m.window_tokens);
              held = (held + block - 1) / block * block;
              expect += held * fp.bytes_per_token_layer(kind) / tp;
            }
            INFO(m.id << " " << f << " tp " << tp << " tokens " << tokens << " block " << block);
            CHECK(fp.bytes_for_sequence_per_gpu(tokens, block) == expect);
          }
        }
      }
    }
  }
}
