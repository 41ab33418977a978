// `jevons band SCENARIO`: P10/P50/P90 of the headline series over the scenario's `uncertainty:`
// inputs (docs/uncertainty.md), the break-even elasticity with its band, fan charts and the
// net-versus-elasticity curve. On MPI ranks when started under mpirun, else on local threads;
// the band is identical either way. Rank 0 (or the main thread) writes one run of kind 'band'.
#include <fmt/format.h>

#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/vector.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "band_figures.h"
#include "commands.h"
#include "common.h"
#include "jevons/core/error.h"
#include "jevons/core/uncertainty_spec.h"
#include "jevons/planner/uncertainty.h"
#include "jevons/session/session.h"
#include "jevons/store/band_store.h"
#include "jevons/store/store.h"
#include "progress.h"
#include "projection_cli.h"

namespace jevons::cli {

namespace {

struct BandCliOptions {
  std::string scenario, db, data_dir, profile, cache, svg_dir, uncertainty_file, method;
  std::uint64_t samples = 0;  ///< 0: the scenario's
  std::int64_t seed = -1;     ///< < 0: the scenario's
  unsigned threads = 0;
  bool no_break_even = false;
};

bool under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (const char* e = std::getenv(v); e && *e) return true;
  return false;
}

std::unique_ptr<planner::CapacityOracle> make_inner(const Scenario& s, const Catalog& catalog,
                                                    const std::optional<Profile>& profile) {
  if (s.planner && !s.planner->simulate_capacity)
    return std::make_unique<planner::AnalyticalOracle>();
  return std::make_unique<planner::SimulatedOracle>(catalog, profile);
}

/// Every thread's oracles: one cached oracle at the catalog's speed and one per speed grid point.
struct OracleSet {
  std::vector<std::unique_ptr<planner::CapacityOracle>> inners;
  std::vector<std::unique_ptr<planner::CachedOracle>> caches;
  std::vector<planner::BandOracles> per_thread;

  OracleSet(const Scenario& s, const Catalog& catalog, const std::vector<Catalog>& speed_catalogs,
            const std::optional<Profile>& profile, const std::string& cache_path,
            unsigned threads) {
    auto add = [&](const Catalog& c) {
      inners.push_back(make_inner(s, c, profile));
      caches.push_back(std::make_unique<planner::CachedOracle>(*inners.back(), cache_path));
      return caches.back().get();
    };
    for (unsigned t = 0; t < threads; ++t) {
      planner::BandOracles o;
      o.base = add(catalog);
      for (const auto& c : speed_catalogs) o.at_speed.push_back(add(c));
      per_thread.push_back(o);
    }
  }
  /// Thread 0 projects the unsampled scenario at every grid speed, and every other thread
  /// starts from its cache: a cold band then searches each capacity once, not once per thread.
  void warm_up(const Scenario& s, const Catalog& catalog,
               const std::vector<Catalog>& speed_catalogs, const std::vector<double>& grid) {
    const std::size_t per = 1 + speed_catalogs.size();
    for (std::size_t k = 0; k < std::max<std::size_t>(1, grid.size()); ++k) {
      planner::ProjectionAdjustments adj;
      for (std::size_t j = 0; j < grid.size(); ++j)
        adj.speed_grid.push_back(
            {grid[j], per_thread[0].at_speed[j], &speed_catalogs[j].latency()});
      if (!grid.empty()) adj.compressed_attention_time = grid[k];
      planner::ProjectionProbe probe(s, catalog, *per_thread[0].base, adj);
      probe.with_rebound();
    }
    for (std::size_t t = 1; t < per_thread.size(); ++t)
      for (std::size_t k = 0; k < per; ++k) caches[t * per + k]->merge_from(*caches[k]);
  }
  void save() {
    for (std::size_t i = 1; i < caches.size(); ++i) caches[0]->merge_from(*caches[i]);
    caches[0]->save();
  }
};

constexpr double kPB = 1e15;

std::string be_text(double v, double lo, double hi) {
  if (std::isnan(v)) return "n/a";
  if (v == -std::numeric_limits<double>::infinity())
    return fmt::format("none in [{:g}, {:g}] (raises at every ε)", lo, hi);
  if (v == std::numeric_limits<double>::infinity())
    return fmt::format("none in [{:g}, {:g}] (never raises)", lo, hi);
  return fmt::format("{:.2f}", v);
}

void print_band(const Scenario& s, const Band& b) {
  const auto periods = planner::band_periods(s);
  const std::string year = periods.back();
  fmt::print("Band over {} {} sample(s) of {} uncertain input(s), seed {}:\n", b.samples,
             b.latin_hypercube ? "Latin-hypercube" : "Monte Carlo", b.input_names.size(), b.seed);
  for (std::size_t i = 0; i < b.input_names.size(); ++i)
    fmt::print("  {:<28} {}\n", b.input_names[i], b.input_distributions[i]);
  fmt::print(
      "\nFinal year {} (installed and host DRAM at year end; HBM shipped over the year), PB:\n",
      year);
  fmt::print("  {:<28} {:>12} {:>12} {:>12}\n", "series", "P10", "P50", "P90");
  for (const auto& r : b.rows)
    if (r.period == year)
      fmt::print("  {:<28} {:>+12.3f} {:>+12.3f} {:>+12.3f}\n", r.series, r.p10 / kPB, r.p50 / kPB,
                 r.p90 / kPB);
  if (!b.break_even.empty()) {
    fmt::print("\nBreak-even long-run elasticity in {} (docs/elasticity.md):\n", year);
    for (const auto& e : b.break_even)
      fmt::print(
          "  {:<28} scenario {}; band P10 {} P50 {} P90 {} ({} crossing, {} raise at every ε, {} "
          "never)\n",
          e.metric, be_text(e.at_scenario, e.low, e.high), be_text(e.p10, e.low, e.high),
          be_text(e.p50, e.low, e.high), be_text(e.p90, e.low, e.high), e.crossings, e.above_at_low,
          e.none_below_high);
  }
}

void write_svgs(const std::string& dir, const Band& b, double current_eps, double current_net) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  for (const auto& f : band_figures(b, {current_eps, current_net})) {
    const fs::path p = fs::path(dir) / f.file;
    std::ofstream out(p, std::ios::binary);
    out << f.svg;
    if (!out) {
      Diagnostic d;
      d.file = p.string();
      d.message = "cannot write the chart (check the --svg folder)";
      throw InputError(d);
    }
  }
}

