#include "jevons/store/sweep_writer.h"

#include <cmath>

namespace jevons::store {

void write_sweep(Store& store, std::int64_t run_id, const std::vector<SweepPointResult>& points) {
  using I = std::int64_t;
  Statement pt = store.prepare("INSERT INTO sweep_points VALUES (?1,?2,?3,?4,?5)");
  Statement qt = store.prepare(
      "INSERT INTO sweep_quarters VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  Statement dc = store.prepare("INSERT INTO sweep_decomposition VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  Statement be = store.prepare("INSERT INTO sweep_break_even VALUES (?1,?2,?3,?4,?5)");
  for (const auto& p : points) {
    const auto idx = static_cast<I>(p.index);
    pt.insert({run_id, idx, p.parameters_json, p.scenario_sha256,
               p.error.empty() ? Value{nullptr} : Value{p.error}});
    for (const auto& t : p.totals)
      qt.insert({run_id, idx, to_string(t.variant), I{t.quarter}, t.label, t.demand_tokens_per_s,
                 t.cost_usd_per_mtok, t.gpus_installed, t.hbm_installed_bytes, t.hbm_used_bytes(),
                 t.host_dram_bytes(), t.energy_mwh});
    for (const auto& d : p.decomposition)
      dc.insert({run_id, idx, I{d.quarter}, p.quarter_labels.at(static_cast<std::size_t>(d.quarter)),
                 d.metric, d.counterfactual, d.efficiency_effect, d.rebound_effect, d.net});
    for (const auto& b : p.break_even)
      be.insert({run_id, idx, I{b.quarter}, b.metric,
                 std::isnan(b.elasticity) ? Value{nullptr} : Value{b.elasticity}});
  }
}

}  // namespace jevons::store
