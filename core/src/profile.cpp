// Profile JSON reader (the writer, which needs no JSON library, is profile_save.cpp). Layout
// documented in docs/profiles.md; written by the kernels profiler (`jevons profile`), read by the
// simulator's latency model.
#include "jevons/core/profile.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "jevons/core/error.h"
#include "jevons/core/kv_format.h"

namespace jevons {
namespace {

using nlohmann::json;

constexpr const char* kFormatTag = "jevons-profile";  // also in profile_save.cpp
constexpr int kSchemaVersion = 1;

[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& value,
                       const std::string& message) {
  Diagnostic d;
  d.file = file;
  d.key = key;
  d.value = value;
  d.message = message;
  throw InputError(d);
}

std::string short_dump(const json& j) {
  // dump() recurses once per nesting level, so a file nested a few hundred thousand levels deep
  // would overflow the stack while we report it: containers are summarised, never serialised.
  if (j.is_array()) return "[a list of " + std::to_string(j.size()) + "]";
  if (j.is_object()) return "{an object of " + std::to_string(j.size()) + " keys}";
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Typed field readers: each names the file, the dotted key and what was expected.
struct Reader {
  const std::string& file;

  const json& object(const json& parent, const std::string& key, const std::string& path) const {
    auto it = parent.find(key);
    if (it == parent.end()) fail(file, path, "", "missing; expected an object");
    if (!it->is_object()) fail(file, path, short_dump(*it), "expected an object");
    return *it;
  }
  std::string str(const json& o, const std::string& key, const std::string& path, bool required,
                  const std::string& fallback = "") const {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(file, path, "", "missing; expected a string");
      return fallback;
    }
    if (!it->is_string()) fail(file, path, short_dump(*it), "expected a string");
    return it->get<std::string>();
  }
  double num(const json& o, const std::string& key, const std::string& path, bool required,
             double lo = 0.0) const {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(file, path, "", "missing; expected a number");
      return 0.0;
    }
    if (!it->is_number()) fail(file, path, short_dump(*it), "expected a number");
    const double v = it->get<double>();
    if (!(v >= lo)) fail(file, path, short_dump(*it), "expected a number >= " + std::to_string(lo));
    return v;
  }
  std::uint64_t count(const json& o, const std::string& key, const std::string& path, bool required,
                      std::uint64_t lo = 0) const {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(file, path, "", "missing; expected a non-negative integer");
      return 0;
    }
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<std::int64_t>() < 0))
      fail(file, path, short_dump(*it), "expected a non-negative integer");
    const std::uint64_t v = it->get<std::uint64_t>();
    if (v < lo) fail(file, path, short_dump(*it), "expected an integer >= " + std::to_string(lo));
    return v;
  }
};

std::uint32_t u32(std::uint64_t v) {
  return static_cast<std::uint32_t>(v);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

Profile Profile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    fail(path, "", "", "cannot open the profile file");
  check_input_file_size(path, "profile file");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  check_input_lines(path, text, "profile file");
  return parse(text, path);
}

