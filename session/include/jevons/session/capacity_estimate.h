#pragma once
/// \file How many capacity searches a projection would run before it runs them.
///
/// A cold simulated search costs tenths of a second to seconds per (generation × class × format
/// × prompt scale) case, so a lever move that reaches uncached cases can take minutes. The
/// front ends say so, with a time estimate, before the search starts (the GUI), or say what
/// comparing with the simulated answer would cost (`jevons run --analytical-capacity`): the
/// projection is first replayed with every uncached answer taken from the closed form (microseconds
/// each) while counting them; the count times the measured seconds per search is the estimate.

#include <cstdint>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/capacity_oracle.h"
#include "jevons/planner/projection.h"

namespace jevons::session {

/// The number of capacity searches `planner::project(scenario, catalog, cache, options)` would
/// run that `cache` does not answer yet. `cache` is only read (its entries are copied).
std::uint64_t uncached_searches(const Scenario& scenario, const Catalog& catalog,
                                const planner::CachedOracle& cache,
                                const planner::ProjectionOptions& options = {});

}  // namespace jevons::session
