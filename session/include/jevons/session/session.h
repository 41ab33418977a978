#pragma once
/// \file Running and storing a scenario, the same way for every front end: where the capacity
/// cache lives, which capacity oracle a scenario uses, the projection through it, and one
/// run's rows written in one transaction.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/capacity.h"
#include "jevons/core/catalog.h"
#include "jevons/core/profile.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"
#include "jevons/core/simulation_report.h"
#include "jevons/planner/capacity_oracle.h"
#include "jevons/planner/projection.h"
#include "jevons/session/headline.h"
#include "jevons/store/store.h"

namespace jevons::session {

/// The capacity cache file a run uses: `option` ("-" = none), else the scenario's
/// planner.capacity.cache (relative to the scenario file), else $JEVONS_CACHE_DIR,
/// $XDG_CACHE_HOME/jevons or ~/.cache/jevons, + "/capacity-cache.json". "" when caching is off.
std::string capacity_cache_path(const Scenario& scenario, const std::string& option = "");

/// Turns the scenario's simulated capacity search into the analytical estimate (a quick check,
/// or the GUI's "Analytical capacity" box) and says so: returns the note to print and store,
/// or "" when nothing changed.
std::string use_analytical_capacity(Scenario& scenario);

/// The uncached oracle a scenario asks for: the simulated search (planner.capacity.simulate) or
/// the closed form. For per-thread oracles of a sweep.
std::unique_ptr<planner::CapacityOracle> make_capacity_oracle(
    const Scenario& scenario, const Catalog& catalog, const std::optional<Profile>& profile);

/// The capacity oracles of one cache file: the simulated search memoised in the file, and the
/// closed form memoised in memory only (it costs microseconds; a second writer of the file
/// would race the first). Keep one alive across runs and lever moves that need no new search
/// finish in a fraction of a second.
class Oracles {
 public:
  Oracles(const Catalog& catalog, std::optional<Profile> profile, std::string cache_path);
  /// The cached oracle `scenario` asks for (planner.capacity.simulate).
  planner::CachedOracle& for_scenario(const Scenario& scenario);
  const std::string& cache_path() const { return path_; }
  /// Writes the simulated cache file (no-op without a path).
  void save() const { cached_simulated_.save(); }

 private:
  std::string path_;
  planner::AnalyticalOracle analytical_;
  planner::SimulatedOracle simulated_;
  planner::CachedOracle cached_simulated_;
  planner::CachedOracle cached_analytical_;
};

/// Oracles per cache file, for a front end that runs many scenarios (the GUI's engine thread).
class OracleRegistry {
 public:
  explicit OracleRegistry(const Catalog& catalog) : catalog_(catalog) {}
  Oracles& for_path(const std::string& cache_path);

 private:
  const Catalog& catalog_;
  std::map<std::string, std::unique_ptr<Oracles>> oracles_;
};

/// A projection and how its capacity was found.
struct ProjectionRun {
  Projection projection;
  std::string capacity_method;  ///< "simulated" or "analytical"
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;  ///< capacity searches run (or closed forms evaluated)
};

/// Projects `scenario` (which must have a planner section) through `oracles`, then saves the
/// cache: also when `options.progress` throws to cancel, so searches done stay cached.
ProjectionRun run_projection(const Scenario& scenario, const Catalog& catalog, Oracles& oracles,
                             const planner::ProjectionOptions& options = {});

/// The headline of the simulated capacity search for `scenario` (whatever mode it is set to),
/// computed only when `oracles`' simulated cache already answers its three variants, so it costs
/// a replay, not a search; nullopt otherwise, with `searches_needed` the searches its three
/// variants would take (a lower bound: the elasticity sweeps may need more).
std::optional<Headline> cached_simulated_headline(const Scenario& scenario, const Catalog& catalog,
                                                  Oracles& oracles, std::uint64_t& searches_needed);

/// What a run produced; null pointers for the parts it did not run.
struct RunResults {
  const StaticCapacity* static_capacity = nullptr;
  const SimulationReport* simulation = nullptr;
  const Projection* projection = nullptr;
};

/// "projection", "simulation" or "static-capacity": the most derived result a run holds.
std::string run_kind(const RunResults& results);

/// Writes one run (its `runs` row from `info`, kind filled from `results`, the simulation's own
/// notes appended) and every result's rows, in one transaction. Returns the run id.
std::int64_t store_run(store::Store& store, store::RunInfo info, const RunResults& results);

}  // namespace jevons::session
