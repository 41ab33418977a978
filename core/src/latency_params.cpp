#include "jevons/core/latency_params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "jevons/core/error.h"
#include "jevons/core/kv_format.h"
#include "yaml_reader.h"

namespace jevons {

namespace {

// Each figure is [value, source]: the source is "fitted", "assumption" or an id under `sources:`.
std::optional<LatencyFigure> read_fig(yaml::MapReader& m, const std::string& key,
                                      const std::set<std::string>& sources,
                                      const yaml::Range& range) {
  if (!m.has(key)) return std::nullopt;
  YAML::Node n = m.child(key);
  const std::string path = m.path_of(key);
  auto& ctx = m.context();
  if (!n.IsSequence() || n.size() != 2) {
    ctx.error(n, path, yaml::describe(n),
              "expected [value, source], e.g. [0.62, fitted] or [1.0, sglang-23134]");
    return std::nullopt;
  }
  auto v = yaml::MapReader::to_number(ctx, n[0], path + "[0]", range);
  const std::string src = n[1].IsScalar() ? n[1].Scalar() : "";
  if (!sources.count(src)) {
    std::vector<std::string> ids(sources.begin(), sources.end());
    const std::string c = closest_match(src, ids);
    ctx.error(n[1], path + "[1]", src,
              "unknown source (use 'fitted', 'assumption' or an id defined under 'sources:')",
              c.empty() ? "" : "did you mean '" + c + "'?");
  }
  if (!v) return std::nullopt;
  return LatencyFigure{*v, src};
}

const std::vector<std::string>& precisions() {
  static const std::vector<std::string> p{"bf16", "fp16", "fp8", "fp4", "mxfp4", "int8", "int4"};
  return p;
}

LatencyEntry read_entry(yaml::MapReader& e, const std::set<std::string>& sources) {
  LatencyEntry out;
  const yaml::Range eff{0, 1.5, true};  // efficiencies: (0, 1.5]; above 1 only by a catalog error
  if (e.has("gemm_efficiency")) {
    yaml::MapReader g(e.context(), e.child("gemm_efficiency"), e.path_of("gemm_efficiency"));
    for (const auto& p : precisions())
      if (auto f = read_fig(g, p, sources, eff)) out.gemm_efficiency[p] = *f;
    g.finish();
  }
  out.bandwidth_efficiency = read_fig(e, "bandwidth_efficiency", sources, eff);
  out.step_overhead_us = read_fig(e, "step_overhead_us", sources, yaml::non_negative(1e6));
  out.layer_fixed_us = read_fig(e, "layer_fixed_us", sources, yaml::non_negative(1e5));
  out.attention_kernel_us = read_fig(e, "attention_kernel_us", sources, yaml::non_negative(1e5));
  out.attention_efficiency = read_fig(e, "attention_efficiency", sources, eff);
  out.moe_gemm_efficiency = read_fig(e, "moe_gemm_efficiency", sources, eff);
  out.moe_dispatch_us = read_fig(e, "moe_dispatch_us", sources, yaml::non_negative(1e5));
  out.moe_expert_us = read_fig(e, "moe_expert_us", sources, yaml::non_negative(1e4));
  out.moe_permute_passes = read_fig(e, "moe_permute_passes", sources, yaml::non_negative(1e3));
  out.moe_dequant_efficiency = read_fig(e, "moe_dequant_efficiency", sources, eff);
  out.mla_layer_us = read_fig(e, "mla_layer_us", sources, yaml::non_negative(1e5));
  out.allreduce_latency_us = read_fig(e, "allreduce_latency_us", sources, yaml::non_negative(1e5));
  out.allreduce_bandwidth_efficiency = read_fig(e, "allreduce_bandwidth_efficiency", sources, eff);
  out.gemm_half_tokens = read_fig(e, "gemm_half_tokens", sources, yaml::non_negative(1e5));
  e.finish();
  return out;
}

}  // namespace

LatencyCalibration LatencyCalibration::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the latency-model file";
    throw InputError(d);
  }
  check_input_file_size(path, "latency-model file");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  check_input_lines(path, text, "latency-model file");
  return parse(text, path);
}

