#pragma once
/// \file What a capacity-planning projection produces: plain structs, so the store writes them
/// without linking the planner (planner → core ← store). Produced by jevons/planner/projection.h;
/// the tables they become are documented in docs/database.md.

#include <cstdint>
#include <string>
#include <vector>

namespace jevons {

/// What one replica sustains for one demand class within its SLO (the capacity search's answer).
struct ReplicaCapacity {
  std::uint32_t tensor_parallel = 1;
  double rate_per_s = 0;          ///< requests/s one replica sustains within the SLO
  double tokens_per_s = 0;        ///< prompt + output tokens/s at that rate, per replica
  double kv_bytes_in_use = 0;     ///< mean KV bytes held per replica at that rate
  double weight_bytes = 0;        ///< per replica (all its GPUs)
  double hbm_bytes = 0;           ///< nominal HBM per replica (all its GPUs)
  double host_offload_bytes = 0;  ///< mean host DRAM holding swapped KV, per replica
  double host_prefix_bytes = 0;   ///< mean host DRAM prefix-cache tier, per replica
  int probes = 0;                 ///< simulations run (0 for analytical answers)
  bool exact = true;              ///< false when interpolated between grid points
  std::string method;             ///< "simulated" or "analytical"
};

enum class Variant : std::uint8_t { kCounterfactual, kEfficiency, kFull };
std::string to_string(Variant v);

struct ClassQuarter {
  Variant variant{};
  int quarter = 0;
  std::string class_name;
  double baseline_tokens_per_s = 0;  ///< Q0: demand before any response to compression
  double demand_tokens_per_s = 0;    ///< average demand
  double peak_tokens_per_s = 0;
  double unserved_peak_tokens_per_s = 0;  ///< peak demand no powered GPU could serve
  double price_ratio = 1;   ///< cost per token vs the counterfactual's (1 for the counterfactual)
  double prompt_scale = 1;  ///< mean prompt length vs the class's specification
  double cost_usd_per_mtok = 0;  ///< achieved: serving GPUs' cost over tokens served
  double gpus_serving = 0;
};

struct GenerationQuarter {
  Variant variant{};
  int quarter = 0;
  std::string gpu_id;
  double installed = 0;
  double powered = 0;  ///< installed GPUs the power budget can feed
  double serving = 0;  ///< powered GPUs assigned to demand
  double purchased = 0;
  double retired = 0;
  double compressed_share = 0;  ///< adoption of the compressed KV format
  double hbm_installed_bytes = 0;
  double hbm_weight_bytes = 0;
  double hbm_kv_bytes = 0;
  double hbm_idle_bytes = 0;
  /// Host DRAM, split so that the three sum to what the servers need, counted once: the
  /// servers' DRAM not holding a KV tier (OS/runtime reservation and what stays free, plus any
  /// DRAM added beyond the servers' own for tiers that do not fit), then the offload and prefix
  /// tiers' contents. docs/planner.md, "Host DRAM".
  double host_dram_baseline_bytes = 0;
  double host_dram_offload_bytes = 0;
  double host_dram_prefix_bytes = 0;
  double energy_mwh = 0;
  double power_mw = 0;
  double hbm_shipped_bytes = 0;  ///< nominal HBM of the parts purchased this quarter
};

struct QuarterTotals {
  Variant variant{};
  int quarter = 0;
  std::string label;  ///< "2026Q3"
  double demand_tokens_per_s = 0;
  double peak_tokens_per_s = 0;
  double unserved_peak_tokens_per_s = 0;
  double cost_usd_per_mtok = 0;  ///< demand-weighted over classes, serving GPUs only
  /// All-in: every installed GPU's hourly cost (idle ones included) over the tokens served.
  double cost_all_in_usd_per_mtok = 0;
  /// Marginal: the cheapest part one could buy this quarter, per token at average load
  /// (demand-weighted over classes); the installed parts when none can be bought.
  double cost_marginal_usd_per_mtok = 0;
  double gpus_installed = 0;
  double gpus_powered = 0;
  double hbm_installed_bytes = 0;
  double hbm_weight_bytes = 0;
  double hbm_kv_bytes = 0;
  double hbm_idle_bytes = 0;
  /// As GenerationQuarter: baseline + offload + prefix is the host DRAM needed, no byte twice.
  double host_dram_baseline_bytes = 0;
  double host_dram_offload_bytes = 0;
  double host_dram_prefix_bytes = 0;
  double energy_mwh = 0;
  double power_mw = 0;
  /// The HBM market layer, per quarter: HBM of the parts bought (shipped), of the parts that
  /// would have been bought without the HBM supply cap (demanded), and the cap (0 = none).
  double hbm_shipped_bytes = 0;
  double hbm_demanded_bytes = 0;
  double hbm_supply_bytes = 0;
  /// The factor on the classes' first-quarter demand (fleet.initial_utilization); 1 when the
  /// demand is used as written.
  double initial_demand_scale = 1;

