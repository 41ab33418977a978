// The capacity cache key holds what the step-time model depends on (issue 12, cause 6): the
// scenario's `analytical:` settings and the calibrated parameters of data/latency-model.yaml.
#include <catch2/catch.hpp>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/planner/capacity_oracle.h"

using namespace jevons;
using namespace jevons::planner;

TEST_CASE("capacity cache key changes with analytical settings and calibration", "[planner]") {
  const Catalog cat = Catalog::load(JEVONS_TEST_DATA_DIR);
  DemandClassSpec c;
  c.name = "chat";
  CapacityQuery q;
  q.gpu = &cat.gpu("h100-sxm");
  q.model = &cat.model("llama-3.1-8b");
  q.kv = KvConfig::parse("tq-3.5");
  q.demand_class = &c;
  q.latency = &cat.latency();
  const std::string base = q.key("simulated");

  CapacityQuery a = q;
  a.analytical.step_overhead_us = 900;
  a.analytical.given |= AnalyticalParams::kGivenOverhead;
  CHECK(a.key("simulated") != base);

  CapacityQuery r = q;
  r.analytical.calibrated = false;
  CHECK(r.key("simulated") != base);

  // Another calibration (a refit) is another answer.
  LatencyCalibration other = cat.latency();
  other.kv_formats()["tq-3.5"] = KvSpeed{1.3, "assumption"};
  CapacityQuery o = q;
  o.latency = &other;
  CHECK(o.key("simulated") != base);
  CHECK(q.key("simulated") == base);  // and the key is a function of the query
}

TEST_CASE("an MLA mixture-of-experts replica is deployed with DP-attention and expert parallelism",
          "[planner]") {
  const Catalog cat = Catalog::load(JEVONS_TEST_DATA_DIR);
  const ModelSpec& ds = cat.model("deepseek-v3");
  const ParallelSpec eight = replica_parallel(ds, 8);
  CHECK(eight.dp_attention);
  CHECK(eight.expert_parallel == 8);
  // One GPU has nothing to split; dense and GQA models stay plain TP.
  CHECK_FALSE(replica_parallel(ds, 1).dp_attention);
  CHECK(replica_parallel(ds, 1).expert_parallel == 1);
  CHECK_FALSE(replica_parallel(cat.model("llama-3.1-70b"), 8).dp_attention);

  // DP-attention keeps the latent once per sequence, so the feasible degrees are those where
  // the replicated attention weights still leave room: on an H200 TP8 fits; the KV a sequence
  // needs is the single-GPU footprint, a TP8 footprint would hold it 8 times.
  const KvFootprint one(ds, KvConfig::parse("fp8"), 1);
  const KvFootprint tp8(ds, KvConfig::parse("fp8"), 8);
  CHECK(tp8.bytes_for_sequence(4096) == 8 * one.bytes_for_sequence(4096));
  const auto degrees = feasible_tensor_parallel(cat.gpu("h200"), ds, WeightPrecision::kFp8,
                                                KvConfig::parse("fp8"), 13000, 8);
  REQUIRE_FALSE(degrees.empty());
  CHECK(degrees.back() == 8);
}
