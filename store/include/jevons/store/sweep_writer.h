#pragma once
/// \file Writes sweep results (core/projection_result.h SweepPointResult) into a run's tables.

#include <cstdint>
#include <vector>

#include "jevons/core/projection_result.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// Inserts every point's rows for `run_id`, in point order. Call inside Store::write_run.
void write_sweep(Store& store, std::int64_t run_id, const std::vector<SweepPointResult>& points);

}  // namespace jevons::store
