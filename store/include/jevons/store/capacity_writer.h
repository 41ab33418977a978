#pragma once
/// \file Writes a static-capacity result (core/capacity.h) into a run's tables.

#include <cstdint>

#include "jevons/core/capacity.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// Inserts `replica_memory` and `capacity_estimates` rows for `run_id`. Call inside write_run.
void write_static_capacity(Store& store, std::int64_t run_id, const StaticCapacity& capacity);

}  // namespace jevons::store
