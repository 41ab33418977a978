// The world dataset (data/world.yaml): content, provenance and validation.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include "catalog_fixture.h"
#include "jevons/core/error.h"
#include "jevons/core/published.h"
#include "jevons/core/world.h"

using namespace jevons;

namespace {
const World& test_world() {
  static const World w = World::load(World::default_path(JEVONS_TEST_DATA_DIR), test_catalog());
  return w;
}

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Loads the repository's world.yaml with `needle` replaced by `replacement`; returns the
/// diagnostics it raised (none when it loaded).
std::vector<Diagnostic> load_broken(const std::string& name, const std::string& needle,
                                    const std::string& replacement) {
  std::string text = read_text(World::default_path(JEVONS_TEST_DATA_DIR));
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string::npos);
  text.replace(pos, needle.size(), replacement);
  const auto path = std::filesystem::temp_directory_path() / ("jevons-world-" + name + ".yaml");
  std::ofstream(path) << text;
  try {
    World::load(path.string(), test_catalog());
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  return {};
}
}  // namespace

TEST_CASE("the world dataset covers the vendors and years the baseline needs", "[world]") {
  const World& w = test_world();
  for (const char* v : {"NVIDIA", "Google", "AWS", "AMD"}) {
    bool found = false;
    for (const auto& s : w.vendors) found = found || s.vendor == v;
    CHECK(found);
  }
  CHECK(w.first_year() == 2022);
  CHECK(w.last_year() >= 2027);
  for (const char* s : {"hbm_shipped_bytes", "hbm_supply_bytes", "hbm_price_usd_per_gb",
                        "inference_share", "google_tokens_per_month", "hbm_share_of_dram_bits"})
    CHECK(w.find_series(s) != nullptr);
  CHECK(w.service_life_years.value > 0);
  CHECK(w.installed_utilization.value <= 1);
}

TEST_CASE("every world figure is sourced, dated, and a forecast when its period is later",
          "[world]") {
  const World& w = test_world();
  int figures = 0;
  for (const auto& v : w.vendors) {
    for (const auto& [year, f] : v.packages) {
      CHECK(w.sources.count(f.source) == 1);
      CHECK(f.value > 0);
      // A year's shares add up to one, each a sourced figure.
      double sum = 0;
      for (const auto& [gpu, share] : v.mix.at(year)) {
        sum += share.value;
        CHECK(w.sources.count(share.source) == 1);
        CHECK(test_catalog().find_gpu(gpu) != nullptr);
      }
      CHECK(sum == Approx(1).margin(0.005));
      ++figures;
    }
  }
  for (const auto& s : w.series)
    for (const auto& p : s.points) {
      CHECK(w.sources.count(p.figure.source) == 1);
      CHECK(p.figure.line > 0);
      ++figures;
    }
  CHECK(figures > 40);
  // TechInsights' 2023 count, published mid-2024, is an actual; Morgan Stanley's 2027 a forecast.
  const auto& nv = w.vendors.front();
  REQUIRE(nv.vendor == "NVIDIA");
  CHECK_FALSE(nv.packages.at(2023).forecast);
  CHECK(nv.packages.at(2027).forecast);
  // TrendForce's 2026 HBM figure was published in May 2025: a forecast.
  const auto* hbm = w.find_series("hbm_shipped_bytes");
  REQUIRE(hbm);
  for (const auto& p : hbm->points)
    if (p.period.label == "2026") CHECK(p.figure.forecast);
}

TEST_CASE("world periods parse years, quarters and months, and nothing else", "[world]") {
  WorldPeriod p;
  REQUIRE(WorldPeriod::parse("2025Q2", p));
  CHECK(p.first_month == 2025 * 12 + 3);
  CHECK(p.last_month == 2025 * 12 + 5);
  REQUIRE(WorldPeriod::parse("2026-05", p));
  CHECK(p.first_month == p.last_month);
  REQUIRE(WorldPeriod::parse("2024", p));
  CHECK(p.last_month - p.first_month == 11);
  for (const char* bad : {"24", "2025Q5", "2025-13", "2025-1", "FY2025", ""})
    CHECK_FALSE(WorldPeriod::parse(bad, p));
}