LatencyCalibration LatencyCalibration::parse(const std::string& text, const std::string& path) {
  LatencyCalibration c;
  c.path_ = path;
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(text, path);
  yaml::MapReader root(ctx, doc, "");
  std::set<std::string> sources{"fitted", "assumption"};
  if (root.has("sources")) {
    YAML::Node s = root.child("sources");
    if (!s.IsMap()) {
      ctx.error(s, "sources", yaml::describe(s), "expected a map of source id → citation");
    } else {
      for (auto it = s.begin(); it != s.end(); ++it) sources.insert(it->first.Scalar());
    }
  }
  root.child("fit");  // how the fitted figures were produced: free text for readers
  {
    yaml::MapReader d(ctx, root.child("defaults", true), "defaults");
    c.defaults_ = read_entry(d, sources);
  }
  auto need = [&](const std::optional<LatencyFigure>& f, const char* key) {
    if (!f)
      ctx.error(root.child("defaults"), std::string("defaults.") + key, "",
                "the defaults must give every parameter (GPUs without an entry use them)");
  };
  need(c.defaults_.bandwidth_efficiency, "bandwidth_efficiency");
  need(c.defaults_.step_overhead_us, "step_overhead_us");
  need(c.defaults_.layer_fixed_us, "layer_fixed_us");
  need(c.defaults_.attention_kernel_us, "attention_kernel_us");
  need(c.defaults_.attention_efficiency, "attention_efficiency");
  need(c.defaults_.moe_gemm_efficiency, "moe_gemm_efficiency");
  need(c.defaults_.moe_dispatch_us, "moe_dispatch_us");
  need(c.defaults_.moe_expert_us, "moe_expert_us");
  need(c.defaults_.moe_permute_passes, "moe_permute_passes");
  need(c.defaults_.moe_dequant_efficiency, "moe_dequant_efficiency");
  need(c.defaults_.mla_layer_us, "mla_layer_us");
  need(c.defaults_.allreduce_latency_us, "allreduce_latency_us");
  need(c.defaults_.allreduce_bandwidth_efficiency, "allreduce_bandwidth_efficiency");
  if (!c.defaults_.gemm_efficiency.count("bf16"))
    ctx.error(root.child("defaults"), "defaults.gemm_efficiency.bf16", "",
              "the defaults must give the bf16 GEMM efficiency");
  if (root.has("gpus")) {
    YAML::Node g = root.child("gpus");
    if (!g.IsMap()) {
      ctx.error(g, "gpus", yaml::describe(g), "expected a map of catalog GPU id → parameters");
    } else {
      for (auto it = g.begin(); it != g.end(); ++it) {
        const std::string id = it->first.Scalar();
        yaml::MapReader e(ctx, it->second, "gpus." + id);
        c.gpus_[id] = read_entry(e, sources);
      }
    }
  }
  if (root.has("kv_formats")) {
    YAML::Node k = root.child("kv_formats");
    if (!k.IsMap()) {
      ctx.error(k, "kv_formats", yaml::describe(k), "expected a map of KV format → speed");
    } else {
      for (auto it = k.begin(); it != k.end(); ++it) {
        const std::string name = it->first.Scalar();
        const auto& names = KvFormat::names();
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          const std::string m = closest_match(name, names);
          ctx.error(it->first, "kv_formats." + name, name, "unknown KV format",
                    m.empty() ? "" : "did you mean '" + m + "'?");
          continue;
        }
        yaml::MapReader e(ctx, it->second, "kv_formats." + name);
        if (auto f = read_fig(e, "time_vs_bf16", sources, yaml::positive(100)))
          c.kv_[name] = KvSpeed{f->value, f->source};
        else
          ctx.error(it->second, "kv_formats." + name + ".time_vs_bf16", "",
                    "expected time_vs_bf16: [ratio, source]");
        e.finish();
      }
    }
  }
  root.finish();
  ctx.throw_if_errors();
  c.loaded_ = true;
  return c;
}

