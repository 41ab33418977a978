#include <Eigen/Dense>
#include <cmath>
#include <stdexcept>

#include "common/rng.h"
#include "rotation/rotation.h"

namespace jevons::kernels {

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

Rotation Rotation::make(std::uint32_t dim, RotationKind kind, std::uint64_t seed) {
  if (dim == 0) throw std::invalid_argument("rotation dimension must be positive");
  Rotation r;
  r.dim_ = dim;
  const bool pow2 = (dim & (dim - 1)) == 0;
  r.kind_ =
      (kind == RotationKind::kHadamard && pow2) ? RotationKind::kHadamard : RotationKind::kDense;
  const std::size_t n = dim;
  r.matrix_.assign(n * n, 0.0f);
  Rng rng(seed);
  if (r.kind_ == RotationKind::kHadamard) {
    r.scale_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dim)));
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
  Eigen::MatrixXd g(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      g(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ();
  const Eigen::MatrixXd rmat = qr.matrixQR().triangularView<Eigen::Upper>();
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(n); ++j)
    if (rmat(j, j) < 0) q.col(j) *= -1.0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      r.matrix_[i * n + j] =
          static_cast<float>(q(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
  return r;
}

void Rotation::apply(const float* x, float* y) const {
  const std::size_t n = dim_;
  if (kind_ == RotationKind::kHadamard) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * signs_[i];
    fwht_inplace(y, dim_);
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
  if (kind_ == RotationKind::kHadamard) {
    // Π⁻¹ = Πᵀ = diag(s)·H/√d (H symmetric).
    for (std::size_t i = 0; i < n; ++i) x[i] = y[i];
    fwht_inplace(x, dim_);
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