Profile Profile::parse(const std::string& text, const std::string& path) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for e.g. 1e400
    Diagnostic d;
    d.file = path;
    d.message = std::string("not valid JSON: ") + e.what();
    throw InputError(d);
  }
  const Reader r{path};
  if (!root.is_object()) fail(path, "", short_dump(root), "expected a JSON object at the top");
  const std::string tag = r.str(root, "format", "format", true);
  if (tag != kFormatTag) fail(path, "format", tag, std::string("expected '") + kFormatTag + "'");
  const auto version = r.count(root, "schema_version", "schema_version", true);
  if (version != kSchemaVersion)
    fail(path, "schema_version", std::to_string(version),
         "unsupported schema version; expected " + std::to_string(kSchemaVersion));

  Profile p;
  const json& m = r.object(root, "meta", "meta");
  ProfileMeta& meta = p.meta;
  meta.device_name = r.str(m, "device_name", "meta.device_name", true);
  meta.device_kind = r.str(m, "device_kind", "meta.device_kind", true);
  if (meta.device_kind != "gpu" && meta.device_kind != "cpu")
    fail(path, "meta.device_kind", meta.device_kind, "expected 'gpu' or 'cpu'");
  meta.gpu_catalog_id = r.str(m, "gpu_catalog_id", "meta.gpu_catalog_id", false);
  meta.driver_version = r.str(m, "driver_version", "meta.driver_version", false);
  meta.cuda_version = r.str(m, "cuda_version", "meta.cuda_version", false);
  meta.date_utc = r.str(m, "date_utc", "meta.date_utc", true);
  meta.git_commit = r.str(m, "git_commit", "meta.git_commit", false);
  meta.jevons_version = r.str(m, "jevons_version", "meta.jevons_version", false);
  meta.host = r.str(m, "host", "meta.host", false);
  meta.copy_bandwidth_bytes_per_s =
      r.num(m, "copy_bandwidth_bytes_per_s", "meta.copy_bandwidth_bytes_per_s", false);
  meta.iterations = static_cast<int>(r.count(m, "iterations", "meta.iterations", false));

  if (auto it = root.find("attention"); it != root.end()) {
    if (!it->is_array()) fail(path, "attention", short_dump(*it), "expected an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& a = (*it)[i];
      const std::string k = "attention[" + std::to_string(i) + "]";
      if (!a.is_object()) fail(path, k, short_dump(a), "expected an object");
      AttentionPoint pt;
      pt.kv_format = r.str(a, "kv_format", k + ".kv_format", true);
      try {
        pt.kv_format = KvConfig::parse(pt.kv_format).name();
      } catch (const InputError& e) {
        Diagnostic d = e.diagnostics().front();
        d.file = path;
        d.key = k + ".kv_format";
        throw InputError(d);
      }
      pt.head_dim = u32(r.count(a, "head_dim", k + ".head_dim", true, 1));
      pt.batch = u32(r.count(a, "batch", k + ".batch", true, 1));
      pt.context_tokens = r.count(a, "context_tokens", k + ".context_tokens", true, 1);
      pt.q_heads = u32(r.count(a, "q_heads", k + ".q_heads", true, 1));
      pt.kv_heads = u32(r.count(a, "kv_heads", k + ".kv_heads", true, 1));
      if (pt.q_heads % pt.kv_heads != 0)
        fail(path, k + ".q_heads", std::to_string(pt.q_heads),
             "expected a multiple of kv_heads (" + std::to_string(pt.kv_heads) + ")");
      pt.bytes_per_token_format =
          r.num(a, "bytes_per_token_format", k + ".bytes_per_token_format", true);
      pt.bytes_per_token_allocated =
          r.num(a, "bytes_per_token_allocated", k + ".bytes_per_token_allocated", true);
      pt.append_time_ns_per_token =
          r.num(a, "append_time_ns_per_token", k + ".append_time_ns_per_token", false);
      pt.decode_time_ns = r.num(a, "decode_time_ns", k + ".decode_time_ns", true);
      pt.decode_bandwidth_bytes_per_s =
          r.num(a, "decode_bandwidth_bytes_per_s", k + ".decode_bandwidth_bytes_per_s", false);
      pt.mse = r.num(a, "mse", k + ".mse", false);
      pt.inner_product_error = r.num(a, "inner_product_error", k + ".inner_product_error", false);
      pt.attention_cosine = r.num(a, "attention_cosine", k + ".attention_cosine", false, -1.0);
      pt.attention_rel_error = r.num(a, "attention_rel_error", k + ".attention_rel_error", false);
      p.attention.push_back(std::move(pt));
    }
  }
  if (auto it = root.find("steps"); it != root.end()) {
    if (!it->is_array()) fail(path, "steps", short_dump(*it), "expected an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& a = (*it)[i];
      const std::string k = "steps[" + std::to_string(i) + "]";
      if (!a.is_object()) fail(path, k, short_dump(a), "expected an object");
      StepPoint s;
      s.model_id = r.str(a, "model_id", k + ".model_id", true);
      s.phase = r.str(a, "phase", k + ".phase", true);
      if (s.phase != "prefill" && s.phase != "decode")
        fail(path, k + ".phase", s.phase, "expected 'prefill' or 'decode'");
      s.kv_format = r.str(a, "kv_format", k + ".kv_format", true);
      try {
        s.kv_format = KvConfig::parse(s.kv_format).name();
      } catch (const InputError& e) {
        Diagnostic d = e.diagnostics().front();
        d.file = path;
        d.key = k + ".kv_format";
        throw InputError(d);
      }
      if (a.contains("weights")) {
        s.weights = r.str(a, "weights", k + ".weights", false);
        if (s.weights != "bf16" && s.weights != "fp8" && s.weights != "fp32")
          fail(path, k + ".weights", s.weights, "expected 'bf16', 'fp8' or 'fp32'");
      }
      s.layers_measured = u32(r.count(a, "layers_measured", k + ".layers_measured", false, 0));
      s.tensor_parallel = u32(r.count(a, "tensor_parallel", k + ".tensor_parallel", false, 0));
      if (s.tensor_parallel == 0) s.tensor_parallel = 1;
      s.batch = u32(r.count(a, "batch", k + ".batch", true));
      s.tokens = r.count(a, "tokens", k + ".tokens", true);
      s.context_tokens = r.count(a, "context_tokens", k + ".context_tokens", false);
      s.time_ns = r.num(a, "time_ns", k + ".time_ns", true);
      p.steps.push_back(std::move(s));
    }
  }
  return p;
}

