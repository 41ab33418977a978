#pragma once
/// \file The scenario's `planner:` section: demand classes with elasticities, fleet generations
/// with supply and power limits, KV-format adoption, economics and the capacity search.
/// Schema: docs/planner.md. Defaults cite their sources there.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jevons/core/kv_format.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/simulation_spec.h"

namespace jevons {

/// Demand response to the cost per token, Q = Q0 · (P/P0)^(−ε), reached by partial adjustment:
/// each quarter closes a share λ = short_run / long_run of the gap to the long-run response.
struct ElasticitySpec {
  double short_run = 0.5;  ///< one-quarter elasticity (≤ long_run)
  double long_run = 1.1;   ///< OpenRouter-based estimate ≈ 1.1 (hardware-and-models.md §3a)
  /// Sensitivity range of long_run for sweeps and the tornado chart (low ≤ long_run ≤ high).
  double low = 0.0;
  double high = 2.0;
};

struct DemandClassSpec {
  std::string name;            ///< chat, code, agents, rag, batch, ...
  std::string model_id;        ///< the model that serves it
  double tokens_per_s = 0;     ///< average demand (prompt + output tokens/s) in the first quarter
  double growth_per_year = 1;  ///< baseline multiplicative growth per year (3 = ×3 a year)
  LengthDistSpec input_tokens;
  LengthDistSpec output_tokens;
  SloSpec slo;
  ElasticitySpec elasticity;
  /// Context-length elasticity η: mean prompt length scales by (P/P0)^(−η), capped at the
  /// model's maximum context.
  double context_elasticity = 0;
  double peak_to_average = 1.5;  ///< diurnal peak over the daily average
  /// Shared prompt prefixes (system prompts, templates): each request starts with one of
  /// `prefix_groups` prefixes of `prefix_tokens`, which the prefix cache can serve.
  std::uint32_t prefix_groups = 0;
  std::uint64_t prefix_tokens = 0;
  /// Multi-turn sessions (`sessions:`): `reuse_share` of each prompt is the previous turn's
  /// context, whose KV the engine keeps for the `gap_s` between turns — in the HBM the replica
  /// has free, the rest offloaded to host DRAM (LMCache/Dynamo-style). 0: no sessions.
  double session_reuse_share = 0;
  double session_gap_s = 0;
  int line = 0;
};

/// Logistic adoption of the compressed format on one GPU generation: share(t) =
/// ceiling / (1 + exp(−speed·(t − t_mid))) with t_mid placed so share(start) = 1 % of ceiling.
struct AdoptionSpec {
  int start_quarter_index = 0;  ///< quarters after the horizon start
  double speed_per_quarter = 1.0;
  double ceiling = 1.0;
};

struct GenerationSpec {
  std::string gpu_id;
  double installed = 0;  ///< GPUs installed at the start of the horizon
  /// When the installed units entered service, on average (quarters from the horizon start,
  /// ≤ 0): retirement by age counts from here. Without it, from the part's launch.
  bool has_installed_since = false;
  int installed_since_quarter_index = 0;
  int available_quarter_index = 0;    ///< first quarter new units can be delivered
  double deliveries_per_quarter = 0;  ///< supply cap on new units per quarter
  double delivery_growth_per_year = 1;
  WeightPrecision weights = WeightPrecision::kFp8;
  bool has_adoption = false;  ///< overrides the planner-wide adoption curve
  AdoptionSpec adoption;
  /// Overrides the planner-wide compressed format on this generation (e.g. tq-2.5 on parts
  /// with little HBM); false = PlannerSpec::compressed_format.
  bool has_compressed_format = false;
  KvConfig compressed_format;
  double price_usd = 0;  ///< 0 = the catalog's price
  int line = 0;
};

struct PlannerSpec {
  std::vector<DemandClassSpec> classes;
  std::vector<GenerationSpec> generations;
  KvConfig baseline_format;    ///< the counterfactual: no compression (e.g. fp8)
  KvConfig compressed_format;  ///< what adoption moves to (e.g. tq-3.5)
  AdoptionSpec adoption;

