// Band benchmark (a target, not a test):
//   bench_band [SCENARIO] [SAMPLES] [CACHE]
//     SCENARIO default scenarios/default.yaml; SAMPLES default its uncertainty.samples (1000);
//     CACHE default "" (in memory: the first pass fills it).
// Times a band of SAMPLES samples (quantiles and the break-even search per sample) with the
// capacity cache filled by a first pass (cold), then warm on 1 and 2 threads. Target: a
// 1,000-sample band of the default scenario in under 5 minutes warm on the 2-core development
// machine. MPI scaling: time `mpirun -n 1|2 jevons band ...` (bench/RESULTS.md has the commands).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/core/uncertainty_spec.h"
#include "jevons/planner/capacity_oracle.h"
#include "jevons/planner/uncertainty.h"

using namespace jevons;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr double kTargetSeconds = 300;

struct Oracles {
  std::vector<std::unique_ptr<planner::CapacityOracle>> inners;
  std::vector<std::unique_ptr<planner::CachedOracle>> caches;
  std::vector<planner::BandOracles> per_thread;
};

/// `threads` sets of oracles, every cache a copy of `seed` (the warm cache) when given.
Oracles make(const Scenario& s, const Catalog& catalog, const std::vector<Catalog>& speed,
             unsigned threads, const std::string& path, const Oracles* seed) {
  Oracles o;
  auto add = [&](const Catalog& c) {
    if (s.planner->simulate_capacity)
      o.inners.push_back(std::make_unique<planner::SimulatedOracle>(c, std::nullopt));
    else
      o.inners.push_back(std::make_unique<planner::AnalyticalOracle>());
    o.caches.push_back(std::make_unique<planner::CachedOracle>(*o.inners.back(), path));
    if (seed)
      for (const auto& from : seed->caches) o.caches.back()->merge_from(*from);
    return o.caches.back().get();
  };
  for (unsigned t = 0; t < threads; ++t) {
    planner::BandOracles b;
    b.base = add(catalog);
    for (const auto& c : speed) b.at_speed.push_back(add(c));
    o.per_thread.push_back(b);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : std::string(JEVONS_SOURCE_DIR) + "/scenarios/default.yaml";
  const Catalog catalog = Catalog::load(Catalog::default_dir());
  const Scenario s = Scenario::load(path, catalog);
  auto spec = read_uncertainty(s);
  if (!s.planner || !spec) {
    std::fprintf(stderr, "%s has no planner and uncertainty sections\n", path.c_str());
    return 2;
  }
  if (argc > 2) spec->samples = std::stoull(argv[2]);
  const std::string cache_path = argc > 3 ? argv[3] : "";
  std::vector<Catalog> speed;
  for (double x : planner::speed_grid(*spec))
    speed.push_back(planner::catalog_at_speed(catalog, s, x));

  auto timed = [&](Oracles& o, const char* what) {
    const auto c0 = std::clock();
    const auto t0 = clock_type::now();
    const auto out = planner::run_samples(s, catalog, *spec, speed, o.per_thread, 0, spec->samples);
    const double wall = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    const auto band = planner::reduce_band(s, *spec, out, {});
    fmt::print(
        "{:<34} {:>8.1f} s wall {:>8.1f} s CPU  {:>7.1f} ms/sample  {:>5.2f} of the 5-min "
        "target\n",
        what, wall, cpu, 1e3 * wall / static_cast<double>(spec->samples), wall / kTargetSeconds);
    return band;
  };

  fmt::print("band of {}: {} samples, {} inputs, {} speed grid point(s), break-even per sample\n",
             s.name, spec->samples, spec->inputs.size(), speed.size());
  Oracles first = make(s, catalog, speed, 1, cache_path, nullptr);
  timed(first, "first pass (fills the cache), 1 thr");
  std::size_t misses = 0;
  for (const auto& c : first.caches) misses += c->misses();
  fmt::print("  capacity searches in the first pass: {}\n", misses);
  Oracles w1 = make(s, catalog, speed, 1, cache_path, &first);
  const auto b1 = timed(w1, "warm, 1 thread");
  Oracles w2 = make(s, catalog, speed, 2, cache_path, &first);
  const auto b2 = timed(w2, "warm, 2 threads");
  bool same = b1.rows.size() == b2.rows.size();
  for (std::size_t i = 0; same && i < b1.rows.size(); ++i)
    same = b1.rows[i].p10 == b2.rows[i].p10 && b1.rows[i].p50 == b2.rows[i].p50 &&
           b1.rows[i].p90 == b2.rows[i].p90;
  std::size_t warm_misses = 0;
  for (const auto& c : w2.caches) warm_misses += c->misses();
  fmt::print("bands identical on 1 and 2 threads: {}; capacity searches while warm: {}\n",
             same ? "yes" : "NO", warm_misses);
  return same ? 0 : 1;
}
