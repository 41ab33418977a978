// The session layer: the headline's figures against the stored rows, the typed readers and the
// CSV export as round trips through SQLite, the figure series' invariants, and analytical
// against simulated capacity on the small planner fixture (the default scenario's cold search
// takes minutes; docs/planner.md has its measurement).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "jevons/session/figures.h"
#include "jevons/session/headline.h"
#include "jevons/session/session.h"
#include "jevons/simulator/simulate.h"
#include "jevons/store/readers.h"

namespace fs = std::filesystem;
using namespace jevons;

namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

std::string temp_path(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("jevons-session-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto p = dir / name;
  fs::remove_all(p);
  return p.string();
}

Scenario planner_small(bool analytical) {
  Scenario s =
      Scenario::load(std::string(JEVONS_TEST_FIXTURE_DIR) + "/planner-small.yaml", catalog());
  if (analytical) REQUIRE_FALSE(session::use_analytical_capacity(s).empty());
  return s;
}

// One projection of the fixture with the closed form (milliseconds), shared by the tests.
const Projection& analytical_projection() {
  static const Projection p = [] {
    const Scenario s = planner_small(true);
    session::Oracles oracles(catalog(), std::nullopt, "");
    return session::run_projection(s, catalog(), oracles).projection;
  }();
  return p;
}

std::int64_t store_projection(store::Store& st, const Projection& p) {
  const Scenario s = planner_small(true);
  store::RunInfo info;
  info.scenario_name = s.name;
  info.scenario_path = s.path;
  info.scenario_text = s.text;
  info.seed = s.seed;
  return session::store_run(st, info, {nullptr, nullptr, &p});
}

// RFC 4180: fields separated by commas, quoted fields may hold commas, quotes ("") and newlines.
std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// Every CSV cell equals the database's value of that column: integers as integers, reals to
// the last bit, NULL as an empty field, text byte for byte.
void check_csv_equals_db(store::Store& st, const fs::path& csv, const std::string& table,
                         std::int64_t run) {
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() >= 2);
  const auto& header = rows[0];
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < header.size(); ++i) sql += (i ? ", " : "") + header[i];
  sql += " FROM " + table + " WHERE run_id = ?1";
  auto q = st.prepare(sql);
  q.bind(1, run);
  // Keyed on the whole row's text so the comparison does not depend on row order.
  std::multiset<std::vector<std::string>> from_csv(rows.begin() + 1, rows.end());
  std::size_t n = 0;
  while (q.step()) {
    ++n;
    std::vector<std::string> row;
    for (int c = 0; c < q.column_count(); ++c) {
      const store::Value v = q.column_value(c);
      row.push_back(store::csv_field(v));
    }
    // Find the CSV row with the same key columns and compare each value typed.
    bool found = false;
    for (const auto& r : from_csv) {
      bool same = r.size() == row.size();
      for (std::size_t c = 0; same && c < r.size(); ++c) {
        const store::Value v = q.column_value(static_cast<int>(c));
        if (const auto* d = std::get_if<double>(&v))
          same = !r[c].empty() && std::stod(r[c]) == *d;
        else if (const auto* i = std::get_if<std::int64_t>(&v))
          same = r[c] == std::to_string(*i);
        else if (std::holds_alternative<std::nullptr_t>(v))
          same = r[c].empty();
        else
          same = r[c] == std::get<std::string>(v);
      }
      if (same) {
        found = true;
        break;
      }
    }
    INFO(table << " row " << n);
    CHECK(found);
  }
  CHECK(n == rows.size() - 1);
}

}  // namespace