int run_band(const BandCliOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  const std::string started_at = store::utc_now();
  const Catalog catalog = load_catalog(o.data_dir);
  const Scenario s = Scenario::load(o.scenario, catalog);
  if (!s.planner) {
    Diagnostic d;
    d.file = o.scenario;
    d.key = "planner";
    d.message = "the scenario has no planner section: a band needs a projection to sample";
    throw InputError(d);
  }
  std::optional<UncertaintySpec> spec;
  if (!o.uncertainty_file.empty()) {
    std::ifstream in(o.uncertainty_file, std::ios::binary);
    if (!in) {
      Diagnostic d;
      d.file = o.uncertainty_file;
      d.message = "cannot open the --uncertainty file";
      throw InputError(d);
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    spec = parse_uncertainty_text(text, o.uncertainty_file, s);
  } else {
    spec = read_uncertainty(s);
  }
  if (!spec) {
    Diagnostic d;
    d.file = o.scenario;
    d.key = "uncertainty";
    d.message =
        "the scenario has no uncertainty section (docs/uncertainty.md); add one or pass "
        "--uncertainty FILE";
    throw InputError(d);
  }
  if (o.samples > 0) spec->samples = o.samples;
  if (o.seed >= 0) spec->seed = static_cast<std::uint64_t>(o.seed);
  if (!o.method.empty()) spec->latin_hypercube = o.method == "lhs";

  std::optional<Profile> profile;
  if (!o.profile.empty()) profile = Profile::load(o.profile);
  const std::string cache_path = session::capacity_cache_path(s, o.cache);
  std::vector<Catalog> speed_catalogs;
  for (double x : planner::speed_grid(*spec))
    speed_catalogs.push_back(planner::catalog_at_speed(catalog, s, x));

  planner::BandOptions bo;
  bo.break_even = !o.no_break_even;
  const std::size_t n = spec->samples;

  std::size_t begin = 0, end = n, rank = 0, ranks = 1;
  std::unique_ptr<boost::mpi::environment> env;
  std::unique_ptr<boost::mpi::communicator> world;
  unsigned threads = 1;
  if (under_mpi()) {
    env = std::make_unique<boost::mpi::environment>();
    world = std::make_unique<boost::mpi::communicator>();
    rank = static_cast<std::size_t>(world->rank());
    ranks = static_cast<std::size_t>(world->size());
    std::tie(begin, end) = planner::rank_block(n, rank, ranks);
    threads = std::max(1u, o.threads);
  } else {
    open_results_db(o.db);  // a bad --db fails before the band, not after it
    threads =
        std::max(1u, std::min<unsigned>(
                         o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency()),
                         static_cast<unsigned>(std::max<std::size_t>(1, n))));
  }
  OracleSet oracles(s, catalog, speed_catalogs, profile, cache_path, threads);
  Progress progress("band");
  if (rank == 0)
    progress.note(fmt::format(
        "capacity at {} attention speed(s) and the scenario's break-even first (a cold capacity "
        "cache searches on the simulator: minutes; later bands reuse it)",
        std::max<std::size_t>(1, speed_catalogs.size())));
  oracles.warm_up(s, catalog, speed_catalogs, planner::speed_grid(*spec));
  // The warm-up holds nearly all of a cold band's capacity searches (minutes): keep them now, so
  // a band stopped before its end does not search them again.
  if (rank == 0) oracles.save();

  // The scenario's own break-even and net-versus-ε curve (rank 0 only: it is not sampled).
  std::vector<double> scenario_be;
  std::vector<BreakEvenCurvePoint> curve;
  double current_eps = 0, current_net = 0;
  if (rank == 0) {
    planner::ProjectionProbe probe(s, catalog, *oracles.per_thread[0].base);
    current_net =
        planner::final_year_value(probe.with_rebound(), planner::Headline::kHbmInstalled) -
        planner::final_year_value(probe.counterfactual(), planner::Headline::kHbmInstalled);
    double w = 0;
    for (const auto& c : s.planner->classes) {
      current_eps += c.tokens_per_s * c.elasticity.long_run;
      w += c.tokens_per_s;
    }
    current_eps = w > 0 ? current_eps / w : 0;
    if (bo.break_even) {
      const planner::BreakEvenRange range{spec->break_even_low, spec->break_even_high,
                                          bo.break_even_step, bo.break_even_tolerance};
      for (int m = 0; m < planner::kHeadlineCount; ++m)
        scenario_be.push_back(
            probe.break_even(static_cast<planner::Headline>(m), range).ordered_value());
      const int steps = 50;
      for (int i = 0; i <= steps; ++i) {
        const double e =
            spec->break_even_low + (spec->break_even_high - spec->break_even_low) * i / steps;
        for (int m = 0; m < planner::kHeadlineCount; ++m) {
          const auto h = static_cast<planner::Headline>(m);
          curve.push_back({planner::to_string(h), e, probe.final_year_net_at(e, h)});
        }
      }
    }
  }

  std::mutex progress_mutex;
  bo.progress = [&](std::size_t done, std::size_t total) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.update(
        static_cast<double>(done) / static_cast<double>(std::max<std::size_t>(1, total)),
        fmt::format("{} of {} samples", done, total));
  };
  auto mine =
      planner::run_samples(s, catalog, *spec, speed_catalogs, oracles.per_thread, begin, end, bo);
  progress.finish();
  const std::size_t values = planner::band_series_names().size() * planner::band_periods(s).size();

  std::vector<planner::SampleOutcome> all;
  if (world) {
    std::vector<std::vector<double>> packed;
    for (const auto& m : mine) packed.push_back(m.pack());
    std::vector<std::vector<std::vector<double>>> gathered;
    boost::mpi::gather(*world, packed, gathered, 0);
    if (rank != 0) return kExitOk;
    for (const auto& part : gathered)  // ranks in order, each a contiguous block: sample order
      for (const auto& p : part) all.push_back(planner::SampleOutcome::unpack(p, values));
  } else {
    all = std::move(mine);
  }
  oracles.save();
  Band band = planner::reduce_band(s, *spec, all, scenario_be, bo);
  band.curve = std::move(curve);
  print_band(s, band);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("(computed on {} {} in {:.1f} s)\n", world ? ranks : threads,
             world ? "MPI rank(s)" : "thread(s)", seconds);
  if (!o.svg_dir.empty()) {
    write_svgs(o.svg_dir, band, current_eps, current_net);
    fmt::print("Wrote fan charts and break-even-curve.svg to {}\n", o.svg_dir);
  }
  store::Store st = open_results_db(o.db);
  store::RunInfo info;
  info.kind = "band";
  info.scenario_name = s.name;
  info.scenario_path = s.path;
  info.scenario_text = s.text;
  info.seed = spec->seed;
  info.started = started;
  info.started_at_utc = started_at;
  const auto id = st.write_run(info, [&](std::int64_t run) { store::write_band(st, run, band); });
  fmt::print("Wrote run {} (band, {} samples) to {}\n", id, band.samples, o.db);
  return kExitOk;
}

}  // namespace

