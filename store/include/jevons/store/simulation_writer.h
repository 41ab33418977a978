#pragma once
/// \file Writes a SimulationReport (jevons/core/simulation_report.h) into the sim_* tables
/// (store/src/schema_simulation.sql). Call it inside Store::write_run's body so the rows commit
/// with the run or not at all.

#include <cstdint>

#include "jevons/core/simulation_report.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// Inserts every row of `report` under `run_id` (per-request rows only if the report has them).
void write_simulation(Store& store, std::int64_t run_id, const SimulationReport& report);

}  // namespace jevons::store
