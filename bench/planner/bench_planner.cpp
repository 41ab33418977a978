// Planner benchmark (a target, not a test):
//   bench_planner [SCENARIO] [--no-interpolation]     default: scenarios/default.yaml
// 1. A full quarterly projection of the scenario with its capacity searches, cold (an empty
//    in-memory capacity cache: no file is read, so cold is cold) and warm (the cache the cold run
//    filled): targets < 30 s cold and < 2 s warm on one core. CPU seconds are the one-core
//    figure (the projection is single-threaded); run under `taskset -c 0` to pin it. Each is
//    printed with its ratio to the target (< 1 meets it).
// 2. The capacity cache's interpolation error: at prompt scales halfway between grid points
//    (2^(1/8), 2^(3/8), ...), interpolated capacity against a direct search at that scale
//    (skipped with --no-interpolation: it runs ~200 more searches).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/capacity_oracle.h"
#include "jevons/planner/projection.h"

using namespace jevons;
using clock_type = std::chrono::steady_clock;

namespace {
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(JEVONS_SOURCE_DIR) + "/scenarios/default.yaml";
  bool interpolation = true;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--no-interpolation")
      interpolation = false;
    else
      path = argv[i];
  }
  const Catalog catalog = Catalog::load(Catalog::default_dir());
  const Scenario s = Scenario::load(path, catalog);
  if (!s.planner) {
    std::fprintf(stderr, "%s has no planner section\n", path.c_str());
    return 2;
  }
  planner::SimulatedOracle sim(catalog, std::nullopt);
  planner::AnalyticalOracle analytical;
  planner::CapacityOracle& inner =
      s.planner->simulate_capacity ? static_cast<planner::CapacityOracle&>(sim) : analytical;
  planner::CachedOracle cache(inner, "");

  // CPU seconds too: on a shared machine they show what one dedicated core would take.
  auto c0 = std::clock();
  auto t0 = clock_type::now();
  const Projection cold = planner::project(s, catalog, cache);
  const double cold_s = seconds_since(t0);
  const double cold_cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  int probes = 0;
  for (const auto& c : cold.capacity) probes += c.capacity.probes;
  const auto searches = cache.misses();

  c0 = std::clock();
  t0 = clock_type::now();
  const Projection warm = planner::project(s, catalog, cache);
  const double warm_s = seconds_since(t0);
  const double warm_cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  bool same = cold.totals.size() == warm.totals.size();
  for (std::size_t i = 0; same && i < cold.totals.size(); ++i)
    same = cold.totals[i].hbm_installed_bytes == warm.totals[i].hbm_installed_bytes;

  fmt::print("scenario {}: {} quarters, {} classes x {} generations\n", s.name, s.horizon.quarters,
             s.planner->classes.size(), s.planner->generations.size());
  fmt::print(
      "cold projection: {:.2f} s wall, {:.2f} s CPU ({} capacity searches, {} DES probes "
      "at base prompts); CPU / 30 s target = {:.2f}\n",
      cold_s, cold_cpu_s, searches, probes, cold_cpu_s / 30.0);
  fmt::print(
      "warm projection: {:.3f} s wall, {:.3f} s CPU (capacity cache warm); CPU / 2 s "
      "target = {:.2f}; results identical: {}\n",
      warm_s, warm_cpu_s, warm_cpu_s / 2.0, same ? "yes" : "NO");
  if (!interpolation) return same ? 0 : 1;

  // Interpolation error between grid points of the prompt scale.
  double max_err = 0, sum_err = 0;
  int n = 0;
  for (std::size_t g = 0; g < s.planner->generations.size(); ++g)
    for (std::size_t c = 0; c < s.planner->classes.size(); ++c) {
      planner::CapacityQuery q;
      q.gpu = &catalog.gpu(s.planner->generations[g].gpu_id);
      q.model = &catalog.model(s.planner->classes[c].model_id);
      q.weights = s.planner->generations[g].weights;
      q.kv = s.planner->compressed_format;
      q.demand_class = &s.planner->classes[c];
      q.max_tensor_parallel = s.planner->max_tensor_parallel;
      q.slo_attainment = s.planner->slo_attainment;
      q.duration_s = s.planner->search_duration_s;
      q.tolerance = s.planner->search_tolerance;
      q.seed = s.seed;
      q.preemption = s.planner->preemption;
      q.prefix_cache = s.planner->prefix_cache;
      q.prefix_host_tier_gib_per_gpu = s.planner->prefix_host_tier_gib_per_gpu;
      for (double e : {0.125, 0.375}) {
        q.prompt_scale = std::pow(2.0, e);
        const double interp = cache.capacity(q).tokens_per_s;
        const double exact = inner.capacity(q).tokens_per_s;
        if (exact <= 0) continue;
        const double err = std::fabs(interp - exact) / exact;
        if (err > 0.10)
          fmt::print("  large: {} {} scale {:.3f}: interpolated {:.0f}, searched {:.0f} tokens/s\n",
                     q.gpu->id, q.demand_class->name, q.prompt_scale, interp, exact);
        max_err = std::max(max_err, err);
        sum_err += err;
        ++n;
      }
    }
  fmt::print(
      "interpolation between prompt-scale grid points (ratio 2^(1/4)): {} points, mean "
      "relative error {:.2f}%, max {:.2f}%\n",
      n, n ? 100 * sum_err / n : 0.0, 100 * max_err);
  return same ? 0 : 1;
}
