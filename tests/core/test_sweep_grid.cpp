// Sweep grids: point enumeration, Latin hypercube strata, applying values, and every error.
#include <catch2/catch.hpp>
#include <set>

#include "catalog_fixture.h"
#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "jevons/core/sweep_grid.h"

using namespace jevons;

namespace {
const std::string kFixtures = JEVONS_TEST_FIXTURE_DIR;

std::vector<Diagnostic> errors_of(const std::string& text) {
  try {
    SweepGrid::parse(text, kFixtures + "/grid.yaml");
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  FAIL("expected an InputError");
  return {};
}
}  // namespace

TEST_CASE("a grid enumerates every combination, last parameter fastest", "[sweep]") {
  const SweepGrid g = SweepGrid::load(kFixtures + "/sweep-small.yaml");
  const auto pts = g.points();
  REQUIRE(pts.size() == 4);
  CHECK(pts[0].values == std::vector<std::string>{"0.8", "tq-3.5"});
  CHECK(pts[1].values == std::vector<std::string>{"0.8", "tq-2.5"});
  CHECK(pts[3].values == std::vector<std::string>{"1.6", "tq-2.5"});
  // Applying a point writes the value into every addressed key; the result validates.
  const Scenario s = Scenario::parse(g.apply(pts[3]), "point", test_catalog());
  REQUIRE(s.planner);
  CHECK(s.planner->compressed_format.name() == "tq-2.5");
  for (const auto& c : s.planner->classes) CHECK(c.elasticity.long_run == 1.6);
  CHECK(g.describe(pts[3]) ==
        R"({"planner.classes[*].elasticity.long_run":"1.6","planner.compressed_format":"tq-2.5"})");
}

TEST_CASE("a Latin hypercube uses every stratum of a range once", "[sweep]") {
  const SweepGrid g = SweepGrid::load(kFixtures + "/sweep-lhs.yaml");
  const auto pts = g.points();
  REQUIRE(pts.size() == 5);
  std::set<int> strata;
  for (const auto& p : pts) {
    const double v = std::stod(p.values[0]);
    CHECK(v >= 0.3);
    CHECK(v <= 1.5);
    strata.insert(static_cast<int>((v - 0.3) / (1.2 / 5)));
  }
  CHECK(strata.size() == 5);
  // Seeded: the same grid gives the same points.
  CHECK(SweepGrid::load(kFixtures + "/sweep-lhs.yaml").points()[2].values == pts[2].values);
}

TEST_CASE("bad grids are named", "[sweep]") {
  const std::string head = "scenario: planner-small.yaml\n";
  auto d = errors_of(head + "parameters:\n  - key: planner.compressed_format\n    values: []\n");
  CHECK(d[0].key == "parameters[0].values");
  CHECK(d[0].message.find("no points") != std::string::npos);
  d = errors_of(head + "parameters: []\n");
  CHECK(d[0].key == "parameters");
  d = errors_of(head + "method: latin-hypercube\nsamples: 0\nparameters:\n  - key: seed\n    range: [0, 5]\n");
  CHECK(d[0].message.find("zero gives no points") != std::string::npos);
  d = errors_of(head + "parameters:\n  - key: planner.nosuch\n    values: [1]\n");
  CHECK(d[0].key == "parameters[0].key");
  CHECK(d[0].message.find("has no such key") != std::string::npos);
  d = errors_of(head + "parameters:\n  - key: seed\n    range: [0, 5]\n");
  CHECK(d[0].message.find("latin-hypercube") != std::string::npos);
  d = errors_of(head + "parameters:\n  - key: 'a..b'\n    values: [1]\n");
  CHECK(d[0].message.find("dotted key path") != std::string::npos);
  d = errors_of(head + "parameters:\n  - key: seed\n    values: [1]\n    range: [0, 1]\n");
  CHECK(d[0].message.find("exactly one") != std::string::npos);
  CHECK_THROWS_WITH(SweepGrid::load(kFixtures + "/nosuch.yaml"), Catch::Contains("cannot open"));
  d = errors_of("scenario: nosuch.yaml\nparameters:\n  - key: seed\n    values: [1]\n");
  CHECK(d[0].message.find("cannot open the base scenario") != std::string::npos);
}
