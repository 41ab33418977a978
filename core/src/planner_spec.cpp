// Parser of the scenario's `planner:` section. Schema: docs/planner.md.
#include "jevons/core/planner_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "sections.h"

namespace jevons::detail {

namespace {

constexpr double kHuge = 1e15;

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

AdoptionSpec parse_adoption(yaml::MapReader& parent, const Scenario& s, const AdoptionSpec& base) {
  AdoptionSpec a = base;
  yaml::MapReader r(parent.context(), parent.child("adoption"), parent.path_of("adoption"));
  a.start_quarter_index = quarter_index(r, "start", s, base.start_quarter_index);
  a.speed_per_quarter =
      r.number_or("speed_per_quarter", base.speed_per_quarter, yaml::positive(50));
  a.ceiling = r.number_or("ceiling", base.ceiling, yaml::non_negative(1));
  r.finish();
  return a;
}

KvConfig parse_format(yaml::MapReader& r, const std::string& key, const std::string& fallback) {
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
  YAML::Node list = section.child("classes", true);
  if (!list.IsDefined()) return;
  if (!list.IsSequence() || list.size() == 0) {
    ctx.error(list, "planner.classes", yaml::describe(list),
              "expected a non-empty list of demand classes");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("planner.classes[{}]", i);
    yaml::MapReader r(ctx, list[i], p);
    if (!r.valid()) continue;
    DemandClassSpec c;
    c.line = list[i].Mark().line + 1;
    c.name = r.string("name", true).value_or("");
    c.model_id = r.string("model", true).value_or("");
    c.tokens_per_s = r.number("tokens_per_s", yaml::positive(kHuge), true).value_or(1);
    c.growth_per_year = r.number_or("growth_per_year", 1, yaml::positive(1000));
    c.input_tokens = parse_length(r, "input_tokens", 1024);
    c.output_tokens = parse_length(r, "output_tokens", 256);
    c.slo = parse_slo(r);
    if (r.has("elasticity")) {
      yaml::MapReader e(ctx, r.child("elasticity"), p + ".elasticity");
      c.elasticity.long_run =
          e.number_or("long_run", c.elasticity.long_run, yaml::non_negative(10));
      c.elasticity.short_run =
          e.number_or("short_run", std::min(c.elasticity.short_run, c.elasticity.long_run),
                      yaml::non_negative(10));
      c.elasticity.low = e.number_or("low", c.elasticity.low, yaml::non_negative(10));
      c.elasticity.high = e.number_or("high", std::max(c.elasticity.high, c.elasticity.long_run),
                                      yaml::non_negative(10));
      if (c.elasticity.short_run > c.elasticity.long_run)
        ctx.error(e.node()["short_run"], p + ".elasticity.short_run",
                  fmt::format("{}", c.elasticity.short_run),
                  fmt::format("expected short_run ≤ long_run ({}): demand adjusts toward the "
                              "long-run response, never past it",
                              c.elasticity.long_run));
      if (!(c.elasticity.low <= c.elasticity.long_run &&
            c.elasticity.long_run <= c.elasticity.high))
        ctx.error(e.node(), p + ".elasticity", "",
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
      ctx.error(list[i]["model"], p + ".model", c.model_id,
                "unknown model (see `jevons catalog models`)",
                hint.empty() ? "" : "did you mean '" + hint + "'?");
    }
    if (m && !scenario.models.empty() &&
        std::find(scenario.models.begin(), scenario.models.end(), c.model_id) ==
            scenario.models.end())
      ctx.error(list[i]["model"], p + ".model", c.model_id,
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
      ctx.error(list[i], p + ".slo", "",
                "a demand class needs an SLO (ttft_ms and/or tpot_ms): capacity is the load a "
                "replica sustains within it");
    for (const auto& o : out.classes)
      if (o.name == c.name) ctx.error(list[i]["name"], p + ".name", c.name, "duplicate class name");
    out.classes.push_back(std::move(c));
  }
}

void parse_generations(yaml::MapReader& section, const Catalog& catalog, const Scenario& s,
                       PlannerSpec& out) {
  auto& ctx = section.context();
  yaml::MapReader fleet(ctx, section.child("fleet", true), "planner.fleet");
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
  if (fleet.has("committed_through")) {
    out.committed_quarters = quarter_index(fleet, "committed_through", s, -1) + 1;
    if (out.committed_quarters < 0) out.committed_quarters = 0;
  }
  out.host_dram_reserved_share = fleet.number_or(
      "host_dram_reserved_share", out.host_dram_reserved_share, yaml::Range{0, 1, false});
  YAML::Node list = fleet.child("generations", true);
  fleet.finish();
  if (!list.IsDefined()) return;
  if (!list.IsSequence() || list.size() == 0) {
    ctx.error(list, "planner.fleet.generations", yaml::describe(list),
              "expected a non-empty list of GPU generations");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("planner.fleet.generations[{}]", i);
    yaml::MapReader r(ctx, list[i], p);
    if (!r.valid()) continue;
    GenerationSpec g;
    g.line = list[i].Mark().line + 1;
    g.gpu_id = r.string("gpu", true).value_or("");
    g.installed = r.number_or("installed", 0, yaml::non_negative(1e9));
    g.available_quarter_index = quarter_index(r, "available_from", s, 0);
    if (r.has("installed_since")) {
      g.has_installed_since = true;
      g.installed_since_quarter_index = quarter_index(r, "installed_since", s, 0);
      if (g.installed_since_quarter_index > 0)
        ctx.error(list[i]["installed_since"], p + ".installed_since",
                  r.string_or("installed_since", ""),
                  "the installed base entered service before the horizon starts: expected a "
                  "quarter no later than the horizon's first");
    }
    g.deliveries_per_quarter = r.number_or("deliveries_per_quarter", 0, yaml::non_negative(1e9));
    g.delivery_growth_per_year = r.number_or("delivery_growth_per_year", 1, yaml::positive(100));
    g.weights =
        parse_weight_precision(r.choice_or("weights", "fp8", {"bf16", "fp16", "fp8", "fp4"}));
    g.price_usd = r.number_or("price_usd", 0, yaml::non_negative(1e8));
    if (r.has("adoption")) {
      g.has_adoption = true;
      g.adoption = parse_adoption(r, s, out.adoption);
    }
    if (r.has("compressed_format")) {
      g.has_compressed_format = true;
      g.compressed_format = parse_format(r, "compressed_format", out.compressed_format.name());
    }
    r.finish();
    const GpuSpec* gpu = catalog.find_gpu(g.gpu_id);
    if (!gpu && !g.gpu_id.empty()) {
      auto hint = closest_match(g.gpu_id, catalog.gpu_ids());
      ctx.error(list[i]["gpu"], p + ".gpu", g.gpu_id, "unknown GPU (see `jevons catalog gpus`)",
                hint.empty() ? "" : "did you mean '" + hint + "'?");
    }
    if (gpu && g.weights == WeightPrecision::kFp4 && !gpu->fp4_dense_tflops.known())
      ctx.error(list[i]["weights"], p + ".weights", "fp4",
                fmt::format("{} has no FP4 tensor cores; expected bf16 or fp8", gpu->id));
    for (const auto& o : out.generations)
      if (o.gpu_id == g.gpu_id)
        ctx.error(list[i]["gpu"], p + ".gpu", g.gpu_id, "generation listed twice");
    out.generations.push_back(std::move(g));
  }
}

}  // namespace

void parse_planner(yaml::MapReader& section, const Catalog& catalog, const Scenario& scenario,
                   PlannerSpec& out) {
  auto& ctx = section.context();
  out.baseline_format = parse_format(section, "baseline_format", "fp8");
  out.compressed_format = parse_format(section, "compressed_format", "tq-3.5");
  out.adoption = parse_adoption(section, scenario, out.adoption);
  parse_classes(section, catalog, scenario, out);
  parse_generations(section, catalog, scenario, out);

  yaml::MapReader econ(ctx, section.child("economics"), "planner.economics");
  out.gpu_lifetime_years =
      econ.number_or("gpu_lifetime_years", out.gpu_lifetime_years, yaml::positive(30));
  out.server_cost_multiplier =
      econ.number_or("server_cost_multiplier", out.server_cost_multiplier, yaml::between(1, 10));
  out.power_usd_per_kwh =
      econ.number_or("power_usd_per_kwh", out.power_usd_per_kwh, yaml::non_negative(10));
  out.average_utilization =
      econ.number_or("average_utilization", out.average_utilization, yaml::Range{0, 1, true});
  out.default_price_usd =
      econ.number_or("default_price_usd", out.default_price_usd, yaml::positive(1e8));
  out.margin = econ.number_or("margin", out.margin, yaml::non_negative(100));
  out.pass_through = econ.number_or("pass_through", out.pass_through, yaml::between(0, 1));
  econ.finish();

  yaml::MapReader cap(ctx, section.child("capacity"), "planner.capacity");
  out.simulate_capacity =
      cap.choice_or("method", "simulate", {"simulate", "analytical"}) == "simulate";
  out.search_duration_s = cap.number_or("duration_s", out.search_duration_s, yaml::positive(1e6));
  out.search_tolerance =
      cap.number_or("tolerance", out.search_tolerance, yaml::Range{0, 0.5, true});
  out.slo_attainment = cap.number_or("slo_attainment", out.slo_attainment, yaml::Range{0, 1, true});
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
      ctx.error(section.node()["classes"], "planner.classes", c.name,
                fmt::format("{} fits on no fleet generation with tensor_parallel ≤ {}", m->id,
                            out.max_tensor_parallel),
                "raise planner.capacity.max_tensor_parallel or use narrower weights");
  }
}

}  // namespace jevons::detail
