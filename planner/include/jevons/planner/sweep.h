#pragma once
/// \file One point of a sweep: the grid's base scenario with the point's values written in,
/// validated, projected, and summarised. Points are independent and deterministic, so any split
/// across MPI ranks or threads gives the same results.

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/sweep_grid.h"
#include "jevons/planner/capacity_oracle.h"

namespace jevons::planner {

/// Runs one point. An invalid point scenario (say a value out of range) is not an exception: its
/// result carries the validation message in `error`, so one bad corner never sinks a sweep.
/// `scenario_sha256` is left for the caller (the store owns hashing).
SweepPointResult run_sweep_point(const SweepGrid& grid, const SweepPoint& point,
                                 const Catalog& catalog, CapacityOracle& oracle);

}  // namespace jevons::planner
