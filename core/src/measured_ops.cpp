#include "jevons/core/measured_ops.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "yaml_reader.h"

namespace jevons {

namespace {

// Vidur's per-layer operators (data/profiling/compute/<gpu>/<model>/mlp.csv), as transcribed.
// The embedding is once per step, not per layer, and attention is profiled separately: both are
// left out of the layer time.
const char* const kGemmOps[] = {"attn_pre_proj_ms", "attn_post_proj_ms", "mlp_up_proj_ms",
                                "mlp_down_proj_ms"};
const char* const kElementwiseOps[] = {"input_layernorm_ms", "attn_rope_ms",
                                       "post_attention_layernorm_ms", "mlp_act_ms", "add_ms"};

std::string slurp(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open " + what;
    throw InputError(d);
  }
  check_input_file_size(path, what);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  check_input_lines(path, text, what);
  return text;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// A CSV whose first line names its columns. Rows are read one at a time and their fields fetched
// by column name; every problem becomes a Diagnostic at its file and line.
class CsvTable {
 public:
  CsvTable(std::string file, const std::string& text, std::vector<Diagnostic>& errors)
      : file_(std::move(file)), in_(text), errors_(errors) {}

  // Reads the header. False, with a diagnostic, on an empty file, a column named twice or a
  // `required` column missing (`missing` says what the header must name).
  bool header(const std::vector<std::string>& required, const std::string& missing) {
    if (!next_line()) {
      line_ = 1;
      error("", "", "empty file: expected a header and measured rows");
      return false;
    }
    for (std::size_t i = 0; i < fields_.size(); ++i)
      if (!col_.emplace(fields_[i], i).second) {
        error(fields_[i], "", "duplicate column in the header");
        return false;
      }
    bool ok = true;
    for (const auto& k : required)
      if (!col_.count(k)) {
        error(k, "", "missing column: " + missing);
        ok = false;
      }
    return ok;
  }

  // The next data row; false at the end. Rows with the wrong number of fields are reported and
  // skipped.
  bool next() {
    while (next_line()) {
      if (fields_.size() == col_.size()) return true;
      error("", raw_,
            fmt::format("expected {} comma-separated fields as in the header, found {}",
                        col_.size(), fields_.size()));
    }
    return false;
  }

  const std::string& field(const std::string& key) const { return fields_[col_.at(key)]; }
  int line() const { return line_; }

  // The field as an integer in [lo, hi], or empty after reporting it.
  std::optional<std::uint64_t> integer(const std::string& key, std::uint64_t lo, std::uint64_t hi,
                                       const std::string& expected = "") {
    const std::string& s = field(key);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && v >= lo && v <= hi) return v;
    error(key, s,
          expected.empty() ? fmt::format("expected an integer in [{}, {}]", lo, hi) : expected);
    return std::nullopt;
  }

  // The field as a finite number in [lo, hi] ((lo, hi] when `lo_exclusive`), or empty after
  // reporting it with `expected`.
  std::optional<double> number(const std::string& key, double lo, double hi, bool lo_exclusive,
                               const std::string& expected) {
    const std::string& s = field(key);
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(v) &&
        (lo_exclusive ? v > lo : v >= lo) && v <= hi)
      return v;
    error(key, s, expected);
    return std::nullopt;
  }

  void error(const std::string& key, const std::string& value, const std::string& message) {
    Diagnostic d;
    d.file = file_;
    d.line = line_;
    d.key = key;
    d.value = value;
    d.message = message;
    errors_.push_back(d);
  }

 private:
  bool next_line() {
    while (std::getline(in_, raw_)) {
      ++line_;
      if (raw_.empty() || raw_ == "\r") continue;
      fields_ = split_csv(raw_);
      return true;
    }
    return false;
  }

  std::string file_;
  std::istringstream in_;
  std::vector<Diagnostic>& errors_;
  std::map<std::string, std::size_t> col_;
  std::vector<std::string> fields_;
  std::string raw_;
  int line_ = 0;
};

