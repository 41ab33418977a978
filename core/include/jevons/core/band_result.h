#pragma once
/// \file What a band run (uncertainty over a projection) produces: plain structs, so the store
/// writes and reads them without linking the planner (planner → core ← store). Produced by
/// jevons/planner/uncertainty.h; the tables are documented in docs/database.md.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jevons {

/// P10/P50/P90 of one headline series in one period.
struct BandRow {
  std::string series;  ///< "<metric>.<part>", e.g. hbm_installed_bytes.net
  std::string period;  ///< "2030Q4" (a quarter) or "2030" (a year)
  double p10 = 0, p50 = 0, p90 = 0;
};

/// The band of the final-year break-even elasticity of one headline metric. Values follow
/// BreakEvenResult::ordered_value(): −inf when compression raises the metric at every ε in
/// [low, high], +inf when it raises it at none.
struct BreakEvenBand {
  std::string metric;      ///< hbm_installed_bytes, hbm_shipped_bytes_per_year, host_dram_bytes
  double at_scenario = 0;  ///< the scenario's own break-even, unsampled
  double p10 = 0, p50 = 0, p90 = 0;
  std::size_t crossings = 0;        ///< samples with a break-even in [low, high]
  std::size_t above_at_low = 0;     ///< samples where compression raises it at every ε
  std::size_t none_below_high = 0;  ///< samples where it never does
  double low = 0, high = 0;
};

/// One point of the net-change-versus-ε curve (final year, uniform long-run ε).
struct BreakEvenCurvePoint {
  std::string metric;
  double elasticity = 0;
  double net_bytes = 0;
};

struct Band {
  std::size_t samples = 0;
  std::uint64_t seed = 0;
  bool latin_hypercube = true;
  double break_even_low = 0, break_even_high = 0;
  std::vector<std::string> input_names;
  std::vector<std::string> input_distributions;  ///< as Distribution::describe() writes them
  std::vector<BandRow> rows;                     ///< series × period, periods in time order
  std::vector<BreakEvenBand> break_even;         ///< one per headline metric (when computed)
  std::vector<BreakEvenCurvePoint> curve;        ///< the scenario's net-vs-ε curve
};

}  // namespace jevons
