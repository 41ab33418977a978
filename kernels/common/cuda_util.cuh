#pragma once
/// \file CUDA helpers shared by every *_launch.cu: error checking that returns a Status (never
/// exits), head_dim dispatch, byte access to the packed layouts.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "common/status.h"

namespace jevons::kernels::gpu {

inline Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::ok_status();
  return Status::error(std::string(what) + ": " + cudaGetErrorName(e) + " (" +
                       cudaGetErrorString(e) + ")");
}

}  // namespace jevons::kernels::gpu

/// Returns a Status from the enclosing function when a CUDA call fails.
#define JEVONS_CUDA_CHECK(call)                                       \
  do {                                                                \
    const cudaError_t jevons_err_ = (call);                           \
    if (jevons_err_ != cudaSuccess)                                   \
      return ::jevons::kernels::gpu::cuda_status(jevons_err_, #call); \
  } while (0)

/// Checks the last launch (configuration errors surface here, not at the <<< >>> site).
#define JEVONS_CUDA_CHECK_LAUNCH(name) JEVONS_CUDA_CHECK(cudaGetLastError())

/// switch-based dispatch on the compile-time head dims; the default reports the size.
#define JEVONS_DISPATCH_HEAD_DIM(dim, HEAD_DIM, ...)                                             \
  [&]() -> ::jevons::kernels::Status {                                                           \
    switch (dim) {                                                                               \
      case 64: {                                                                                 \
        constexpr int HEAD_DIM = 64;                                                             \
        return __VA_ARGS__();                                                                    \
      }                                                                                          \
      case 128: {                                                                                \
        constexpr int HEAD_DIM = 128;                                                            \
        return __VA_ARGS__();                                                                    \
      }                                                                                          \
      case 256: {                                                                                \
        constexpr int HEAD_DIM = 256;                                                            \
        return __VA_ARGS__();                                                                    \
      }                                                                                          \
      default:                                                                                   \
        return ::jevons::kernels::Status::error("Unsupported head_dim: " + std::to_string(dim)); \
    }                                                                                            \
  }()

namespace jevons::kernels::gpu::dev {

__device__ __forceinline__ float load_half(const std::uint8_t* meta, std::uint32_t slot) {
  const std::uint16_t bits = static_cast<std::uint16_t>(
      meta[2 * slot] | (static_cast<std::uint16_t>(meta[2 * slot + 1]) << 8));
  return __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ void store_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v & 0xffu);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

__device__ __forceinline__ std::uint16_t half_bits(float f) {
  return __half_as_ushort(__float2half_rn(f));
}

/// `nbytes` (1..4) bytes little-endian from a possibly unaligned address.
__device__ __forceinline__ std::uint32_t load_bytes(const std::uint8_t* p, int nbytes) {
  std::uint32_t w = 0;
  for (int i = 0; i < nbytes; ++i) w |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return w;
}

}  // namespace jevons::kernels::gpu::dev