TEST_CASE("the headline's figures are the stored projection's rows", "[session][headline]") {
  const auto db = temp_path("headline.sqlite");
  store::Store st(db);
  const auto run = store_projection(st, analytical_projection());
  const Projection back = store::read_projection(st, run);
  const auto h = session::make_headline(back, "analytical");
  REQUIRE(h);
  CHECK(h->final_quarter == "2027Q4");
  CHECK(h->final_year == "2027");

  auto stored = [&](const std::string& metric, const std::string& where) {
    auto q = st.prepare(
        "SELECT sum(counterfactual), sum(efficiency_effect), sum(rebound_effect), sum(net), "
        "count(*) FROM memory_decomposition WHERE run_id = ?1 AND metric = ?2 AND " +
        where);
    q.bind(1, run);
    q.bind(2, metric);
    REQUIRE(q.step());
    return std::array<double, 5>{q.column_double(0), q.column_double(1), q.column_double(2),
                                 q.column_double(3), q.column_double(4)};
  };
  const auto last_quarter =
      "quarter_index = (SELECT max(quarter_index) FROM memory_decomposition "
      "WHERE run_id = ?1)";
  const auto check = [&](const session::HeadlineFigure& f, const std::array<double, 5>& row) {
    INFO(f.metric);
    CHECK(f.quarters == static_cast<int>(row[4]));
    CHECK(f.counterfactual == Approx(row[0]).epsilon(1e-12));
    // Changes below 1e-12 of the counterfactual are rounding residue and read as zero.
    const double margin = 1e-12 * std::fabs(row[0]);
    CHECK(f.efficiency == Approx(row[1]).margin(margin).epsilon(1e-12));
    CHECK(f.rebound == Approx(row[2]).margin(margin).epsilon(1e-12));
    CHECK(f.net == Approx(row[3]).margin(margin).epsilon(1e-12));
    CHECK(f.efficiency + f.rebound == Approx(f.net).margin(margin));
  };
  check(h->hbm_installed, stored("hbm_installed_bytes", last_quarter));
  check(h->host_dram, stored("host_dram_bytes", last_quarter));
  // HBM shipped is a flow: the four quarters of the final year.
  check(h->hbm_shipped, stored("hbm_shipped_bytes", "quarter LIKE '2027Q%'"));
  CHECK(h->hbm_shipped.quarters == 4);

  auto be = st.prepare(
      "SELECT elasticity FROM break_even_elasticity WHERE run_id = ?1 AND metric = "
      "'hbm_installed_bytes' AND quarter = '2027Q4'");
  be.bind(1, run);
  REQUIRE(be.step());
  if (be.column_is_null(0))
    CHECK(std::isnan(h->break_even));
  else
    CHECK(h->break_even == be.column_double(0));

  // The sentence carries those figures, as formatted once for every front end.
  const std::string s = session::headline_sentence(*h);
  INFO(s);
  CHECK(s.find(session::signed_bytes(h->hbm_installed.net)) != std::string::npos);
  CHECK(s.find(session::signed_bytes(h->host_dram.net)) != std::string::npos);
  CHECK(s.find(session::signed_bytes(h->hbm_shipped.net)) != std::string::npos);
  CHECK(s.find(session::signed_bytes(h->hbm_installed.efficiency)) != std::string::npos);
  CHECK(s.find(session::signed_bytes(h->hbm_installed.rebound)) != std::string::npos);
  if (!std::isnan(h->break_even))
    CHECK(s.find(fmt::format("{:.2f}", h->break_even)) != std::string::npos);
  CHECK(s.find("jevons band") != std::string::npos);  // no band: says how to get one

  // With bands, each is printed and the hint goes.
  session::Headline banded = *h;
  banded.hbm_installed.net_band = session::Band{-3e15, -1e15, 2e15};
  banded.break_even_band = session::Band{1.25, 1.5, 2.25};
  const std::string b = session::headline_sentence(banded);
  CHECK(b.find("[P10 \u22123.00 PB, P50 \u22121.00 PB, P90 +2.00 PB]") != std::string::npos);
  CHECK(b.find("[P10 1.25, P50 1.50, P90 2.25]") != std::string::npos);
  CHECK(b.find("jevons band") == std::string::npos);

  // A band attaches by period: the final year's sum for HBM shipped, the final quarter for the
  // stocks; a band of another horizon (same labels, other quarters summed) is refused.
  std::vector<BandRow> rows;
  for (const char* m : {"hbm_installed_bytes", "hbm_shipped_bytes", "host_dram_bytes"}) {
    const std::string series = std::string(m) + ".net";
    for (const auto& q : back.quarter_labels) rows.push_back({series, q, -2e15, -1e15, 3e15});
    rows.push_back({series, h->final_year, -4e15, -2e15, 6e15});
  }
  std::vector<BreakEvenBand> be_rows(1);
  be_rows[0].metric = "hbm_installed_bytes";
  be_rows[0].p10 = 1.1, be_rows[0].p50 = 1.6,
  be_rows[0].p90 = std::numeric_limits<double>::infinity();
  session::Headline attached = *h;
  REQUIRE(session::attach_band(attached, rows, be_rows));
  CHECK(attached.hbm_shipped.net_band->p50 == -2e15);    // the year row
  CHECK(attached.hbm_installed.net_band->p50 == -1e15);  // the quarter row
  CHECK(session::headline_sentence(attached).find("P90 none") != std::string::npos);
  // A quantile that differs from zero by rounding residue (bytes in exabytes) reads as zero.
  {
    std::vector<BandRow> residue = rows;
    for (auto& r : residue)
      if (r.series == "hbm_installed_bytes.net" && r.period == h->hbm_installed.period)
        r.p10 = -1e-14 * h->hbm_installed.counterfactual;
    session::Headline z = *h;
    REQUIRE(session::attach_band(z, residue, be_rows));
    CHECK(z.hbm_installed.net_band->p10 == 0);
  }
  std::vector<BandRow> longer = rows;
  longer.insert(longer.begin(), {"hbm_installed_bytes.net", "2025Q4", 0, 0, 0});
  session::Headline refused = *h;
  CHECK_FALSE(session::attach_band(refused, longer, be_rows));
  CHECK_FALSE(refused.has_bands());
}

