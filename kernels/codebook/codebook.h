#pragma once
/// \file Lloyd-Max codebooks for one coordinate of a uniformly random unit vector (turboquant.md
/// §2.2).
///
/// After a random rotation every coordinate of a unit vector in R^d follows the density
///   f(x) ∝ (1 − x²)^((d−3)/2),  x ∈ [−1, 1]   (a scaled Beta; → N(0, 1/d) as d grows).
/// The b-bit TurboQuant_mse quantizer is the Lloyd-Max (continuous 1-D k-means) quantizer of f with
/// 2^b levels. We solve it with Boost.Math Gauss-Kronrod quadrature for any d ≥ 3 (the kernels use
/// d = 16..256: head dims 64/128/256 and the sub-vectors of the outlier-split formats) and commit
/// the solutions as data, so the kernels themselves need no Boost.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/device.h"
#include "common/hd.h"

namespace jevons::kernels {

struct Codebook {
  std::uint32_t dim = 0;  ///< vector dimension d the coordinate law belongs to
  int bits = 0;           ///< 1..4
  /// 2^b reconstruction levels, ascending, in unit-vector coordinates (multiply by √d for the
  /// "× √d" tables of turboquant.md §2.2). Symmetric about 0.
  std::vector<double> centroids;
  /// 2^b − 1 cell boundaries (midpoints of adjacent centroids), ascending.
  std::vector<double> boundaries;
  std::vector<float> centroids_f;   ///< float copies: what the kernels store and use
  std::vector<float> boundaries_f;  ///< float copies of the midpoints
  double mse = 0;  ///< D_mse = d·E[(X − Q(X))²], the expected ‖x − x̃‖² for a unit x
  double index_entropy_bits = 0;  ///< entropy of the code index under f
  int iterations = 0;             ///< Lloyd iterations to converge
  double max_step = 0;            ///< last iteration's largest centroid change (× √d)
};

/// Density of one coordinate of a uniform unit vector in R^dim (normalised, x in [−1, 1]).
double sphere_coordinate_density(std::uint32_t dim, double x);

/// Solves the Lloyd-Max fixed point from scratch (no cache). `bits` in 1..4, `dim` ≥ 3.
/// Throws std::invalid_argument otherwise. Needs Boost.Math: defined in codebook_solve.cpp,
/// part of jevons_kernels_solvers (full builds), not of the kernels-only build.
Codebook compute_lloyd_max(std::uint32_t dim, int bits);

/// The committed codebook of (dim, bits) (codebook_table.inc: every head dim 64/128/256 and the
/// outlier-split sub-dimensions 16/32/48/96/192, bits 1..4), built once per process; it equals
/// `compute_lloyd_max(dim, bits)` (tested). Throws std::invalid_argument for any other pair.
const Codebook& lloyd_max_codebook(std::uint32_t dim, int bits);

/// The (dim, bits) pairs of the committed table.
std::vector<std::pair<std::uint32_t, int>> committed_codebooks();

/// Writes `cb` as one initializer of the committed table (what jevons-codebook-table prints):
/// every double with 17 significant digits, so it reads back bit for bit. Full builds only.
std::string codebook_table_entry(const Codebook& cb);

/// Conditional mean of the coordinate law on [lo, hi] (used by tests to check the fixed point).
double sphere_coordinate_conditional_mean(std::uint32_t dim, double lo, double hi);

/// Index of the cell containing y: the number of boundaries strictly below y (ties go down).
/// `boundaries`: [n] ascending floats. Shared by the CPU twins and the CUDA kernels.
JEVONS_HD int bucketize(const float* boundaries, int n, float y) {
  int idx = 0;
  for (int i = 0; i < n; ++i) idx += (y > boundaries[i]) ? 1 : 0;
  return idx;
}

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {
/// Device bucketize of `n` values against a codebook's float boundaries (tests the device path
/// the quantizers use). `y`: device [n] floats; `idx`: device [n] bytes.
Status bucketize(const Codebook& codebook, const float* y, std::size_t n, std::uint8_t* idx,
                 const Stream& stream);
}  // namespace gpu
#endif

}  // namespace jevons::kernels