void add_band(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "band",
      "P10/P50/P90 of the headline figures and the break-even elasticity over the scenario's "
      "uncertain inputs (under mpirun: across ranks)");
  auto o = std::make_shared<BandCliOptions>();
  o->db = "jevons-results.sqlite";
  sub->add_option("scenario", o->scenario, "Scenario YAML file with planner and uncertainty")
      ->required();
  sub->add_option("--samples", o->samples, "Samples (default: the scenario's uncertainty.samples)");
  sub->add_option("--seed", o->seed, "Sampling seed (default: the scenario's uncertainty.seed)");
  sub->add_option("--method", o->method, "lhs or monte-carlo (default: the scenario's)")
      ->check(CLI::IsMember({"lhs", "monte-carlo"}));
  sub->add_option("--threads", o->threads,
                  "Local threads (default: all cores; under MPI: threads per rank, default 1)");
  sub->add_option("--uncertainty", o->uncertainty_file,
                  "YAML file holding an uncertainty section's body (instead of the scenario's)");
  sub->add_option("--db", o->db, "SQLite results database")->capture_default_str();
  sub->add_option("--svg", o->svg_dir, "Folder for the fan charts and the break-even curve");
  sub->add_option("--data-dir", o->data_dir, "Directory holding gpus.yaml and models.yaml");
  sub->add_option("--profile", o->profile, "Measured kernel profile for the capacity search");
  sub->add_option("--capacity-cache", o->cache, "Capacity cache file ('-' for none)");
  sub->add_flag("--no-break-even", o->no_break_even,
                "Skip the break-even search per sample (the quantiles only)");
  sub->callback([&action, o] { action = [o] { return run_band(*o); }; });
}

}  // namespace jevons::cli
