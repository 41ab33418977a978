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

/// The session layer's projection through `oracles`, with a progress bar on stderr.
session::ProjectionRun run_projection_with_progress(const Scenario& s, const Catalog& catalog,
                                                    session::Oracles& oracles);

void print_projection(std::ostream& out, const Scenario& s, const Projection& p);

/// The projection's no-compression HBM shipped per year beside the world dataset's back-cast and
/// sourced figures (data/world.yaml in `data_dir`, "" = the default); a note when it cannot load.
void print_world_comparison(std::ostream& out, const Catalog& catalog, const std::string& data_dir,
                            const Projection& p);

/// Per year (its last quarter), the share of each class's peak demand the fleet serves without
/// compression and the price over cost that would ration the rest (planner::scarcity).
void print_scarcity(std::ostream& out, const Scenario& s, const Projection& p);

}  // namespace jevons::cli