void load_csv(MeasuredOpsDataset& ds, const std::string& text, std::vector<Diagnostic>& errors) {
  CsvTable t(ds.file, text, errors);
  std::vector<std::string> needed = {"num_tokens", "tp"};
  for (const char* op : kGemmOps) needed.emplace_back(op);
  for (const char* op : kElementwiseOps) needed.emplace_back(op);
  if (!t.header(needed,
                "the header must name num_tokens, tp and the per-layer operator times "
                "in ms"))
    return;
  const std::size_t errors_before = errors.size();
  while (t.next()) {
    const auto tokens = t.integer("num_tokens", 1, 1u << 24);
    const auto tp = t.integer("tp", 1, 1024);
    bool ok = tokens && tp;
    MeasuredOpRow r;
    r.line = t.line();
    auto ms = [&](const char* key) {
      const auto v = t.number(key, 0, 1e6, false, "expected a time in milliseconds in [0, 1e6]");
      ok = ok && v;
      return v.value_or(0);
    };
    for (const char* op : kGemmOps) r.gemm_ms += ms(op);
    for (const char* op : kElementwiseOps) r.elementwise_ms += ms(op);
    if (ok && !(r.gemm_ms > 0)) {
      t.error("attn_pre_proj_ms", "0", "the projection times must not all be zero");
      ok = false;
    }
    if (!ok) continue;
    r.num_tokens = *tokens;
    r.tensor_parallel = static_cast<std::uint32_t>(*tp);
    ds.rows.push_back(r);
  }
  if (ds.rows.empty() && errors.size() == errors_before)
    t.error("", "", "no measured rows after the header");
}

// Vidur's collective profile (data/profiling/network/<node>/all_reduce.csv): `size` is the
// buffer in bytes (its profiler writes elements × 2 for fp16), the time the mean NCCL kernel time.
void load_all_reduce(const std::string& file, const std::string& text,
                     std::vector<MeasuredAllReduce>& out, std::vector<Diagnostic>& errors) {
  CsvTable t(file, text, errors);
  const std::string time_key = "time_stats.all_reduce.mean_ms";
  if (!t.header({"num_workers", "size", "collective", time_key},
                "expected num_workers, size (bytes), collective and " + time_key))
    return;
  const std::size_t errors_before = errors.size();
  while (t.next()) {
    if (t.field("collective") != "all_reduce") continue;
    const auto workers = t.integer("num_workers", 2, 1024);
    const auto bytes =
        t.integer("size", 1, UINT64_MAX, "expected a positive integer number of bytes");
    const auto ms = t.number(time_key, 0, 1e6, true, "expected a time in milliseconds in (0, 1e6]");
    if (workers && bytes && ms)
      out.push_back({*bytes, static_cast<std::uint32_t>(*workers), *ms, t.line()});
  }
  if (out.empty() && errors.size() == errors_before)
    t.error("", "", "no all_reduce rows: expected a header and measured rows");
}

// The team's decode-attention baseline (shared/anchors/decode_attention_baseline.py): a JSON
// object whose "decode_attention" list holds B, L, H, HKV, D and bf16_ms per point.
void load_decode_attention(const std::string& file, const std::string& text,
                           std::vector<MeasuredDecodeAttention>& out,
                           std::vector<Diagnostic>& errors) {
  auto error = [&](const std::string& key, const std::string& value, const std::string& msg) {
    Diagnostic d;
    d.file = file;
    d.key = key;
    d.value = value;
    d.message = msg;
    errors.push_back(d);
  };
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("decode_attention") ||
      !doc["decode_attention"].is_array() || doc["decode_attention"].empty()) {
    error("decode_attention", "", "expected a JSON object with a non-empty decode_attention list");
    return;
  }
  const auto& list = doc["decode_attention"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = fmt::format("decode_attention[{}]", i);
    const auto& e = list[i];
    auto number = [&](const char* key, double lo, double hi) -> double {
      if (!e.is_object() || !e.contains(key) || !e[key].is_number()) {
        error(p + "." + key, e.is_object() && e.contains(key) ? e[key].dump() : "",
              "expected a number");
        return 0;
      }
      const double v = e[key].get<double>();
      if (!std::isfinite(v) || v < lo || v > hi) {
        error(p + "." + key, e[key].dump(), fmt::format("expected a number in [{}, {}]", lo, hi));
        return 0;
      }
      return v;
    };
    MeasuredDecodeAttention m;
    m.batch = static_cast<std::uint32_t>(number("B", 1, 1 << 20));
    m.context = static_cast<std::uint64_t>(number("L", 1, 1e9));
    m.q_heads = static_cast<std::uint32_t>(number("H", 1, 1 << 16));
    m.kv_heads = static_cast<std::uint32_t>(number("HKV", 1, 1 << 16));
    m.head_dim = static_cast<std::uint32_t>(number("D", 1, 1 << 16));
    m.time_ms = number("bf16_ms", 1e-9, 1e6);
    if (m.batch && m.context && m.kv_heads && m.head_dim && m.time_ms > 0) out.push_back(m);
  }
}

}  // namespace

void MeasuredOpsSet::parse_ops_csv(const std::string& text, MeasuredOpsDataset& ds,
                                   std::vector<Diagnostic>& errors) {
  load_csv(ds, text, errors);
}

