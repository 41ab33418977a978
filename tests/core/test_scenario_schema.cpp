// The scenario schema (scenario_schema.h): key paths with and without list indices, and the
// defaults and ranges it states are the ones the loader applies.
#include <catch2/catch.hpp>
#include <set>

#include "catalog_fixture.h"
#include "jevons/core/error.h"
#include "jevons/core/planner_spec.h"
#include "jevons/core/scenario.h"
#include "jevons/core/scenario_schema.h"

using namespace jevons;
namespace keys = schema::keys;

TEST_CASE("schema paths: names, parents, indices and lookup", "[schema]") {
  CHECK(keys::kClassGrowth.name() == "growth_per_year");
  CHECK(keys::kClassGrowth.parent() == "planner.classes[]");
  CHECK(keys::kClassGrowth.segments() ==
        std::vector<std::string_view>{"planner", "classes[]", "growth_per_year"});
  CHECK(keys::kClassGrowth.at({2}) == "planner.classes[2].growth_per_year");
  CHECK(keys::kSeed.at() == "seed");
  CHECK(keys::kName.parent().empty());

  std::vector<std::size_t> idx;
  CHECK(schema::find("planner.classes[3].slo.ttft_ms", &idx) == &keys::kSloTtftMs);
  CHECK(idx == std::vector<std::size_t>{3});
  CHECK(schema::find("planner.classes[].slo.ttft_ms") == &keys::kSloTtftMs);
  CHECK(schema::find("planner.classes[1]") == &keys::kClass);
  CHECK(schema::find("planner.nonsense") == nullptr);
  CHECK(schema::find_enclosing("pools[1].kv_formats[2]", &idx) == &keys::kPoolKvFormats);
  CHECK(idx == std::vector<std::size_t>{1});
  CHECK(schema::find_enclosing("planner.classes[0].input_tokens.mean") == &keys::kClass);
  CHECK(schema::find_enclosing("nothing.here") == nullptr);

  // Every path is written once, and every key's enclosing mapping or list item is described.
  std::set<std::string_view> seen;
  for (const schema::Key* k : schema::all()) {
    INFO(k->path);
    CHECK(seen.insert(k->path).second);
    CHECK(schema::find(k->at({0, 0})) == k);
    CHECK(!k->doc.empty());
    if (!k->parent().empty()) CHECK(schema::find(k->parent()) != nullptr);
  }
}

TEST_CASE("schema defaults are the specs' defaults", "[schema]") {
  const PlannerSpec p;
  CHECK(keys::kGpuLifetimeYears.fallback == p.gpu_lifetime_years);
  CHECK(keys::kServerCostMultiplier.fallback == p.server_cost_multiplier);
  CHECK(keys::kPowerUsdPerKwh.fallback == p.power_usd_per_kwh);
  CHECK(keys::kAverageUtilization.fallback == p.average_utilization);
  CHECK(keys::kDefaultPriceUsd.fallback == p.default_price_usd);
  CHECK(keys::kMargin.fallback == p.margin);
  CHECK(keys::kPassThrough.fallback == p.pass_through);
  CHECK(keys::kSloAttainment.fallback == p.slo_attainment);
  CHECK((keys::kCapacityMethod.text == "simulate") == p.simulate_capacity);
  CHECK(keys::kAdoptionSpeed.fallback == p.adoption.speed_per_quarter);
  CHECK(keys::kAdoptionCeiling.fallback == p.adoption.ceiling);
  const ElasticitySpec e;
  CHECK(keys::kElasticityShortRun.fallback == e.short_run);
  CHECK(keys::kElasticityLongRun.fallback == e.long_run);
  CHECK(keys::kElasticityLow.fallback == e.low);
  CHECK(keys::kElasticityHigh.fallback == e.high);
  const DemandClassSpec c;
  CHECK(keys::kClassGrowth.fallback == c.growth_per_year);
  const GenerationSpec g;
  CHECK(keys::kGenerationInstalled.fallback == g.installed);
  CHECK(keys::kGenerationDeliveries.fallback == g.deliveries_per_quarter);
  CHECK(keys::kGenerationPrice.fallback == g.price_usd);
  const HorizonSpec h;
  CHECK(keys::kHorizonStart.text == h.start_label());
  CHECK(keys::kHorizonQuarters.fallback == h.quarters);
}

TEST_CASE("the loader reports a key's range as the schema states it", "[schema]") {
  const Scenario s = Scenario::load(
      std::string(JEVONS_TEST_SCENARIO_DIR) + "/planner-baseline.yaml", test_catalog());
  std::string text = s.text;
  const std::string from = "slo_attainment: 0.95";
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), "slo_attainment: 0");
  try {
    Scenario::parse(text, "t.yaml", test_catalog());
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    bool found = false;
    for (const auto& d : e.diagnostics())
      if (d.key == keys::kSloAttainment.at()) {
        found = true;
        CHECK(d.value == "0");
        CHECK(d.message == "expected " + keys::kSloAttainment.range.expected());
        CHECK(d.message == "expected a finite number in (0, 1]");
        CHECK(d.line > 0);
      }
    CHECK(found);
  }
}
