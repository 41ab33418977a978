// lloyd_max_codebook: the committed codebooks (codebook_table.inc, written by
// jevons-codebook-table from compute_lloyd_max) so the kernels need no quadrature library; the
// test "committed codebooks match a fresh solve" regenerates every entry and compares.
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "codebook/codebook.h"

namespace jevons::kernels {
namespace {

struct TableEntry {
  std::uint32_t dim;
  int bits;
  int iterations;
  double max_step, mse, index_entropy_bits;
  double centroids[16];   // the first 2^bits are used
  double boundaries[15];  // the first 2^bits − 1 are used
};

constexpr TableEntry kTable[] = {
#include "codebook/codebook_table.inc"
};

Codebook from_entry(const TableEntry& e) {
  Codebook cb;
  cb.dim = e.dim;
  cb.bits = e.bits;
  cb.iterations = e.iterations;
  cb.max_step = e.max_step;
  cb.mse = e.mse;
  cb.index_entropy_bits = e.index_entropy_bits;
  const int levels = 1 << e.bits;
  // Boundaries are stored rather than re-derived: the solver forms the midpoints in z = x·√d
  // units, and recomputing them in x units could move a float boundary by one ulp.
  cb.centroids.assign(e.centroids, e.centroids + levels);
  cb.boundaries.assign(e.boundaries, e.boundaries + (levels - 1));
  for (double c : cb.centroids) cb.centroids_f.push_back(static_cast<float>(c));
  for (double t : cb.boundaries) cb.boundaries_f.push_back(static_cast<float>(t));
  return cb;
}

}  // namespace

std::vector<std::pair<std::uint32_t, int>> committed_codebooks() {
  std::vector<std::pair<std::uint32_t, int>> v;
  for (const auto& e : kTable) v.emplace_back(e.dim, e.bits);
  return v;
}

const Codebook& lloyd_max_codebook(std::uint32_t dim, int bits) {
  static std::mutex mu;
  static std::map<std::pair<std::uint32_t, int>, std::unique_ptr<Codebook>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{dim, bits}];
  if (!slot) {
    for (const auto& e : kTable)
      if (e.dim == dim && e.bits == bits) slot = std::make_unique<Codebook>(from_entry(e));
    if (!slot) {
      cache.erase({dim, bits});
      throw std::invalid_argument("no committed Lloyd-Max codebook for d=" + std::to_string(dim) +
                                  " b=" + std::to_string(bits) +
                                  " (kernels/codebook/codebook_table.inc; regenerate it with "
                                  "jevons-codebook-table after adding the dimension)");
    }
  }
  return *slot;
}

}  // namespace jevons::kernels
