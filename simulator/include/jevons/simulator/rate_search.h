#pragma once
/// \file Server rate search: the highest Poisson arrival rate whose run keeps p99 TTFT and p99
/// TPOT within given limits and is in steady state (MLPerf Server; `jevons rate-search`).
///
/// Each probe simulates the scenario with every class's rate scaled by one factor, so the
/// classes keep their shares; the rate reported is the sum over classes. A probe passes when
/// every counted request finished (none rejected, none left when the drain ended), the worst
/// group's p99 TTFT and p99 TPOT are within the limits, and the queue is not growing: the mean
/// queueing delay (arrival → first scheduled) of requests arriving in the last quarter of the
/// measured window is at most `growth_ratio` × that of the second quarter plus
/// `growth_floor_ns` (an overloaded run's delay grows with arrival time, about doubling from the
/// second quarter to the last; a stable one's does not move).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/core/simulation_report.h"

namespace jevons {

struct RateSearchOptions {
  double p99_ttft_ms = 0;  ///< 0 = no TTFT limit
  double p99_tpot_ms = 0;  ///< 0 = no TPOT limit
  /// > 0: bisect in [0, upper_rate_per_s] (first probe at half of it). 0: start at the scenario's
  /// own total rate and double (or halve) until the pass/fail boundary is bracketed, then bisect.
  double upper_rate_per_s = 0;
  int bisections = 9;    ///< probes after the bracket is found
  int max_bracket = 24;  ///< most doublings or halvings while bracketing
  bool steady_state_check = true;
  double growth_ratio = 1.25;
  /// Absolute slack of the growth test; negative: 5 % of the TTFT limit, or 10 ms without one.
  double growth_floor_ns = -1;
};

struct RateProbe {
  double rate_per_s = 0;
  bool passed = false;
  bool limits_met = false;         ///< p99 TTFT and TPOT within the limits, nothing left unfinished
  bool steady = false;             ///< the queueing delay did not grow (see above)
  double p99_ttft_ns = 0;          ///< worst group
  double p99_tpot_ns = 0;          ///< worst group
  double queue_mid_ns = 0;         ///< mean queueing delay, arrivals in the window's second quarter
  double queue_end_ns = 0;         ///< mean queueing delay, arrivals in its last quarter
  double output_tokens_per_s = 0;  ///< summed over groups (the measured window)
  std::uint64_t unfinished = 0, rejected = 0;
  std::string reason;  ///< why it failed ("" when it passed)
};

struct RateSearchResult {
  double rate_per_s = 0;                 ///< the highest passing rate found (0 when none passed)
  std::optional<SimulationReport> best;  ///< the run at that rate
  std::vector<RateProbe> probes;         ///< in the order they ran
};

/// Simulates one probe of `scenario` at total arrival rate `rate_per_s` and judges it.
RateProbe probe_rate(const Scenario& scenario, const Catalog& catalog, double rate_per_s,
                     const RateSearchOptions& options, SimulationReport* report = nullptr);

/// The search. `scenario.simulation` must hold synthetic Poisson or gamma classes with a
/// positive total rate (no trace, offline or closed-loop class): throws InputError otherwise.
/// `on_probe` (optional) sees each probe as it finishes. Deterministic per seed.
RateSearchResult search_max_rate(const Scenario& scenario, const Catalog& catalog,
                                 const RateSearchOptions& options,
                                 const std::function<void(const RateProbe&)>& on_probe = {});

}  // namespace jevons
