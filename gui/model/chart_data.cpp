#include "chart_data.h"

#include <algorithm>
#include <map>

#include "jevons/session/figures.h"

namespace jevons::gui {

namespace {
constexpr double kPB = 1e15;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

QString variant_name(Variant v) {
  switch (v) {
    // Short, to fit a legend under a quarter-width chart: "without" compression, compression
    // with demand held ("efficiency"), and with the demand response ("rebound").
    case Variant::kCounterfactual:
      return QStringLiteral("without");
    case Variant::kEfficiency:
      return QStringLiteral("efficiency");
    case Variant::kFull:
      return QStringLiteral("rebound");
  }
  return {};
}
}  // namespace

double SeriesGroup::max_y() const {
  double m = 0;
  for (const auto& s : series)
    for (const auto& p : s.points) m = std::max(m, p.y());
  return m;
}

qsizetype SeriesGroup::point_count() const {
  qsizetype n = 0;
  for (const auto& s : series) n += s.points.size();
  return n;
}

Series total_series(const Projection& p, Variant variant, const QString& name, double divisor,
                    const std::function<double(const QuarterTotals&)>& get) {
  Series s{name, {}};
  for (const auto& t : p.totals)
    if (t.variant == variant) s.points.append({double(t.quarter), get(t) / divisor});
  std::sort(s.points.begin(), s.points.end(),
            [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); });
  return s;
}

namespace {
// One series from a per-quarter vector of the session layer's figures, in display units.
Series quarter_series(const QString& name, const std::vector<double>& y, double divisor) {
  Series s{name, {}};
  for (std::size_t q = 0; q < y.size(); ++q) s.points.append({double(q), y[q] / divisor});
  return s;
}
}  // namespace

ProjectionCharts projection_charts(const Projection& p) {
  // The series are the report's (session/figures.h); here they only get display units and names.
  const session::ProjectionFigures f = session::projection_figures(p);
  ProjectionCharts c;
  for (const auto& l : f.quarters) c.quarters << QString::fromStdString(l);

  // Generations in the order the scenario lists them (oldest first), so the stack reads from
  // the installed base at the bottom to the newest parts on top.
  c.hbm_by_generation.unit = QStringLiteral("HBM installed (PB)");
  for (const auto& g : f.hbm_by_generation)
    c.hbm_by_generation.series.append(quarter_series(QString::fromStdString(g.name), g.y, kPB));
  c.hbm_counterfactual =
      quarter_series(QStringLiteral("no compression"),
                     f.hbm_installed[static_cast<std::size_t>(Variant::kCounterfactual)], kPB);

  c.hbm_use.unit = QStringLiteral("HBM (PB)");
  for (const auto& l : f.hbm_use)
    c.hbm_use.series.append(quarter_series(QString::fromStdString(l.name), l.y, kPB));
  c.host_dram.unit = QStringLiteral("host DRAM (PB)");
  for (const auto& l : f.host_dram_parts)
    c.host_dram.series.append(quarter_series(QString::fromStdString(l.name), l.y, kPB));

  c.fleet.unit = QStringLiteral("GPUs installed (millions)");
  c.cost.unit = QStringLiteral("cost ($ per million tokens)");
  for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
    const auto i = static_cast<std::size_t>(v);
    c.fleet.series.append(quarter_series(variant_name(v), f.gpus_installed[i], 1e6));
    c.cost.series.append(quarter_series(variant_name(v), f.cost_usd_per_mtok[i], 1));
  }

  // The waterfall: counterfactual → efficiency effect → rebound → with compression, in the
  // last quarter, for installed HBM (the metric the Jevons question is about).
  if (f.has_waterfall) {
    const auto& w = f.waterfall;
    const double cf = w.counterfactual / kPB;
    const double eff = cf + w.efficiency / kPB;
    const double full = w.with_compression / kPB;
    // Short labels: four categories share a third of the window; the tooltip says more.
    c.waterfall = {{QStringLiteral("without"), 0, cf, true},
                   {QStringLiteral("efficiency"), cf, eff, false},
                   {QStringLiteral("rebound"), eff, full, false},
                   {QStringLiteral("with"), 0, full, true}};
    c.waterfall_quarter = QString::fromStdString(w.quarter);
  }
  c.waterfall_unit = QStringLiteral("HBM installed (PB)");
  return c;
}

SimulationCharts simulation_charts(const SimulationReport& r) {
  SimulationCharts c;
  for (const auto& pm : r.pools) {
    c.pools << QString::fromStdString(pm.name);
    QList<LatencyRow> rows;
    for (const auto& g : r.groups) {
      if (g.pool_name != pm.name || g.finished == 0) continue;
      LatencyRow row;
      row.class_name = QString::fromStdString(g.class_name);
      const double ttft[] = {g.ttft.p50_ns, g.ttft.p90_ns, g.ttft.p99_ns};
      const double tpot[] = {g.tpot.p50_ns, g.tpot.p90_ns, g.tpot.p99_ns};
      for (int i = 0; i < 3; ++i) {
        row.ttft_ms[i] = ttft[i] / 1e6;
        row.tpot_ms[i] = tpot[i] / 1e6;
      }
      rows.append(row);
    }
    c.latency.append(rows);
    c.kv_occupancy.append({QString::fromStdString(pm.name), {}});
    c.host_tier.append({QString::fromStdString(pm.name), {}});
  }
  const session::SimulationFigures f = session::simulation_figures(r);
  for (std::size_t i = 0; i < f.pools.size(); ++i) {
    const auto& ps = f.pools[i];
    for (std::size_t k = 0; k < ps.hours.size(); ++k) {
      c.kv_occupancy[static_cast<qsizetype>(i)].points.append(
          {ps.hours[k], ps.kv_occupancy_percent[k]});
      c.host_tier[static_cast<qsizetype>(i)].points.append(
          {ps.hours[k], ps.host_tier_bytes[k] / kGiB});
    }
  }
  return c;
}

}  // namespace jevons::gui
