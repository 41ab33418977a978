#pragma once
/// \file The one definition of the break-even elasticity (docs/elasticity.md, "Break-even
/// elasticity"), and the projection probe it is found on.
///
/// Definition: the smallest uniform long-run elasticity ε in [low, high] at which the net change
/// of a metric against the no-compression counterfactual turns from ≤ 0 to > 0, every other input
/// held at the scenario's values (each class keeps its own speed of adjustment λ = short/long).
/// It is found by root-finding on the projection itself (a scan at `step`, then bisection), so it
/// is where the net-versus-ε curve crosses zero. When the curve does not cross in [low, high]
/// there is no break-even in the range, and the result says which side it stays on — never 0.
///
/// The headline metrics are measured in the horizon's final year: installed HBM and host DRAM at
/// its end (stocks), HBM shipped summed over its four quarters (a flow, bits per year).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/capacity_oracle.h"

namespace jevons::planner {

struct BreakEvenRange {
  double low = 0;
  double high = 5;
  double step = 0.25;       ///< scan step; crossings closer together than this may be missed
  double tolerance = 1e-4;  ///< bisection stops when the bracket is this narrow (in ε)
};

struct BreakEvenResult {
  enum class Status : std::uint8_t {
    kCrossing,       ///< the net change crosses zero at `elasticity`
    kAboveAtLow,     ///< compression raises the metric at every ε in the range (even at low)
    kNoneBelowHigh,  ///< compression never raises the metric in the range
  };
  Status status = Status::kNoneBelowHigh;
  double elasticity = 0;  ///< NaN unless status is kCrossing
  double low = 0, high = 0;

  bool found() const { return status == Status::kCrossing; }
  /// "2.031", "none in [0, 5]: raises at every ε", "none in [0, 5]: lowers at every ε".
  std::string describe(int decimals = 3) const;
  /// For ordering samples: the crossing, −inf when above at low, +inf when none below high.
  double ordered_value() const;
};

/// Root-finds on `net(ε)` (the metric with compression minus without). `zero_tolerance`: a net
/// change at or below it counts as not raised (rounding in sums of petabytes).
BreakEvenResult find_break_even(const std::function<double(double)>& net,
                                const BreakEvenRange& range, double zero_tolerance);

/// The headline metrics, in the order used by every band and chart.
enum class Headline : std::uint8_t { kHbmInstalled, kHbmShippedPerYear, kHostDram };
inline constexpr int kHeadlineCount = 3;
/// "hbm_installed_bytes", "hbm_shipped_bytes_per_year", "host_dram_bytes".
const char* to_string(Headline h);

/// A headline metric's value in the final year of `totals` (one variant's quarters, in order).
double final_year_value(const std::vector<QuarterTotals>& totals, Headline h);
/// The headline metric's value for the year ending at quarter `last` (stocks at `last`, flows
/// summed over `last` and up to three quarters before it within the horizon).
double year_value(const std::vector<QuarterTotals>& totals, Headline h, std::size_t last);

/// Inputs that are not part of the scenario text: the band run's sampled values that act inside
/// the projection rather than on the scenario's fields.
struct ProjectionAdjustments {
  /// Multiplies the HBM counted per package (installed, shipped, and the supply cap's use); the
  /// capacity search keeps the catalog's HBM (docs/uncertainty.md says why).
  double hbm_per_package_factor = 1;
  /// Compressed-KV attention speed: capacity of the compressed formats searched at these
  /// grid points (ascending time_vs_bf16), each with its own oracle and latency calibration, and
  /// interpolated linearly at `compressed_attention_time`. Empty: the catalog's speed.
  struct SpeedPoint {
    double time_vs_bf16 = 1;
    CapacityOracle* oracle = nullptr;
    const LatencyCalibration* latency = nullptr;
  };
  std::vector<SpeedPoint> speed_grid;
  double compressed_attention_time = 1;
};

/// Runs a scenario's projection variants without the full Projection's tables: the
/// counterfactual once, then the efficiency and with-rebound variants, and the with-rebound
/// variant at any uniform long-run ε (memoised). What the break-even and the band run use.
class ProjectionProbe {
 public:
  ProjectionProbe(const Scenario& scenario, const Catalog& catalog, CapacityOracle& oracle,
                  ProjectionAdjustments adjustments = {});
  ~ProjectionProbe();
  ProjectionProbe(const ProjectionProbe&) = delete;
  ProjectionProbe& operator=(const ProjectionProbe&) = delete;

  const std::vector<QuarterTotals>& counterfactual();
  const std::vector<QuarterTotals>& efficiency();
  const std::vector<QuarterTotals>& with_rebound();  ///< at the scenario's elasticities
  /// Every class's long-run ε set to `elasticity` (short run = λ·ε, λ the class's own).
  const std::vector<QuarterTotals>& with_rebound_at(double elasticity);

  /// Final-year net change of `h` at a uniform long-run ε.
  double final_year_net_at(double elasticity, Headline h);
  /// The break-even elasticity of `h` in the final year (the definition above).
  BreakEvenResult break_even(Headline h, const BreakEvenRange& range = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jevons::planner
