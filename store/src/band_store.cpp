#include "jevons/store/band_store.h"

#include <cmath>

namespace jevons::store {

namespace {
using I = std::int64_t;
}  // namespace

void write_band(Store& store, std::int64_t run_id, const Band& band) {
  store.prepare("INSERT INTO band_runs VALUES (?1,?2,?3,?4,?5,?6)")
      .insert({run_id, static_cast<I>(band.samples), band.latin_hypercube ? "lhs" : "monte-carlo",
               static_cast<I>(band.seed), band.break_even_low, band.break_even_high});
  Statement in = store.prepare("INSERT INTO band_inputs VALUES (?1,?2,?3,?4)");
  for (std::size_t i = 0; i < band.input_names.size(); ++i)
    in.insert({run_id, static_cast<I>(i), band.input_names[i],
               i < band.input_distributions.size() ? band.input_distributions[i] : ""});
  // Periods keep their order within each series (quarters, then years).
  Statement q = store.prepare("INSERT INTO band_quantiles VALUES (?1,?2,?3,?4,?5,?6,?7)");
  std::string series;
  I period = 0;
  for (const auto& r : band.rows) {
    if (r.series != series) {
      series = r.series;
      period = 0;
    }
    q.insert({run_id, r.series, period++, r.period, r.p10, r.p50, r.p90});
  }
  Statement b =
      store.prepare("INSERT INTO band_break_even VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  for (const auto& e : band.break_even)
    b.insert({run_id, e.metric, e.at_scenario, e.p10, e.p50, e.p90, static_cast<I>(e.crossings),
              static_cast<I>(e.above_at_low), static_cast<I>(e.none_below_high), e.low, e.high});
  Statement c = store.prepare("INSERT INTO break_even_curve VALUES (?1,?2,?3,?4)");
  for (const auto& p : band.curve) c.insert({run_id, p.metric, p.elasticity, p.net_bytes});
}

std::vector<BandRow> read_bands(Store& store, std::int64_t run_id) {
  Statement s = store.prepare(
      "SELECT series, period, p10, p50, p90 FROM band_quantiles WHERE run_id = ?1 "
      "ORDER BY series, period_index");
  s.bind(1, run_id);
  std::vector<BandRow> out;
  while (s.step())
    out.push_back({s.column_text(0), s.column_text(1), s.column_double(2), s.column_double(3),
                   s.column_double(4)});
  return out;
}

std::vector<BreakEvenBand> read_break_even_band(Store& store, std::int64_t run_id) {
  Statement s = store.prepare(
      "SELECT metric, at_scenario, p10, p50, p90, crossings, above_at_low, none_below_high, low, "
      "high FROM band_break_even WHERE run_id = ?1 ORDER BY rowid");
  s.bind(1, run_id);
  std::vector<BreakEvenBand> out;
  while (s.step()) {
    BreakEvenBand b;
    b.metric = s.column_text(0);
    b.at_scenario = s.column_is_null(1) ? std::nan("") : s.column_double(1);
    b.p10 = s.column_double(2);
    b.p50 = s.column_double(3);
    b.p90 = s.column_double(4);
    b.crossings = static_cast<std::size_t>(s.column_int(5));
    b.above_at_low = static_cast<std::size_t>(s.column_int(6));
    b.none_below_high = static_cast<std::size_t>(s.column_int(7));
    b.low = s.column_double(8);
    b.high = s.column_double(9);
    out.push_back(b);
  }
  return out;
}

std::vector<BreakEvenCurvePoint> read_break_even_curve(Store& store, std::int64_t run_id) {
  Statement s = store.prepare(
      "SELECT metric, elasticity, net_bytes FROM break_even_curve WHERE run_id = ?1 "
      "ORDER BY metric, elasticity");
  s.bind(1, run_id);
  std::vector<BreakEvenCurvePoint> out;
  while (s.step()) out.push_back({s.column_text(0), s.column_double(1), s.column_double(2)});
  return out;
}

std::optional<Band> read_band(Store& store, std::int64_t run_id) {
  Statement s = store.prepare(
      "SELECT samples, method, sample_seed, break_even_low, break_even_high FROM band_runs "
      "WHERE run_id = ?1");
  s.bind(1, run_id);
  if (!s.step()) return std::nullopt;
  Band b;
  b.samples = static_cast<std::size_t>(s.column_int(0));
  b.latin_hypercube = s.column_text(1) == "lhs";
  b.seed = static_cast<std::uint64_t>(s.column_int(2));
  b.break_even_low = s.column_double(3);
  b.break_even_high = s.column_double(4);
  Statement in = store.prepare(
      "SELECT name, distribution FROM band_inputs WHERE run_id = ?1 ORDER BY input_index");
  in.bind(1, run_id);
  while (in.step()) {
    b.input_names.push_back(in.column_text(0));
    b.input_distributions.push_back(in.column_text(1));
  }
  b.rows = read_bands(store, run_id);
  b.break_even = read_break_even_band(store, run_id);
  b.curve = read_break_even_curve(store, run_id);
  return b;
}

std::optional<std::int64_t> latest_band_run(Store& store, const std::string& scenario_name) {
  Statement s = store.prepare(
      "SELECT r.run_id FROM runs r JOIN band_runs b ON b.run_id = r.run_id "
      "WHERE ?1 = '' OR r.scenario_name = ?1 ORDER BY r.run_id DESC LIMIT 1");
  s.bind(1, scenario_name);
  if (!s.step()) return std::nullopt;
  return s.column_int(0);
}

}  // namespace jevons::store
