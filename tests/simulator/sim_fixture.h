#pragma once
// Scenarios for simulator tests: one H100 pool serving Llama-3.1-8B unless a test says otherwise.
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/simulator/simulate.h"

inline const jevons::Catalog& sim_catalog() {
  static const jevons::Catalog c = jevons::Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

inline const std::string kOnePool = R"(
pools:
  - {name: h100, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}
)";

/// A scenario with `pools` (YAML list under `pools:`) and `simulation` (the section's body,
/// indented by two spaces).
inline jevons::Scenario sim_scenario(const std::string& simulation,
                                     const std::string& pools = kOnePool, std::uint64_t seed = 42) {
  const std::string text = "name: sim-test\nseed: " + std::to_string(seed) +
                           "\nkv_formats: [bf16]\nworkload: {context_tokens: [8192]}\n" + pools +
                           "simulation:\n" + simulation;
  return jevons::Scenario::parse(text, std::string(JEVONS_SIM_FIXTURE_DIR) + "/scenario.yaml",
                                 sim_catalog());
}

inline jevons::SimulationReport run_sim(const std::string& simulation,
                                        const std::string& pools = kOnePool,
                                        std::uint64_t seed = 42) {
  return jevons::simulate(sim_scenario(simulation, pools, seed), sim_catalog(), std::nullopt);
}
