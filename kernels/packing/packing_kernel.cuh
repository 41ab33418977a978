#pragma once
/// \file Device pack/unpack (one thread per output byte / per code); the fused kernels pack
/// in-line (quant_kernel.cuh) and read with group_code (scores_kernel.cuh).

#include <cstdint>

#include "packing/packing.h"

namespace jevons::kernels::gpu::dev {

__global__ void pack_kernel(const std::uint8_t* codes, std::size_t count, int bits,
                            std::uint8_t* out, std::size_t out_bytes) {
  const std::size_t k = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (k >= out_bytes) return;
  unsigned byte = 0;
  for (int b = 0; b < 8; ++b) {
    const std::size_t bit = 8 * k + b;
    const std::size_t j = bit / bits;
    if (j >= count) break;
    byte |= ((codes[j] >> (bit % bits)) & 1u) << b;
  }
  out[k] = static_cast<std::uint8_t>(byte);
}

__global__ void unpack_kernel(const std::uint8_t* packed, std::size_t count, int bits,
                              std::uint8_t* codes) {
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (j < count) codes[j] = static_cast<std::uint8_t>(read_code(packed, j, bits));
}

}  // namespace jevons::kernels::gpu::dev
