#include "timing/profile_calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "jevons/core/kv_accounting.h"
#include "timing/latency_model.h"

namespace jevons::sim {

std::vector<StepSample> step_samples(const Profile& profile, const Catalog& catalog,
                                     const AnalyticalParams& params) {
  const GpuSpec* profile_gpu =
      profile.meta.gpu_catalog_id.empty() ? nullptr : catalog.find_gpu(profile.meta.gpu_catalog_id);
  // The work does not depend on the GPU; a CPU profile borrows any catalog GPU to build the
  // model (its rates are never used) and keeps the profile's own KV bandwidth (no scaling).
  const GpuSpec& host_gpu = profile_gpu ? *profile_gpu : catalog.gpus().front();
  const std::optional<Profile> prof = profile;
  std::map<std::tuple<std::string, std::string, std::uint32_t>, std::unique_ptr<LatencyModel>>
      models;
  std::vector<StepSample> out;
  for (const StepPoint& p : profile.steps) {
    const ModelSpec* m = catalog.find_model(p.model_id);
    if (m == nullptr || p.batch == 0 || !(p.time_ns > 0)) continue;
    auto key = std::make_tuple(p.model_id, p.kv_format, p.tensor_parallel);
    auto& lm = models[key];
    if (!lm) {
      const KvFootprint kv(*m, KvConfig::parse(p.kv_format), p.tensor_parallel);
      lm = std::make_unique<LatencyModel>(host_gpu, *m, kv, WeightPrecision::kBf16,
                                          p.tensor_parallel, params, TimingSpec{}, PowerSpec{},
                                          prof, profile_gpu, 1u << 16);
    }
    StepWork w = lm->work(lm->shape_of(p));
    if (p.weights == "fp32") w.weight_bytes *= 2;  // the model counts bf16 (2 B) per weight
    if (p.weights == "fp8") w.weight_bytes *= 0.5;
    char label[160];
    std::snprintf(label, sizeof label, "%s %s B=%u tokens=%llu ctx=%llu %s", p.model_id.c_str(),
                  p.phase.c_str(), p.batch, static_cast<unsigned long long>(p.tokens),
                  static_cast<unsigned long long>(p.context_tokens), p.kv_format.c_str());
    out.push_back({w, p.time_ns, label});
  }
  return out;
}

std::vector<StepSample> ops_samples(const MeasuredOpsDataset& ds, const std::string& weights,
                                    bool with_elementwise) {
  const double bytes_per_weight = weights == "fp8" ? 1.0 : 2.0;
  const double params = ds.projection_params();
  std::vector<StepSample> out;
  out.reserve(ds.rows.size());
  for (const auto& r : ds.rows) {
    StepWork w;
    const double per_gpu = params / r.tensor_parallel;
    const auto t = static_cast<double>(r.num_tokens);
    w.flops = 2.0 * t * per_gpu;
    w.weight_bytes = bytes_per_weight * per_gpu;
    w.tokens = t;
    char label[160];
    std::snprintf(label, sizeof label, "%s layer T=%llu TP=%u (line %d)", ds.model.c_str(),
                  static_cast<unsigned long long>(r.num_tokens), r.tensor_parallel, r.line);
    out.push_back({w, (with_elementwise ? r.layer_ms() : r.gemm_ms) * 1e6, label});
  }
  return out;
}

AllReduceFit fit_all_reduce(const std::vector<MeasuredAllReduce>& rows, std::uint32_t workers) {
  // Minimise Σ ((a + b·x − t) / t)² with x the bytes each link carries per direction: the
  // normal equations of rows (1/t, x/t) against 1.
  double s11 = 0, s12 = 0, s22 = 0, r1 = 0, r2 = 0;
  std::size_t n = 0;
  const double share = 2.0 * (workers - 1) / workers;
  for (const auto& r : rows) {
    if (r.workers != workers) continue;
    const double t = r.time_ms * 1e6, x = share * static_cast<double>(r.bytes);
    const double u = 1 / t, v = x / t;
    s11 += u * u, s12 += u * v, s22 += v * v, r1 += u, r2 += v;
    ++n;
  }
  if (n < 2)
    throw std::invalid_argument("all-reduce fit needs at least 2 measurements of " +
                                std::to_string(workers) + " workers");
  const double det = s11 * s22 - s12 * s12;
  if (!(det > 1e-12 * s11 * s22) || !std::isfinite(det))
    throw std::invalid_argument("all-reduce fit needs measurements of at least 2 sizes of " +
                                std::to_string(workers) + " workers");
  AllReduceFit f;
  f.workers = workers;
  f.points = n;
  f.latency_ns = (r1 * s22 - r2 * s12) / det;
  const double ns_per_byte = (s11 * r2 - s12 * r1) / det;
  f.bus_bytes_per_ns = 1 / ns_per_byte;
  for (const auto& r : rows) {
    if (r.workers != workers) continue;
    const double t = r.time_ms * 1e6;
    const double e =
        std::abs(f.latency_ns + share * static_cast<double>(r.bytes) * ns_per_byte - t) / t;
    f.mean_abs_rel_error += e / static_cast<double>(n);
    f.max_abs_rel_error = std::max(f.max_abs_rel_error, e);
  }
  return f;
}

std::optional<DeviceStepCalibration> calibrate_steps(const Profile& profile, const Catalog& catalog,
                                                     const AnalyticalParams& params) {
  // Planner capacity searches build thousands of fleets from one profile: fit once per
  // (profile identity, efficiency defaults).
  static std::mutex mu;
  static std::map<std::string, std::optional<DeviceStepCalibration>> cache;
  const std::string key = profile.meta.device_name + '|' + profile.meta.date_utc + '|' +
                          profile.meta.git_commit + '|' + std::to_string(profile.steps.size()) +
                          '|' + std::to_string(params.bandwidth_efficiency);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  std::optional<DeviceStepCalibration> cal;
  const auto samples = step_samples(profile, catalog, params);
  if (samples.size() >= 4) {
    DeviceStepCalibration c;
    c.fit = fit_step_rates(samples);
    c.device_kind = profile.meta.device_kind;
    c.gpu = profile.meta.gpu_catalog_id.empty() ? nullptr
                                                : catalog.find_gpu(profile.meta.gpu_catalog_id);
    c.weights = profile.steps.front().weights;
    cal = c;
  }
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(key, cal);
  return cal;
}

HoldoutReport holdout_check(const std::vector<StepSample>& samples) {
  std::vector<StepSample> train, test;
  for (std::size_t i = 0; i < samples.size(); ++i)
    (i % 2 == 0 ? train : test).push_back(samples[i]);
  return holdout_check(train, std::move(test));
}

HoldoutReport holdout_check(const std::vector<StepSample>& train, std::vector<StepSample> test) {
  HoldoutReport r;
  r.test = std::move(test);
  r.train = fit_step_rates(train);
  std::vector<double> e;
  for (const auto& s : r.test) {
    r.predicted_ns.push_back(predict_step_ns(s.work, r.train.rates));
    e.push_back(std::abs(r.predicted_ns.back() - s.measured_ns) / s.measured_ns);
  }
  if (!e.empty()) {
    for (double v : e) r.mean_abs_rel_error += v / static_cast<double>(e.size());
    std::sort(e.begin(), e.end());
    r.max_abs_rel_error = e.back();
    r.p90_abs_rel_error = e[std::min(e.size() - 1, e.size() * 9 / 10)];
  }
  return r;
}

}  // namespace jevons::sim
