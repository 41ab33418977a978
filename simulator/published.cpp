#include "jevons/simulator/published.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <unsupported/Eigen/NonLinearOptimization>
#include <unsupported/Eigen/NumericalDiff>

#include "jevons/core/error.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/simulator/rate_search.h"
#include "jevons/simulator/simulate.h"
#include "timing/latency_model.h"

namespace jevons {

namespace {

std::uint64_t row_seed(const std::string& id) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: a fixed seed per row, whatever its order
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h & 0xFFFFFFFFFFFFull;
}

Scenario row_scenario(const PublishedRow& row) {
  Scenario sc;
  sc.name = "published-" + row.id;
  sc.seed = row_seed(row.id);
  PoolSpec pool;
  pool.name = "replica";
  pool.gpu_id = row.gpu_id;
  pool.model_id = row.model_id;
  pool.gpus = row.gpus_per_replica();
  pool.tensor_parallel = row.tensor_parallel;
  pool.parallel = row.parallel;
  pool.weights = row.weights;
  pool.kv_formats = {KvConfig::parse(row.kv_format)};
  sc.pools.push_back(pool);
  SimulationSpec sim;
  sim.batching = row.batching;
  sim.kv_format = row.kv_format;
  sim.metrics.interval_ns = 3600'000'000'000;
  RequestClassSpec c;
  c.name = row.id;
  c.input_tokens = row.input_tokens;
  c.output_tokens = row.output_tokens;
  sim.classes.push_back(c);
  sc.simulation = sim;
  return sc;
}

struct RunResult {
  double tok_s_per_gpu = 0;
  bool ok = false;  ///< server: the p99 limits held
  std::string latency_source, kv_source;
  PoolMetrics pool;
  GroupMetrics group;
};

// Offline/static: every request at t = 0, throughput to the last completion.
RunResult run_offline(const PublishedRow& row, const Catalog& catalog, std::uint64_t requests) {
  Scenario sc = row_scenario(row);
  auto& sim = *sc.simulation;
  sim.classes[0].arrival.offline_requests = requests;
  sim.duration_ns = 1'000'000;  // arrivals all at t = 0; the drain runs the batch to completion
  sim.warmup_ns = 0;
  sim.drain = true;
  sim.max_drain_ns = 400LL * 24 * 3600 * 1'000'000'000LL;
  const SimulationReport r = simulate(sc, catalog, std::nullopt);
  RunResult out;
  out.latency_source = r.pools.at(0).latency_source;
  out.kv_source = r.pools.at(0).kv_speed_source;
  out.pool = r.pools.at(0);
  out.group = r.groups.at(0);
  out.tok_s_per_gpu = r.groups.at(0).throughput_tokens_per_s / row.gpus_per_replica();
  out.ok = r.groups.at(0).finished == requests;
  return out;
}

// Closed loop (benchmark_serving --max-concurrency): `concurrency` clients, `requests` in all,
// lengths drawn as the row gives them (ignore_eos), throughput to the last completion.
RunResult run_closed_loop(const PublishedRow& row, const Catalog& catalog) {
  Scenario sc = row_scenario(row);
  auto& sim = *sc.simulation;
  sim.classes[0].arrival.concurrency = row.concurrency;
  sim.classes[0].arrival.closed_loop_requests = row.requests;
  // Clients stop at the end of the arrivals window: make it longer than any run can be.
  sim.duration_ns = 400LL * 24 * 3600 * 1'000'000'000LL;
  sim.warmup_ns = 0;
  sim.drain = true;
  sim.max_drain_ns = 0;
  const SimulationReport r = simulate(sc, catalog, std::nullopt);
  RunResult out;
  out.latency_source = r.pools.at(0).latency_source;
  out.kv_source = r.pools.at(0).kv_speed_source;
  out.pool = r.pools.at(0);
  out.group = r.groups.at(0);
  out.tok_s_per_gpu = r.groups.at(0).throughput_tokens_per_s / row.gpus_per_replica();
  out.ok = r.groups.at(0).finished == row.requests;
  return out;
}

double mean_of(const LengthDistSpec& d) {
  switch (d.kind) {
    case LengthDistSpec::Kind::kFixed:
      return d.value;
    case LengthDistSpec::Kind::kUniform:
      return 0.5 * static_cast<double>(d.min_tokens + d.max_tokens);
    default:
      return d.mean;
  }
}

}  // namespace

