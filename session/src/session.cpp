#include "jevons/session/session.h"

#include <cstdlib>
#include <filesystem>

#include "jevons/session/capacity_estimate.h"
#include "jevons/store/capacity_writer.h"
#include "jevons/store/projection_writer.h"
#include "jevons/store/simulation_writer.h"

namespace jevons::session {

std::string capacity_cache_path(const Scenario& s, const std::string& option) {
  namespace fs = std::filesystem;
  if (option == "-") return "";
  if (!option.empty()) return option;
  if (s.planner && !s.planner->capacity_cache_path.empty()) {
    const fs::path p(s.planner->capacity_cache_path);
    return p.is_absolute() ? p.string()
                           : (fs::path(s.path).parent_path() / p).lexically_normal().string();
  }
  fs::path dir;
  if (const char* d = std::getenv("JEVONS_CACHE_DIR"); d && *d)
    dir = d;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    dir = fs::path(x) / "jevons";
  else if (const char* h = std::getenv("HOME"); h && *h)
    dir = fs::path(h) / ".cache" / "jevons";
  else
    return "";
  return (dir / "capacity-cache.json").string();
}

std::string use_analytical_capacity(Scenario& s) {
  if (!s.planner || !s.planner->simulate_capacity) return "";
  s.planner->simulate_capacity = false;
  return "planner capacity from the analytical estimate (--analytical-capacity), not the "
         "simulated search the scenario asks for";
}

std::unique_ptr<planner::CapacityOracle> make_capacity_oracle(
    const Scenario& s, const Catalog& catalog, const std::optional<Profile>& profile) {
  if (s.planner && !s.planner->simulate_capacity)
    return std::make_unique<planner::AnalyticalOracle>();
  return std::make_unique<planner::SimulatedOracle>(catalog, profile);
}

Oracles::Oracles(const Catalog& catalog, std::optional<Profile> profile, std::string cache_path)
    : path_(std::move(cache_path)),
      simulated_(catalog, std::move(profile)),
      cached_simulated_(simulated_, path_),
      // Still through CachedOracle, so prompt scales interpolate on the same grid either way.
      cached_analytical_(analytical_, "") {}

planner::CachedOracle& Oracles::for_scenario(const Scenario& s) {
  return s.planner && !s.planner->simulate_capacity ? cached_analytical_ : cached_simulated_;
}

Oracles& OracleRegistry::for_path(const std::string& path) {
  auto it = oracles_.find(path);
  if (it == oracles_.end())
    it = oracles_.emplace(path, std::make_unique<Oracles>(catalog_, std::nullopt, path)).first;
  return *it->second;
}

ProjectionRun run_projection(const Scenario& s, const Catalog& catalog, Oracles& oracles,
                             const planner::ProjectionOptions& options) {
  planner::CachedOracle& oracle = oracles.for_scenario(s);
  const auto hits0 = oracle.hits();
  const auto misses0 = oracle.misses();
  ProjectionRun r;
  try {
    r.projection = planner::project(s, catalog, oracle, options);
  } catch (...) {
    // Searches finished before a cancel or a failure stay cached: the next run starts warmer.
    oracles.save();
    throw;
  }
  oracles.save();
  r.capacity_method = oracle.method();
  r.cache_hits = oracle.hits() - hits0;
  r.cache_misses = oracle.misses() - misses0;
  return r;
}

std::optional<Headline> cached_simulated_headline(const Scenario& scenario, const Catalog& catalog,
                                                  Oracles& oracles,
                                                  std::uint64_t& searches_needed) {
  searches_needed = 0;
  if (!scenario.planner) return std::nullopt;
  Scenario s = scenario;
  s.planner->simulate_capacity = true;
  planner::CachedOracle& oracle = oracles.for_scenario(s);
  // The three variants alone (a few per cent of a projection's oracle calls): when they need a
  // search, their count is a lower bound on what the answer would cost, and counting the
  // elasticity sweeps too would double an analytical run's time for a note.
  planner::ProjectionOptions variants_only;
  variants_only.break_even = false;
  variants_only.sensitivity = false;
  searches_needed = uncached_searches(s, catalog, oracle, variants_only);
  if (searches_needed > 0) return std::nullopt;
  // The elasticity sweeps may still reach a few uncached prompt scales; they are searched.
  const ProjectionRun r = run_projection(s, catalog, oracles);
  return make_headline(r.projection, r.capacity_method);
}

std::string run_kind(const RunResults& r) {
  return r.projection ? "projection" : r.simulation ? "simulation" : "static-capacity";
}

std::int64_t store_run(store::Store& st, store::RunInfo info, const RunResults& r) {
  info.kind = run_kind(r);
  if (r.simulation)
    info.notes.insert(info.notes.end(), r.simulation->notes.begin(), r.simulation->notes.end());
  return st.write_run(info, [&](std::int64_t id) {
    if (r.static_capacity) store::write_static_capacity(st, id, *r.static_capacity);
    if (r.simulation) store::write_simulation(st, id, *r.simulation);
    if (r.projection) store::write_projection(st, id, *r.projection);
  });
}

}  // namespace jevons::session
