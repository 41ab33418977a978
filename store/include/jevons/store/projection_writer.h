#pragma once
/// \file Writes a planner projection (core/projection_result.h) into a run's tables.

#include <cstdint>

#include "jevons/core/projection_result.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// Inserts every projection table's rows for `run_id`. Call inside Store::write_run.
void write_projection(Store& store, std::int64_t run_id, const Projection& projection);

}  // namespace jevons::store
