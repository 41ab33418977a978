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

/// Engine settings (max_num_seqs, max_batched_tokens, chunked_prefill, watermark, admission) of
/// a scenario's `batching:`, a pool's engine or a published row's `engine:`, over `base`.
BatchingSpec parse_batching(yaml::MapReader& b, const BatchingSpec& base);

/// Pipeline, expert and DP-attention keys of a pool or a published row
/// (core/src/parallel_spec.cpp).
ParallelSpec parse_parallel(yaml::MapReader& m);
/// Cross-checks them against the model and the tensor-parallel degree; errors go to `ctx` at `at`.
void check_parallel(yaml::Context& ctx, const YAML::Node& at, const std::string& path,
                    const ModelSpec& model, const ParallelSpec& p, std::uint32_t tensor_parallel);

}  // namespace jevons::detail
