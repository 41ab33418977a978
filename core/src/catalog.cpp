#include "jevons/core/catalog.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "jevons/core/error.h"
#include "yaml_reader.h"

namespace jevons {

std::string to_string(Confidence c) {
  switch (c) {
    case Confidence::kVendor:
      return "V";
    case Confidence::kSecondary:
      return "S";
    case Confidence::kUncertain:
      return "U";
  }
  return "?";
}

double Figure::get(const char* what) const {
  if (!value) throw std::logic_error(std::string("catalog figure not reported: ") + what);
  return *value;
}

double GpuSpec::dense_tflops(const std::string& precision) const {
  // A part without a narrow format runs it at the next wider one (A100 serves fp8 weights by
  // upcasting to bf16), so fall back fp4 -> fp8 -> bf16.
  if (precision == "fp4" && fp4_dense_tflops.known()) return *fp4_dense_tflops.value;
  if ((precision == "fp4" || precision == "fp8") && fp8_dense_tflops.known())
    return *fp8_dense_tflops.value;
  return bf16_dense_tflops.get("bf16_dense_tflops");
}

double ModelSpec::attention_params() const {
  if (attention_params_b > 0) return attention_params_b * 1e9;
  if (is_mla()) return 0;
  return static_cast<double>(layers) * hidden_size * head_dim * 2.0 * (q_heads + kv_heads);
}

double ModelSpec::routed_expert_params() const {
  if (!is_moe()) return 0;
  const double k_over_e = static_cast<double>(experts_per_token) / static_cast<double>(experts);
  return (params_total_b - params_active_b) * 1e9 / (1.0 - k_over_e);
}

double ModelSpec::embedding_params() const {
  return 2.0 * static_cast<double>(vocab_size) * hidden_size;
}

std::string ModelSpec::layout_description() const {
  if (is_mla()) return fmt::format("mla({}+{})", kv_lora_rank, qk_rope_head_dim);
  std::uint32_t local = 0;
  LayerAttention kind = LayerAttention::kFull;
  for (auto a : layer_attention)
    if (a == LayerAttention::kSliding || a == LayerAttention::kChunked) {
      ++local;
      kind = a;
    }
  if (local == 0) return "full";
  return fmt::format("{}({}) {}/{} layers",
                     kind == LayerAttention::kSliding ? "sliding" : "chunked", window_tokens, local,
                     layers);
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open catalog file (set JEVONS_DATA_DIR or pass --data-dir)";
    throw InputError(d);
  }
  check_input_file_size(path, "catalog file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  check_input_lines(path, text, "catalog file");
  return text;
}

const double kHuge = 1e12;

Figure read_figure(yaml::MapReader& m, const std::string& key,
                   const std::map<std::string, Source>& sources, bool required) {
  Figure f;
  YAML::Node n = m.child(key, true);
  auto& ctx = m.context();
  const std::string path = m.path_of(key);
  if (!n.IsDefined() || n.IsNull()) return f;
  if (!n.IsSequence() || n.size() != 3) {
    ctx.error(n, path, yaml::describe(n),
              "expected [value, source, confidence], e.g. [80, src, V]");
    return f;
  }
  if (!n[0].IsNull()) {
    f.value = yaml::MapReader::to_number(ctx, n[0], path + "[0]", yaml::positive(kHuge));
  } else if (required) {
    ctx.error(n[0], path + "[0]", "null", "this figure is required (a positive number)");
  }
  f.source = n[1].IsScalar() ? n[1].Scalar() : "";
  if (!sources.count(f.source)) {
    std::vector<std::string> ids;
    for (const auto& [id, s] : sources) ids.push_back(id);
    const std::string m2 = closest_match(f.source, ids);
    ctx.error(n[1], path + "[1]", f.source, "unknown source id (define it under 'sources:')",
              m2.empty() ? "" : "did you mean '" + m2 + "'?");
  }
  const std::string c = n[2].IsScalar() ? n[2].Scalar() : "";
  if (c == "V")
    f.confidence = Confidence::kVendor;
  else if (c == "S")
    f.confidence = Confidence::kSecondary;
  else if (c == "U")
    f.confidence = Confidence::kUncertain;
  else
    ctx.error(n[2], path + "[2]", c, "expected a confidence marker: V, S or U");
  return f;
}

std::vector<GpuSpec> load_gpus(const std::string& path, std::map<std::string, Source>& sources) {
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(read_file(path), path);
  yaml::MapReader root(ctx, doc, "");
  yaml::MapReader src(ctx, root.child("sources", true), "sources");
  if (src.valid())
    for (auto it = src.node().begin(); it != src.node().end(); ++it) {
      const std::string id = it->first.Scalar();
      yaml::MapReader s(ctx, it->second, "sources." + id);
      Source so;
      so.id = id;
      so.url = s.string_or("url", "");
      so.note = s.string_or("note", "");
      s.finish();
      sources[id] = so;
    }
  std::vector<GpuSpec> gpus;
  YAML::Node list = root.child("gpus", true);
  root.finish();
  if (!list.IsSequence()) {
    ctx.error(list, "gpus", yaml::describe(list), "expected a list of GPUs");
    ctx.throw_if_errors();
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    yaml::MapReader g(ctx, list[i], fmt::format("gpus[{}]", i));
    GpuSpec s;
    s.id = g.string("id", true).value_or("");
    s.name = g.string("name", true).value_or("");
    s.vendor = g.string_or("vendor", "");
    s.architecture = g.string_or("architecture", "");
    s.projection = g.boolean_or("projection", false);
    s.launch = g.string("launch", true).value_or("");
    s.host_link = g.choice_or("host_link", "pcie-gen5",
                              {"pcie-gen4", "pcie-gen5", "pcie-gen6", "nvlink-c2c"});
    s.hbm_nominal_gib = read_figure(g, "hbm_nominal_gib", sources, true);
    s.hbm_usable_gib = read_figure(g, "hbm_usable_gib", sources, true);
    s.hbm_bandwidth_tbps = read_figure(g, "hbm_bandwidth_tbps", sources, true);
    s.bf16_dense_tflops = read_figure(g, "bf16_dense_tflops", sources, true);
    s.fp8_dense_tflops = read_figure(g, "fp8_dense_tflops", sources, false);
    s.fp4_dense_tflops = read_figure(g, "fp4_dense_tflops", sources, false);
    s.scaleup_link_gbps = read_figure(g, "scaleup_link_gbps", sources, true);
    s.host_dram_per_gpu_gib = read_figure(g, "host_dram_per_gpu_gib", sources, true);
    s.host_link_gbps = read_figure(g, "host_link_gbps", sources, true);
    s.tdp_w = read_figure(g, "tdp_w", sources, true);
    s.price_usd = read_figure(g, "price_usd", sources, false);
    g.finish();
    if (s.hbm_usable_gib.known() && s.hbm_nominal_gib.known() &&
        *s.hbm_usable_gib.value > *s.hbm_nominal_gib.value)
      ctx.error(list[i]["hbm_usable_gib"], fmt::format("gpus[{}].hbm_usable_gib", i),
                fmt::format("{}", *s.hbm_usable_gib.value), "usable HBM cannot exceed nominal HBM");
    for (const auto& other : gpus)
      if (other.id == s.id)
        ctx.error(list[i]["id"], fmt::format("gpus[{}].id", i), s.id, "duplicate GPU id");
    gpus.push_back(std::move(s));
  }
  ctx.throw_if_errors();
  return gpus;
}

std::vector<ModelSpec> load_models(const std::string& path) {
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(read_file(path), path);
  yaml::MapReader root(ctx, doc, "");
  YAML::Node srcs = root.child("sources", true);
  YAML::Node list = root.child("models", true);
  root.finish();
  if (!list.IsSequence()) {
    ctx.error(list, "models", yaml::describe(list), "expected a list of models");
    ctx.throw_if_errors();
  }
  std::vector<ModelSpec> models;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("models[{}]", i);
    yaml::MapReader m(ctx, list[i], p);
    ModelSpec s;
    auto u32 = [&](const char* key, double max) {
      return static_cast<std::uint32_t>(m.integer(key, yaml::positive(max), true).value_or(1));
    };
    s.id = m.string("id", true).value_or("");
    s.name = m.string("name", true).value_or("");
    s.layers = u32("layers", 10000);
    s.hidden_size = u32("hidden_size", 1e6);
    s.q_heads = u32("q_heads", 10000);
    s.kv_heads = u32("kv_heads", 10000);
    s.head_dim = u32("head_dim", 4096);
    s.params_total_b = m.number("params_total_b", yaml::positive(1e5), true).value_or(1);
    s.params_active_b = m.number("params_active_b", yaml::positive(1e5), true).value_or(1);
    s.max_context_tokens = static_cast<std::uint64_t>(
        m.integer("max_context_tokens", yaml::positive(1e9), true).value_or(1));
    s.intermediate_size = static_cast<std::uint32_t>(
        m.integer("intermediate_size", yaml::positive(1e7), false).value_or(0));
    s.vocab_size =
        static_cast<std::uint32_t>(m.integer("vocab_size", yaml::positive(1e8), false).value_or(0));
    s.attention_params_b = m.number("attention_params_b", yaml::positive(1e5), false).value_or(0);
    if (s.attention_params_b > s.params_active_b)
      ctx.error(list[i]["attention_params_b"], p + ".attention_params_b",
                fmt::format("{}", s.attention_params_b),
                "attention parameters exceed the active parameters");
    if (s.params_active_b > s.params_total_b)
      ctx.error(list[i]["params_active_b"], p + ".params_active_b",
                fmt::format("{}", s.params_active_b), "active parameters exceed total parameters");
    if (m.has("moe")) {
      yaml::MapReader moe(ctx, m.child("moe"), p + ".moe");
      s.experts =
          static_cast<std::uint32_t>(moe.integer("experts", yaml::positive(1e5), true).value_or(1));
      s.experts_per_token = static_cast<std::uint32_t>(
          moe.integer("experts_per_token", yaml::positive(1e5), true).value_or(1));
      moe.finish();
      if (s.experts_per_token > s.experts)
        ctx.error(list[i]["moe"], p + ".moe.experts_per_token", std::to_string(s.experts_per_token),
                  "cannot exceed the number of experts");
    }
    yaml::MapReader att(ctx, m.child("attention", true), p + ".attention");
    const std::string layout = att.choice_or("layout", "full", {"full", "mla", "hybrid"});
    if (layout == "full") {
      s.layer_attention.assign(s.layers, LayerAttention::kFull);
    } else if (layout == "mla") {
      s.kv_lora_rank = static_cast<std::uint32_t>(
          att.integer("kv_lora_rank", yaml::positive(1e5), true).value_or(1));
      s.qk_rope_head_dim = static_cast<std::uint32_t>(
          att.integer("qk_rope_head_dim", yaml::non_negative(1e5), true).value_or(0));
      s.layer_attention.assign(s.layers, LayerAttention::kMla);
    } else {
      const std::string pattern = att.string("pattern", true).value_or("G");
      const std::string local = att.choice_or("local", "sliding", {"sliding", "chunked"});
      s.window_tokens = static_cast<std::uint32_t>(
          att.integer("window_tokens", yaml::positive(1e9), true).value_or(1));
      const LayerAttention lk =
          local == "sliding" ? LayerAttention::kSliding : LayerAttention::kChunked;
      bool bad = pattern.empty() || pattern.find_first_not_of("GL") != std::string::npos;
      if (bad) {
        ctx.error(att.node()["pattern"], p + ".attention.pattern", pattern,
                  "expected a non-empty string of G (global) and L (local) layers, e.g. LLLLLG");
      } else {
        for (std::uint32_t l = 0; l < s.layers; ++l)
          s.layer_attention.push_back(pattern[l % pattern.size()] == 'G' ? LayerAttention::kFull
                                                                         : lk);
      }
    }
    att.finish();
    YAML::Node ms = m.child("sources", true);
    if (ms.IsSequence())
      for (const auto& x : ms) {
        const std::string id = x.IsScalar() ? x.Scalar() : "";
        if (!srcs[id].IsDefined())
          ctx.error(x, p + ".sources", id, "unknown source id (define it under 'sources:')");
        s.sources.push_back(id);
      }
    m.finish();
    for (const auto& other : models)
      if (other.id == s.id) ctx.error(list[i]["id"], p + ".id", s.id, "duplicate model id");
    models.push_back(std::move(s));
  }
  ctx.throw_if_errors();
  return models;
}

}  // namespace

