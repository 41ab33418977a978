#include "jevons/store/projection_writer.h"

#include <cmath>

namespace jevons::store {

void write_projection(Store& store, std::int64_t run_id, const Projection& p) {
  using I = std::int64_t;
  auto label = [&](int q) { return p.quarter_labels.at(static_cast<std::size_t>(q)); };
  Statement tq = store.prepare(
      "INSERT INTO projection_quarters VALUES "
      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,"
      "?25)");
  for (const auto& t : p.totals)
    tq.insert({run_id,
               to_string(t.variant),
               I{t.quarter},
               t.label,
               t.demand_tokens_per_s,
               t.peak_tokens_per_s,
               t.unserved_peak_tokens_per_s,
               t.cost_usd_per_mtok,
               t.gpus_installed,
               t.gpus_powered,
               t.hbm_installed_bytes,
               t.hbm_weight_bytes,
               t.hbm_kv_bytes,
               t.hbm_idle_bytes,
               t.host_dram_baseline_bytes,
               t.host_dram_offload_bytes,
               t.host_dram_prefix_bytes,
               t.energy_mwh,
               t.power_mw,
               t.hbm_shipped_bytes,
               t.hbm_demanded_bytes,
               t.hbm_supply_bytes,
               t.cost_all_in_usd_per_mtok,
               t.cost_marginal_usd_per_mtok,
               t.initial_demand_scale});
  Statement cq = store.prepare(
      "INSERT INTO projection_classes VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  for (const auto& c : p.classes)
    cq.insert({run_id, to_string(c.variant), I{c.quarter}, label(c.quarter), c.class_name,
               c.baseline_tokens_per_s, c.demand_tokens_per_s, c.peak_tokens_per_s,
               c.unserved_peak_tokens_per_s, c.price_ratio, c.prompt_scale, c.cost_usd_per_mtok,
               c.gpus_serving});
  Statement gq = store.prepare(
      "INSERT INTO projection_generations VALUES "
      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
  for (const auto& g : p.generations)
    gq.insert({run_id,
               to_string(g.variant),
               I{g.quarter},
               label(g.quarter),
               g.gpu_id,
               g.installed,
               g.powered,
               g.serving,
               g.purchased,
               g.retired,
               g.compressed_share,
               g.hbm_installed_bytes,
               g.hbm_weight_bytes,
               g.hbm_kv_bytes,
               g.hbm_idle_bytes,
               g.host_dram_baseline_bytes,
               g.host_dram_offload_bytes,
               g.host_dram_prefix_bytes,
               g.energy_mwh,
               g.power_mw,
               g.hbm_shipped_bytes});
  Statement dq =
      store.prepare("INSERT INTO memory_decomposition VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  for (const auto& d : p.decomposition)
    dq.insert({run_id, I{d.quarter}, label(d.quarter), d.metric, d.counterfactual,
               d.efficiency_effect, d.rebound_effect, d.net, d.with_compression});
  Statement bq = store.prepare("INSERT INTO break_even_elasticity VALUES (?1,?2,?3,?4,?5,?6)");
  for (const auto& b : p.break_even)
    bq.insert({run_id, I{b.quarter}, label(b.quarter), b.metric,
               std::isnan(b.elasticity) ? Value{nullptr} : Value{b.elasticity}, p.max_elasticity});
  Statement sq = store.prepare("INSERT INTO elasticity_sensitivity VALUES (?1,?2,?3,?4,?5,?6)");
  for (const auto& s : p.sensitivity)
    sq.insert({run_id, s.parameter, s.value, s.hbm_installed_net_bytes, s.hbm_used_net_bytes,
               s.host_dram_net_bytes});
  Statement kq = store.prepare(
      "INSERT INTO capacity_search VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
  for (const auto& c : p.capacity)
    kq.insert({run_id, c.gpu_id, c.class_name, c.model_id, c.kv_format,
               I{c.capacity.tensor_parallel}, c.capacity.rate_per_s, c.capacity.tokens_per_s,
               c.capacity.kv_bytes_in_use, c.capacity.weight_bytes, c.capacity.hbm_bytes,
               c.capacity.host_offload_bytes, c.capacity.host_prefix_bytes, I{c.capacity.probes},
               c.capacity.method});
}

}  // namespace jevons::store
