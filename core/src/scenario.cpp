#include "jevons/core/scenario.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "jevons/core/error.h"
#include "jevons/core/kv_accounting.h"
#include "sections.h"
#include "yaml_reader.h"

namespace jevons {

namespace keys = schema::keys;

std::string HorizonSpec::start_label() const {
  return fmt::format("{}Q{}", start_year, start_quarter);
}

namespace {

constexpr double kMaxGpus = 1e8;  // beyond any fleet on Earth: catches unit mistakes

std::optional<KvConfig> read_kv_config(yaml::Context& ctx, const YAML::Node& n,
                                       const std::string& path) {
  try {
    if (n.IsScalar()) return KvConfig::parse(n.Scalar());
    if (n.IsMap()) {
      yaml::MapReader m(ctx, n, path);
      auto k = m.string("key", true);
      auto v = m.string("value", true);
      m.finish();
      if (!k || !v) return std::nullopt;
      KvConfig c;
      try {
        c.key = KvFormat::parse(*k);
      } catch (const InputError& e) {
        auto d = e.diagnostics().front();
        ctx.error(n["key"], path + ".key", *k, d.message, d.hint);
        return std::nullopt;
      }
      try {
        c.value = KvFormat::parse(*v);
      } catch (const InputError& e) {
        auto d = e.diagnostics().front();
        ctx.error(n["value"], path + ".value", *v, d.message, d.hint);
        return std::nullopt;
      }
      return c;
    }
    ctx.error(n, path, yaml::describe(n),
              "expected a KV format name (e.g. tq-3.5) or {key: FORMAT, value: FORMAT}");
  } catch (const InputError& e) {
    auto d = e.diagnostics().front();
    ctx.error(n, path, yaml::describe(n), d.message, d.hint);
  }
  return std::nullopt;
}

std::vector<KvConfig> read_kv_list(yaml::Context& ctx, const YAML::Node& n,
                                   const std::string& path) {
  std::vector<KvConfig> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) {
    ctx.error(n, path, yaml::describe(n),
              "expected a list of KV formats, e.g. [bf16, fp8, tq-3.5]");
    return out;
  }
  for (std::size_t i = 0; i < n.size(); ++i)
    if (auto c = read_kv_config(ctx, n[i], fmt::format("{}[{}]", path, i))) out.push_back(*c);
  if (n.size() == 0) ctx.error(n, path, "[]", "expected at least one KV format");
  return out;
}

void read_horizon(yaml::MapReader& root, Scenario& s) {
  if (!root.has(keys::kHorizon)) return;
  auto& ctx = root.context();
  yaml::MapReader h(ctx, root.child(keys::kHorizon), std::string(keys::kHorizon.path));
  if (auto start = h.string(keys::kHorizonStart)) {
    static const std::regex re(R"(^(20[0-9]{2})Q([1-4])$)");
    std::smatch m;
    if (std::regex_match(*start, m, re)) {
      s.horizon.start_year = std::stoi(m[1]);
      s.horizon.start_quarter = std::stoi(m[2]);
    } else {
      ctx.error(h.node()[std::string(keys::kHorizonStart.name())], h.path_of(keys::kHorizonStart),
                *start, "expected a quarter written YYYYQn, e.g. 2026Q1");
    }
  }
  s.horizon.quarters = static_cast<std::uint32_t>(h.integer_or(keys::kHorizonQuarters));
  h.finish();
}

void read_pools(yaml::MapReader& root, const Catalog& catalog, Scenario& s) {
  auto& ctx = root.context();
  // A planner scenario describes its fleet under planner.fleet; pools are then optional.
  YAML::Node list = root.child(std::string(keys::kPools.name()), !root.has(keys::kPlanner));
  if (!list.IsDefined()) return;
  if (!list.IsSequence() || list.size() == 0) {
    ctx.error(list, "pools", yaml::describe(list), "expected a non-empty list of GPU pools");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("pools[{}]", i);
    yaml::MapReader m(ctx, list[i], p);
    if (!m.valid()) continue;
    PoolSpec pool;
    pool.line = list[i].Mark().line + 1;
    pool.name = m.string("name", true).value_or("");
    pool.gpu_id = m.string("gpu", true).value_or("");
    pool.model_id = m.string("model", true).value_or("");
    pool.gpus =
        static_cast<std::uint32_t>(m.integer("gpus", yaml::positive(kMaxGpus), true).value_or(0));
    pool.tensor_parallel =
        static_cast<std::uint32_t>(m.integer_or("tensor_parallel", 1, yaml::positive(1024)));
    const std::string w = m.choice_or("weights", "bf16", {"bf16", "fp16", "fp8", "fp4", "mxfp4"});
    pool.weights = parse_weight_precision(w);
    pool.parallel = detail::parse_parallel(m);
    const YAML::Node formats = m.child(keys::kPoolKvFormats);
    pool.kv_formats = read_kv_list(ctx, formats, m.path_of(keys::kPoolKvFormats));
    const bool listed = formats.IsDefined() && !formats.IsNull();
    if (!listed) pool.kv_formats = s.kv_formats;
    if (!listed && !root.has("kv_formats"))
      ctx.error(list[i], p + ".kv_formats", "",
                "no KV formats: list them on the pool or in the top-level kv_formats");
    if (m.has("memory")) {
      yaml::MapReader mem(ctx, m.child("memory"), p + ".memory");
      pool.memory.utilization =
          mem.number_or("utilization", pool.memory.utilization, yaml::Range{0, 1, true});
      pool.memory.activation_reserve_gib = mem.number_or(
          "activation_reserve_gib", pool.memory.activation_reserve_gib, yaml::non_negative(4096));
      pool.memory.runtime_overhead_gib = mem.number_or(
          "runtime_overhead_gib", pool.memory.runtime_overhead_gib, yaml::non_negative(4096));
      pool.memory.block_tokens = static_cast<std::uint32_t>(
          mem.integer_or("block_tokens", pool.memory.block_tokens, yaml::positive(1 << 20)));
      mem.finish();
    }
    m.finish();

    for (const auto& other : s.pools)
      if (other.name == pool.name && !pool.name.empty())
        ctx.error(list[i]["name"], p + ".name", pool.name, "duplicate pool name");

    const GpuSpec* gpu = catalog.find_gpu(pool.gpu_id);
    if (!gpu && !pool.gpu_id.empty())
      ctx.error(list[i]["gpu"], p + ".gpu", pool.gpu_id, "unknown GPU (see `jevons catalog gpus`)",
                [&] {
                  auto c = closest_match(pool.gpu_id, catalog.gpu_ids());
                  return c.empty() ? std::string{} : "did you mean '" + c + "'?";
                }());
    const ModelSpec* model = catalog.find_model(pool.model_id);
    if (!model && !pool.model_id.empty())
      ctx.error(list[i]["model"], p + ".model", pool.model_id,
                "unknown model (see `jevons catalog models`)", [&] {
                  auto c = closest_match(pool.model_id, catalog.model_ids());
                  return c.empty() ? std::string{} : "did you mean '" + c + "'?";
                }());
    if (!s.models.empty() && model &&
        std::find(s.models.begin(), s.models.end(), pool.model_id) == s.models.end())
      ctx.error(list[i]["model"], p + ".model", pool.model_id,
                "model is not listed in the scenario's top-level 'models'");
    if (pool.gpus > 0 && pool.gpus % pool.gpus_per_replica() != 0)
      ctx.error(list[i]["gpus"], p + ".gpus", std::to_string(pool.gpus),
                fmt::format("expected a multiple of tensor_parallel × pipeline_parallel ({}) so "
                            "every replica is whole",
                            pool.gpus_per_replica()));
    if (model) detail::check_parallel(ctx, list[i], p, *model, pool.parallel, pool.tensor_parallel);
    if (model && model->q_heads % pool.tensor_parallel != 0)
      ctx.error(
          list[i]["tensor_parallel"], p + ".tensor_parallel", std::to_string(pool.tensor_parallel),
          fmt::format("expected a divisor of {}'s {} attention heads", model->id, model->q_heads));
    if (pool.weights == WeightPrecision::kFp4 && gpu && !gpu->fp4_dense_tflops.known())
      ctx.error(list[i]["weights"], p + ".weights", "fp4",
                fmt::format("{} has no FP4 tensor cores; expected bf16 or fp8", gpu->id));
    if (gpu && model && pool.tensor_parallel > 0) {
      const ReplicaMemory mem = plan_replica_memory(*gpu, *model, pool.tensor_parallel,
                                                    pool.weights, pool.memory, pool.parallel);
      if (!mem.fits()) {
        ctx.error(
            list[i], p, pool.name,
            fmt::format("{} ({} weights, {:.1f} GB per GPU) does not fit on {} × {} with "
                        "TP={}: short by {} bytes per GPU ({:.2f} GiB) after the "
                        "{:.0f}% utilization cap and {:.1f} GiB reserve",
                        model->id, to_string(pool.weights),
                        static_cast<double>(mem.weight_bytes_per_gpu) / 1e9, pool.tensor_parallel,
                        gpu->id, pool.tensor_parallel, mem.shortfall_bytes_per_gpu(),
                        static_cast<double>(mem.shortfall_bytes_per_gpu()) / (1 << 30),
                        pool.memory.utilization * 100,
                        pool.memory.activation_reserve_gib + pool.memory.runtime_overhead_gib),
            "use more GPUs per replica (tensor_parallel), narrower weights, or a larger GPU");
      }
      for (const auto& kv : pool.kv_formats) {
        try {
          KvFootprint fp(*model, kv, pool.tensor_parallel);
          (void)fp;
        } catch (const std::invalid_argument& e) {
          ctx.error(list[i], p + ".kv_formats", kv.name(),
                    fmt::format("format does not suit {}: {}", model->id, e.what()));
        }
      }
    }
    s.pools.push_back(std::move(pool));
  }
}

void read_workload(yaml::MapReader& root, const Catalog& catalog, Scenario& s) {
  auto& ctx = root.context();
  yaml::MapReader w(ctx, root.child("workload", !s.pools.empty()), "workload");
  YAML::Node ctxs = w.child("context_tokens", !s.pools.empty());
  if (ctxs.IsDefined() && !ctxs.IsNull()) {
    if (!ctxs.IsSequence() || ctxs.size() == 0) {
      ctx.error(ctxs, "workload.context_tokens", yaml::describe(ctxs),
                "expected a non-empty list of context lengths in tokens, e.g. [8192, 32768]");
    } else {
      for (std::size_t i = 0; i < ctxs.size(); ++i) {
        const std::string p = fmt::format("workload.context_tokens[{}]", i);
        auto v = yaml::MapReader::to_number(ctx, ctxs[i], p, yaml::positive(1e9));
        if (!v) continue;
        if (*v != std::floor(*v)) {
          ctx.error(ctxs[i], p, ctxs[i].Scalar(), "expected a whole number of tokens");
          continue;
        }
        const auto tokens = static_cast<std::uint64_t>(*v);
        for (const auto& pool : s.pools) {
          const ModelSpec* m = catalog.find_model(pool.model_id);
          if (m && tokens > m->max_context_tokens)
            ctx.error(ctxs[i], p, ctxs[i].Scalar(),
                      fmt::format("longer than {}'s maximum context of {} tokens (pool '{}')",
                                  m->id, m->max_context_tokens, pool.name));
        }
        s.workload.context_tokens.push_back(tokens);
      }
    }
  }
  s.workload.max_batch_sequences = static_cast<std::uint32_t>(
      w.integer_or("max_batch_sequences", s.workload.max_batch_sequences, yaml::positive(1 << 20)));
  w.finish();
}

void read_analytical(yaml::MapReader& root, Scenario& s) {
  if (!root.has("analytical")) return;
  yaml::MapReader a(root.context(), root.child("analytical"), "analytical");
  auto& p = s.analytical;
  auto given = [&](const char* key, unsigned bit) {
    if (a.has(key)) p.given |= bit;
  };
  given("bandwidth_efficiency", AnalyticalParams::kGivenBandwidth);
  given("compute_efficiency", AnalyticalParams::kGivenCompute);
  given("step_overhead_us", AnalyticalParams::kGivenOverhead);
  given("allreduce_latency_us", AnalyticalParams::kGivenAllreduceLatency);
  given("allreduce_bandwidth_efficiency", AnalyticalParams::kGivenAllreduceBandwidth);
  p.bandwidth_efficiency =
      a.number_or("bandwidth_efficiency", p.bandwidth_efficiency, yaml::Range{0, 1, true});
  p.compute_efficiency =
      a.number_or("compute_efficiency", p.compute_efficiency, yaml::Range{0, 1, true});
  p.step_overhead_us = a.number_or("step_overhead_us", p.step_overhead_us, yaml::non_negative(1e6));
  p.allreduce_latency_us =
      a.number_or("allreduce_latency_us", p.allreduce_latency_us, yaml::non_negative(1e6));
  p.allreduce_bandwidth_efficiency = a.number_or(
      "allreduce_bandwidth_efficiency", p.allreduce_bandwidth_efficiency, yaml::Range{0, 1, true});
  p.calibrated =
      a.choice_or("latency_model", "calibrated", {"calibrated", "roofline"}) == "calibrated";
  a.finish();
}

}  // namespace

