// The Lloyd-Max solver (Boost.Math quadrature): regenerates codebook_table.inc, which the
// kernels use (full builds only; the kernels-only build has no Boost).
#include <boost/math/distributions/normal.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "codebook/codebook.h"

namespace jevons::kernels {
namespace {

// All integrals run in z = x·√d, where the law is O(1) wide (≈ N(0,1)); this keeps the
// quadrature well conditioned for every d and makes the convergence tolerance dimensionless.
struct ScaledLaw {
  double d;
  double half_width;  // √d
  double log_norm;    // log of the normalising constant of g below, in z units

  explicit ScaledLaw(std::uint32_t dim) : d(dim), half_width(std::sqrt(static_cast<double>(dim))) {
    // f(x) = Γ(d/2)/(√π Γ((d−1)/2)) (1−x²)^((d−3)/2); in z: divide by √d.
    log_norm =
        std::lgamma(d / 2) - 0.5 * std::log(M_PI) - std::lgamma((d - 1) / 2) - 0.5 * std::log(d);
  }
  double pdf(double z) const {
    const double u = 1.0 - z * z / d;
    if (u <= 0) return 0.0;
    return std::exp(log_norm + 0.5 * (d - 3) * std::log(u));
  }
  template <class F>
  double integrate(F f, double lo, double hi) const {
    lo = std::max(lo, -half_width);
    hi = std::min(hi, half_width);
    if (hi <= lo) return 0.0;
    // A 61-point Kronrod rule with a shallow adaptive budget: the integrands are smooth, and an
    // unreachable tolerance would otherwise bisect to max depth on every call (minutes per
    // codebook).
    return boost::math::quadrature::gauss_kronrod<double, 61>::integrate(f, lo, hi, 6, 1e-13);
  }
  double mass(double lo, double hi) const {
    return integrate([&](double z) { return pdf(z); }, lo, hi);
  }
  double first_moment(double lo, double hi) const {
    return integrate([&](double z) { return z * pdf(z); }, lo, hi);
  }
  double second_moment_about(double c, double lo, double hi) const {
    return integrate([&](double z) { return (z - c) * (z - c) * pdf(z); }, lo, hi);
  }
};

}  // namespace

double sphere_coordinate_density(std::uint32_t dim, double x) {
  const ScaledLaw law(dim);
  return law.pdf(x * law.half_width) * law.half_width;
}

double sphere_coordinate_conditional_mean(std::uint32_t dim, double lo, double hi) {
  const ScaledLaw law(dim);
  const double s = law.half_width;
  return law.first_moment(lo * s, hi * s) / law.mass(lo * s, hi * s) / s;
}

Codebook compute_lloyd_max(std::uint32_t dim, int bits) {
  if (bits < 1 || bits > 4) throw std::invalid_argument("codebook bits must be 1..4");
  if (dim < 3) throw std::invalid_argument("codebook dimension must be at least 3");
  const ScaledLaw law(dim);
  const int levels = 1 << bits;

  // Start from the Gaussian quantiles of the cell mid-probabilities: already close to the
  // fixed point for d ≥ 16, so Lloyd needs hundreds rather than tens of thousands of steps.
  const boost::math::normal_distribution<double> gauss;
  std::vector<double> c(levels);
  for (int k = 0; k < levels; ++k) c[k] = boost::math::quantile(gauss, (k + 0.5) / levels);

  const double lo_edge = -law.half_width;
  const double hi_edge = law.half_width;
  std::vector<double> t(levels + 1);
  Codebook cb;
  cb.dim = dim;
  cb.bits = bits;
  // Lloyd's map is a contraction here (log-concave density), but slowly for 16 levels: iterate
  // to a step of 1e-12 (in units of 1/√d), far below the 1e-6 fixed-point requirement.
  constexpr int kMaxIterations = 200000;
  constexpr double kTolerance = 1e-12;
  int it = 0;
  double step = 0;
  for (; it < kMaxIterations; ++it) {
    t[0] = lo_edge;
    t[levels] = hi_edge;
    for (int k = 1; k < levels; ++k) t[k] = 0.5 * (c[k - 1] + c[k]);
    step = 0;
    // Symmetry: solve the upper half and mirror, which also keeps the codebook exactly symmetric.
    for (int k = levels / 2; k < levels; ++k) {
      const double m = law.mass(t[k], t[k + 1]);
      const double next = law.first_moment(t[k], t[k + 1]) / m;
      step = std::max(step, std::fabs(next - c[k]));
      c[k] = next;
      c[levels - 1 - k] = -next;
    }
    if (step < kTolerance) break;
  }
  if (it == kMaxIterations)
    throw std::runtime_error("Lloyd-Max did not converge for d=" + std::to_string(dim) +
                             " b=" + std::to_string(bits));
  cb.iterations = it + 1;
  cb.max_step = step;

  for (int k = 1; k < levels; ++k) t[k] = 0.5 * (c[k - 1] + c[k]);
  double mse = 0, entropy = 0;
  for (int k = 0; k < levels; ++k) {
    mse += law.second_moment_about(c[k], t[k], t[k + 1]);
    const double p = law.mass(t[k], t[k + 1]);
    if (p > 0) entropy -= p * std::log2(p);
  }
  cb.mse = mse;  // in z units this is already d·C = D_mse
  cb.index_entropy_bits = entropy;
  const double inv_s = 1.0 / law.half_width;
  for (int k = 0; k < levels; ++k) {
    cb.centroids.push_back(c[k] * inv_s);
    cb.centroids_f.push_back(static_cast<float>(c[k] * inv_s));
  }
  for (int k = 1; k < levels; ++k) {
    cb.boundaries.push_back(t[k] * inv_s);
    cb.boundaries_f.push_back(static_cast<float>(t[k] * inv_s));
  }
  return cb;
}

std::string codebook_table_entry(const Codebook& cb) {
  auto num = [](double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return std::string(buf);
  };
  auto list = [&](const std::vector<double>& v) {
    std::string s = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) s += ", ";
      s += num(v[i]);
    }
    s += '}';
    return s;
  };
  // Appended piece by piece: operator+ chains trip GCC 12's false -Wrestrict.
  std::string s = "{";
  for (const std::string& part : {std::to_string(cb.dim), std::to_string(cb.bits),
                                  std::to_string(cb.iterations), num(cb.max_step), num(cb.mse)}) {
    s += part;
    s += ", ";
  }
  s += num(cb.index_entropy_bits);
  s += ",\n ";
  s += list(cb.centroids);
  s += ",\n ";
  s += list(cb.boundaries);
  s += "},\n";
  return s;
}

}  // namespace jevons::kernels