TEST_CASE("the headline says in which years the HBM supply cap binds in both variants",
          "[session][headline]") {
  // Two years of one quarter each; the cap cuts purchases in 2030 without compression and with
  // it, in 2029 only without it.
  Projection p;
  p.quarter_labels = {"2029Q4", "2030Q4"};
  for (int q = 0; q < 2; ++q) {
    for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
      QuarterTotals t;
      t.variant = v;
      t.quarter = q;
      t.label = p.quarter_labels[static_cast<std::size_t>(q)];
      t.hbm_supply_bytes = 5e18;
      t.hbm_shipped_bytes = 5e18;
      t.hbm_demanded_bytes = (q == 1 || v == Variant::kCounterfactual) ? 7e18 : 4e18;
      if (q == 0 && v != Variant::kCounterfactual) t.hbm_shipped_bytes = 4e18;
      t.peak_tokens_per_s = 100;
      t.unserved_peak_tokens_per_s = 25;
      p.totals.push_back(t);
    }
    p.decomposition.push_back({q, "hbm_installed_bytes", 1e18, 0, 0, 0, 1e18});
  }
  const auto h = session::make_headline(p);
  REQUIRE(h);
  CHECK(h->supply_bound_years == std::vector<std::string>{"2030"});
  CHECK(h->final_hbm_demanded_bytes == 7e18);
  CHECK(h->final_unserved_share == Approx(0.25));
  const std::string s = session::headline_sentence(*h);
  CHECK(s.find("HBM supply binds in 2030 with and without compression") != std::string::npos);
  CHECK(s.find("7.00 EB demanded, 5.00 EB supplied, 25 % of peak demand unserved") !=
        std::string::npos);

  // No cap (supply 0): never bound, and the sentence says nothing of it.
  Projection open = p;
  for (auto& t : open.totals) t.hbm_supply_bytes = 0;
  const auto ho = session::make_headline(open);
  CHECK(ho->supply_bound_years.empty());
  CHECK(session::headline_sentence(*ho).find("supply binds") == std::string::npos);
}

TEST_CASE("signed byte figures", "[session][headline]") {
  CHECK(session::signed_bytes(0) == "0 B");
  CHECK(session::signed_bytes(-1.3977e16) == "\u221214.0 PB");
  CHECK(session::signed_bytes(4.17e15) == "+4.17 PB");
  CHECK(session::signed_bytes(-1.96247e17) == "\u2212196 PB");
  CHECK(session::signed_bytes(1.2e18) == "+1.20 EB");
  CHECK(session::signed_bytes(-780e9) == "\u2212780 GB");
}

