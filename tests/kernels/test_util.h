#pragma once
// Shared helpers for the kernels tests: seeded inputs (fixed seeds, so failures reproduce).
#include <cmath>
#include <cstdint>
#include <vector>

#include "append/append_mma.h"
#include "codebook/codebook.h"
#include "common/numeric.h"
#include "common/rng.h"
#include "quant/quant.h"

namespace jevons::kernels::test {

inline std::vector<float> gaussian(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(scale * rng.normal());
  return v;
}

/// `count` random unit vectors of dimension d, row-major.
inline std::vector<float> unit_vectors(std::size_t count, std::uint32_t d, std::uint64_t seed) {
  std::vector<float> v = gaussian(count * d, seed);
  for (std::size_t i = 0; i < count; ++i) {
    double n2 = 0;
    for (std::uint32_t j = 0; j < d; ++j) n2 += double{v[i * d + j]} * v[i * d + j];
    const double inv = 1.0 / std::sqrt(n2);
    for (std::uint32_t j = 0; j < d; ++j) v[i * d + j] = static_cast<float>(v[i * d + j] * inv);
  }
  return v;
}

/// Heavy-tailed KV-like data: Student-t(3) entries plus a few channels scaled up 8×, the outlier
/// channels real keys show (turboquant.md §5.4).
inline std::vector<float> heavy_tailed(std::size_t count, std::uint32_t d, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(count * d);
  for (std::size_t i = 0; i < count; ++i)
    for (std::uint32_t j = 0; j < d; ++j) {
      const double z = rng.normal();
      double chi = 0;
      for (int k = 0; k < 3; ++k) {
        const double g = rng.normal();
        chi += g * g;
      }
      double t = z / std::sqrt(chi / 3.0);
      if (j % 16 == 3) t *= 8.0;
      v[i * d + j] = static_cast<float>(t);
    }
  return v;
}

inline double dot(const float* a, const float* b, std::uint32_t d) {
  double s = 0;
  for (std::uint32_t j = 0; j < d; ++j) s += double{a[j]} * b[j];
  return s;
}

/// The twin's tq-prod residual for x (VectorCodec::encode's steps in its order: permute, tree
/// norm, divide, rotate, bucketize, r = ‖x‖·y − fp16(‖x‖)·c[code]), from which the QJL signs are
/// sign(S·r). Used to judge the sign bits that the tensor-core append does not reproduce bit for
/// bit (append/append_mma.h).
inline std::vector<float> prod_residual(const VectorCodec& codec, const float* x) {
  const VectorDesc& d = codec.desc();
  const std::uint32_t n = d.dim;
  std::vector<float> xs(n), sq(n), u(n), y(n), r(n);
  for (std::uint32_t j = 0; j < n; ++j) xs[j] = x[codec.permutation()[j]];
  for (std::uint32_t j = 0; j < n; ++j) sq[j] = xs[j] * xs[j];
  const float norm = std::sqrt(tree_sum(sq.data(), n));
  for (std::uint32_t j = 0; j < n; ++j) u[j] = norm > 0.0f ? xs[j] / norm : 0.0f;
  codec.rotation(0)->apply(u.data(), y.data());
  const SegmentDesc& g = d.seg[0];
  const float stored = half_to_float(float_to_half(norm));
  for (std::uint32_t j = 0; j < n; ++j) {
    const float a = norm * y[j];
    const float b = stored * g.centroids[bucketize(g.boundaries, (1 << g.bits) - 1, y[j])];
    r[j] = a - b;
  }
  return r;
}

/// Per QJL projection i of r (S: [n][n] row-major): the exact value P_i = Σ_j S_ij·r_j (float64)
/// and the acceptance rule's ε_i (qjl_sign_tolerance): a sign bit may differ from the twin's
/// only where |P_i| ≤ ε_i.
struct QjlReference {
  std::vector<double> p, eps, abs_sum, s_abs_sum;
  double gamma = 0;
};
inline QjlReference qjl_reference(const std::vector<float>& s, const float* r, std::uint32_t n) {
  QjlReference q;
  double g2 = 0;
  for (std::uint32_t j = 0; j < n; ++j) g2 += double{r[j]} * r[j];
  q.gamma = std::sqrt(g2);
  for (std::uint32_t i = 0; i < n; ++i) {
    double p = 0, a = 0, sa = 0;
    for (std::uint32_t j = 0; j < n; ++j) {
      const double sij = s[std::size_t{i} * n + j];
      p += sij * r[j];
      a += std::fabs(sij * r[j]);
      sa += std::fabs(sij);
    }
    q.p.push_back(p);
    q.abs_sum.push_back(a);
    q.s_abs_sum.push_back(sa);
    q.eps.push_back(qjl_sign_tolerance(a, q.gamma, sa));
  }
  return q;
}

}  // namespace jevons::kernels::test
