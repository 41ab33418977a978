#include "timing/step_calibration.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unsupported/Eigen/NonLinearOptimization>
#include <unsupported/Eigen/NumericalDiff>

namespace jevons::sim {

StepParts step_parts(const StepWork& w, const StepRates& r) {
  // GEMM efficiency ramp (T½ = 0: the factor is exactly 1).
  const double ramp = w.tokens > 0 ? 1.0 + r.gemm_half_tokens / w.tokens : 1.0;
  StepParts p;
  p.gemm_compute_ns = w.flops * r.ns_per_flop * ramp;
  p.weight_ns = w.weight_bytes * r.ns_per_weight_byte;
  p.attention_compute_ns = w.attention_flops * r.ns_per_flop;
  p.kv_ns = w.kv_ns;
  return p;
}

double predict_step_ns(const StepWork& w, const StepRates& r) {
  return r.overhead_ns + step_parts(w, r).body_ns();
}

std::vector<double> relative_errors(const std::vector<StepSample>& samples,
                                    const StepRates& rates) {
  std::vector<double> e;
  e.reserve(samples.size());
  for (const auto& s : samples)
    e.push_back(std::abs(predict_step_ns(s.work, rates) - s.measured_ns) / s.measured_ns);
  return e;
}

StepRates project_rates(const StepRates& r, const GpuSpec& from, const std::string& from_weights,
                        const GpuSpec& to, const std::string& to_weights) {
  StepRates p = r;
  p.ns_per_flop *= from.dense_tflops(from_weights) / to.dense_tflops(to_weights);
  p.ns_per_weight_byte *= from.hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") /
                          to.hbm_bandwidth_tbps.get("hbm_bandwidth_tbps");
  return p;
}

namespace {

StepRates from_log(const Eigen::VectorXd& x) {
  return {std::exp(x[0]), std::exp(x[1]), std::exp(x[2]), std::exp(x[3])};
}

// Residuals log(predicted / measured) over log-parameters, in the functor form Eigen's
// NumericalDiff expects.
struct LogResiduals {
  using Scalar = double;
  enum { InputsAtCompileTime = Eigen::Dynamic, ValuesAtCompileTime = Eigen::Dynamic };
  using InputType = Eigen::VectorXd;
  using ValueType = Eigen::VectorXd;
  using JacobianType = Eigen::MatrixXd;
  const std::vector<StepSample>* samples = nullptr;
  int inputs() const { return 4; }
  int values() const { return static_cast<int>(samples->size()); }
  int operator()(const Eigen::VectorXd& x, Eigen::VectorXd& f) const {
    const StepRates r = from_log(x);
    for (std::size_t i = 0; i < samples->size(); ++i) {
      const auto& s = (*samples)[i];
      f[static_cast<Eigen::Index>(i)] = std::log(predict_step_ns(s.work, r) / s.measured_ns);
    }
    return 0;
  }
};

double sum_sq(const std::vector<StepSample>& samples, const Eigen::VectorXd& x) {
  LogResiduals f{&samples};
  Eigen::VectorXd v(f.values());
  f(x, v);
  return v.squaredNorm();
}

}  // namespace

StepFit fit_step_rates(const std::vector<StepSample>& samples) {
  if (samples.size() < 4)
    throw std::invalid_argument("step calibration needs at least 4 measured steps, got " +
                                std::to_string(samples.size()));
  for (const auto& s : samples)
    if (!(s.measured_ns > 0) || !std::isfinite(s.measured_ns) || s.work.flops < 0 ||
        s.work.weight_bytes < 0 || s.work.kv_ns < 0)
      throw std::invalid_argument("step calibration: invalid sample '" + s.label + "'");

  // Starting points: each rate from the points it bounds (time ≥ work × rate), and a few
  // overhead guesses; LM refines the best start. The max() makes the surface piecewise smooth,
  // so several starts guard against a start on the wrong side of a kink.
  double min_ns = samples[0].measured_ns, flop_rate = 0, byte_rate = 0;
  for (const auto& s : samples) {
    min_ns = std::min(min_ns, s.measured_ns);
    if (s.work.flops > 0) flop_rate = std::max(flop_rate, s.work.flops / s.measured_ns);
    if (s.work.weight_bytes > 0)
      byte_rate = std::max(byte_rate, s.work.weight_bytes / s.measured_ns);
  }
  if (flop_rate <= 0 || byte_rate <= 0)
    throw std::invalid_argument("step calibration: the samples have no FLOPs or no weight bytes");

  Eigen::VectorXd best(4);
  double best_cost = INFINITY;
  for (double half : {1e-3, 8.0})
    for (double overhead_frac : {0.02, 0.2, 0.6})
      for (double slow : {1.0, 2.0, 4.0}) {
        Eigen::VectorXd x(4);
        x << std::log(overhead_frac * min_ns), std::log(slow / flop_rate),
            std::log(slow / byte_rate), std::log(half);
        LogResiduals f{&samples};
        Eigen::NumericalDiff<LogResiduals> nd(f);
        Eigen::LevenbergMarquardt<Eigen::NumericalDiff<LogResiduals>> lm(nd);
        lm.parameters.maxfev = 4000;
        lm.minimize(x);
        const double c = sum_sq(samples, x);
        if (std::isfinite(c) && c < best_cost) best_cost = c, best = x;
      }
  if (!std::isfinite(best_cost)) throw std::runtime_error("step calibration did not converge");

  StepFit fit;
  fit.rates = from_log(best);
  fit.points = samples.size();
  const auto e = relative_errors(samples, fit.rates);
  for (double v : e) {
    fit.mean_abs_rel_error += v / static_cast<double>(e.size());
    fit.max_abs_rel_error = std::max(fit.max_abs_rel_error, v);
  }
  return fit;
}

}  // namespace jevons::sim