  double hbm_used_bytes() const { return hbm_weight_bytes + hbm_kv_bytes; }
  double host_dram_bytes() const {
    return host_dram_baseline_bytes + host_dram_offload_bytes + host_dram_prefix_bytes;
  }
};

/// The change in one memory metric against the counterfactual in one quarter.
struct Decomposition {
  int quarter = 0;
  std::string metric;  ///< hbm_installed_bytes, hbm_used_bytes, host_dram_bytes, gpus_installed
  double counterfactual = 0;
  double efficiency_effect = 0;  ///< efficiency − counterfactual (≤ 0 for real compression)
  double rebound_effect = 0;     ///< with-rebound − efficiency
  double net = 0;                ///< with-rebound − counterfactual = efficiency + rebound
  double with_compression = 0;   ///< the with-rebound value
};

struct BreakEven {
  int quarter = 0;
  std::string metric;
  /// Smallest uniform long-run elasticity at which compression raises the metric above the
  /// counterfactual; NaN when it does not below `max_elasticity`.
  double elasticity = 0;
};

struct SensitivityPoint {
  std::string parameter;  ///< "elasticity" for the uniform sweep, "<class>.elasticity" for tornado
  double value = 0;
  double hbm_installed_net_bytes = 0;  ///< final quarter
  double hbm_used_net_bytes = 0;
  double host_dram_net_bytes = 0;
};

struct CapacityEntry {
  std::string gpu_id;
  std::string class_name;
  std::string model_id;
  std::string kv_format;
  double prompt_scale = 1;
  ReplicaCapacity capacity;
};

struct Projection {
  std::vector<std::string> quarter_labels;
  std::vector<ClassQuarter> classes;
  std::vector<GenerationQuarter> generations;
  std::vector<QuarterTotals> totals;
  std::vector<Decomposition> decomposition;
  std::vector<BreakEven> break_even;
  std::vector<SensitivityPoint> sensitivity;
  std::vector<CapacityEntry> capacity;  ///< every (generation × class × format) at base prompts
  double max_elasticity = 5;
};

}  // namespace jevons

namespace jevons {

/// One point of a sweep: its parameters and the projection's totals, decomposition and
/// break-even (sensitivity is not repeated per point).
struct SweepPointResult {
  std::size_t index = 0;
  std::string parameters_json;  ///< {"key": "value", ...}
  std::string scenario_sha256;  ///< of the point's scenario text
  std::vector<QuarterTotals> totals;
  std::vector<Decomposition> decomposition;
  std::vector<BreakEven> break_even;
  std::vector<std::string> quarter_labels;
  std::string error;  ///< non-empty when the point's scenario was invalid (message)

  /// Lossless JSON round trip (doubles keep 17 significant digits), for MPI messages.
  std::string to_json() const;
  static SweepPointResult from_json(const std::string& text);
};

}  // namespace jevons
