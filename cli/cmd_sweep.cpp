// `jevons sweep GRID`: a grid or Latin hypercube over scenario parameters, on MPI ranks when
// started under mpirun, else on local threads. Rank 0 (or the main thread) writes one run.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <thread>

#include "commands.h"
#include "common.h"
#include "jevons/core/sweep_grid.h"
#include "jevons/planner/sweep.h"
#include "jevons/session/session.h"
#include "jevons/store/store.h"
#include "jevons/store/sweep_writer.h"

namespace jevons::cli {

namespace {

std::string grid_text(const SweepGrid& grid) {
  std::string out;
  for (const auto& p : grid.parameters) {
    out += "#   " + p.key + ": ";
    if (p.continuous)
      out += fmt::format("[{}, {}]", p.low, p.high);
    else
      for (const auto& v : p.values) out += v + " ";
    out += "\n";
  }
  return out;
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (const char* e = std::getenv(v); e && *e) return true;
  return false;
}

struct SweepOptions {
  std::string grid, db, data_dir, profile, cache;
  unsigned threads = 0;
  // When the sweep began, so the runs row covers the computation, not only the write.
  std::chrono::steady_clock::time_point started;
  std::string started_at_utc;
};

void finish_point(SweepPointResult& r, const SweepGrid& grid, const SweepPoint& pt) {
  r.scenario_sha256 = store::Store::sha256_hex(grid.apply(pt));
}

void print_sweep(const SweepGrid& grid, const std::vector<SweepPointResult>& results) {
  fmt::print("Sweep over {} point(s) of {}:\n", results.size(), grid.scenario_path);
  fmt::print("  {:>5}  {:>14} {:>14} {:>10}  {}\n", "point", "net HBM PB", "net DRAM PB",
             "break-even", "parameters");
  for (const auto& r : results) {
    if (!r.error.empty()) {
      fmt::print("  {:>5}  invalid: {}\n", r.index, r.error.substr(0, 120));
      continue;
    }
    const int last = static_cast<int>(r.quarter_labels.size()) - 1;
    double hbm = 0, dram = 0, be = std::nan("");
    for (const auto& d : r.decomposition)
      if (d.quarter == last) {
        if (d.metric == "hbm_installed_bytes") hbm = d.net;
        if (d.metric == "host_dram_bytes") dram = d.net;
      }
    for (const auto& b : r.break_even)
      if (b.quarter == last && b.metric == "hbm_installed_bytes") be = b.elasticity;
    fmt::print("  {:>5}  {:>+14.3f} {:>+14.3f} {:>10}  {}\n", r.index, hbm / 1e15, dram / 1e15,
               std::isnan(be) ? std::string("none") : fmt::format("{:.3f}", be), r.parameters_json);
  }
}

int write_results(const SweepOptions& o, const SweepGrid& grid, const Scenario& base,
                  std::vector<SweepPointResult> results) {
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  print_sweep(grid, results);
  store::Store st = open_results_db(o.db);
  store::RunInfo info;
  info.kind = "sweep";
  info.scenario_name = base.name;
  info.scenario_path = grid.path;
  // The grid file and the base scenario together define the sweep.
  info.scenario_text = "# sweep grid: " + grid.path + "\n" + grid_text(grid) +
                       "\n# base scenario: " + grid.scenario_path + "\n" + grid.scenario_text;
  info.seed = base.seed;
  info.started = o.started;
  info.started_at_utc = o.started_at_utc;
  const auto id =
      st.write_run(info, [&](std::int64_t run) { store::write_sweep(st, run, results); });
  fmt::print("Wrote run {} (sweep, {} points) to {}\n", id, results.size(), o.db);
  return kExitOk;
}

int run_sweep(SweepOptions o) {
  o.started = std::chrono::steady_clock::now();
  o.started_at_utc = store::utc_now();
  const Catalog catalog = load_catalog(o.data_dir);
  const SweepGrid grid = SweepGrid::load(o.grid);
  const Scenario base = Scenario::load(grid.scenario_path, catalog);
  std::optional<Profile> profile;
  if (!o.profile.empty()) profile = Profile::load(o.profile);
  const auto points = grid.points();
  const std::string cache_path = session::capacity_cache_path(base, o.cache);

  if (launched_by_mpi()) {
    boost::mpi::environment env;
    boost::mpi::communicator world;
    const auto rank = static_cast<std::size_t>(world.rank());
    const auto size = static_cast<std::size_t>(world.size());
    auto inner = session::make_capacity_oracle(base, catalog, profile);
    planner::CachedOracle oracle(*inner, cache_path);
    std::vector<std::string> mine;
    for (std::size_t i = rank; i < points.size(); i += size) {
      auto r = planner::run_sweep_point(grid, points[i], catalog, oracle);
      finish_point(r, grid, points[i]);
      mine.push_back(r.to_json());
    }
    std::vector<std::vector<std::string>> gathered;
    boost::mpi::gather(world, mine, gathered, 0);
    if (rank != 0) return kExitOk;
    oracle.save();
    std::vector<SweepPointResult> results;
    for (const auto& part : gathered)
      for (const auto& j : part) results.push_back(SweepPointResult::from_json(j));
    fmt::print("(computed on {} MPI rank(s))\n", size);
    return write_results(o, grid, base, std::move(results));
  }

  // A bad --db fails before the sweep, not after it. (Under MPI rank 0 checks it only at the
  // end: failing alone earlier would leave the other ranks waiting in the gather.)
  open_results_db(o.db);
  const unsigned threads = std::max(
      1u,
      std::min<unsigned>(o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency()),
                         static_cast<unsigned>(points.size())));
  std::vector<SweepPointResult> results(points.size());
  std::vector<std::unique_ptr<planner::CapacityOracle>> inners;
  std::vector<std::unique_ptr<planner::CachedOracle>> caches;
  for (unsigned t = 0; t < threads; ++t) {
    inners.push_back(session::make_capacity_oracle(base, catalog, profile));
    caches.push_back(std::make_unique<planner::CachedOracle>(*inners.back(), cache_path));
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> failures(threads);
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        for (std::size_t i; (i = next.fetch_add(1)) < points.size();) {
          results[i] = planner::run_sweep_point(grid, points[i], catalog, *caches[t]);
          finish_point(results[i], grid, points[i]);
        }
      } catch (...) {
        failures[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  for (unsigned t = 1; t < threads; ++t) caches[0]->merge_from(*caches[t]);
  caches[0]->save();
  fmt::print("(computed on {} thread(s))\n", threads);
  return write_results(o, grid, base, std::move(results));
}

}  // namespace

void add_sweep(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "sweep", "Run a grid or Latin hypercube of scenario variants (under mpirun: across ranks)");
  auto o = std::make_shared<SweepOptions>();
  o->db = "jevons-results.sqlite";
  sub->add_option("grid", o->grid, "Sweep grid YAML file")->required();
  sub->add_option("--db", o->db, "SQLite results database")->capture_default_str();
  sub->add_option("--threads", o->threads, "Local threads when not under MPI (default: all cores)");
  sub->add_option("--data-dir", o->data_dir, "Directory holding gpus.yaml and models.yaml");
  sub->add_option("--profile", o->profile, "Measured kernel profile for the capacity search");
  sub->add_option("--capacity-cache", o->cache, "Capacity cache file ('-' for none)");
  sub->callback([&action, o] { action = [o] { return run_sweep(*o); }; });
}

}  // namespace jevons::cli
