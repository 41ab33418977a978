#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/rng.h"
#include "rotation/rotation.h"

namespace jevons::kernels {
namespace {

/// Q of the QR factorisation of the row-major n×n matrix `a` (Householder, double), with each
/// column j multiplied by sign(R_jj): the unique Q with a positive-diagonal R, which is Haar
/// distributed for a Gaussian `a` (Mezzadri 2007). Plain C++ so the kernels need no Eigen.
std::vector<double> haar_q(std::vector<double> a, std::size_t n) {
  auto at = [&](std::vector<double>& m, std::size_t i, std::size_t j) -> double& {
    return m[i * n + j];
  };
  std::vector<std::vector<double>> vs(n);  // Householder vectors, v_k over rows k..n-1
  std::vector<double> rdiag(n);
  for (std::size_t k = 0; k < n; ++k) {
    double norm2 = 0;
    for (std::size_t i = k; i < n; ++i) norm2 += at(a, i, k) * at(a, i, k);
    const double norm = std::sqrt(norm2);
    // Reflect x onto −sign(x_k)·‖x‖·e_k (no cancellation in v_k = x_k − alpha).
    const double alpha = at(a, k, k) >= 0 ? -norm : norm;
    std::vector<double>& v = vs[k];
    v.assign(n - k, 0.0);
    for (std::size_t i = k; i < n; ++i) v[i - k] = at(a, i, k);
    v[0] -= alpha;
    double vn2 = 0;
    for (double x : v) vn2 += x * x;
    rdiag[k] = alpha;
    if (vn2 == 0) {  // the column is already zero below the diagonal: H_k = I
      rdiag[k] = at(a, k, k);
      v.clear();
      continue;
    }
    for (std::size_t j = k; j < n; ++j) {  // A ← (I − 2vvᵀ/vᵀv)·A on rows k.., columns k..
      double dot = 0;
      for (std::size_t i = k; i < n; ++i) dot += v[i - k] * at(a, i, j);
      const double f = 2 * dot / vn2;
      for (std::size_t i = k; i < n; ++i) at(a, i, j) -= f * v[i - k];
    }
  }
  // Q = H_0·H_1·…·H_{n−1}·I, applied right to left.
  std::vector<double> q(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) at(q, i, i) = 1.0;
  for (std::size_t k = n; k-- > 0;) {
    const std::vector<double>& v = vs[k];
    if (v.empty()) continue;
    double vn2 = 0;
    for (double x : v) vn2 += x * x;
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0;
      for (std::size_t i = k; i < n; ++i) dot += v[i - k] * at(q, i, j);
      const double f = 2 * dot / vn2;
      for (std::size_t i = k; i < n; ++i) at(q, i, j) -= f * v[i - k];
    }
  }
  for (std::size_t j = 0; j < n; ++j)
    if (rdiag[j] < 0)
      for (std::size_t i = 0; i < n; ++i) at(q, i, j) = -at(q, i, j);
  return q;
}

}  // namespace