PublishedOutcome run_published_row(const PublishedRow& row, const Catalog& catalog,
                                   const PublishedRunOptions& options) {
  PublishedOutcome o;
  o.id = row.id;
  o.published = row.published_tok_s_per_gpu;
  RunResult r;
  if (row.scenario == "server") {
    // The highest Poisson rate that meets the limits in steady state (search_max_rate): bisect
    // under the offline capacity, each probe a `server_duration_s` run whose first tenth is
    // warm-up and whose drain may run four times as long.
    const RunResult cap = run_offline(row, catalog, 4096);
    const double cap_rate = cap.tok_s_per_gpu * row.gpus_per_replica() / mean_of(row.output_tokens);
    Scenario sc = row_scenario(row);
    auto& sim = *sc.simulation;
    sim.duration_ns = static_cast<std::int64_t>(options.server_duration_s * 1e9);
    sim.warmup_ns = sim.duration_ns / 10;
    sim.drain = true;
    sim.max_drain_ns = sim.duration_ns * 4;
    RateSearchOptions search;
    search.p99_ttft_ms = static_cast<double>(row.server_p99.ttft_ns) * 1e-6;
    search.p99_tpot_ms = static_cast<double>(row.server_p99.tpot_ns) * 1e-6;
    search.upper_rate_per_s = cap_rate * 1.05;
    search.bisections = options.server_bisections;
    const RateSearchResult found = search_max_rate(sc, catalog, search);
    if (found.best) {
      r.tok_s_per_gpu = found.best->groups.at(0).throughput_tokens_per_s / row.gpus_per_replica();
      r.latency_source = found.best->pools.at(0).latency_source;
      r.kv_source = found.best->pools.at(0).kv_speed_source;
      r.pool = found.best->pools.at(0);
      r.group = found.best->groups.at(0);
      r.ok = true;
    } else {
      r = cap, r.tok_s_per_gpu = 0;
    }
    o.server_rate_per_s = found.rate_per_s;
  } else if (row.scenario == "closed_loop") {
    r = run_closed_loop(row, catalog);
  } else {
    r = run_offline(row, catalog, row.requests);
  }
  o.simulated = r.tok_s_per_gpu;
  o.error = (o.simulated - o.published) / o.published;
  o.latency_source = r.latency_source;
  o.kv_speed_source = r.kv_source;
  o.mean_batch_sequences = r.pool.mean_batch_sequences;
  o.kv_capacity_gb_per_gpu = static_cast<double>(r.pool.kv_capacity_bytes_per_gpu) * 1e-9;
  o.mean_kv_occupancy = r.pool.mean_kv_occupancy;
  o.mean_step_ms = r.pool.steps > 0 ? static_cast<double>(r.pool.busy_ns) /
                                          static_cast<double>(r.pool.steps) * 1e-6
                                    : 0.0;
  o.preemptions = r.pool.preemptions;
  o.ttft_p99_ms = r.group.ttft.p99_ns * 1e-6;
  o.tpot_p50_ms = r.group.tpot.p50_ns * 1e-6;
  o.tpot_p99_ms = r.group.tpot.p99_ns * 1e-6;
  return o;
}

