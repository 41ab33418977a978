#pragma once
// Parsers for the scenario sections that later layers define (internal to core).

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "yaml_reader.h"

namespace jevons::detail {

/// Parses `simulation:`. `scenario` holds the already-parsed pools and models for cross-checks.
void parse_simulation(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                      SimulationSpec& out);

}  // namespace jevons::detail
