#include "chart_data.h"

#include <algorithm>
#include <map>

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

ProjectionCharts projection_charts(const Projection& p) {
  ProjectionCharts c;
  for (const auto& l : p.quarter_labels) c.quarters << QString::fromStdString(l);

  // Generations in the order the scenario lists them (oldest first), so the stack reads from
  // the installed base at the bottom to the newest parts on top.
  std::vector<std::string> order;
  std::map<std::string, std::map<int, double>> hbm;
  for (const auto& g : p.generations) {
    if (g.variant != Variant::kFull) continue;
    if (!hbm.count(g.gpu_id)) order.push_back(g.gpu_id);
    hbm[g.gpu_id][g.quarter] += g.hbm_installed_bytes;
  }
  c.hbm_by_generation.unit = QStringLiteral("HBM installed (PB)");
  for (const auto& id : order) {
    Series s{QString::fromStdString(id), {}};
    for (const auto& [q, b] : hbm[id]) s.points.append({double(q), b / kPB});
    c.hbm_by_generation.series.append(s);
  }
  c.hbm_counterfactual =
      total_series(p, Variant::kCounterfactual, QStringLiteral("no compression"), kPB,
                   [](const QuarterTotals& t) { return t.hbm_installed_bytes; });

  c.hbm_use.unit = QStringLiteral("HBM (PB)");
  c.hbm_use.series = {total_series(p, Variant::kFull, QStringLiteral("weights"), kPB,
                                   [](const QuarterTotals& t) { return t.hbm_weight_bytes; }),
                      total_series(p, Variant::kFull, QStringLiteral("KV cache"), kPB,
                                   [](const QuarterTotals& t) { return t.hbm_kv_bytes; }),
                      total_series(p, Variant::kFull, QStringLiteral("idle"), kPB,
                                   [](const QuarterTotals& t) { return t.hbm_idle_bytes; })};

  c.host_dram.unit = QStringLiteral("host DRAM (PB)");
  c.host_dram.series = {
      total_series(p, Variant::kFull, QStringLiteral("baseline"), kPB,
                   [](const QuarterTotals& t) { return t.host_dram_baseline_bytes; }),
      total_series(p, Variant::kFull, QStringLiteral("KV offload"), kPB,
                   [](const QuarterTotals& t) { return t.host_dram_offload_bytes; }),
      total_series(p, Variant::kFull, QStringLiteral("prefix tier"), kPB,
                   [](const QuarterTotals& t) { return t.host_dram_prefix_bytes; })};

  c.fleet.unit = QStringLiteral("GPUs installed (millions)");
  c.cost.unit = QStringLiteral("cost ($ per million tokens)");
  for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
    c.fleet.series.append(total_series(p, v, variant_name(v), 1e6,
                                       [](const QuarterTotals& t) { return t.gpus_installed; }));
    c.cost.series.append(total_series(p, v, variant_name(v), 1,
                                      [](const QuarterTotals& t) { return t.cost_usd_per_mtok; }));
  }

  // The waterfall: counterfactual → efficiency effect → rebound → with compression, in the
  // last quarter, for installed HBM (the metric the Jevons question is about).
  int last = -1;
  for (const auto& d : p.decomposition) last = std::max(last, d.quarter);
  for (const auto& d : p.decomposition) {
    if (d.quarter != last || d.metric != "hbm_installed_bytes") continue;
    const double cf = d.counterfactual / kPB;
    const double eff = cf + d.efficiency_effect / kPB;
    const double full = d.with_compression / kPB;
    // Short labels: four categories share a third of the window; the tooltip says more.
    c.waterfall = {{QStringLiteral("without"), 0, cf, true},
                   {QStringLiteral("efficiency"), cf, eff, false},
                   {QStringLiteral("rebound"), eff, full, false},
                   {QStringLiteral("with"), 0, full, true}};
  }
  c.waterfall_unit = QStringLiteral("HBM installed (PB)");
  if (last >= 0 && last < c.quarters.size()) c.waterfall_quarter = c.quarters[last];
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
  for (const auto& s : r.timeseries) {
    if (s.pool >= static_cast<std::uint32_t>(c.pools.size())) continue;
    const double hours = static_cast<double>(s.time_ns) / 3.6e12;
    const double occ = s.kv_capacity_bytes ? 100.0 * static_cast<double>(s.kv_used_bytes) /
                                                 static_cast<double>(s.kv_capacity_bytes)
                                           : 0.0;
    c.kv_occupancy[s.pool].points.append({hours, occ});
    c.host_tier[s.pool].points.append(
        {hours, static_cast<double>(s.host_swap_bytes + s.host_prefix_bytes) / kGiB});
  }
  return c;
}

}  // namespace jevons::gui
