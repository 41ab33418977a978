#include "jevons/core/published.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "jevons/core/error.h"
#include "sections.h"
#include "yaml_reader.h"

namespace jevons {

PublishedSuite load_published_suite(const std::string& path, const Catalog& catalog) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the published-results suite";
    throw InputError(d);
  }
  check_input_file_size(path, "published-results suite");
  std::ostringstream ss;
  ss << in.rdbuf();
  check_input_lines(path, ss.view(), "published-results suite");
  PublishedSuite suite;
  suite.path = path;
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(ss.str(), path);
  yaml::MapReader root(ctx, doc, "");
  std::set<std::string> sources;
  if (root.has("sources")) {
    YAML::Node s = root.child("sources");
    if (s.IsMap())
      for (auto it = s.begin(); it != s.end(); ++it) sources.insert(it->first.Scalar());
    else
      ctx.error(s, "sources", yaml::describe(s), "expected a map of source id → citation");
  }
  // Named workloads rows refer to (`workload: mlperf-llama2-70b`), so one definition serves
  // every round that used it.
  std::map<std::string, std::pair<LengthDistSpec, LengthDistSpec>> workloads;
  if (root.has("workloads")) {
    YAML::Node w = root.child("workloads");
    for (auto it = w.begin(); it != w.end(); ++it) {
      const std::string name = it->first.Scalar();
      yaml::MapReader r(ctx, it->second, "workloads." + name);
      r.child("note");
      auto in_d = detail::parse_length(r, "input_tokens", 128);
      auto out_d = detail::parse_length(r, "output_tokens", 128);
      r.finish();
      workloads[name] = {in_d, out_d};
    }
  }
  YAML::Node list = root.child("rows", true);
  root.child("what");
  root.finish();
  if (!list.IsSequence()) {
    ctx.error(list, "rows", yaml::describe(list), "expected a list of published results");
    ctx.throw_if_errors();
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    yaml::MapReader r(ctx, list[i], fmt::format("rows[{}]", i));
    PublishedRow row;
    row.line = list[i].Mark().line + 1;
    row.id = r.string("id", true).value_or("");
    if (!row.id.empty() && !ids.insert(row.id).second)
      ctx.error(r.child("id"), r.path_of("id"), row.id, "duplicate row id");
    row.split = r.choice_or("split", "fit", {"fit", "holdout"});
    row.source = r.string("source", true).value_or("");
    if (!sources.empty() && !sources.count(row.source)) {
      std::vector<std::string> v(sources.begin(), sources.end());
      const std::string c = closest_match(row.source, v);
      ctx.error(r.child("source"), r.path_of("source"), row.source,
                "unknown source id (define it under 'sources:')",
                c.empty() ? "" : "did you mean '" + c + "'?");
    }
    row.date = r.string_or("date", "");
    row.confidence = r.choice_or("confidence", "V", {"V", "S", "U"});
    row.system = r.string_or("system", "");
    row.gpu_id = r.string("gpu", true).value_or("");
    if (!row.gpu_id.empty() && !catalog.find_gpu(row.gpu_id)) {
      const std::string c = closest_match(row.gpu_id, catalog.gpu_ids());
      ctx.error(r.child("gpu"), r.path_of("gpu"), row.gpu_id,
                "unknown GPU (see jevons catalog gpus)",
                c.empty() ? "" : "did you mean '" + c + "'?");
    }
    row.system_gpus = static_cast<std::uint32_t>(r.integer_or("gpus", 1, yaml::positive(1 << 20)));
    row.model_id = r.string("model", true).value_or("");
    if (!row.model_id.empty() && !catalog.find_model(row.model_id)) {
      const std::string c = closest_match(row.model_id, catalog.model_ids());
      ctx.error(r.child("model"), r.path_of("model"), row.model_id,
                "unknown model (see jevons catalog models)",
                c.empty() ? "" : "did you mean '" + c + "'?");
    }
    const std::string w = r.choice_or("weights", "bf16", {"bf16", "fp16", "fp8", "fp4", "mxfp4"});
    row.weights = parse_weight_precision(w == "fp16" ? "bf16" : w);
    row.kv_format = r.string_or("kv", "bf16");
    {
      const auto& names = KvFormat::names();
      if (std::find(names.begin(), names.end(), row.kv_format) == names.end())
        ctx.error(r.child("kv"), r.path_of("kv"), row.kv_format, "unknown KV format");
    }
    row.tensor_parallel =
        static_cast<std::uint32_t>(r.integer_or("tensor_parallel", 1, yaml::positive(64)));
    row.parallel = detail::parse_parallel(r);
    if (const ModelSpec* m = catalog.find_model(row.model_id))
      detail::check_parallel(ctx, list[i], fmt::format("rows[{}]", i), *m, row.parallel,
                             row.tensor_parallel);
    row.scenario =
        r.choice_or("scenario", "offline", {"offline", "server", "static", "closed_loop"});
    row.family = r.string_or("family", "");
    if (r.has("workload")) {
      const std::string name = r.string_or("workload", "");
      if (auto it = workloads.find(name); it != workloads.end()) {
        row.input_tokens = it->second.first;
        row.output_tokens = it->second.second;
      } else {
        ctx.error(r.child("workload"), r.path_of("workload"), name,
                  "unknown workload (define it under 'workloads:')");
      }
    } else {
      row.input_tokens = detail::parse_length(r, "input_tokens", 128);
      row.output_tokens = detail::parse_length(r, "output_tokens", 128);
    }
    row.requests = static_cast<std::uint64_t>(r.integer_or("requests", 0, yaml::non_negative(1e7)));
    if (row.scenario != "server" && row.requests == 0)
      ctx.error(list[i], r.path_of("requests"), "",
                "offline, static and closed_loop rows need `requests` (per simulated replica)");
    row.concurrency =
        static_cast<std::uint32_t>(r.integer_or("concurrency", 0, yaml::non_negative(1e6)));
    if (row.scenario == "closed_loop" && row.concurrency == 0)
      ctx.error(list[i], r.path_of("concurrency"), "",
                "closed_loop rows need `concurrency` (clients per simulated replica, "
                "benchmark_serving's --max-concurrency)");
    if (row.scenario != "closed_loop" && r.has("concurrency"))
      ctx.error(r.child("concurrency"), r.path_of("concurrency"),
                yaml::describe(r.child("concurrency")),
                "expected `concurrency` only on closed_loop rows");
    if (r.has("p99")) {
      yaml::MapReader p(ctx, r.child("p99"), r.path_of("p99"));
      row.server_p99.ttft_ns =
          static_cast<std::int64_t>(p.number_or("ttft_ms", 0, yaml::non_negative(1e7)) * 1e6);
      row.server_p99.tpot_ns =
          static_cast<std::int64_t>(p.number_or("tpot_ms", 0, yaml::non_negative(1e7)) * 1e6);
      p.finish();
    } else if (row.scenario == "server") {
      ctx.error(list[i], r.path_of("p99"), "", "server rows need p99: {ttft_ms, tpot_ms}");
    }
    if (r.has("engine")) {
      yaml::MapReader e(ctx, r.child("engine"), r.path_of("engine"));
      // The scenario's engine keys; `admission: reserve` is TensorRT-LLM's GUARANTEED_NO_EVICT.
      row.batching = detail::parse_batching(e, row.batching);
      e.child("note");
      e.finish();
    }
    row.published_tok_s_per_gpu = r.number("tok_s_per_gpu", yaml::positive(1e9), true).value_or(0);
    row.note = r.string_or("note", "");
    r.finish();
    suite.rows.push_back(row);
  }
  ctx.throw_if_errors();
  return suite;
}

}  // namespace jevons