PublishedSteps load_published_steps(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  auto fail = [&](const std::string& key, const std::string& msg) {
    Diagnostic d;
    d.file = path;
    d.key = key;
    d.message = msg;
    throw InputError(d);
  };
  if (!in) fail("", "cannot open the published step times");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    fail("", std::string("not valid JSON: ") + e.what());
  }
  PublishedSteps s;
  if (!j.contains("rows") || !j["rows"].is_array()) fail("rows", "expected a list of steps");
  std::size_t i = 0;
  for (const auto& r : j["rows"]) {
    const std::string key = fmt::format("rows[{}]", i++);
    PublishedStep p;
    try {
      p.phase = r.at("phase").get<std::string>();
      p.batch = r.at("batch").get<std::uint32_t>();
      if (p.phase == "decode") {
        p.context_tokens = r.at("context").get<std::uint64_t>();
        p.measured_ms = r.at("graph_ms").get<double>();
      } else if (p.phase == "prefill") {
        p.context_tokens = r.at("tokens").get<std::uint64_t>();
        p.measured_ms = r.at("eager_ms").get<double>();
      } else {
        fail(key + ".phase", "expected decode or prefill, got '" + p.phase + "'");
      }
    } catch (const nlohmann::json::exception& e) {
      fail(key,
           std::string("expected phase, batch, context/tokens and graph_ms/eager_ms: ") + e.what());
    }
    if (!(p.measured_ms > 0) || p.batch == 0 || p.context_tokens == 0)
      fail(key, "expected a positive time, batch and token count");
    s.steps.push_back(p);
  }
  return s;
}

std::vector<double> predict_published_steps(const PublishedSteps& s, const Catalog& catalog) {
  const GpuSpec& gpu = catalog.gpu(s.gpu_id);
  const ModelSpec& model = catalog.model(s.model_id);
  const KvFootprint kv(model, KvConfig::parse("bf16"), 1);
  std::uint32_t max_tokens = 1;
  for (const auto& p : s.steps) max_tokens = std::max<std::uint32_t>(max_tokens, p.batch);
  const sim::LatencyModel lm(gpu, model, kv, WeightPrecision::kBf16, 1, AnalyticalParams{},
                             TimingSpec{}, PowerSpec{}, std::nullopt, nullptr, max_tokens + 16384,
                             nullptr, &catalog.latency());
  std::vector<double> out;
  for (const auto& p : s.steps) {
    StepPoint sp;
    sp.phase = p.phase;
    sp.batch = p.batch;
    if (p.phase == "decode") {
      sp.tokens = p.batch;
      sp.context_tokens = p.context_tokens;
    } else {
      sp.tokens = p.context_tokens * p.batch;
      sp.context_tokens = p.context_tokens;
    }
    sim::StepShape shape = lm.shape_of(sp);
    if (p.phase == "decode") {
      // The measured step attends `context` tokens per sequence (its kv_bytes), the new one
      // included.
      shape.decode_kv_tokens = std::uint64_t{p.batch} * p.context_tokens;
    }
    out.push_back(static_cast<double>(lm.step(shape).time_ns) * 1e-6);
  }
  return out;
}

namespace {

// Levenberg–Marquardt on log residuals with a forward-difference Jacobian of relative step
// 1e-3: simulated throughput is a sum of integer-nanosecond step times, so the default
// machine-precision step would see rounding, not slope.
struct LogFunctor {
  using Scalar = double;
  enum { InputsAtCompileTime = Eigen::Dynamic, ValuesAtCompileTime = Eigen::Dynamic };
  using InputType = Eigen::VectorXd;
  using ValueType = Eigen::VectorXd;
  using JacobianType = Eigen::MatrixXd;
  int n = 0, m = 0;
  std::function<void(const Eigen::VectorXd&, Eigen::VectorXd&)> f;
  int inputs() const { return n; }
  int values() const { return m; }
  int operator()(const Eigen::VectorXd& x, Eigen::VectorXd& v) const {
    f(x, v);
    return 0;
  }
};

Eigen::VectorXd lm_fit(Eigen::VectorXd x, int values,
                       const std::function<void(const Eigen::VectorXd&, Eigen::VectorXd&)>& f) {
  LogFunctor fn;
  fn.n = static_cast<int>(x.size());
  fn.m = std::max(values, fn.n);  // Eigen's LM needs m ≥ n: pad with zero residuals
  fn.f = [&, values](const Eigen::VectorXd& p, Eigen::VectorXd& v) {
    v.setZero();
    Eigen::VectorXd r(values);
    f(p, r);
    v.head(values) = r;
  };
  Eigen::NumericalDiff<LogFunctor> nd(fn, 1e-6);
  Eigen::LevenbergMarquardt<Eigen::NumericalDiff<LogFunctor>> lm(nd);
  lm.parameters.maxfev = 200;
  lm.parameters.xtol = 1e-6;
  lm.parameters.ftol = 1e-8;
  lm.minimize(x);
  return x;
}

// Efficiencies are fitted in log space and kept inside (0.02, 1.2]: a fit that wants more than
// the catalog's peak is reported by its value, not silently capped below 1.
double eff_of(double log_value) {
  return std::clamp(std::exp(log_value), 0.02, 1.2);
}

}  // namespace

