// Replica HBM budget: weights + reserve + KV must add up to the budget, and capacity follows.
#include <catch2/catch.hpp>

#include "catalog_fixture.h"
#include "jevons/core/error.h"
#include "jevons/core/replica_memory.h"

using namespace jevons;

TEST_CASE("the budget splits exactly into weights, reserve and KV", "[replica_memory]") {
  const auto& c = test_catalog();
  for (const auto& gpu : c.gpus()) {
    for (const auto& model : c.models()) {
      for (std::uint32_t tp : {1u, 8u}) {
        const MemoryPolicy pol;
        const auto m = plan_replica_memory(gpu, model, tp, WeightPrecision::kFp8, pol);
        CHECK(static_cast<std::int64_t>(m.weight_bytes_per_gpu + m.reserve_bytes_per_gpu) +
                  m.kv_bytes_per_gpu ==
              static_cast<std::int64_t>(m.budget_bytes_per_gpu));
        CHECK(m.budget_bytes_per_gpu <= m.hbm_usable_bytes_per_gpu);
        CHECK(m.fits() == (m.shortfall_bytes_per_gpu() == 0));
      }
    }
  }
}

TEST_CASE("B200 serving Llama-3.1-70B: 32k sequences per format", "[replica_memory]") {
  // The foundation issue's motivating question.
  const auto& c = test_catalog();
  const auto& gpu = c.gpu("b200");
  const auto& model = c.model("llama-3.1-70b");
  const MemoryPolicy pol;
  const auto mem = plan_replica_memory(gpu, model, 1, WeightPrecision::kFp8, pol);
  REQUIRE(mem.fits());
  // 180 GiB usable × 0.9 − 70.6 GB fp8 weights − 5.5 GiB reserve.
  const double expected_kv = 180.0 * 0.9 * (1 << 30) - 70.6e9 - 5.5 * (1 << 30);
  CHECK(static_cast<double>(mem.kv_bytes_per_gpu) == Approx(expected_kv).epsilon(1e-6));

  auto seqs = [&](const char* fmt) {
    const KvFootprint fp(model, KvConfig::parse(fmt), 1);
    return kv_capacity(mem, fp, 32768, 16).sequences;
  };
  const auto bf16 = seqs("bf16"), fp8 = seqs("fp8"), tq35 = seqs("tq-3.5"), tq25 = seqs("tq-2.5");
  // Each 32k bf16 sequence is 327,680 × 32,768 B = 10.0 GiB.
  CHECK(bf16 == static_cast<std::uint64_t>(expected_kv / (327680.0 * 32768)));
  CHECK(fp8 >= 2 * bf16);
  CHECK(fp8 <= 2 * bf16 + 1);
  CHECK(tq35 == static_cast<std::uint64_t>(expected_kv / (80.0 * 8 * 112 * 32768)));
  CHECK(tq25 > tq35);
}

TEST_CASE("a model that does not fit reports its shortfall", "[replica_memory]") {
  const auto& c = test_catalog();
  const MemoryPolicy pol;
  const auto m = plan_replica_memory(c.gpu("h100-sxm"), c.model("llama-3.1-405b"), 1,
                                     WeightPrecision::kBf16, pol);
  CHECK_FALSE(m.fits());
  CHECK(m.shortfall_bytes_per_gpu() ==
        m.weight_bytes_per_gpu + m.reserve_bytes_per_gpu - m.budget_bytes_per_gpu);
  const KvFootprint fp(c.model("llama-3.1-405b"), KvConfig::parse("bf16"), 1);
  CHECK(kv_capacity(m, fp, 1024, 16).sequences == 0);
  CHECK(kv_capacity(m, fp, 1024, 16).tokens == 0);
}

TEST_CASE("more compression never fits fewer sequences", "[replica_memory]") {
  const auto& c = test_catalog();
  const std::vector<std::string> order = {"bf16",     "fp8",    "tq-mse-4", "tq-3.5",
                                          "tq-mse-3", "tq-2.5", "tq-mse-2", "tq-mse-1"};
  const MemoryPolicy pol;
  for (const auto& model : c.models()) {
    const auto mem = plan_replica_memory(c.gpu("b300"), model, 8, WeightPrecision::kFp8, pol);
    if (!mem.fits()) continue;
    std::uint64_t prev = 0;
    for (const auto& f : order) {
      const KvFootprint fp(model, KvConfig::parse(f), 8);
      const auto s = kv_capacity(mem, fp, 16384, 16).sequences;
      CHECK(s >= prev);
      prev = s;
    }
  }
}

TEST_CASE("weight precision sizes", "[replica_memory]") {
  CHECK(bytes_per_weight(WeightPrecision::kBf16) == 2.0);
  CHECK(bytes_per_weight(WeightPrecision::kFp8) == 1.0);
  CHECK(bytes_per_weight(WeightPrecision::kFp4) == Approx(4.5 / 8));
  CHECK(to_string(parse_weight_precision("fp8")) == "fp8");
  CHECK_THROWS_AS(parse_weight_precision("int3"), InputError);
}