std::string Catalog::default_dir() {
  if (const char* env = std::getenv("JEVONS_DATA_DIR"); env && *env) return env;
  return JEVONS_SOURCE_DATA_DIR;
}

Catalog Catalog::load(const std::string& dir) {
  Catalog c;
  c.gpus_ = load_gpus(dir + "/gpus.yaml", c.sources_);
  c.models_ = load_models(dir + "/models.yaml");
  const std::string latency = dir + "/latency-model.yaml";
  if (std::ifstream(latency).good()) c.latency_ = LatencyCalibration::load(latency);
  std::map<std::string, LatencyCalibration::GpuFamily> families;
  for (const auto& g : c.gpus_) families[g.id] = {g.vendor, g.architecture};
  c.latency_.set_gpu_families(std::move(families));
  return c;
}

const GpuSpec* Catalog::find_gpu(const std::string& id) const {
  for (const auto& g : gpus_)
    if (g.id == id) return &g;
  return nullptr;
}

const ModelSpec* Catalog::find_model(const std::string& id) const {
  for (const auto& m : models_)
    if (m.id == id) return &m;
  return nullptr;
}

std::vector<std::string> Catalog::gpu_ids() const {
  std::vector<std::string> ids;
  for (const auto& g : gpus_) ids.push_back(g.id);
  return ids;
}

std::vector<std::string> Catalog::model_ids() const {
  std::vector<std::string> ids;
  for (const auto& m : models_) ids.push_back(m.id);
  return ids;
}

namespace {
[[noreturn]] void unknown(const std::string& what, const std::string& id,
                          const std::vector<std::string>& ids) {
  Diagnostic d;
  d.value = id;
  std::string list;
  for (const auto& i : ids) list += (list.empty() ? "" : ", ") + i;
  d.message = "unknown " + what + "; the catalog has: " + list;
  if (auto m = closest_match(id, ids); !m.empty()) d.hint = "did you mean '" + m + "'?";
  throw InputError(d);
}
}  // namespace

const GpuSpec& Catalog::gpu(const std::string& id) const {
  if (auto* g = find_gpu(id)) return *g;
  unknown("GPU", id, gpu_ids());
}

const ModelSpec& Catalog::model(const std::string& id) const {
  if (auto* m = find_model(id)) return *m;
  unknown("model", id, model_ids());
}

}  // namespace jevons
