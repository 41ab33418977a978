#pragma once
/// \file The simulator's public entry point: run the `simulation:` section of a scenario.
///
/// The simulator depends on core only (catalogs, KV accounting, scenario, profile); results are
/// the plain structs of jevons/core/simulation_report.h, which the store writes.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/profile.h"
#include "jevons/core/scenario.h"
#include "jevons/core/simulation_report.h"

namespace jevons {

/// Progress of a running simulation: `fraction` of the arrivals window simulated (0..1, then 1
/// while draining), `requests` finished so far. Called at most every 65,536 events.
using SimulationProgressFn = std::function<void(double fraction, std::uint64_t requests)>;

/// Simulates `scenario.simulation` (which must be present) on the scenario's pools.
/// Throws InputError for inputs only discoverable now (an unreadable or malformed trace, a pool
/// whose model does not fit its GPUs, a run that needs more memory than is available); simulated
/// outcomes (rejections, SLO misses) are metrics. `profile` calibrates the KV-read cost of each
/// format and, when it holds measured steps, the whole step time (docs/latency-model.md).
SimulationReport simulate(const Scenario& scenario, const Catalog& catalog,
                          const std::optional<Profile>& profile,
                          const SimulationProgressFn& progress = {});

/// What a simulation must hold in memory, estimated from its inputs alone (expected arrivals,
/// replicas, samples), so that a run too big for the machine is refused before it starts rather
/// than found by the OOM killer. `breakdown` names each term for the message.
struct SimulationMemoryEstimate {
  double bytes = 0;
  double expected_requests = 0;
  std::string breakdown;
};
SimulationMemoryEstimate estimate_simulation_memory(const Scenario& scenario);

/// Memory this process may still use: the smaller of MemAvailable (/proc/meminfo) and the
/// cgroup's remaining limit; JEVONS_MEMORY_AVAILABLE_BYTES overrides both (tests, shared hosts).
double available_memory_bytes();

/// Human-readable summary: one line per (class, pool) group and one per pool.
void print_summary(std::ostream& out, const SimulationReport& report);

}  // namespace jevons
