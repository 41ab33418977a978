#pragma once
/// \file Seeded random rotations Π for TurboQuant (turboquant.md §2.2, §7.3, §7.11).
///
/// Three kinds:
///  - kDense: Haar-distributed orthogonal matrix, Q of the QR decomposition of an i.i.d. N(0,1)
///    matrix with the sign fix Q·diag(sign(R_ii)) (the paper's construction; the reference).
///  - kHadamard: randomized Hadamard transform Π = (1/√d)·H·diag(s), s_i = ±1 random, H the
///    Sylvester Walsh-Hadamard matrix, applied with the fast transform in O(d log d). Only for
///    power-of-two d.
///  - kBlockHadamard: for d = 3m, m a power of two (the 48/96/192-channel regular segments of
///    the outlier-split formats tq-2.5/3.5 at head_dim 64/128/256): Π = (1/√m)·(Q₃ ⊗ H_m)·diag(s)
///    with Q₃ = I − (2/3)·11ᵀ, a symmetric orthogonal 3×3 (Householder) matrix. Three fast
///    Hadamard transforms of size m, then each output index k mixes the three blocks: O(d log d),
///    where a dense 3m rotation costs 2·(3m)² operations per vector, which no GPU append can
///    afford bit-exactly (docs/kernels.md). Like kHadamard it equals the dense rotation in
///    distribution only on rotation-invariant inputs; on x = e₁ its coordinates take two
///    magnitudes, 1/(3√m) and 2/(3√m), where kHadamard's take one.
/// Rotation::make(d, kHadamard, seed) yields kHadamard for power-of-two d, kBlockHadamard for
/// d = 3·2^k, and kDense otherwise, and records the kind actually used.
///
/// Determinism: the same (dim, kind, seed) gives the same rotation on every platform (Rng uses
/// mt19937_64 with our own Box-Muller). apply() uses a fixed float operation order that the CUDA
/// append kernel reproduces exactly, so codes agree bit for bit.

#include <cstdint>
#include <vector>

#include "common/device.h"

namespace jevons::kernels {

enum class RotationKind : std::uint8_t { kDense = 0, kHadamard = 1, kBlockHadamard = 2 };

/// The Q₃ mixing coefficient of kBlockHadamard: y_b = fma(kBlockMix, y_0 + y_1 + y_2, y_b).
inline constexpr float kBlockMix = static_cast<float>(-2.0 / 3.0);

class Rotation {
 public:
  /// `dim` ≥ 1. kHadamard yields kBlockHadamard for `dim` = 3·2^k and kDense for any other
  /// non-power-of-two `dim`.
  static Rotation make(std::uint32_t dim, RotationKind kind, std::uint64_t seed);

  std::uint32_t dim() const { return dim_; }
  RotationKind kind() const { return kind_; }

  /// y = Π·x. `x`, `y`: [dim] floats; may alias.
  void apply(const float* x, float* y) const;
  /// x = Πᵀ·y (the inverse). `y`, `x`: [dim] floats; may alias.
  void apply_transpose(const float* y, float* x) const;

  /// Row-major [dim][dim] matrix of Π (materialised for both kinds; the GPU rotates queries and
  /// outputs with it, and kDense append uses it).
  const std::vector<float>& matrix() const { return matrix_; }
  /// kHadamard and kBlockHadamard: the [dim] random signs s (empty for kDense).
  const std::vector<float>& signs() const { return signs_; }
  /// Size of each fast Hadamard block: dim (kHadamard), dim/3 (kBlockHadamard), 0 (kDense).
  std::uint32_t block() const;
  /// 1/√block() as a float: the Hadamard scale, shared with the kernels (1 for kDense).
  float hadamard_scale() const { return scale_; }

 private:
  std::uint32_t dim_ = 0;
  RotationKind kind_ = RotationKind::kDense;
  std::vector<float> matrix_;
  std::vector<float> signs_;
  float scale_ = 1.0f;
};

/// In-place unnormalised fast Walsh-Hadamard transform of `x` ([n], n a power of two), in the
/// canonical butterfly order (stage h = 1, 2, 4, ...; pair (j, j+h) → (a+b, a−b)).
void fwht_inplace(float* x, std::uint32_t n);

/// Row-major [rows][cols] i.i.d. N(0,1) matrix from `seed` (the QJL projection S).
std::vector<float> gaussian_matrix(std::uint32_t rows, std::uint32_t cols, std::uint64_t seed);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {
/// Applies `rotation` on the device to n vectors with the same float operation order as
/// Rotation::apply (bit-identical results). `x`, `y`: device [n][dim] floats.
Status rotate(const Rotation& rotation, const float* x, std::size_t n, float* y,
              const Stream& stream);
}  // namespace gpu
#endif

}  // namespace jevons::kernels
