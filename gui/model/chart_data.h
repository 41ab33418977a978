#pragma once
/// \file Chart-ready data built from a snapshot: series of points in display units, with the
/// unit beside them. Kept free of Qt Charts so it is tested without widgets; the views only
/// copy these points into series (one QXYSeries::replace per update).

#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <functional>

#include "snapshot.h"

namespace jevons::gui {

struct Series {
  QString name;
  QList<QPointF> points;  ///< x = quarter index (projection) or hours (simulation)
};

struct SeriesGroup {
  QString unit;  ///< axis title, unit included, e.g. "HBM (PB)"
  QList<Series> series;
  double max_y() const;
  qsizetype point_count() const;
};

/// One bar of the efficiency-versus-rebound waterfall: it spans [from, to].
struct WaterfallStep {
  QString label;
  double from = 0;
  double to = 0;
  bool total = false;  ///< counterfactual and with-compression are totals, the rest changes
};

struct ProjectionCharts {
  QStringList quarters;
  SeriesGroup hbm_by_generation;  ///< HBM installed, with rebound, one series per GPU generation
  Series hbm_counterfactual;      ///< total HBM installed without compression (same unit)
  SeriesGroup hbm_use;            ///< weights, KV, idle (with rebound)
  SeriesGroup host_dram;          ///< baseline, KV offload, prefix tier (with rebound)
  SeriesGroup fleet;              ///< GPUs installed, one series per variant
  SeriesGroup cost;               ///< $ per million tokens, one series per variant
  QString waterfall_unit;
  QString waterfall_quarter;
  QList<WaterfallStep> waterfall;  ///< HBM installed in the last quarter
};

/// Latency percentiles of one request class on one pool, in milliseconds.
struct LatencyRow {
  QString class_name;
  double ttft_ms[3] = {0, 0, 0};  ///< p50, p90, p99
  double tpot_ms[3] = {0, 0, 0};
};

struct SimulationCharts {
  QStringList pools;
  QList<QList<LatencyRow>> latency;  ///< per pool
  QList<Series> kv_occupancy;        ///< per pool: % of KV capacity in use over hours
  QList<Series> host_tier;           ///< per pool: host DRAM (swap + prefix), GiB, over hours
};

ProjectionCharts projection_charts(const Projection& p);
SimulationCharts simulation_charts(const SimulationReport& r);

/// One total per quarter of `variant`, divided by `divisor` (for overlays of two scenarios).
Series total_series(const Projection& p, Variant variant, const QString& name, double divisor,
                    const std::function<double(const QuarterTotals&)>& get);

}  // namespace jevons::gui