  /// The compressed format on generation g: its override when set, else compressed_format.
  const KvConfig& compressed_format_of(std::size_t g) const {
    const GenerationSpec& gen = generations[g];
    return gen.has_compressed_format ? gen.compressed_format : compressed_format;
  }

  // Power: MW available to the fleet (facility power, PUE included).
  double power_budget_mw = 0;  ///< 0 = unlimited
  double power_growth_per_year = 1;
  double pue = 1.3;

  // Retirement: "none" keeps every GPU (AWS never retired an A100), "age" retires after
  // max_age_years of service (the installed base at the start counts from its launch date).
  bool retire_by_age = false;
  double max_age_years = 6;

  /// > 0: scale every class's `tokens_per_s` (their mix kept) so that the first quarter's peak
  /// demand keeps this share of the installed base busy — the first quarter's demand and fleet
  /// then agree at a stated utilisation, and the scale says how far the stated token volume is
  /// from what the installed base would serve. 0 keeps `tokens_per_s` as written.
  double initial_utilization = 0;

  /// HBM the fleet can receive per year (bytes; 0 = unlimited) and its growth: deliveries stop
  /// for the quarter when the HBM of the parts bought would exceed a quarter of it (the HBM
  /// market layer: demand for bits against supply capacity).
  double hbm_supply_bytes_per_year = 0;
  double hbm_supply_growth_per_year = 1;

  /// Tokens/s per GPU on the same part, model and format grow by this factor a year over the
  /// horizon (engine and kernel improvements: MLPerf's same-part gains, data/world.yaml
  /// assumptions.software_efficiency_growth_per_year). Replicas keep their memory: a faster step
  /// serves more requests from the same batch. 1 = capacity as searched, all horizon long.
  double software_efficiency_growth_per_year = 1;

  /// Quarters before this index (from the horizon start) are committed: every generation's
  /// deliveries_per_quarter arrive whatever demand needs, in every variant, so compression cannot
  /// cancel them (orders and HBM contracted before the horizon; docs/planner.md, "Committed
  /// deliveries"). Purchases after it follow demand. 0 = none committed.
  int committed_quarters = 0;

  /// The share of each server's host DRAM kept for the OS and the serving runtime; the rest is
  /// free for the host KV tiers (prefix, offload). Tiers add DRAM only beyond that free share.
  double host_dram_reserved_share = 0.25;

  // Economics.
  double gpu_lifetime_years = 5;        ///< straight-line amortisation of the GPU's capital cost
  double server_cost_multiplier = 1.5;  ///< server, network and facility capex per GPU dollar
  double power_usd_per_kwh = 0.08;
  double average_utilization = 0.6;  ///< share of TDP drawn on average (power cost, energy)
  double default_price_usd = 30000;  ///< for GPUs whose catalog price is unknown
  /// The price elasticity acts on: P = C0·(1 + margin) + pass_through·(C − C0), so
  /// P/P0 = 1 + pass_through·(C/C0 − 1)/(1 + margin). margin 0, pass_through 1: P/P0 = C/C0.
  double margin = 0;
  double pass_through = 1;

  // Capacity search.
  bool simulate_capacity = true;   ///< bisection on DES runs; false = analytical estimate
  double search_duration_s = 30;   ///< minimum simulated seconds per probe (≥ 1,500 requests)
  double search_tolerance = 0.02;  ///< relative width at which bisection stops
  double slo_attainment = 0.95;    ///< share of requests that must meet both TTFT and TPOT
  std::uint32_t max_tensor_parallel = 8;
  /// How the searched replica serves: preemption by recompute or swap to host DRAM, and the
  /// prefix cache with its host-DRAM tier (these drive the host DRAM offload and prefix tiers).
  PreemptionMode preemption = PreemptionMode::kRecompute;
  bool prefix_cache = false;
  double prefix_host_tier_gib_per_gpu = 0;
  /// Multi-turn sessions' KV in host DRAM: false (overflow) keeps there only what the free HBM
  /// cannot hold; true (write-through) copies every session's KV to host DRAM, as tiered KV
  /// caches do by policy (SGLang HiCache write_through, Dynamo KVBM, LMCache).
  bool session_write_through = false;
  std::string capacity_cache_path;  ///< "" = in-memory only; resolved against the scenario dir
};

}  // namespace jevons