TEST_CASE("a stored projection reads back as it was written", "[session][store]") {
  const Projection& p = analytical_projection();
  store::Store st(temp_path("roundtrip.sqlite"));
  const Projection b = store::read_projection(st, store_projection(st, p));
  CHECK(b.quarter_labels == p.quarter_labels);
  CHECK(b.max_elasticity == p.max_elasticity);
  REQUIRE(b.totals.size() == p.totals.size());
  // The reader orders rows by variant name and quarter; compare as sets keyed on both.
  for (const auto& t : p.totals) {
    const auto it = std::find_if(b.totals.begin(), b.totals.end(), [&](const QuarterTotals& x) {
      return x.variant == t.variant && x.quarter == t.quarter;
    });
    REQUIRE(it != b.totals.end());
    CHECK(it->label == t.label);
    CHECK(it->hbm_installed_bytes == t.hbm_installed_bytes);
    CHECK(it->host_dram_bytes() == t.host_dram_bytes());
    CHECK(it->hbm_shipped_bytes == t.hbm_shipped_bytes);
    CHECK(it->cost_marginal_usd_per_mtok == t.cost_marginal_usd_per_mtok);
    CHECK(it->initial_demand_scale == t.initial_demand_scale);
    CHECK(it->power_mw == t.power_mw);
  }
  REQUIRE(b.generations.size() == p.generations.size());
  for (std::size_t i = 0; i < p.generations.size(); ++i) {
    CHECK(b.generations[i].gpu_id == p.generations[i].gpu_id);
    CHECK(b.generations[i].installed == p.generations[i].installed);
    CHECK(b.generations[i].hbm_shipped_bytes == p.generations[i].hbm_shipped_bytes);
  }
  REQUIRE(b.decomposition.size() == p.decomposition.size());
  REQUIRE(b.break_even.size() == p.break_even.size());
  for (std::size_t i = 0; i < p.break_even.size(); ++i)
    CHECK((b.break_even[i].elasticity == p.break_even[i].elasticity ||
           (std::isnan(b.break_even[i].elasticity) && std::isnan(p.break_even[i].elasticity))));
  REQUIRE(b.sensitivity.size() == p.sensitivity.size());
  REQUIRE(b.capacity.size() == p.capacity.size());
  for (std::size_t i = 0; i < p.capacity.size(); ++i) {
    CHECK(b.capacity[i].capacity.rate_per_s == p.capacity[i].capacity.rate_per_s);
    CHECK(b.capacity[i].capacity.method == p.capacity[i].capacity.method);
  }
  CHECK(b.classes.size() == p.classes.size());
  // The headline of the stored run is the headline of the run.
  CHECK(session::headline_sentence(*session::make_headline(b)) ==
        session::headline_sentence(*session::make_headline(p)));
  CHECK_THROWS_AS(store::read_projection(st, 999), store::StoreError);
}

TEST_CASE("CSV export of a projection run equals the database", "[session][csv]") {
  const auto db = temp_path("csv.sqlite");
  store::Store st(db);
  const auto run = store_projection(st, analytical_projection());
  store_projection(st, analytical_projection());  // a second run must not leak into the first's
  const auto dir = temp_path("csv-out");
  const auto files = store::export_run_csv(st, run, dir);
  std::map<std::string, std::uint64_t> rows;
  for (const auto& f : files) rows[f.table] = f.rows;
  CHECK(rows.at("runs") == 1);
  CHECK(rows.at("projection_quarters") == analytical_projection().totals.size());
  CHECK(rows.at("memory_decomposition") == analytical_projection().decomposition.size());
  for (const char* t : {"runs", "projection_quarters", "projection_generations",
                        "memory_decomposition", "break_even_elasticity", "capacity_search"})
    check_csv_equals_db(st, fs::path(dir) / (std::string(t) + ".csv"), t, run);
  // The scenario text (newlines, quotes, commas) survives the quoting.
  const auto csv = read_csv(fs::path(dir) / "runs.csv");
  const auto col = std::find(csv[0].begin(), csv[0].end(), "scenario_text") - csv[0].begin();
  CHECK(csv[1][static_cast<std::size_t>(col)] == store::read_run(st, run)->scenario_text);
  CHECK_THROWS_AS(store::export_run_csv(st, 999, dir), store::StoreError);
}

