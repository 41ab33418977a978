#include "jevons/session/figures.h"

#include <algorithm>
#include <map>

namespace jevons::session {

ProjectionFigures projection_figures(const Projection& p) {
  ProjectionFigures f;
  f.quarters = p.quarter_labels;
  const std::size_t T = p.quarter_labels.size();
  auto at = [&](int q) { return static_cast<std::size_t>(q); };
  auto in_range = [&](int q) { return q >= 0 && at(q) < T; };

  for (auto* v : {&f.hbm_installed, &f.gpus_installed, &f.cost_usd_per_mtok, &f.host_dram})
    for (auto& series : *v) series.assign(T, 0.0);
  f.hbm_use = {{"weights", std::vector<double>(T)},
               {"KV cache", std::vector<double>(T)},
               {"idle", std::vector<double>(T)}};
  f.host_dram_parts = {{"baseline", std::vector<double>(T)},
                       {"KV offload", std::vector<double>(T)},
                       {"prefix tier", std::vector<double>(T)}};
  for (const auto& t : p.totals) {
    if (!in_range(t.quarter)) continue;
    const auto v = static_cast<std::size_t>(t.variant);
    const auto q = at(t.quarter);
    f.hbm_installed[v][q] = t.hbm_installed_bytes;
    f.gpus_installed[v][q] = t.gpus_installed;
    f.cost_usd_per_mtok[v][q] = t.cost_usd_per_mtok;
    f.host_dram[v][q] = t.host_dram_bytes();
    if (t.variant != Variant::kFull) continue;
    f.hbm_use[0].y[q] = t.hbm_weight_bytes;
    f.hbm_use[1].y[q] = t.hbm_kv_bytes;
    f.hbm_use[2].y[q] = t.hbm_idle_bytes;
    f.host_dram_parts[0].y[q] = t.host_dram_baseline_bytes;
    f.host_dram_parts[1].y[q] = t.host_dram_offload_bytes;
    f.host_dram_parts[2].y[q] = t.host_dram_prefix_bytes;
  }

  std::map<std::string, std::size_t> index;
  for (const auto& g : p.generations) {
    if (g.variant != Variant::kFull || !in_range(g.quarter)) continue;
    auto it = index.find(g.gpu_id);
    if (it == index.end()) {
      it = index.emplace(g.gpu_id, f.hbm_by_generation.size()).first;
      f.hbm_by_generation.push_back({g.gpu_id, std::vector<double>(T)});
    }
    f.hbm_by_generation[it->second].y[at(g.quarter)] += g.hbm_installed_bytes;
  }

  int last = -1;
  for (const auto& d : p.decomposition) last = std::max(last, d.quarter);
  for (const auto& d : p.decomposition) {
    if (d.quarter != last || d.metric != "hbm_installed_bytes" || !in_range(d.quarter)) continue;
    f.has_waterfall = true;
    f.waterfall = {p.quarter_labels[at(d.quarter)], d.counterfactual, d.efficiency_effect,
                   d.rebound_effect, d.with_compression};
  }

  std::vector<std::pair<double, double>> curve;
  std::map<std::string, TornadoRow> rows;
  std::vector<std::string> row_order;
  for (const auto& s : p.sensitivity) {
    if (s.parameter == "elasticity") {
      curve.emplace_back(s.value, s.hbm_installed_net_bytes);
      continue;
    }
    // The planner writes each class's low value, then its high value.
    auto [it, fresh] = rows.try_emplace(s.parameter);
    if (fresh) {
      row_order.push_back(s.parameter);
      it->second = {s.parameter, s.value, s.hbm_installed_net_bytes, s.value,
                    s.hbm_installed_net_bytes};
    } else {
      it->second.high_value = s.value;
      it->second.high_net_bytes = s.hbm_installed_net_bytes;
    }
  }
  // By increasing elasticity: one line, left to right, whatever order the rows came in.
  std::sort(curve.begin(), curve.end());
  for (const auto& [x, y] : curve) {
    f.elasticity.push_back(x);
    f.elasticity_net_hbm_bytes.push_back(y);
  }
  for (const auto& name : row_order) f.tornado.push_back(rows[name]);
  return f;
}

SimulationFigures simulation_figures(const SimulationReport& r) {
  SimulationFigures f;
  for (const auto& pm : r.pools) f.pools.push_back({pm.name, {}, {}, {}, {}, {}});
  for (const auto& s : r.timeseries) {
    if (s.pool >= f.pools.size()) continue;
    auto& ps = f.pools[s.pool];
    ps.hours.push_back(static_cast<double>(s.time_ns) / 3.6e12);
    ps.kv_occupancy_percent.push_back(s.kv_capacity_bytes
                                          ? 100.0 * static_cast<double>(s.kv_used_bytes) /
                                                static_cast<double>(s.kv_capacity_bytes)
                                          : 0.0);
    ps.host_tier_bytes.push_back(static_cast<double>(s.host_swap_bytes + s.host_prefix_bytes));
    ps.running.push_back(s.running);
    ps.waiting.push_back(s.waiting);
  }
  return f;
}

}  // namespace jevons::session