std::optional<std::pair<double, std::string>> LatencyCalibration::family_projection(
    const std::string& gpu_id, const std::string& precision) const {
  const auto self = families_.find(gpu_id);
  if (self == families_.end()) return std::nullopt;
  // Architecture first (same die and tensor cores), then vendor (same kernel libraries and
  // engines): the fitted efficiencies differ far more across vendors (MI300X 0.30 of its fp8
  // peak, Hopper 0.52-0.55) than within one.
  for (const bool by_arch : {true, false}) {
    double log_sum = 0;
    std::vector<std::string> ids;
    for (const auto& [id, e] : gpus_) {
      const auto f = families_.find(id);
      if (id == gpu_id || f == families_.end() || !e.gemm_efficiency.count(precision)) continue;
      const bool same = by_arch ? f->second.architecture == self->second.architecture &&
                                      f->second.vendor == self->second.vendor
                                : f->second.vendor == self->second.vendor;
      if (!same) continue;
      log_sum += std::log(e.gemm_efficiency.at(precision).value);
      ids.push_back(id);
    }
    if (ids.empty()) continue;
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return std::make_pair(
        std::exp(log_sum / static_cast<double>(ids.size())),
        fmt::format("projected: {} GEMM efficiency of the same {} ({}; no {} {} entry)", precision,
                    by_arch ? "architecture, " + self->second.architecture
                            : "vendor, " + self->second.vendor,
                    list, gpu_id, precision));
  }
  return std::nullopt;
}

LatencyParams LatencyCalibration::resolve(const std::string& gpu_id,
                                          const std::string& precision) const {
  LatencyParams p;
  const LatencyEntry* g = nullptr;
  if (auto it = gpus_.find(gpu_id); it != gpus_.end()) g = &it->second;
  auto pick = [&](std::optional<LatencyFigure> LatencyEntry::*f, double& out) {
    if (g != nullptr && (g->*f)) {
      out = (g->*f)->value;
    } else if (defaults_.*f) {
      out = (defaults_.*f)->value;
    }
  };
  pick(&LatencyEntry::bandwidth_efficiency, p.bandwidth_efficiency);
  pick(&LatencyEntry::step_overhead_us, p.step_overhead_us);
  pick(&LatencyEntry::layer_fixed_us, p.layer_fixed_us);
  pick(&LatencyEntry::attention_kernel_us, p.attention_kernel_us);
  pick(&LatencyEntry::attention_efficiency, p.attention_efficiency);
  pick(&LatencyEntry::moe_gemm_efficiency, p.moe_gemm_efficiency);
  pick(&LatencyEntry::moe_dispatch_us, p.moe_dispatch_us);
  pick(&LatencyEntry::moe_expert_us, p.moe_expert_us);
  pick(&LatencyEntry::moe_permute_passes, p.moe_permute_passes);
  pick(&LatencyEntry::moe_dequant_efficiency, p.moe_dequant_efficiency);
  pick(&LatencyEntry::mla_layer_us, p.mla_layer_us);
  pick(&LatencyEntry::allreduce_latency_us, p.allreduce_latency_us);
  pick(&LatencyEntry::allreduce_bandwidth_efficiency, p.allreduce_bandwidth_efficiency);
  pick(&LatencyEntry::gemm_half_tokens, p.gemm_half_tokens);
  // GEMM efficiency: this GPU at this precision, else the defaults at this precision, else the
  // defaults' bf16 figure (a precision nobody measured runs at bf16's achieved share of its peak).
  std::string how;
  if (g != nullptr && g->gemm_efficiency.count(precision)) {
    p.gemm_efficiency = g->gemm_efficiency.at(precision).value;
    p.gpu_fitted = true;
    how = fmt::format("{} for {} {}", g->gemm_efficiency.at(precision).source, gpu_id, precision);
  } else if (auto fam = family_projection(gpu_id, precision)) {
    p.gemm_efficiency = fam->first;
    how = fam->second;
  } else if (defaults_.gemm_efficiency.count(precision)) {
    p.gemm_efficiency = defaults_.gemm_efficiency.at(precision).value;
    how = fmt::format("projected: default {} GEMM efficiency (no {} {} entry)", precision, gpu_id,
                      precision);
  } else if (defaults_.gemm_efficiency.count("bf16")) {
    p.gemm_efficiency = defaults_.gemm_efficiency.at("bf16").value;
    how = fmt::format("projected: default bf16 GEMM efficiency (no {} figure)", precision);
  }
  p.description = how;
  return p;
}

std::optional<KvSpeed> LatencyCalibration::kv_speed(const std::string& name) const {
  if (auto it = kv_.find(name); it != kv_.end()) return it->second;
  return std::nullopt;
}

}  // namespace jevons