std::optional<double> Profile::decode_bandwidth(const std::string& kv_format,
                                                std::uint32_t head_dim) const {
  // The bandwidth-bound regime: points whose byte volume is at least half the largest measured
  // for this format (small shapes are latency-bound and would understate the bandwidth).
  const std::string name = KvConfig::parse(kv_format).name();
  double max_volume = 0;
  auto volume = [](const AttentionPoint& a) {
    return a.bytes_per_token_allocated * static_cast<double>(a.context_tokens) * a.batch *
           a.kv_heads;
  };
  for (const auto& a : attention)
    if (a.kv_format == name && a.head_dim == head_dim && a.decode_bandwidth_bytes_per_s > 0)
      max_volume = std::max(max_volume, volume(a));
  std::vector<double> bw;
  for (const auto& a : attention)
    if (a.kv_format == name && a.head_dim == head_dim && a.decode_bandwidth_bytes_per_s > 0 &&
        volume(a) >= 0.5 * max_volume)
      bw.push_back(a.decode_bandwidth_bytes_per_s);
  if (bw.empty()) return std::nullopt;
  return median(std::move(bw));
}

std::optional<double> Profile::decode_time_ratio_vs_bf16(const std::string& kv_format,
                                                         std::uint32_t head_dim) const {
  const std::string name = KvConfig::parse(kv_format).name();
  std::vector<double> ratios;
  for (const auto& a : attention) {
    if (a.kv_format != name || a.head_dim != head_dim || a.decode_time_ns <= 0) continue;
    for (const auto& b : attention)
      if (b.kv_format == "bf16" && b.head_dim == a.head_dim && b.batch == a.batch &&
          b.context_tokens == a.context_tokens && b.q_heads == a.q_heads &&
          b.kv_heads == a.kv_heads && b.decode_time_ns > 0) {
        ratios.push_back(a.decode_time_ns / b.decode_time_ns);
        break;
      }
  }
  if (ratios.empty()) return std::nullopt;
  return median(std::move(ratios));
}

}  // namespace jevons
