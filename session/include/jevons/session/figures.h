#pragma once
/// \file The series the figures draw, built once: the report's SVG charts and the GUI's charts
/// take their points from here and only scale them to a display unit and name them. Values are
/// in base units (bytes, GPUs, $ per million tokens, nanoseconds), one per quarter (projection)
/// or per sample (simulation).

#include <array>
#include <string>
#include <vector>

#include "jevons/core/projection_result.h"
#include "jevons/core/simulation_report.h"

namespace jevons::session {

struct Line {
  std::string name;
  std::vector<double> y;  ///< one value per quarter (projection figures)
};

/// The efficiency-versus-rebound waterfall of one metric in one quarter (bytes).
struct Waterfall {
  std::string quarter;
  double counterfactual = 0;
  double efficiency = 0;  ///< the efficiency effect (a change)
  double rebound = 0;     ///< the rebound (a change)
  double with_compression = 0;
};

/// One row of the tornado: one class's long-run elasticity at its low and high value.
struct TornadoRow {
  std::string parameter;  ///< "<class>.elasticity"
  double low_value = 0, low_net_bytes = 0;
  double high_value = 0, high_net_bytes = 0;
};

struct ProjectionFigures {
  std::vector<std::string> quarters;
  /// HBM installed with compression and rebound, one line per GPU generation, in the order the
  /// scenario lists them (oldest first, so a stack reads bottom-up by age); 0 where a
  /// generation has no row.
  std::vector<Line> hbm_by_generation;
  /// Totals per variant, indexed by Variant (counterfactual, efficiency, with rebound).
  std::array<std::vector<double>, 3> hbm_installed, gpus_installed, cost_usd_per_mtok, host_dram;
  /// With compression and rebound: weights, KV cache, idle; host DRAM baseline, offload, prefix.
  std::vector<Line> hbm_use, host_dram_parts;
  bool has_waterfall = false;
  Waterfall waterfall;  ///< installed HBM, final quarter
  /// Net change in installed HBM (final quarter) against a uniform long-run elasticity, by
  /// increasing elasticity (the break-even curve), and the per-class tornado.
  std::vector<double> elasticity, elasticity_net_hbm_bytes;
  std::vector<TornadoRow> tornado;
};

ProjectionFigures projection_figures(const Projection& projection);

/// Per pool, over simulated time.
struct PoolSeries {
  std::string pool;
  std::vector<double> hours;
  std::vector<double> kv_occupancy_percent;  ///< private KV blocks over KV capacity
  std::vector<double> host_tier_bytes;       ///< swapped KV + prefix-cache host tier
  std::vector<double> running, waiting;      ///< requests
};

struct SimulationFigures {
  std::vector<PoolSeries> pools;
};

SimulationFigures simulation_figures(const SimulationReport& report);

}  // namespace jevons::session