LatencyCalibration fit_published(const PublishedSuite& suite, const PublishedSteps& steps,
                                 const Catalog& catalog, std::ostream& log,
                                 const std::string& exclude_gpu) {
  Catalog work = catalog;
  LatencyCalibration& cal = work.latency();
  if (cal.empty())
    throw InputError(Diagnostic{"", 0, 0, "latency-model.yaml", "",
                                "the data directory has no latency-model.yaml to fit", ""});
  // Every fitted figure is refitted from scratch: GPU entries and the projected defaults go (a
  // left-out GPU must not keep a default its own rows produced); sourced figures stay.
  cal.gpus().clear();
  cal.defaults().gemm_efficiency.clear();
  // The MoE figures marked `fitted` restart from fixed values (the fit must not depend on the
  // file's previous figures); the others (a source or `assumption`) are held.
  if (cal.defaults().moe_gemm_efficiency && cal.defaults().moe_gemm_efficiency->source == "fitted")
    cal.defaults().moe_gemm_efficiency->value = 0.6;
  if (cal.defaults().moe_expert_us && cal.defaults().moe_expert_us->source == "fitted")
    cal.defaults().moe_expert_us->value = 5;
  if (cal.defaults().moe_permute_passes && cal.defaults().moe_permute_passes->source == "fitted")
    cal.defaults().moe_permute_passes->value = 4;
  if (cal.defaults().moe_dequant_efficiency &&
      cal.defaults().moe_dequant_efficiency->source == "fitted")
    cal.defaults().moe_dequant_efficiency->value = 1;
  if (cal.defaults().mla_layer_us && cal.defaults().mla_layer_us->source == "fitted")
    cal.defaults().mla_layer_us->value = 10;

  // Stage A: the measured H100 steps fix the per-layer cost and the H100's streaming and bf16
  // GEMM efficiency. Overhead per step and attention kernel cost stay as sourced/assumed: with
  // one model (one layer count) they are not separable from the per-layer cost.
  // GPUs whose rows cannot separate streaming from GEMM efficiency stream at the measured GPU's
  // share of peak (stage A), or at 0.85 when that GPU is left out: fixed before stage B, so the
  // fit never depends on the file's previous figures.
  cal.defaults().bandwidth_efficiency = LatencyFigure{0.85, "assumption"};
  // The GEMM ramp T½ joins stage A when the file marks it `fitted` (the steps span 1 to 8,192
  // tokens per step); a sourced figure is held.
  const bool fit_half =
      cal.defaults().gemm_half_tokens && cal.defaults().gemm_half_tokens->source == "fitted";
  if (exclude_gpu != steps.gpu_id) {
    Eigen::VectorXd x(fit_half ? 4 : 3);
    x[0] = std::log(30.0), x[1] = std::log(0.9), x[2] = std::log(0.6);
    if (fit_half) x[3] = std::log(50.0);
    auto apply = [&](const Eigen::VectorXd& p) {
      cal.defaults().layer_fixed_us = LatencyFigure{std::exp(p[0]), "fitted"};
      auto& g = cal.gpus()[steps.gpu_id];
      g.bandwidth_efficiency = LatencyFigure{eff_of(p[1]), "fitted"};
      g.gemm_efficiency["bf16"] = LatencyFigure{eff_of(p[2]), "fitted"};
      if (fit_half)
        cal.defaults().gemm_half_tokens =
            LatencyFigure{std::clamp(std::exp(p[3]), 1e-3, 1e4), "fitted"};
    };
    const int m = static_cast<int>(steps.steps.size());
    x = lm_fit(x, m, [&](const Eigen::VectorXd& p, Eigen::VectorXd& v) {
      apply(p);
      const auto pred = predict_published_steps(steps, work);
      for (int i = 0; i < m; ++i)
        v[i] = std::log(pred[static_cast<std::size_t>(i)] /
                        steps.steps[static_cast<std::size_t>(i)].measured_ms);
    });
    apply(x);
    const auto pred = predict_published_steps(steps, work);
    double mae = 0;
    for (std::size_t i = 0; i < pred.size(); ++i)
      mae += std::abs(pred[i] / steps.steps[i].measured_ms - 1) / static_cast<double>(pred.size());
    log << fmt::format(
        "stage A ({} {} steps, {} points): layer_fixed_us {:.3g}, bandwidth_efficiency {:.3g}, "
        "bf16 gemm_efficiency {:.3g}; mean |error| {:.1f} %\n",
        steps.gpu_id, steps.model_id, pred.size(), cal.defaults().layer_fixed_us->value,
        cal.gpus()[steps.gpu_id].bandwidth_efficiency->value,
        cal.gpus()[steps.gpu_id].gemm_efficiency["bf16"].value, 100 * mae);
    cal.defaults().bandwidth_efficiency =
        LatencyFigure{cal.gpus()[steps.gpu_id].bandwidth_efficiency->value, "fitted"};
  }

  // Stage B, jointly on every dense fit row: each GPU's GEMM efficiency at each weight precision
  // its rows use, its streaming efficiency where it has more rows than precisions (the H100's
  // comes from stage A), and the decode-attention speed of FP8 KV relative to bf16 (one figure
  // for every GPU: the contrast between short-context, GEMM-bound rows and long-context,
  // KV-bound rows of the same GPU fixes it).
  std::map<std::string, std::vector<const PublishedRow*>> by_gpu;
  std::vector<const PublishedRow*> dense_rows, moe_rows;
  for (const auto& r : suite.rows) {
    if (r.split != "fit" || r.scenario == "server" || r.gpu_id == exclude_gpu) continue;
    if (work.model(r.model_id).is_moe()) {
      moe_rows.push_back(&r);
    } else {
      by_gpu[r.gpu_id].push_back(&r);
      dense_rows.push_back(&r);
    }
  }
  auto residuals = [&](const std::vector<const PublishedRow*>& rows, Eigen::VectorXd& v) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const PublishedOutcome o = run_published_row(*rows[i], work);
      v[static_cast<Eigen::Index>(i)] =
          std::log(std::max(o.simulated, 1e-9) / rows[i]->published_tok_s_per_gpu);
    }
  };
  struct Param {
    std::string gpu, what;  // what: a precision ("fp8"), "bandwidth" or "kv-fp8"
  };
  std::vector<Param> params;
  bool uses_fp8_kv = false;
  for (const auto& [gpu, rows] : by_gpu) {
    std::vector<std::string> precs;
    for (const auto* r : rows) {
      const std::string p = to_string(r->weights);
      if (std::find(precs.begin(), precs.end(), p) == precs.end()) precs.push_back(p);
      uses_fp8_kv = uses_fp8_kv || r->kv_format == "fp8";
    }
    for (const auto& p : precs) params.push_back({gpu, p});
    if (gpu != steps.gpu_id && rows.size() > precs.size()) params.push_back({gpu, "bandwidth"});
  }
  if (uses_fp8_kv) params.push_back({"", "kv-fp8"});
  if (!params.empty()) {
    Eigen::VectorXd x(static_cast<Eigen::Index>(params.size()));
    for (std::size_t k = 0; k < params.size(); ++k)
      x[static_cast<Eigen::Index>(k)] = std::log(params[k].what == "bandwidth" ? 0.85 : 0.5);
    auto apply = [&](const Eigen::VectorXd& p) {
      for (std::size_t k = 0; k < params.size(); ++k) {
        const double v = eff_of(p[static_cast<Eigen::Index>(k)]);
        const Param& q = params[k];
        if (q.what == "bandwidth")
          cal.gpus()[q.gpu].bandwidth_efficiency = LatencyFigure{v, "fitted"};
        else if (q.what == "kv-fp8")
          cal.kv_formats()["fp8"] = KvSpeed{v, "fitted"};
        else
          cal.gpus()[q.gpu].gemm_efficiency[q.what] = LatencyFigure{v, "fitted"};
      }
    };
    x = lm_fit(x, static_cast<int>(dense_rows.size()),
               [&](const Eigen::VectorXd& p, Eigen::VectorXd& v) {
                 apply(p);
                 residuals(dense_rows, v);
               });
    apply(x);
    for (const auto& [gpu, rows] : by_gpu) {
      Eigen::VectorXd v(static_cast<Eigen::Index>(rows.size()));
      residuals(rows, v);
      std::string figs;
      for (const auto& q : params)
        if (q.gpu == gpu)
          figs +=
              q.what == "bandwidth"
                  ? fmt::format(" bandwidth {:.3g}", cal.gpus()[gpu].bandwidth_efficiency->value)
                  : fmt::format(" gemm {} {:.3g}", q.what,
                                cal.gpus()[gpu].gemm_efficiency[q.what].value);
      log << fmt::format("stage B {} ({} fit rows):{}; mean |log error| {:.1f} %\n", gpu,
                         rows.size(), figs, 100 * v.cwiseAbs().mean());
    }
    if (uses_fp8_kv)
      log << fmt::format("stage B: fp8 KV decode time vs bf16 {:.3g}\n",
                         cal.kv_speed("fp8")->time_vs_bf16);
  }

  // The projection for GPUs without an entry: per precision, the geometric mean of the fitted
  // GPUs' GEMM efficiencies (the streaming efficiency is the measured GPU's, stage A).
  std::map<std::string, std::pair<double, int>> sums;
  for (const auto& [gpu, e] : cal.gpus()) {
    for (const auto& [p, f] : e.gemm_efficiency) {
      sums[p].first += std::log(f.value);
      sums[p].second += 1;
    }
  }
  for (const auto& [p, s] : sums)
    cal.defaults().gemm_efficiency[p] = LatencyFigure{std::exp(s.first / s.second), "fitted"};
  // A precision no fitted GPU runs reaches the same share of its own peak as the next wider one
  // (fp4 → fp8 → bf16): an assumption, labelled so.
  const char* chain[] = {"bf16", "fp8", "fp4"};
  for (int i = 1; i < 3; ++i)
    if (!cal.defaults().gemm_efficiency.count(chain[i]) &&
        cal.defaults().gemm_efficiency.count(chain[i - 1]))
      cal.defaults().gemm_efficiency[chain[i]] =
          LatencyFigure{cal.defaults().gemm_efficiency[chain[i - 1]].value, "assumption"};

  // The MoE figures on the MoE fit rows, every GPU figure held: the grouped-GEMM efficiency, the
  // cost per distinct expert a step touches and the permutation passes per routed token, jointly
  // (rows at batch 4 and at several hundred sequences separate the per-expert cost, which
  // saturates at E experts, from the per-token terms, which do not). A figure the file gives a
  // source or `assumption` for is held.
  if (!moe_rows.empty()) {
    struct MoeParam {
      std::optional<LatencyFigure> LatencyEntry::*field;
      bool efficiency;  // kept in (0.02, 1.2] like every efficiency; the costs only positive
    };
    std::vector<MoeParam> mp;
    for (const MoeParam& q : {MoeParam{&LatencyEntry::moe_gemm_efficiency, true},
                              MoeParam{&LatencyEntry::moe_expert_us, false},
                              MoeParam{&LatencyEntry::moe_permute_passes, false},
                              MoeParam{&LatencyEntry::moe_dequant_efficiency, true},
                              MoeParam{&LatencyEntry::mla_layer_us, false}})
      if ((cal.defaults().*q.field)->source == "fitted") mp.push_back(q);
    if (mp.empty()) return cal;
    Eigen::VectorXd x(static_cast<Eigen::Index>(mp.size()));
    for (std::size_t k = 0; k < mp.size(); ++k)
      x[static_cast<Eigen::Index>(k)] =
          std::log(std::max(1e-3, (cal.defaults().*mp[k].field)->value));
    auto apply = [&](const Eigen::VectorXd& p) {
      for (std::size_t k = 0; k < mp.size(); ++k) {
        const double v = p[static_cast<Eigen::Index>(k)];
        cal.defaults().*mp[k].field = LatencyFigure{
            mp[k].efficiency ? eff_of(v) : std::clamp(std::exp(v), 1e-3, 1e3), "fitted"};
      }
    };
    x = lm_fit(x, static_cast<int>(moe_rows.size()),
               [&](const Eigen::VectorXd& p, Eigen::VectorXd& v) {
                 apply(p);
                 residuals(moe_rows, v);
               });
    apply(x);
    Eigen::VectorXd v(static_cast<Eigen::Index>(moe_rows.size()));
    residuals(moe_rows, v);
    log << fmt::format(
        "stage B MoE ({} fit rows): moe_gemm_efficiency {:.3g}, moe_expert_us {:.3g}, "
        "moe_permute_passes {:.3g}, moe_dequant_efficiency {:.3g}, mla_layer_us {:.3g}; mean |log "
        "error| {:.1f} %\n",
        moe_rows.size(), cal.defaults().moe_gemm_efficiency->value,
        cal.defaults().moe_expert_us->value, cal.defaults().moe_permute_passes->value,
        cal.defaults().moe_dequant_efficiency->value, cal.defaults().mla_layer_us->value,
        100 * v.cwiseAbs().mean());
  }
  return cal;
}