TEST_CASE("a stored simulation reads back, summarises and exports as CSV", "[session][csv]") {
  const Scenario s = Scenario::parse(R"(name: session-sim
seed: 9
kv_formats: [bf16]
workload: {context_tokens: [8192]}
pools:
  - {name: a, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}
  - {name: b, gpu: h200, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}
simulation:
  duration_s: 60
  warmup_s: 5
  workload:
    classes:
      - name: chat
        arrival: {process: poisson, rate_per_s: 8}
        input_tokens: {dist: lognormal, mean: 800, cv: 1.0, max: 8000}
        output_tokens: {dist: lognormal, mean: 120, cv: 1.0, max: 1000}
        slo: {ttft_ms: 1000, tpot_ms: 50}
  router: least-kv
  metrics: {interval_s: 5, per_request: all}
)",
                                     temp_path("sim.yaml"), catalog());
  const SimulationReport r = simulate(s, catalog(), std::nullopt);
  REQUIRE(!r.requests.empty());
  store::Store st(temp_path("sim.sqlite"));
  store::RunInfo info;
  info.scenario_name = s.name;
  info.scenario_text = s.text;
  const StaticCapacity cap = compute_static_capacity(s, catalog());
  const auto run = session::store_run(st, info, {&cap, &r, nullptr});
  CHECK(store::read_run(st, run)->kind == "simulation");

  const SimulationReport b = store::read_simulation(st, run, true);
  CHECK(b.requests_finished == r.requests_finished);
  CHECK(b.fingerprint == r.fingerprint);
  CHECK(b.class_names == r.class_names);
  REQUIRE(b.pools.size() == r.pools.size());
  for (std::size_t i = 0; i < r.pools.size(); ++i) {
    CHECK(b.pools[i].name == r.pools[i].name);
    CHECK(b.pools[i].mean_kv_occupancy == r.pools[i].mean_kv_occupancy);
    CHECK(b.pools[i].preemptions == r.pools[i].preemptions);
    CHECK(b.pools[i].output_tokens == r.pools[i].output_tokens);
  }
  REQUIRE(b.groups.size() == r.groups.size());
  for (std::size_t i = 0; i < r.groups.size(); ++i) {
    CHECK(b.groups[i].ttft.p99_ns == r.groups[i].ttft.p99_ns);
    CHECK(b.groups[i].tpot.p50_ns == r.groups[i].tpot.p50_ns);
    CHECK(b.groups[i].e2e.p90_ns == r.groups[i].e2e.p90_ns);
    CHECK(b.groups[i].throughput_tokens_per_s == r.groups[i].throughput_tokens_per_s);
  }
  CHECK(b.timeseries.size() == r.timeseries.size());
  CHECK(b.requests.size() == r.requests.size());

  // The per-request summary counts every row once, by status.
  std::uint64_t rows = 0, finished = 0;
  for (const auto& q : store::summarize_requests(st, run)) {
    rows += q.rows;
    finished += q.finished;
    CHECK(q.finished + q.rejected + q.unfinished == q.rows);
  }
  CHECK(rows == r.requests.size());
  std::uint64_t finished_rows = 0;
  for (const auto& q : r.requests) finished_rows += q.status == RequestRow::Status::kFinished;
  CHECK(finished == finished_rows);

  // Figures: one series per pool, a point per sample.
  const auto f = session::simulation_figures(b);
  REQUIRE(f.pools.size() == 2);
  std::size_t points = 0;
  for (const auto& p : f.pools) {
    points += p.hours.size();
    for (double o : p.kv_occupancy_percent) CHECK((o >= 0 && o <= 100));
  }
  CHECK(points == r.timeseries.size());

  const auto dir = temp_path("sim-csv");
  store::export_run_csv(st, run, dir);
  for (const char* t : {"sim_runs", "sim_pools", "sim_groups", "sim_timeseries", "sim_requests",
                        "capacity_estimates"})
    check_csv_equals_db(st, fs::path(dir) / (std::string(t) + ".csv"), t, run);
}

