#pragma once
// The planner branch of `jevons run` (and `jevons sweep`): capacity oracle set-up, the projection
// with a progress bar, and its summary table.

#include <iosfwd>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"

namespace jevons::cli {

struct ProjectionRunOptions {
  std::string profile_path;  ///< measured kernel profile for the simulated capacity search
  std::string cache_path;    ///< capacity cache file; "" = the default location; "-" = none
  bool progress = true;      ///< progress bar on stderr for runs longer than a second
};

/// The capacity cache file a run uses: the option, else the scenario's planner.capacity.cache
/// (relative to the scenario file), else $JEVONS_CACHE_DIR, $XDG_CACHE_HOME/jevons or
/// ~/.cache/jevons, + "/capacity-cache.json". "" when caching is off.
std::string capacity_cache_path(const Scenario& s, const std::string& option);

Projection run_projection(const Scenario& s, const Catalog& catalog,
                          const ProjectionRunOptions& options);

void print_projection(std::ostream& out, const Scenario& s, const Projection& p);

}  // namespace jevons::cli
