// Parser of the scenario's `planner:` section. Schema: docs/planner.md.
#include "jevons/core/planner_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "sections.h"

namespace jevons::detail {

namespace {

namespace keys = schema::keys;

/// Quarter label "YYYYQn" → index relative to the horizon start; reports a bad label.
int quarter_index(yaml::MapReader& r, const std::string& key, const Scenario& s, int fallback) {
  auto label = r.string(key, false);
  if (!label) return fallback;
  static const std::regex re(R"(^(20[0-9]{2})Q([1-4])$)");
  std::smatch m;
  if (!std::regex_match(*label, m, re)) {
    r.context().error(r.node()[key], r.path_of(key), *label,
                      "expected a quarter written YYYYQn, e.g. 2026Q3");
    return fallback;
  }
  return (std::stoi(m[1]) - s.horizon.start_year) * 4 + (std::stoi(m[2]) - s.horizon.start_quarter);
}
int quarter_index(yaml::MapReader& r, const schema::Key& key, const Scenario& s, int fallback) {
  return quarter_index(r, std::string(key.name()), s, fallback);
}

/// The adoption keys of the planner or of one generation.
struct AdoptionKeys {
  const schema::Key& section;
  const schema::Key& start;
  const schema::Key& speed;
  const schema::Key& ceiling;
};
const AdoptionKeys kPlannerAdoption{keys::kAdoption, keys::kAdoptionStart, keys::kAdoptionSpeed,
                                    keys::kAdoptionCeiling};
const AdoptionKeys kGenerationAdoption{keys::kGenerationAdoption, keys::kGenerationAdoptionStart,
                                       keys::kGenerationAdoptionSpeed,
                                       keys::kGenerationAdoptionCeiling};

AdoptionSpec parse_adoption(yaml::MapReader& parent, const AdoptionKeys& k, const Scenario& s,
                            const AdoptionSpec& base) {
  AdoptionSpec a = base;
  yaml::MapReader r(parent.context(), parent.child(k.section), parent.path_of(k.section));
  a.start_quarter_index = quarter_index(r, k.start, s, base.start_quarter_index);
  a.speed_per_quarter = r.number_or(k.speed, base.speed_per_quarter);
  a.ceiling = r.number_or(k.ceiling, base.ceiling);
  r.finish();
  return a;
}

KvConfig parse_format(yaml::MapReader& r, const schema::Key& k, const std::string& fallback) {
  const std::string key(k.name());
  const std::string name = r.string_or(key, fallback);
  try {
    return KvConfig::parse(name);
  } catch (const InputError& e) {
    const auto& d = e.diagnostics().front();
    r.context().error(r.node()[key], r.path_of(key), name, d.message, d.hint);
    return KvConfig::parse(fallback);
  }
}

void parse_classes(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                   PlannerSpec& out) {
  auto& ctx = section.context();
  YAML::Node list = section.child(keys::kClasses);
  if (!list.IsDefined()) return;
  if (!list.IsSequence() || list.size() == 0) {
    ctx.error(list, section.path_of(keys::kClasses), yaml::describe(list),
              "expected a non-empty list of demand classes");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("planner.classes[{}]", i);
    yaml::MapReader r(ctx, list[i], p);
    if (!r.valid()) continue;
    DemandClassSpec c;
    c.line = list[i].Mark().line + 1;
    c.name = r.string_or(keys::kClassName);
    c.model_id = r.string_or(keys::kClassModel);
    c.tokens_per_s = r.number_or(keys::kClassTokensPerS);
    c.growth_per_year = r.number_or(keys::kClassGrowth);
    c.input_tokens = parse_length(r, "input_tokens", 1024);
    c.output_tokens = parse_length(r, "output_tokens", 256);
    c.slo = parse_slo(r);
    if (r.has(keys::kClassElasticity)) {
      yaml::MapReader e(ctx, r.child(keys::kClassElasticity), r.path_of(keys::kClassElasticity));
      c.elasticity.long_run = e.number_or(keys::kElasticityLongRun);
      c.elasticity.short_run =
          e.number_or(keys::kElasticityShortRun,
                      std::min(keys::kElasticityShortRun.fallback, c.elasticity.long_run));
      c.elasticity.low = e.number_or(keys::kElasticityLow);
      c.elasticity.high = e.number_or(
          keys::kElasticityHigh, std::max(keys::kElasticityHigh.fallback, c.elasticity.long_run));
      if (c.elasticity.short_run > c.elasticity.long_run)
        ctx.error(e.node_of(keys::kElasticityShortRun), e.path_of(keys::kElasticityShortRun),
                  fmt::format("{}", c.elasticity.short_run),
                  fmt::format("expected short_run ≤ long_run ({}): demand adjusts toward the "
                              "long-run response, never past it",
                              c.elasticity.long_run));
      if (!(c.elasticity.low <= c.elasticity.long_run &&
            c.elasticity.long_run <= c.elasticity.high))
        ctx.error(e.node(), r.path_of(keys::kClassElasticity), "",
                  "expected low ≤ long_run ≤ high for the sensitivity range");
      e.finish();
    }
    c.context_elasticity = r.number_or("context_elasticity", 0, yaml::non_negative(5));
    c.peak_to_average = r.number_or("peak_to_average", 1.5, yaml::between(1, 100));
    if (r.has("shared_prefix")) {
      yaml::MapReader sp(ctx, r.child("shared_prefix"), p + ".shared_prefix");
      c.prefix_groups =
          static_cast<std::uint32_t>(sp.integer("groups", yaml::positive(1e7), true).value_or(0));
      c.prefix_tokens =
          static_cast<std::uint64_t>(sp.integer("tokens", yaml::positive(1e8), true).value_or(0));
      sp.finish();
    }
    if (r.has("sessions")) {
      yaml::MapReader ss(ctx, r.child("sessions"), p + ".sessions");
      c.session_reuse_share = ss.number_or("reuse_share", 0, yaml::Range{0, 1, false});
      c.session_gap_s = ss.number_or("gap_s", 0, yaml::non_negative(86400));
      ss.finish();
    }
    r.finish();
    const ModelSpec* m = catalog.find_model(c.model_id);
    if (!m && !c.model_id.empty()) {
      auto hint = closest_match(c.model_id, catalog.model_ids());
      ctx.error(r.node_of(keys::kClassModel), r.path_of(keys::kClassModel), c.model_id,
                "unknown model (see `jevons catalog models`)",
                hint.empty() ? "" : "did you mean '" + hint + "'?");
    }
    if (m && !scenario.models.empty() &&
        std::find(scenario.models.begin(), scenario.models.end(), c.model_id) ==
            scenario.models.end())
      ctx.error(r.node_of(keys::kClassModel), r.path_of(keys::kClassModel), c.model_id,
                "model is not listed in the scenario's top-level 'models'");
    if (m) {
      const double mean_in = c.input_tokens.kind == LengthDistSpec::Kind::kFixed
                                 ? c.input_tokens.value
                                 : c.input_tokens.mean;
      const double mean_out = c.output_tokens.kind == LengthDistSpec::Kind::kFixed
                                  ? c.output_tokens.value
                                  : c.output_tokens.mean;
      if (mean_in + mean_out > static_cast<double>(m->max_context_tokens))
        ctx.error(list[i], p, c.name,
                  fmt::format("mean prompt + output ({:.0f} tokens) exceeds {}'s maximum context "
                              "of {} tokens",
                              mean_in + mean_out, m->id, m->max_context_tokens));
    }
    if (c.slo.ttft_ns == 0 && c.slo.tpot_ns == 0)
      ctx.error(list[i], r.path_of(keys::kClassSlo), "",
                "a demand class needs an SLO (ttft_ms and/or tpot_ms): capacity is the load a "
                "replica sustains within it");
    for (const auto& o : out.classes)
      if (o.name == c.name)
        ctx.error(r.node_of(keys::kClassName), r.path_of(keys::kClassName), c.name,
                  "duplicate class name");
    out.classes.push_back(std::move(c));
  }
}

void parse_generations(yaml::MapReader& section, const Catalog& catalog, const Scenario& s,
                       PlannerSpec& out) {
  auto& ctx = section.context();
  yaml::MapReader fleet(ctx, section.child(keys::kFleet), section.path_of(keys::kFleet));
  out.power_budget_mw = fleet.number_or("power_budget_mw", 0, yaml::non_negative(1e7));
  out.power_growth_per_year = fleet.number_or("power_growth_per_year", 1, yaml::positive(100));
  out.pue = fleet.number_or("pue", out.pue, yaml::between(1, 5));
  const std::string retire = fleet.choice_or("retirement", "none", {"none", "age"});
  out.retire_by_age = retire == "age";
  out.max_age_years = fleet.number_or("max_age_years", out.max_age_years, yaml::positive(50));
  out.initial_utilization = fleet.number_or("initial_utilization", 0, yaml::Range{0, 1, false});
  // Exabytes in the file (the unit the HBM market trades in), bytes inside.
  out.hbm_supply_bytes_per_year =
      fleet.number_or("hbm_supply_eb_per_year", 0, yaml::non_negative(1e6)) * 1e18;
  out.hbm_supply_growth_per_year =
      fleet.number_or("hbm_supply_growth_per_year", 1, yaml::positive(100));
  out.software_efficiency_growth_per_year =
      fleet.number_or("software_efficiency_growth_per_year", 1, yaml::between(0.5, 10));
  if (fleet.has("committed_through")) {
    out.committed_quarters = quarter_index(fleet, "committed_through", s, -1) + 1;
    if (out.committed_quarters < 0) out.committed_quarters = 0;
  }
  out.host_dram_reserved_share = fleet.number_or(
      "host_dram_reserved_share", out.host_dram_reserved_share, yaml::Range{0, 1, false});
  YAML::Node list = fleet.child(keys::kGenerations);
  fleet.finish();
  if (!list.IsDefined()) return;
  if (!list.IsSequence() || list.size() == 0) {
    ctx.error(list, fleet.path_of(keys::kGenerations), yaml::describe(list),
              "expected a non-empty list of GPU generations");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("planner.fleet.generations[{}]", i);
    yaml::MapReader r(ctx, list[i], p);
    if (!r.valid()) continue;
    GenerationSpec g;
    g.line = list[i].Mark().line + 1;
    g.gpu_id = r.string_or(keys::kGenerationGpu);
    g.installed = r.number_or(keys::kGenerationInstalled);
    g.available_quarter_index = quarter_index(r, keys::kGenerationAvailableFrom, s, 0);
    if (r.has("installed_since")) {
      g.has_installed_since = true;
      g.installed_since_quarter_index = quarter_index(r, "installed_since", s, 0);
      if (g.installed_since_quarter_index > 0)
        ctx.error(list[i]["installed_since"], p + ".installed_since",
                  r.string_or("installed_since", ""),
                  "the installed base entered service before the horizon starts: expected a "
                  "quarter no later than the horizon's first");
    }
    g.deliveries_per_quarter = r.number_or(keys::kGenerationDeliveries);
    g.delivery_growth_per_year = r.number_or("delivery_growth_per_year", 1, yaml::positive(100));
    g.weights =
        parse_weight_precision(r.choice_or("weights", "fp8", {"bf16", "fp16", "fp8", "fp4"}));
    g.price_usd = r.number_or(keys::kGenerationPrice);
    if (r.has(keys::kGenerationAdoption)) {
      g.has_adoption = true;
      g.adoption = parse_adoption(r, kGenerationAdoption, s, out.adoption);
    }
    if (r.has(keys::kGenerationCompressedFormat)) {
      g.has_compressed_format = true;
      g.compressed_format =
          parse_format(r, keys::kGenerationCompressedFormat, out.compressed_format.name());
    }
    r.finish();
    const GpuSpec* gpu = catalog.find_gpu(g.gpu_id);
    if (!gpu && !g.gpu_id.empty()) {
      auto hint = closest_match(g.gpu_id, catalog.gpu_ids());
      ctx.error(r.node_of(keys::kGenerationGpu), r.path_of(keys::kGenerationGpu), g.gpu_id,
                "unknown GPU (see `jevons catalog gpus`)",
                hint.empty() ? "" : "did you mean '" + hint + "'?");
    }
    if (gpu && g.weights == WeightPrecision::kFp4 && !gpu->fp4_dense_tflops.known())
      ctx.error(list[i]["weights"], p + ".weights", "fp4",
                fmt::format("{} has no FP4 tensor cores; expected bf16 or fp8", gpu->id));
    for (const auto& o : out.generations)
      if (o.gpu_id == g.gpu_id)
        ctx.error(r.node_of(keys::kGenerationGpu), r.path_of(keys::kGenerationGpu), g.gpu_id,
                  "generation listed twice");
    out.generations.push_back(std::move(g));
  }
}

}  // namespace

void parse_planner(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                   PlannerSpec& out) {
  auto& ctx = section.context();
  out.baseline_format =
      parse_format(section, keys::kBaselineFormat, std::string(keys::kBaselineFormat.text));
  out.compressed_format =
      parse_format(section, keys::kCompressedFormat, std::string(keys::kCompressedFormat.text));
  out.adoption = parse_adoption(section, kPlannerAdoption, scenario, out.adoption);
  parse_classes(section, catalog, scenario, out);
  parse_generations(section, catalog, scenario, out);

  yaml::MapReader econ(ctx, section.child(keys::kEconomics), section.path_of(keys::kEconomics));
  out.gpu_lifetime_years = econ.number_or(keys::kGpuLifetimeYears);
  out.server_cost_multiplier = econ.number_or(keys::kServerCostMultiplier);
  out.power_usd_per_kwh = econ.number_or(keys::kPowerUsdPerKwh);
  out.average_utilization = econ.number_or(keys::kAverageUtilization);
  out.default_price_usd = econ.number_or(keys::kDefaultPriceUsd);
  out.margin = econ.number_or(keys::kMargin);
  out.pass_through = econ.number_or(keys::kPassThrough);
  econ.finish();

  yaml::MapReader cap(ctx, section.child(keys::kCapacity), section.path_of(keys::kCapacity));
  out.simulate_capacity = cap.choice_or(keys::kCapacityMethod) == "simulate";
  out.search_duration_s = cap.number_or("duration_s", out.search_duration_s, yaml::positive(1e6));
  out.search_tolerance =
      cap.number_or("tolerance", out.search_tolerance, yaml::Range{0, 0.5, true});
  out.slo_attainment = cap.number_or(keys::kSloAttainment);
  out.max_tensor_parallel = static_cast<std::uint32_t>(
      cap.integer_or("max_tensor_parallel", out.max_tensor_parallel, yaml::positive(1024)));
  out.capacity_cache_path = cap.string_or("cache", "");
  out.preemption = cap.choice_or("preemption", "recompute", {"recompute", "swap"}) == "swap"
                       ? PreemptionMode::kSwap
                       : PreemptionMode::kRecompute;
  if (cap.has("prefix_cache")) {
    yaml::MapReader pc(ctx, cap.child("prefix_cache"), "planner.capacity.prefix_cache");
    out.prefix_cache = pc.boolean_or("enabled", true);
    out.prefix_host_tier_gib_per_gpu =
        pc.number_or("host_tier_gib_per_gpu", 0, yaml::non_negative(1e6));
    pc.finish();
  }
  out.session_write_through =
      cap.choice_or("session_tier", "overflow", {"overflow", "write-through"}) == "write-through";
  cap.finish();
  section.finish();

  // Every class's model must fit on at least one generation within max_tensor_parallel.
  for (const auto& c : out.classes) {
    const ModelSpec* m = catalog.find_model(c.model_id);
    if (!m) continue;
    bool fits_somewhere = false;
    for (const auto& g : out.generations) {
      const GpuSpec* gpu = catalog.find_gpu(g.gpu_id);
      if (!gpu) continue;
      for (std::uint32_t tp = 1; tp <= out.max_tensor_parallel; tp *= 2)
        if (m->q_heads % tp == 0 &&
            plan_replica_memory(*gpu, *m, tp, g.weights, MemoryPolicy{}).fits())
          fits_somewhere = true;
    }
    if (!fits_somewhere && !out.generations.empty())
      ctx.error(section.node_of(keys::kClasses), section.path_of(keys::kClasses), c.name,
                fmt::format("{} fits on no fleet generation with tensor_parallel ≤ {}", m->id,
                            out.max_tensor_parallel),
                "raise planner.capacity.max_tensor_parallel or use narrower weights");
  }
}

}  // namespace jevons::detail
