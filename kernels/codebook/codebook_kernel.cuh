#pragma once
/// \file Device side of the codebook: the fused kernels read centroids/boundaries from the
/// VectorDesc kernel parameter and call the shared bucketize() (codebook.h); this kernel exposes
/// that path on its own for tests.

#include <cstdint>

#include "codebook/codebook.h"

namespace jevons::kernels::gpu::dev {

struct Boundaries {
  float b[15];
  int n;
};

__global__ void bucketize_kernel(Boundaries bd, const float* y, std::size_t n, std::uint8_t* idx) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) idx[i] = static_cast<std::uint8_t>(::jevons::kernels::bucketize(bd.b, bd.n, y[i]));
}

}  // namespace jevons::kernels::gpu::dev
