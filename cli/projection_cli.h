#pragma once
// The planner branch of `jevons run`: the session layer's projection with a progress bar, and its
// summary table. Oracle choice and the capacity cache are the session layer's (session/).

#include <iosfwd>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"
#include "jevons/session/session.h"

namespace jevons::cli {

struct ProjectionRunOptions {
  std::string profile_path;  ///< measured kernel profile for the simulated capacity search
  std::string cache_path;    ///< capacity cache file; "" = the default location; "-" = none
  bool progress = true;      ///< progress bar on stderr for runs longer than a second
};

session::ProjectionRun run_projection(const Scenario& s, const Catalog& catalog,
                                      const ProjectionRunOptions& options);

void print_projection(std::ostream& out, const Scenario& s, const Projection& p);

}  // namespace jevons::cli