std::string latency_yaml_sections(const LatencyCalibration& cal) {
  auto fig = [](const std::optional<LatencyFigure>& f) {
    return f ? fmt::format("[{:.3g}, {}]", f->value, f->source) : std::string("null");
  };
  auto entry = [&](const LatencyEntry& e, const std::string& indent) {
    std::string s;
    if (!e.gemm_efficiency.empty()) {
      s += indent + "gemm_efficiency:\n";
      for (const auto& [p, f] : e.gemm_efficiency)
        s += fmt::format("{}  {}: [{:.3g}, {}]\n", indent, p, f.value, f.source);
    }
    auto line = [&](const char* key, const std::optional<LatencyFigure>& f) {
      if (f) s += fmt::format("{}{}: {}\n", indent, key, fig(f));
    };
    line("bandwidth_efficiency", e.bandwidth_efficiency);
    line("step_overhead_us", e.step_overhead_us);
    line("layer_fixed_us", e.layer_fixed_us);
    line("attention_kernel_us", e.attention_kernel_us);
    line("attention_efficiency", e.attention_efficiency);
    line("moe_gemm_efficiency", e.moe_gemm_efficiency);
    line("moe_dispatch_us", e.moe_dispatch_us);
    line("moe_expert_us", e.moe_expert_us);
    line("moe_permute_passes", e.moe_permute_passes);
    line("moe_dequant_efficiency", e.moe_dequant_efficiency);
    line("mla_layer_us", e.mla_layer_us);
    line("allreduce_latency_us", e.allreduce_latency_us);
    line("allreduce_bandwidth_efficiency", e.allreduce_bandwidth_efficiency);
    line("gemm_half_tokens", e.gemm_half_tokens);
    return s;
  };
  std::string out = "defaults:\n" + entry(cal.defaults(), "  ") + "\ngpus:\n";
  for (const auto& [id, e] : cal.gpus()) out += "  " + id + ":\n" + entry(e, "    ");
  if (auto fp8 = cal.kv_speed("fp8"))
    out += fmt::format("\nkv_formats:\n  fp8: {{time_vs_bf16: [{:.3g}, {}]}}\n", fp8->time_vs_bf16,
                       fp8->source);
  return out;
}

double mean_abs_error(const std::vector<PublishedOutcome>& outcomes,
                      const std::vector<PublishedRow>& rows,
                      const std::function<bool(const PublishedRow&)>& pick) {
  double s = 0;
  int n = 0;
  for (const auto& o : outcomes)
    for (const auto& r : rows)
      if (r.id == o.id && pick(r)) {
        s += std::abs(o.error);
        ++n;
      }
  return n ? s / n : std::nan("");
}

}  // namespace jevons