TEST_CASE("a broken world figure names file, line, key, value and what was expected", "[world]") {
  SECTION("unknown source, with a hint") {
    const auto d =
        load_broken("source", "[2.64e6, techinsights-nvidia,", "[2.64e6, techinsight-nvidia,");
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == "vendors[0].packages.2022[1]");
    CHECK(d[0].value == "techinsight-nvidia");
    CHECK(d[0].line > 0);
    CHECK(d[0].hint.find("techinsights-nvidia") != std::string::npos);
  }
  SECTION("a date that is not a date") {
    const auto d = load_broken("date", "[3.76e6, techinsights-nvidia, \"2024-06\"",
                               "[3.76e6, techinsights-nvidia, \"June 2024\"");
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == "vendors[0].packages.2023[2]");
    CHECK(d[0].message.find("YYYY-MM") != std::string::npos);
  }
  SECTION("a mix that does not add up to one") {
    const auto d = load_broken("mix", "a100-40gb: [0.4,", "a100-40gb: [0.3,");
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == "vendors[0].mix.2022");
    CHECK(d[0].value == "0.9");
    CHECK(d[0].message.find("add up to 1") != std::string::npos);
  }
  SECTION("a mix naming a GPU the catalog lacks") {
    const auto d = load_broken("gpu", "{tpu-v4: [1.0,", "{tpu-v3: [1.0,");
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == "vendors[1].mix.2022.tpu-v3");
    CHECK(d[0].hint.find("tpu-v4") != std::string::npos);
  }
  SECTION("a negative value, a bad period and a bad confidence marker, all at once") {
    std::string needle = "\"2023\": [2.9e17, trendforce-hbm-2023, \"2023-06\", S]";
    const auto d = load_broken("many", needle,
                               "\"2023\": [-2.9e17, trendforce-hbm-2023, \"2023-06\", X]\n"
                               "      \"23\": [1, derived, \"2023-06\", U]");
    REQUIRE(d.size() == 3);
    CHECK(d[0].key == "series.hbm_shipped_bytes.points.2023[0]");
    CHECK(d[0].value == "-2.9e17");
    CHECK(d[1].key == "series.hbm_shipped_bytes.points.2023[3]");
    CHECK(d[2].key == "series.hbm_shipped_bytes.points.23");
  }
  CHECK_THROWS_AS(World::load("/nonexistent-jevons-world.yaml", test_catalog()), InputError);
}

TEST_CASE("the software efficiency growth is MLPerf's same-part gains, recomputed from the data",
          "[world][software]") {
  // assumptions.software_efficiency_growth_per_year states the geometric mean of the annualised
  // per-GPU gains between MLPerf rounds on the same part, model, precision and scenario; the
  // rows are in data/published/serving.yaml. Recompute it so the figure cannot drift from them.
  const PublishedSuite suite = load_published_suite(
      std::string(JEVONS_TEST_DATA_DIR) + "/published/serving.yaml", test_catalog());
  auto row = [&](const std::string& id) -> const PublishedRow& {
    for (const auto& r : suite.rows)
      if (r.id == id) return r;
    FAIL("no published row " << id);
    return suite.rows.front();
  };
  auto months = [](const std::string& date) {
    return std::stoi(date.substr(0, 4)) * 12 + std::stoi(date.substr(5, 2));
  };
  const std::pair<const char*, const char*> pairs[] = {{"L1", "M1"}, {"L2", "M2"},  {"L3", "L7"},
                                                       {"L4", "L8"}, {"L10", "M3"}, {"L10s", "M4"}};
  double log_sum = 0;
  for (const auto& [from, to] : pairs) {
    const PublishedRow& a = row(from);
    const PublishedRow& b = row(to);
    INFO(from << " -> " << to);
    // The same system in every respect but the round.
    REQUIRE(a.gpu_id == b.gpu_id);
    REQUIRE(a.model_id == b.model_id);
    REQUIRE(a.weights == b.weights);
    REQUIRE(a.scenario == b.scenario);
    const int dm = months(b.date) - months(a.date);
    REQUIRE(dm > 0);
    const double yearly =
        std::pow(b.published_tok_s_per_gpu / a.published_tok_s_per_gpu, 12.0 / dm);
    CHECK(yearly > 1.1);
    CHECK(yearly < 1.5);
    log_sum += std::log(yearly);
  }
  const double mean = std::exp(log_sum / std::size(pairs));
  const WorldFigure& f = test_world().software_efficiency_growth_per_year;
  CHECK(f.value == Approx(mean).margin(0.005));
  CHECK(f.source == "mlperf-same-part");
  CHECK(test_world().sources.count(f.source) == 1);
}
