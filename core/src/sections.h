#pragma once
// Parsers for the scenario sections that later layers define (internal to core).

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/core/uncertainty_spec.h"
#include "yaml_reader.h"

namespace jevons::detail {

/// Parses `simulation:`. `scenario` holds the already-parsed pools and models for cross-checks.
void parse_simulation(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                      SimulationSpec& out);

/// Parses `planner:` (core/src/planner_spec.cpp).
void parse_planner(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                   PlannerSpec& out);

/// Parses `uncertainty:` (core/src/uncertainty_spec.cpp); needs the planner section parsed.
void parse_uncertainty(yaml::MapReader& section, const Scenario& scenario, UncertaintySpec& out);

/// Shared by the simulation and planner sections: a token-length distribution under `key`, and
/// the `slo:` mapping of `parent`.
LengthDistSpec parse_length(yaml::MapReader& parent, const std::string& key, double fallback);
SloSpec parse_slo(yaml::MapReader& parent);

}  // namespace jevons::detail
