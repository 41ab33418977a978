// Bands in the store: a round trip through the typed readers (infinities included), atomic
// writes, and the upgrade of a version-2 database that has no band tables.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "jevons/store/band_store.h"
#include "jevons/store/store.h"

using namespace jevons;
using namespace jevons::store;

namespace {

Band sample_band() {
  Band b;
  b.samples = 1000;
  b.seed = 7;
  b.latin_hypercube = true;
  b.break_even_low = 0;
  b.break_even_high = 5;
  b.input_names = {"elasticity.chat", "compressed_attention_time"};
  b.input_distributions = {"triangular(0.5, 1.1, 2)", "triangular(0.219, 1, 1.5)"};
  for (const char* series : {"hbm_installed_bytes.net", "hbm_installed_bytes.with"})
    for (const char* period : {"2026Q1", "2026Q2", "2026"})
      b.rows.push_back({series, period, -1.5e15, 0.25e15, 3e15});
  const double inf = std::numeric_limits<double>::infinity();
  b.break_even.push_back({"hbm_installed_bytes", 1.69, 1.2, 1.7, inf, 800, 0, 200, 0, 5});
  b.break_even.push_back({"hbm_shipped_bytes_per_year", inf, inf, inf, inf, 0, 0, 1000, 0, 5});
  b.break_even.push_back({"host_dram_bytes", -inf, -inf, 0.5, 2.5, 700, 300, 0, 0, 5});
  b.curve = {{"hbm_installed_bytes", 0, -1e15}, {"hbm_installed_bytes", 2.5, 1e15}};
  return b;
}

RunInfo band_info() {
  RunInfo i;
  i.kind = "band";
  i.scenario_name = "default";
  i.scenario_path = "default.yaml";
  i.scenario_text = "name: default\n";
  i.seed = 7;
  return i;
}

}  // namespace

TEST_CASE("a band round-trips through the typed readers", "[store][band]") {
  Store s(":memory:");
  const Band b = sample_band();
  const auto id = s.write_run(band_info(), [&](std::int64_t run) { write_band(s, run, b); });
  const auto back = read_band(s, id);
  REQUIRE(back);
  CHECK(back->samples == 1000);
  CHECK(back->seed == 7);
  CHECK(back->latin_hypercube);
  CHECK(back->input_names == b.input_names);
  CHECK(back->input_distributions == b.input_distributions);
  REQUIRE(back->rows.size() == b.rows.size());
  // Ordered by series, then time (not alphabetically: "2026" after "2026Q2").
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    CHECK(back->rows[i].series == b.rows[i].series);
    CHECK(back->rows[i].period == b.rows[i].period);
    CHECK(back->rows[i].p10 == b.rows[i].p10);
    CHECK(back->rows[i].p50 == b.rows[i].p50);
    CHECK(back->rows[i].p90 == b.rows[i].p90);
  }
  const auto be = read_break_even_band(s, id);
  REQUIRE(be.size() == 3);
  for (std::size_t m = 0; m < 3; ++m) {
    CHECK(be[m].metric == b.break_even[m].metric);
    CHECK(be[m].at_scenario == b.break_even[m].at_scenario);  // ±inf survive as REAL
    CHECK(be[m].p10 == b.break_even[m].p10);
    CHECK(be[m].p90 == b.break_even[m].p90);
    CHECK(be[m].crossings == b.break_even[m].crossings);
    CHECK(be[m].above_at_low == b.break_even[m].above_at_low);
    CHECK(be[m].none_below_high == b.break_even[m].none_below_high);
  }
  CHECK(read_break_even_curve(s, id).size() == 2);
  CHECK(latest_band_run(s, "default") == id);
  CHECK_FALSE(latest_band_run(s, "other"));
  CHECK_FALSE(read_band(s, id + 1));
}

TEST_CASE("a failed band write leaves no rows", "[store][band]") {
  Store s(":memory:");
  CHECK_THROWS_AS(s.write_run(band_info(),
                              [&](std::int64_t run) {
                                write_band(s, run, sample_band());
                                throw std::runtime_error("killed part-way");
                              }),
                  std::runtime_error);
  CHECK(s.query("SELECT count(*) FROM band_quantiles")[0][0] == "0");
  CHECK(s.query("SELECT count(*) FROM band_runs")[0][0] == "0");
}

TEST_CASE("a version-2 database gains the band tables on open", "[store][band]") {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("jevons-test-band-v2-" + std::to_string(::getpid()) + ".sqlite"))
                        .string();
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  {
    Store s(path);
    for (const char* t :
         {"band_runs", "band_inputs", "band_quantiles", "band_break_even", "break_even_curve"})
      s.exec(std::string("DROP TABLE ") + t);
    s.exec("PRAGMA user_version = 2");
  }
  Store s(path);
  CHECK(s.schema_version() == kSchemaVersion);
  const auto id =
      s.write_run(band_info(), [&](std::int64_t run) { write_band(s, run, sample_band()); });
  CHECK(read_bands(s, id).size() == 6);
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
}
