// Parser of the scenario's `simulation:` section. Schema: docs/simulator.md.
#include "jevons/core/simulation_spec.h"

#include <algorithm>
#include <filesystem>

#include "sections.h"

namespace jevons {

std::string to_string(RouterKind k) {
  switch (k) {
    case RouterKind::kRoundRobin:
      return "round-robin";
    case RouterKind::kLeastOutstanding:
      return "least-outstanding";
    case RouterKind::kLeastKv:
      return "least-kv";
    case RouterKind::kPowerOfTwo:
      return "power-of-two";
    case RouterKind::kPrefixAffinity:
      return "prefix-affinity";
  }
  return "?";
}

std::string to_string(AdmissionPolicy a) {
  return a == AdmissionPolicy::kReserve ? "reserve" : "optimistic";
}

namespace detail {
namespace {

constexpr double kMaxSeconds = 1e8;  // ~3 years of simulated time
constexpr double kMaxTokens = 1e8;

std::int64_t to_ns(double seconds) {
  return static_cast<std::int64_t>(seconds * 1e9 + 0.5);
}
std::int64_t ms_to_ns(double ms) {
  return static_cast<std::int64_t>(ms * 1e6 + 0.5);
}

std::string resolve(const std::string& scenario_path, const std::string& p) {
  namespace fs = std::filesystem;
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return p;
  fs::path base = fs::path(scenario_path).parent_path();
  return (base / path).lexically_normal().string();
}

std::vector<std::string> string_list(yaml::MapReader& r, const std::string& key) {
  std::vector<std::string> out;
  YAML::Node n = r.child(key);
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) {
    r.context().error(n, r.path_of(key), yaml::describe(n), "expected a list of names");
    return out;
  }
  for (const auto& e : n) {
    if (!e.IsScalar()) {
      r.context().error(e, r.path_of(key), yaml::describe(e), "expected a name");
      continue;
    }
    out.push_back(e.as<std::string>());
  }
  return out;
}

void check_pools(yaml::MapReader& r, const std::string& key, const std::vector<std::string>& names,
                 const Scenario& scenario) {
  std::vector<std::string> known;
  for (const auto& p : scenario.pools) known.push_back(p.name);
  for (const auto& n : names) {
    bool found = false;
    for (const auto& k : known) found = found || k == n;
    if (!found) {
      r.context().error(r.child(key), r.path_of(key), n, "expected the name of a pool",
                        closest_match(n, known).empty()
                            ? std::string{}
                            : "did you mean '" + closest_match(n, known) + "'?");
    }
  }
}

}  // namespace

SloSpec parse_slo(yaml::MapReader& parent) {
  SloSpec slo;
  if (!parent.has("slo")) return slo;
  yaml::MapReader r(parent.context(), parent.child("slo"), parent.path_of("slo"));
  // The same keys wherever an SLO stands (simulation classes, trace, planner classes).
  slo.ttft_ns = ms_to_ns(r.number_or(schema::keys::kSloTtftMs));
  slo.tpot_ns = ms_to_ns(r.number_or(schema::keys::kSloTpotMs));
  r.finish();
  return slo;
}

LengthDistSpec parse_length(yaml::MapReader& parent, const std::string& key, double fallback) {
  LengthDistSpec d;
  d.value = fallback;
  d.mean = fallback;
  YAML::Node node = parent.child(key);
  if (!node.IsDefined() || node.IsNull()) return d;
  if (node.IsScalar()) {  // `input_tokens: 512` is shorthand for a fixed length
    auto v = yaml::MapReader::to_number(parent.context(), node, parent.path_of(key),
                                        yaml::positive(kMaxTokens));
    if (v) d.value = *v;
    return d;
  }
  yaml::MapReader r(parent.context(), node, parent.path_of(key));
  const std::string kind =
      r.choice_or("dist", "fixed", {"fixed", "lognormal", "exponential", "uniform", "empirical"});
  d.min_tokens = static_cast<std::uint64_t>(r.integer_or("min", 1, yaml::positive(kMaxTokens)));
  d.max_tokens =
      static_cast<std::uint64_t>(r.integer_or("max", 1 << 20, yaml::positive(kMaxTokens)));
  if (kind == "fixed") {
    d.kind = LengthDistSpec::Kind::kFixed;
    d.value = r.number_or("value", fallback, yaml::positive(kMaxTokens));
  } else if (kind == "lognormal") {
    d.kind = LengthDistSpec::Kind::kLognormal;
    d.mean = r.number_or("mean", fallback, yaml::positive(kMaxTokens));
    d.cv = r.number_or("cv", 1.0, yaml::positive(100));
  } else if (kind == "exponential") {
    d.kind = LengthDistSpec::Kind::kExponential;
    d.mean = r.number_or("mean", fallback, yaml::positive(kMaxTokens));
  } else if (kind == "uniform") {
    d.kind = LengthDistSpec::Kind::kUniform;
  } else {
    d.kind = LengthDistSpec::Kind::kEmpirical;
    YAML::Node vals = r.child("values", true);
    if (vals.IsDefined() && vals.IsSequence()) {
      for (const auto& v : vals) {
        auto x = yaml::MapReader::to_number(r.context(), v, r.path_of("values"),
                                            yaml::positive(kMaxTokens));
        if (x) d.values.push_back(static_cast<std::uint64_t>(*x));
      }
    }
    if (d.values.empty()) {
      r.context().error(vals, r.path_of("values"), yaml::describe(vals),
                        "expected a non-empty list of token counts");
    }
  }
  if (d.min_tokens > d.max_tokens) {
    r.context().error(node, r.path_of("min"), std::to_string(d.min_tokens),
                      "expected min ≤ max (" + std::to_string(d.max_tokens) + ")");
  }
  r.finish();
  return d;
}

namespace {

ArrivalSpec parse_arrival(yaml::MapReader& parent) {
  ArrivalSpec a;
  yaml::MapReader r(parent.context(), parent.child("arrival", true), parent.path_of("arrival"));
  const std::string p = r.choice_or("process", "poisson", {"poisson", "gamma"});
  a.process = p == "gamma" ? ArrivalSpec::Process::kGamma : ArrivalSpec::Process::kPoisson;
  a.rate_per_s = r.number_or("rate_per_s", 1, yaml::non_negative(1e9));
  a.cv = r.number_or("cv", 1, yaml::positive(100));
  a.offline_requests =
      static_cast<std::uint64_t>(r.integer_or("offline_requests", 0, yaml::non_negative(1e8)));
  a.concurrency =
      static_cast<std::uint32_t>(r.integer_or("concurrency", 0, yaml::non_negative(1e7)));
  a.closed_loop_requests =
      static_cast<std::uint64_t>(r.integer_or("requests", 0, yaml::positive(1e9)));
  if (a.concurrency > 0 && a.offline_requests > 0) {
    r.context().error(r.child("concurrency"), r.path_of("concurrency"),
                      yaml::describe(r.child("concurrency")),
                      "expected either offline_requests (all at t = 0) or concurrency (closed "
                      "loop), not both");
  }
  if (a.concurrency > 0 && a.closed_loop_requests == 0) {
    r.context().error(r.child("concurrency"), r.path_of("requests"), "",
                      "expected `requests` (how many requests the clients issue in all, "
                      "benchmark_serving's --num-prompts) with `concurrency`");
  }
  if (r.has("requests") && a.concurrency == 0) {
    r.context().error(r.child("requests"), r.path_of("requests"),
                      yaml::describe(r.child("requests")),
                      "expected `requests` only with `concurrency` (a closed loop's total)",
                      "use offline_requests for requests all at t = 0");
  }
  if (a.process == ArrivalSpec::Process::kPoisson && r.has("cv") && a.cv != 1) {
    r.context().error(r.child("cv"), r.path_of("cv"), yaml::describe(r.child("cv")),
                      "a Poisson process has cv = 1", "use process: gamma for other cv values");
  }
  a.start_hour = r.number_or("start_hour", 0, yaml::between(0, 24));
  a.start_weekday = static_cast<int>(r.integer_or("start_weekday", 0, yaml::between(0, 6)));
  if (r.has("diurnal")) {
    yaml::MapReader d(r.context(), r.child("diurnal"), r.path_of("diurnal"));
    a.diurnal = true;
    a.peak_hour = d.number_or("peak_hour", 14, yaml::between(0, 24));
    a.peak_to_trough = d.number_or("peak_to_trough", 2, yaml::between(1, 1e6));
    d.finish();
  }
  YAML::Node weekly = r.child("weekly");
  if (weekly.IsDefined() && !weekly.IsNull()) {
    if (!weekly.IsSequence() || weekly.size() != 7) {
      r.context().error(weekly, r.path_of("weekly"), yaml::describe(weekly),
                        "expected 7 multipliers, Monday first");
    } else {
      for (const auto& v : weekly) {
        auto x = yaml::MapReader::to_number(r.context(), v, r.path_of("weekly"),
                                            yaml::non_negative(1e6));
        a.weekly.push_back(x.value_or(1));
      }
    }
  }
  YAML::Node spikes = r.child("spikes");
  if (spikes.IsDefined() && !spikes.IsNull()) {
    if (!spikes.IsSequence()) {
      r.context().error(spikes, r.path_of("spikes"), yaml::describe(spikes), "expected a list");
    } else {
      std::size_t i = 0;
      for (const auto& s : spikes) {
        yaml::MapReader sr(r.context(), s, r.path_of("spikes") + "[" + std::to_string(i++) + "]");
        SpikeSpec sp;
        sp.start_ns = to_ns(sr.number_or("start_s", 0, yaml::non_negative(kMaxSeconds)));
        sp.duration_ns = to_ns(sr.number_or("duration_s", 60, yaml::positive(kMaxSeconds)));
        sp.multiplier = sr.number_or("multiplier", 2, yaml::non_negative(1e6));
        sr.finish();
        a.spikes.push_back(sp);
      }
    }
  }
  r.finish();
  return a;
}

void parse_classes(yaml::MapReader& wl, const Scenario& scenario, SimulationSpec& out) {
  YAML::Node list = wl.child("classes");
  if (!list.IsSequence() || list.size() == 0) {
    wl.context().error(list, wl.path_of("classes"), yaml::describe(list),
                       "expected a non-empty list of request classes");
    return;
  }
  std::size_t i = 0;
  for (const auto& node : list) {
    const std::string path = wl.path_of("classes") + "[" + std::to_string(i) + "]";
    yaml::MapReader r(wl.context(), node, path);
    RequestClassSpec c;
    c.line = node.Mark().line + 1;
    c.name = r.string_or("name", "class" + std::to_string(i));
    c.arrival = parse_arrival(r);
    c.input_tokens = parse_length(r, "input_tokens", 1024);
    c.output_tokens = parse_length(r, "output_tokens", 256);
    c.ignore_eos = r.boolean_or("ignore_eos", true);
    if (r.has("eos_output_tokens")) {
      c.eos_output_tokens = parse_length(r, "eos_output_tokens", 256);
      if (c.ignore_eos) {
        r.context().error(r.child("eos_output_tokens"), r.path_of("eos_output_tokens"),
                          yaml::describe(r.child("eos_output_tokens")),
                          "expected eos_output_tokens only with ignore_eos: false");
      }
    } else if (!c.ignore_eos) {
      r.context().error(r.child("ignore_eos"), r.path_of("ignore_eos"), "false",
                        "expected eos_output_tokens (where the model would stop) with ignore_eos: "
                        "false");
    }
    if (r.has("lengths_from_trace")) {
      yaml::MapReader t(r.context(), r.child("lengths_from_trace"),
                        r.path_of("lengths_from_trace"));
      auto p = t.string("path", true);
      if (p) {
        c.lengths_trace_path = resolve(scenario.path, *p);
        c.lengths_trace_line = t.child("path").Mark().line + 1;
      }
      c.lengths_trace_format = t.choice_or("format", "azure", {"azure", "mooncake", "csv"});
      t.finish();
    }
    c.slo = parse_slo(r);
    c.pools = string_list(r, "pools");
    check_pools(r, "pools", c.pools, scenario);
    c.prefix_groups =
        static_cast<std::uint32_t>(r.integer_or("prefix_groups", 0, yaml::non_negative(1e7)));
    c.prefix_tokens = static_cast<std::uint64_t>(
        r.integer_or("prefix_tokens", 0, yaml::non_negative(kMaxTokens)));
    r.finish();
    for (const auto& prev : out.classes) {
      if (prev.name == c.name) {
        wl.context().error(node, path + ".name", c.name, "expected a unique class name");
      }
    }
    out.classes.push_back(std::move(c));
    ++i;
  }
}

void parse_trace(yaml::MapReader& wl, const Scenario& scenario, SimulationSpec& out) {
  yaml::MapReader r(wl.context(), wl.child("trace"), wl.path_of("trace"));
  out.has_trace = true;
  TraceSpec& t = out.trace;
  auto p = r.string("path", true);
  if (p) {
    t.path = *p;
    t.resolved_path = resolve(scenario.path, *p);
    t.path_line = r.child("path").Mark().line + 1;
  }
  t.format = r.choice_or("format", "azure", {"azure", "mooncake", "csv"});
  t.time_scale = r.number_or("time_scale", 1, yaml::positive(1e6));
  t.rate_scale = r.number_or("rate_scale", 1, yaml::non_negative(1e4));
  t.malformed = r.choice_or("malformed", "error", {"error", "skip"}) == "skip"
                    ? MalformedPolicy::kSkip
                    : MalformedPolicy::kError;
  t.hash_block_tokens =
      static_cast<std::uint64_t>(r.integer_or("hash_block_tokens", 512, yaml::positive(1 << 20)));
  t.class_name = r.string_or("class_name", "trace");
  t.slo = parse_slo(r);
  t.pools = string_list(r, "pools");
  check_pools(r, "pools", t.pools, scenario);
  r.finish();
}

}  // namespace

BatchingSpec parse_batching(yaml::MapReader& b, const BatchingSpec& base) {
  BatchingSpec bs = base;
  bs.max_num_seqs = static_cast<std::uint32_t>(
      b.integer_or("max_num_seqs", base.max_num_seqs, yaml::positive(1 << 20)));
  bs.max_batched_tokens = static_cast<std::uint32_t>(
      b.integer_or("max_batched_tokens", base.max_batched_tokens, yaml::positive(1 << 24)));
  bs.chunked_prefill = b.boolean_or("chunked_prefill", base.chunked_prefill);
  bs.watermark = b.number_or("watermark", base.watermark, yaml::between(0, 0.5));
  bs.admission =
      b.choice_or("admission", to_string(base.admission), {"optimistic", "reserve"}) == "reserve"
          ? AdmissionPolicy::kReserve
          : AdmissionPolicy::kOptimistic;
  return bs;
}

void parse_simulation(yaml::MapReader& section, const Catalog& /*catalog*/,
                      const Scenario& scenario, SimulationSpec& out) {
  auto& ctx = section.context();
  const double duration_s = section.number_or("duration_s", 3600, yaml::positive(kMaxSeconds));
  out.duration_ns = to_ns(duration_s);
  out.warmup_ns = to_ns(section.number_or("warmup_s", 0, yaml::non_negative(kMaxSeconds)));
  if (out.warmup_ns >= out.duration_ns) {
    ctx.error(section.child("warmup_s"), section.path_of("warmup_s"),
              yaml::describe(section.child("warmup_s")), "expected warmup_s < duration_s");
  }
  out.drain = section.boolean_or("drain", true);
  out.max_drain_ns = to_ns(section.number_or("max_drain_s", 3600, yaml::non_negative(kMaxSeconds)));
  out.seed_offset =
      static_cast<std::uint64_t>(section.integer_or("seed_offset", 0, yaml::non_negative(1e15)));
  out.kv_format = section.string_or("kv_format", "");
  if (!out.kv_format.empty()) {
    bool listed = false;
    for (const auto& f : scenario.kv_formats) listed = listed || f.name() == out.kv_format;
    for (const auto& pool : scenario.pools) {
      for (const auto& f : pool.kv_formats) listed = listed || f.name() == out.kv_format;
    }
    if (!listed) {
      ctx.error(section.child("kv_format"), section.path_of("kv_format"), out.kv_format,
                "expected a KV format listed by a pool (or the scenario's kv_formats)");
    }
  }

  // Workload: either synthetic classes or a trace.
  {
    yaml::MapReader wl(ctx, section.child("workload", true), section.path_of("workload"));
    const bool has_classes = wl.has("classes");
    const bool has_trace = wl.has("trace");
    if (has_classes && has_trace) {
      ctx.error(wl.node(), section.path_of("workload"), "",
                "expected either `classes` or `trace`, not both");
    } else if (has_trace) {
      parse_trace(wl, scenario, out);
    } else if (has_classes) {
      parse_classes(wl, scenario, out);
    } else if (wl.valid()) {
      ctx.error(wl.node(), section.path_of("workload"), "",
                "expected `classes` (synthetic workload) or `trace` (replay)");
    }
    wl.finish();
  }

  if (section.has("batching")) {
    yaml::MapReader b(ctx, section.child("batching"), section.path_of("batching"));
    out.batching = parse_batching(b, BatchingSpec{});
    b.finish();
  }
  // Per-pool engine settings: a key a pool leaves out keeps `batching`'s value.
  if (section.has("pool_engines")) {
    YAML::Node pe = section.child("pool_engines");
    if (!pe.IsMap()) {
      ctx.error(pe, section.path_of("pool_engines"), yaml::describe(pe),
                "expected a mapping of pool name to engine settings");
    } else {
      std::vector<std::string> known;
      for (const auto& p : scenario.pools) known.push_back(p.name);
      for (const auto& kv : pe) {
        const std::string name = kv.first.as<std::string>();
        const std::string path = section.path_of("pool_engines") + "." + name;
        if (std::find(known.begin(), known.end(), name) == known.end()) {
          const std::string near = closest_match(name, known);
          ctx.error(kv.first, path, name, "expected the name of a pool",
                    near.empty() ? std::string{} : "did you mean '" + near + "'?");
          continue;
        }
        yaml::MapReader b(ctx, kv.second, path);
        out.pool_engines.emplace_back(name, parse_batching(b, out.batching));
        b.finish();
      }
    }
  }
  out.preemption = section.choice_or("preemption", "recompute", {"recompute", "swap"}) == "swap"
                       ? PreemptionMode::kSwap
                       : PreemptionMode::kRecompute;
  out.over_context =
      section.choice_or("over_context", "reject", {"reject", "truncate"}) == "truncate"
          ? SimulationSpec::OverContext::kTruncate
          : SimulationSpec::OverContext::kReject;
  if (section.has("prefix_cache")) {
    yaml::MapReader p(ctx, section.child("prefix_cache"), section.path_of("prefix_cache"));
    out.prefix_cache.enabled = p.boolean_or("enabled", true);
    out.prefix_cache.host_tier_gib_per_gpu =
        p.number_or("host_tier_gib_per_gpu", 0, yaml::non_negative(1e6));
    p.finish();
  }
  if (section.has("disaggregation")) {
    yaml::MapReader d(ctx, section.child("disaggregation"), section.path_of("disaggregation"));
    auto& ds = out.disaggregation;
    ds.enabled = d.boolean_or("enabled", true);
    ds.prefill_pools = string_list(d, "prefill_pools");
    ds.decode_pools = string_list(d, "decode_pools");
    check_pools(d, "prefill_pools", ds.prefill_pools, scenario);
    check_pools(d, "decode_pools", ds.decode_pools, scenario);
    ds.link = d.choice_or("link", "network", {"network", "scaleup"}) == "scaleup"
                  ? DisaggregationSpec::Link::kScaleup
                  : DisaggregationSpec::Link::kNetwork;
    ds.network_gbps = d.number_or("network_gbps", 50, yaml::positive(1e5));
    if (ds.enabled && (ds.prefill_pools.empty() || ds.decode_pools.empty())) {
      ctx.error(d.node(), section.path_of("disaggregation"), "",
                "expected non-empty prefill_pools and decode_pools");
    }
    for (const auto& a : ds.prefill_pools) {
      for (const auto& b : ds.decode_pools) {
        if (a == b) {
          ctx.error(d.node(), section.path_of("disaggregation"), a,
                    "expected a pool to be either a prefill or a decode pool, not both");
        }
      }
    }
    d.finish();
  }
  {
    const std::string r = section.choice_or(
        "router", "least-outstanding",
        {"round-robin", "least-outstanding", "least-kv", "power-of-two", "prefix-affinity"});
    out.router = r == "round-robin"       ? RouterKind::kRoundRobin
                 : r == "least-kv"        ? RouterKind::kLeastKv
                 : r == "power-of-two"    ? RouterKind::kPowerOfTwo
                 : r == "prefix-affinity" ? RouterKind::kPrefixAffinity
                                          : RouterKind::kLeastOutstanding;
  }
  if (section.has("timing")) {
    yaml::MapReader t(ctx, section.child("timing"), section.path_of("timing"));
    out.timing.model = t.choice_or("model", "roofline", {"roofline", "constant"}) == "constant"
                           ? TimingSpec::Model::kConstant
                           : TimingSpec::Model::kRoofline;
    out.timing.constant_step_ns =
        ms_to_ns(t.number_or("constant_step_ms", 10, yaml::positive(1e7)));
    t.finish();
  }
  if (section.has("power")) {
    yaml::MapReader p(ctx, section.child("power"), section.path_of("power"));
    out.power.idle_fraction = p.number_or("idle_fraction", 0.107, yaml::between(0, 1));
    out.power.memory_bound_weight = p.number_or("memory_bound_weight", 0.49, yaml::between(0, 1));
    p.finish();
  }
  if (section.has("metrics")) {
    yaml::MapReader m(ctx, section.child("metrics"), section.path_of("metrics"));
    out.metrics.interval_ns = to_ns(m.number_or("interval_s", 10, yaml::positive(kMaxSeconds)));
    const std::string pr = m.choice_or("per_request", "off", {"off", "all", "sampled"});
    out.metrics.per_request = pr == "all"       ? MetricsSpec::PerRequest::kAll
                              : pr == "sampled" ? MetricsSpec::PerRequest::kSampled
                                                : MetricsSpec::PerRequest::kOff;
    out.metrics.sample_fraction = m.number_or("sample_fraction", 0.01, yaml::between(0, 1));
    m.finish();
  }
  section.finish();
}

}  // namespace detail
}  // namespace jevons