TEST_CASE("figure series add up to the projection's totals", "[session][figures]") {
  const Projection& p = analytical_projection();
  const auto f = session::projection_figures(p);
  const auto full = static_cast<std::size_t>(Variant::kFull);
  REQUIRE(f.quarters == p.quarter_labels);
  for (std::size_t q = 0; q < f.quarters.size(); ++q) {
    double by_generation = 0, use = 0;
    for (const auto& g : f.hbm_by_generation) by_generation += g.y[q];
    for (const auto& l : f.hbm_use) use += l.y[q];
    CHECK(by_generation == Approx(f.hbm_installed[full][q]).epsilon(1e-9));
    CHECK(use == Approx(f.hbm_installed[full][q]).epsilon(1e-9));
  }
  REQUIRE(f.has_waterfall);
  CHECK(f.waterfall.counterfactual + f.waterfall.efficiency + f.waterfall.rebound ==
        Approx(f.waterfall.with_compression).epsilon(1e-12));
  CHECK(std::is_sorted(f.elasticity.begin(), f.elasticity.end()));
  CHECK(f.tornado.size() == 2);  // one row per class
}

TEST_CASE("analytical capacity is shown beside the simulated answer, with the difference",
          "[session][capacity]") {
  // The fixture at reduced scale: two generations, two classes, eight quarters.
  const Scenario simulated_s = planner_small(false);
  const Scenario analytical_s = planner_small(true);
  session::Oracles oracles(catalog(), std::nullopt, "");  // memory only: a cold cache

  const auto a = session::run_projection(analytical_s, catalog(), oracles);
  REQUIRE(a.capacity_method == "analytical");
  const auto ha = session::make_headline(a.projection, a.capacity_method);
  REQUIRE(ha);
  // Cold: no simulated answer without a search; the count is said instead.
  std::uint64_t needed = 0;
  CHECK_FALSE(session::cached_simulated_headline(analytical_s, catalog(), oracles, needed));
  CHECK(needed > 0);
  CHECK(session::capacity_mode_difference(*ha, std::nullopt, needed)
            .find(std::to_string(needed) + " capacity search") != std::string::npos);

  const auto sim = session::run_projection(simulated_s, catalog(), oracles);
  REQUIRE(sim.capacity_method == "simulated");
  const auto hs = session::make_headline(sim.projection, sim.capacity_method);
  REQUIRE(hs);
  // Warm: the simulated headline is the simulated run's, by replay alone.
  const auto replay = session::cached_simulated_headline(analytical_s, catalog(), oracles, needed);
  REQUIRE(replay);
  CHECK(needed == 0);
  CHECK(session::headline_sentence(*replay) == session::headline_sentence(*hs));

  // Per point, the closed form and the search disagree: measured and reported.
  double worst = 1;
  for (const auto& e : sim.projection.capacity)
    for (const auto& c : a.projection.capacity)
      if (c.gpu_id == e.gpu_id && c.class_name == e.class_name && c.kv_format == e.kv_format &&
          e.capacity.rate_per_s > 0 && c.capacity.rate_per_s > 0) {
        const double ratio = c.capacity.rate_per_s / e.capacity.rate_per_s;
        worst = std::max({worst, ratio, 1 / ratio});
      }
  WARN("planner-small: per-point analytical/simulated capacity off by up to x" << worst);

  const double points = 100 * (ha->hbm_installed.net_fraction() - hs->hbm_installed.net_fraction());
  const bool agree = session::capacity_modes_agree(*ha, *hs);
  // A break-even "above the range" (NaN) agrees only with another one above the range.
  const bool be_agree =
      std::isnan(ha->break_even) || std::isnan(hs->break_even)
          ? std::isnan(ha->break_even) && std::isnan(hs->break_even)
          : std::fabs(ha->break_even - hs->break_even) <= session::kModeToleranceBreakEven;
  CHECK(agree == (std::fabs(points) <= session::kModeToleranceNetPoints && be_agree));
  const std::string line = session::capacity_mode_difference(*ha, hs, 0);
  INFO(line);
  CHECK(line.find(agree ? "the same answer" : "a different answer") != std::string::npos);
  CHECK(line.find(fmt::format("{:.1f} points", std::fabs(points))) != std::string::npos);
  auto be_text = [](const session::Headline& h) {
    return std::isnan(h.break_even) ? fmt::format("above {:g}", h.max_elasticity)
                                    : fmt::format("{:.2f}", h.break_even);
  };
  CHECK(line.find(be_text(*ha)) != std::string::npos);
  CHECK(line.find(be_text(*hs)) != std::string::npos);
}
