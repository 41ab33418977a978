// The capacity cache key holds what the step-time model depends on (issue 12, cause 6): the
// scenario's `analytical:` settings and the calibrated parameters of data/latency-model.yaml.
#include <catch2/catch.hpp>

#include "jevons/core/catalog.h"
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