void fwht_inplace(float* x, std::uint32_t n) {
  for (std::uint32_t h = 1; h < n; h *= 2)
    for (std::uint32_t i = 0; i < n; i += 2 * h)
      for (std::uint32_t j = i; j < i + h; ++j) {
        const float a = x[j];
        const float b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

std::vector<float> gaussian_matrix(std::uint32_t rows, std::uint32_t cols, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> m(static_cast<std::size_t>(rows) * cols);
  for (auto& v : m) v = static_cast<float>(rng.normal());
  return m;
}

namespace {
bool is_pow2(std::uint32_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

// kBlockHadamard's mixing stage: for each index k of the three m-blocks, t = (y_k + y_{m+k}) +
// y_{2m+k} and every block's value becomes y + (−2/3)·t in one fused rounding (Q₃ = I − (2/3)11ᵀ).
void block_mix(float* y, std::uint32_t m) {
  for (std::uint32_t k = 0; k < m; ++k) {
    const float t = (y[k] + y[m + k]) + y[2 * m + k];
    for (std::uint32_t b = 0; b < 3; ++b) y[b * m + k] = std::fma(kBlockMix, t, y[b * m + k]);
  }
}
}  // namespace

std::uint32_t Rotation::block() const {
  switch (kind_) {
    case RotationKind::kHadamard:
      return dim_;
    case RotationKind::kBlockHadamard:
      return dim_ / 3;
    case RotationKind::kDense:
      break;
  }
  return 0;
}

Rotation Rotation::make(std::uint32_t dim, RotationKind kind, std::uint64_t seed) {
  if (dim == 0) throw std::invalid_argument("rotation dimension must be positive");
  Rotation r;
  r.dim_ = dim;
  r.kind_ = RotationKind::kDense;
  if (kind != RotationKind::kDense) {
    if (is_pow2(dim))
      r.kind_ = RotationKind::kHadamard;
    else if (dim % 3 == 0 && is_pow2(dim / 3))
      r.kind_ = RotationKind::kBlockHadamard;
  }
  const std::size_t n = dim;
  r.matrix_.assign(n * n, 0.0f);
  Rng rng(seed);
  if (r.kind_ != RotationKind::kDense) {
    r.scale_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(r.block())));
    r.signs_.resize(n);
    for (auto& s : r.signs_) s = rng.sign();
    // Column j of Π is Π·e_j: materialise it with the same code path as apply().
    std::vector<float> e(n);
    for (std::size_t j = 0; j < n; ++j) {
      std::fill(e.begin(), e.end(), 0.0f);
      e[j] = 1.0f;
      r.apply(e.data(), e.data());
      for (std::size_t i = 0; i < n; ++i) r.matrix_[i * n + j] = e[i];
    }
    return r;
  }
  // Haar: QR of a Gaussian matrix (double precision), then fix signs so Q is uniquely defined
  // (without the fix, Q inherits the QR routine's sign convention and is not Haar).
  std::vector<double> g(n * n);
  for (auto& x : g) x = rng.normal();
  const std::vector<double> q = haar_q(g, n);
  for (std::size_t i = 0; i < n * n; ++i) r.matrix_[i] = static_cast<float>(q[i]);
  return r;
}

void Rotation::apply(const float* x, float* y) const {
  const std::size_t n = dim_;
  if (kind_ != RotationKind::kDense) {
    const std::uint32_t m = block();
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * signs_[i];
    for (std::uint32_t b = 0; b < dim_; b += m) fwht_inplace(y + b, m);
    if (kind_ == RotationKind::kBlockHadamard) block_mix(y, m);
    for (std::size_t i = 0; i < n; ++i) y[i] = y[i] * scale_;
    return;
  }
  // Sequential float dot products per row: the order the CUDA append kernel uses.
  std::vector<float> tmp(x, x + n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = &matrix_[i * n];
    float acc = 0.0f;
    for (std::size_t j = 0; j < n; ++j) acc += row[j] * tmp[j];
    y[i] = acc;
  }
}

void Rotation::apply_transpose(const float* y, float* x) const {
  const std::size_t n = dim_;
  if (kind_ != RotationKind::kDense) {
    // Π⁻¹ = Πᵀ = diag(s)·(Q₃ ⊗ H_m)/√m (H and Q₃ symmetric; for kHadamard, H_d/√d).
    const std::uint32_t m = block();
    for (std::size_t i = 0; i < n; ++i) x[i] = y[i];
    for (std::uint32_t b = 0; b < dim_; b += m) fwht_inplace(x + b, m);
    if (kind_ == RotationKind::kBlockHadamard) block_mix(x, m);
    for (std::size_t i = 0; i < n; ++i) x[i] = x[i] * scale_ * signs_[i];
    return;
  }
  std::vector<float> tmp(y, y + n);
  for (std::size_t j = 0; j < n; ++j) x[j] = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = &matrix_[i * n];
    for (std::size_t j = 0; j < n; ++j) x[j] += row[j] * tmp[i];
  }
}

}  // namespace jevons::kernels