Scenario Scenario::parse(const std::string& text, const std::string& path, const Catalog& catalog) {
  Scenario s;
  s.path = path;
  s.text = text;
  yaml::Context ctx(path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    ctx.error_at(YAML::Mark::null_mark(), "", "", "the scenario file is empty");
    ctx.throw_if_errors();
  }
  YAML::Node doc = yaml::parse_document(text, path);
  if (doc.IsNull()) {  // only comments: as empty as no text, and better named so than by its keys
    ctx.error_at(YAML::Mark::null_mark(), "", "", "the scenario file is empty");
    ctx.throw_if_errors();
  }
  yaml::MapReader root(ctx, doc, "");
  if (!root.valid()) ctx.throw_if_errors();

  s.name = root.string_or(keys::kName);
  s.description = root.string_or(keys::kDescription);
  s.seed = static_cast<std::uint64_t>(root.integer_or(keys::kSeed));
  read_horizon(root, s);
  YAML::Node models = root.child("models");
  if (models.IsDefined() && !models.IsNull()) {
    if (!models.IsSequence()) {
      ctx.error(models, "models", yaml::describe(models), "expected a list of model ids");
    } else {
      for (std::size_t i = 0; i < models.size(); ++i) {
        const std::string id = models[i].IsScalar() ? models[i].Scalar() : "";
        if (!catalog.find_model(id)) {
          auto c = closest_match(id, catalog.model_ids());
          ctx.error(models[i], fmt::format("models[{}]", i), id,
                    "unknown model (see `jevons catalog models`)",
                    c.empty() ? "" : "did you mean '" + c + "'?");
        }
        s.models.push_back(id);
      }
    }
  }
  s.kv_formats = read_kv_list(ctx, root.child("kv_formats"), "kv_formats");
  read_pools(root, catalog, s);
  read_workload(root, catalog, s);
  read_analytical(root, s);
  if (root.has("simulation")) {
    yaml::MapReader sim(ctx, root.child("simulation"), "simulation");
    SimulationSpec spec;
    detail::parse_simulation(sim, catalog, s, spec);
    s.simulation = spec;
  }
  if (root.has(keys::kPlanner)) {
    yaml::MapReader plan(ctx, root.child(keys::kPlanner), std::string(keys::kPlanner.path));
    PlannerSpec spec;
    detail::parse_planner(plan, catalog, s, spec);
    s.planner = spec;
  }
  if (root.has("uncertainty")) {  // validated here; read_uncertainty() returns it on demand
    yaml::MapReader unc(ctx, root.child("uncertainty"), "uncertainty");
    UncertaintySpec spec;
    detail::parse_uncertainty(unc, s, spec);
  }
  root.finish();
  ctx.throw_if_errors();
  return s;
}

Scenario Scenario::load(const std::string& path, const Catalog& catalog) {
  std::ifstream in(path, std::ios::binary);
  // A directory opens as a stream on Linux and reads as empty: name it as unreadable instead.
  if (!in || std::filesystem::is_directory(path)) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the scenario file (missing, or not readable)";
    throw InputError(d);
  }
  check_input_file_size(path, "scenario file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot read the scenario file";
    throw InputError(d);
  }
  const std::string text = ss.str();
  check_input_lines(path, text, "scenario file");
  return parse(text, path, catalog);
}

}  // namespace jevons
