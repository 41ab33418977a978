#include "jevons/core/projection_result.h"

#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

namespace jevons {

std::string to_string(Variant v) {
  switch (v) {
    case Variant::kCounterfactual: return "counterfactual";
    case Variant::kEfficiency: return "efficiency";
    case Variant::kFull: return "with-rebound";
  }
  return "?";
}

}  // namespace jevons

namespace jevons {

std::string SweepPointResult::to_json() const {
  nlohmann::json j;
  j["index"] = index;
  j["parameters"] = parameters_json;
  j["sha256"] = scenario_sha256;
  j["labels"] = quarter_labels;
  j["error"] = error;
  auto& t = j["totals"] = nlohmann::json::array();
  for (const auto& x : totals)
    t.push_back({static_cast<int>(x.variant), x.quarter, x.label, x.demand_tokens_per_s,
                 x.peak_tokens_per_s, x.unserved_peak_tokens_per_s, x.cost_usd_per_mtok,
                 x.gpus_installed, x.gpus_powered, x.hbm_installed_bytes, x.hbm_weight_bytes,
                 x.hbm_kv_bytes, x.hbm_idle_bytes, x.host_dram_baseline_bytes,
                 x.host_dram_offload_bytes, x.host_dram_prefix_bytes, x.energy_mwh, x.power_mw});
  auto& d = j["decomposition"] = nlohmann::json::array();
  for (const auto& x : decomposition)
    d.push_back({x.quarter, x.metric, x.counterfactual, x.efficiency_effect, x.rebound_effect,
                 x.net, x.with_compression});
  auto& b = j["break_even"] = nlohmann::json::array();
  for (const auto& x : break_even)
    b.push_back({x.quarter, x.metric, std::isnan(x.elasticity) ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(x.elasticity)});
  // Error texts and labels echo scenario bytes, which need not be valid UTF-8; dump() would throw
  // on them and lose the point on its MPI rank. Such bytes travel as U+FFFD.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SweepPointResult SweepPointResult::from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  SweepPointResult r;
  r.index = j.at("index").get<std::size_t>();
  r.parameters_json = j.at("parameters").get<std::string>();
  r.scenario_sha256 = j.at("sha256").get<std::string>();
  r.quarter_labels = j.at("labels").get<std::vector<std::string>>();
  r.error = j.at("error").get<std::string>();
  for (const auto& x : j.at("totals")) {
    QuarterTotals q;
    q.variant = static_cast<Variant>(x[0].get<int>());
    q.quarter = x[1].get<int>();
    q.label = x[2].get<std::string>();
    double* f[] = {&q.demand_tokens_per_s, &q.peak_tokens_per_s, &q.unserved_peak_tokens_per_s,
                   &q.cost_usd_per_mtok, &q.gpus_installed, &q.gpus_powered,
                   &q.hbm_installed_bytes, &q.hbm_weight_bytes, &q.hbm_kv_bytes,
                   &q.hbm_idle_bytes, &q.host_dram_baseline_bytes, &q.host_dram_offload_bytes,
                   &q.host_dram_prefix_bytes, &q.energy_mwh, &q.power_mw};
    for (std::size_t i = 0; i < std::size(f); ++i) *f[i] = x[3 + i].get<double>();
    r.totals.push_back(q);
  }
  for (const auto& x : j.at("decomposition")) {
    Decomposition d;
    d.quarter = x[0].get<int>();
    d.metric = x[1].get<std::string>();
    d.counterfactual = x[2].get<double>();
    d.efficiency_effect = x[3].get<double>();
    d.rebound_effect = x[4].get<double>();
    d.net = x[5].get<double>();
    d.with_compression = x[6].get<double>();
    r.decomposition.push_back(d);
  }
  for (const auto& x : j.at("break_even")) {
    BreakEven b;
    b.quarter = x[0].get<int>();
    b.metric = x[1].get<std::string>();
    b.elasticity = x[2].is_null() ? std::nan("") : x[2].get<double>();
    r.break_even.push_back(b);
  }
  return r;
}

}  // namespace jevons
