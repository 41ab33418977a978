// The scenario's `uncertainty:` section: distributions, parsing, and bad input named precisely.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "jevons/core/uncertainty_spec.h"

using namespace jevons;

namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

std::string small() {
  std::ifstream in(std::string(JEVONS_TEST_FIXTURE_DIR) + "/planner-small.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Scenario with(const std::string& section) {
  return Scenario::parse(small() + section, "unc.yaml", catalog());
}

}  // namespace

TEST_CASE("distributions invert their CDFs", "[uncertainty]") {
  Distribution u;
  u.kind = Distribution::Kind::kUniform;
  u.low = 2;
  u.high = 6;
  CHECK(u.quantile(0) == 2);
  CHECK(u.quantile(0.25) == Approx(3));
  CHECK(u.quantile(1) == 6);

  Distribution t;  // triangular(0, 1, 3): F(mode) = 1/3
  t.kind = Distribution::Kind::kTriangular;
  t.low = 0;
  t.mode = 1;
  t.high = 3;
  CHECK(t.quantile(1.0 / 3) == Approx(1));
  CHECK(t.quantile(0.5) == Approx(3 - std::sqrt(3.0)));  // 1 − (3−x)²/6 = 0.5
  CHECK(t.quantile(0) == 0);
  CHECK(t.quantile(1) == 3);

  Distribution n;
  n.kind = Distribution::Kind::kNormal;
  n.mean = 10;
  n.sd = 2;
  CHECK(n.quantile(0.5) == Approx(10));
  CHECK(n.quantile(0.841344746068543) == Approx(12).epsilon(1e-9));
  CHECK(n.quantile(0.1) == Approx(10 - 2 * 1.2815515655446004).epsilon(1e-9));
  CHECK(n.quantile(0) == Approx(10 - 12));  // ±6 σ ends

  Distribution l;
  l.kind = Distribution::Kind::kLognormal;
  l.median = 3;
  l.sigma = 0.5;
  l.low = 0;
  CHECK(l.quantile(0.5) == Approx(3));
  CHECK(l.quantile(0.9) == Approx(3 * std::exp(0.5 * 1.2815515655446004)).epsilon(1e-9));

  // Truncation samples the truncated distribution: its median moves up when the left is cut.
  n.low = 10;
  n.high = 1e300;
  CHECK(n.quantile(0) == Approx(10));
  CHECK(n.quantile(0.5) == Approx(10 + 2 * 0.6744897501960817).epsilon(1e-9));
}

TEST_CASE("the default scenario's uncertainty section reads back", "[uncertainty]") {
  const Scenario s =
      Scenario::load(std::string(JEVONS_TEST_SCENARIO_DIR) + "/default.yaml", catalog());
  const auto spec = read_uncertainty(s);
  REQUIRE(spec);
  CHECK(spec->samples == 1000);
  CHECK(spec->latin_hypercube);
  CHECK(spec->seed == 7);
  CHECK(spec->inputs.size() == 18);
  const auto& last = spec->inputs.back();
  CHECK(last.name == "compressed_attention_time");
  CHECK(last.grid == std::vector<double>{0.219, 0.6, 1.0, 1.5});
  CHECK(last.dist.quantile(0) == Approx(0.219));
  CHECK(last.line > 0);
}

TEST_CASE("a scenario without the section has none", "[uncertainty]") {
  CHECK_FALSE(read_uncertainty(Scenario::parse(small(), "small.yaml", catalog())));
}

TEST_CASE("bad uncertainty input is named by file, line, key, value and expectation",
          "[uncertainty]") {
  auto fails = [](const std::string& section, const std::string& what) {
    INFO(section);
    CHECK_THROWS_WITH(with(section), Catch::Contains(what));
  };
  const std::string head = "uncertainty:\n  samples: 10\n  inputs:\n";
  // Unknown input, with the nearest name.
  fails(head + "    elasticity.chta: {dist: uniform, low: 0.5, high: 2}\n",
        "did you mean 'elasticity.chat'");
  fails(head + "    elasticity.chta: {dist: uniform, low: 0.5, high: 2}\n", "unc.yaml:37");
  // Distribution kind, order of bounds, mode inside, required parameters.
  fails(head + "    growth: {dist: triangle, low: 1, mode: 2, high: 3}\n",
        "expected one of: triangular, uniform, lognormal, normal");
  fails(head + "    growth: {dist: uniform, low: 3, high: 1}\n", "expected a number above low (3)");
  fails(head + "    growth: {dist: triangular, low: 1, mode: 4, high: 3}\n",
        "uncertainty.inputs.growth.mode");
  fails(head + "    growth: {low: 1, high: 3}\n", "missing: expected dist");
  fails(head + "    growth: {dist: lognormal, median: 2}\n", "uncertainty.inputs.growth.sigma");
  // Values the input cannot take.
  fails(head + "    adoption.ceiling: {dist: uniform, low: 0.5, high: 1.5}\n",
        "outside the values adoption.ceiling can take");
  fails(head + "    elasticity: {dist: normal, mean: 1, sd: 1, low: -1}\n",
        "outside the values elasticity can take");
  // Section-level keys.
  fails("uncertainty:\n  samples: 0\n  inputs: {growth: {dist: uniform, low: 1, high: 2}}\n",
        "uncertainty.samples");
  fails("uncertainty:\n  method: sobol\n  inputs: {growth: {dist: uniform, low: 1, high: 2}}\n",
        "expected one of: lhs, monte-carlo");
  fails("uncertainty:\n  sample: 5\n  inputs: {growth: {dist: uniform, low: 1, high: 2}}\n",
        "did you mean 'samples'");
  fails("uncertainty:\n  samples: 5\n", "uncertainty.inputs");
  fails(
      head +
          "    compressed_attention_time: {dist: uniform, low: 0.2, high: 1.5, grid: [0.3, 1.5]}\n",
      "span the distribution's range");
  fails(
      head +
          "    compressed_attention_time: {dist: uniform, low: 0.2, high: 1.5, grid: [1.5, 0.2]}\n",
      "strictly ascending");
}

TEST_CASE("an uncertainty section without a planner section is refused", "[uncertainty]") {
  const std::string text = R"(name: static
models: [llama-3.1-8b]
kv_formats: [fp8]
pools:
  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 8}
uncertainty:
  inputs: {growth: {dist: uniform, low: 1, high: 2}}
)";
  CHECK_THROWS_WITH(Scenario::parse(text, "static.yaml", catalog()),
                    Catch::Contains("needs a planner section"));
}
