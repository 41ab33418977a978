#pragma once
/// \file The simulator's public entry point: run the `simulation:` section of a scenario.
///
/// The simulator depends on core only (catalogs, KV accounting, scenario, profile); results are
/// the plain structs of jevons/core/simulation_report.h, which the store writes.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

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

/// A trace the scenario names, read through by check_simulation_traces().
struct TraceSummary {
  std::string path;  ///< resolved
  std::uint64_t requests = 0;
  std::uint64_t skipped_lines = 0;  ///< malformed lines skipped (malformed: skip)
  bool resorted = false;            ///< the rows were not in time order
  std::int64_t span_ns = 0;         ///< first to last arrival
};
/// Reads every trace the scenario's simulation names (the replayed trace and any
/// `lengths_from_trace`), so `jevons validate` finds a missing, malformed or empty trace before a
/// run does. Throws InputError as simulate() would, pointing at the scenario's `path:` line.
std::vector<TraceSummary> check_simulation_traces(const Scenario& scenario);

/// What a simulation must hold in memory, estimated from its inputs alone (expected arrivals,
/// replicas, samples), so that a run too big for the machine is refused before it starts rather
/// than found by the OOM killer. `breakdown` names each term for the message.
struct SimulationMemoryEstimate {
  double bytes = 0;
  double expected_requests = 0;
  std::string breakdown;
};
/// An upper bound: every expected arrival may be queued at once (an overloaded fleet), vectors
/// may have doubled, a trace holds as many rows as its size allows; `catalog` (when given) sizes
/// the prefix caches. tests/cli/test_memory_estimate.cpp checks it against measured peak RSS.
SimulationMemoryEstimate estimate_simulation_memory(const Scenario& scenario,
                                                    const Catalog* catalog = nullptr);

/// Memory this process may still use: the smaller of MemAvailable (/proc/meminfo) and the
/// cgroup's remaining limit; JEVONS_MEMORY_AVAILABLE_BYTES overrides both (tests, shared hosts).
double available_memory_bytes();

/// Human-readable summary: one line per (class, pool) group and one per pool.
void print_summary(std::ostream& out, const SimulationReport& report);

}  // namespace jevons