void MeasuredOpsSet::parse_all_reduce_csv(const std::string& text, const std::string& file,
                                          std::vector<MeasuredAllReduce>& out,
                                          std::vector<Diagnostic>& errors) {
  load_all_reduce(file, text, out, errors);
}

void MeasuredOpsSet::parse_decode_attention_json(const std::string& text, const std::string& file,
                                                 std::vector<MeasuredDecodeAttention>& out,
                                                 std::vector<Diagnostic>& errors) {
  load_decode_attention(file, text, out, errors);
}

double MeasuredOpsDataset::projection_params() const {
  const double h = static_cast<double>(hidden_size);
  const double head_dim = h / static_cast<double>(heads);
  const double qkv = h * (h + 2.0 * static_cast<double>(kv_heads) * head_dim);
  const double o = h * h;
  const double mlp = (gated_mlp ? 3.0 : 2.0) * h * static_cast<double>(intermediate_size);
  return qkv + o + mlp;
}

std::string MeasuredOpsSet::default_dir() {
  return Catalog::default_dir() + "/measured/h100";
}

MeasuredOpsSet MeasuredOpsSet::load(const std::string& dir) {
  MeasuredOpsSet set;
  set.dir = dir;
  const std::string path = dir + "/sources.yaml";
  YAML::Node doc = yaml::parse_document(slurp(path, "measured-ops set (sources.yaml)"), path);
  yaml::Context ctx(path);
  yaml::MapReader root(ctx, doc, "");
  set.gpu_catalog_id = root.string("gpu", true).value_or("");
  set.weights = root.choice_or("weights", "bf16", {"bf16", "fp16", "fp8"});
  set.source = root.string("source", true).value_or("");
  YAML::Node list = root.child("datasets", true);
  if (list && !list.IsSequence())
    ctx.error(list, "datasets", yaml::describe(list), "expected a list of datasets");
  if (list && list.IsSequence()) {
    if (list.size() == 0) ctx.error(list, "datasets", "[]", "expected at least one dataset");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string p = fmt::format("datasets[{}]", i);
      yaml::MapReader m(ctx, list[i], p);
      MeasuredOpsDataset ds;
      ds.file = dir + "/" + m.string("file", true).value_or("");
      ds.model = m.string("model", true).value_or("");
      ds.source_path = m.string("source_path", true).value_or("");
      ds.commit = m.string("commit", true).value_or("");
      const auto dim = yaml::between(1, 1e6);
      ds.hidden_size = static_cast<std::uint64_t>(m.integer("hidden_size", dim, true).value_or(0));
      ds.heads = static_cast<std::uint64_t>(m.integer("heads", dim, true).value_or(0));
      ds.kv_heads = static_cast<std::uint64_t>(m.integer("kv_heads", dim, true).value_or(0));
      ds.intermediate_size =
          static_cast<std::uint64_t>(m.integer("intermediate_size", dim, true).value_or(0));
      ds.gated_mlp = m.boolean_or("gated_mlp", true);
      m.finish();
      if (ds.heads > 0 && ds.kv_heads > 0 &&
          (ds.hidden_size % ds.heads != 0 || ds.heads % ds.kv_heads != 0))
        ctx.error(list[i]["heads"], p + ".heads", std::to_string(ds.heads),
                  "expected heads to divide hidden_size and kv_heads to divide heads");
      set.datasets.push_back(std::move(ds));
    }
  }
  if (root.has("all_reduce")) {
    yaml::MapReader ar(ctx, root.child("all_reduce"), "all_reduce");
    set.all_reduce_file = dir + "/" + ar.string("file", true).value_or("");
    set.all_reduce_source_path = ar.string("source_path", true).value_or("");
    set.all_reduce_commit = ar.string("commit", true).value_or("");
    ar.finish();
  }
  if (root.has("decode_attention")) {
    yaml::MapReader da(ctx, root.child("decode_attention"), "decode_attention");
    set.decode_attention_file = dir + "/" + da.string("file", true).value_or("");
    set.decode_attention_source = da.string("source", true).value_or("");
    da.finish();
  }
  root.finish();
  ctx.throw_if_errors();
  std::vector<Diagnostic> errors;
  for (auto& ds : set.datasets) load_csv(ds, slurp(ds.file, "measured-ops CSV"), errors);
  if (!set.all_reduce_file.empty())
    load_all_reduce(set.all_reduce_file, slurp(set.all_reduce_file, "measured all-reduce CSV"),
                    set.all_reduce, errors);
  if (!set.decode_attention_file.empty())
    load_decode_attention(set.decode_attention_file,
                          slurp(set.decode_attention_file, "measured decode-attention JSON"),
                          set.decode_attention, errors);
  if (!errors.empty()) throw InputError(errors);
  return set;
}

}  // namespace jevons
