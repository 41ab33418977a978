#pragma once
/// \file The fused append kernel is quant/quant_kernel.cuh's store_kernel launched with K and V
/// as grid.y = 0 and 1: one launch rotates, quantizes, packs and stores both tensors.

#include "quant/quant.h"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu::dev {
/// Builds the per-tensor kernel argument (defined in quant_launch.cu).
StoreTensor make_store_tensor(const DeviceCodecSet& set, const PoolLayout& layout,
                              std::uint8_t* pool, const void* input, InputType type);
/// Launches store_kernel over `tensors` (1 or 2) tensors; the instantiations live in
/// quant_launch.cu only, so each head_dim is compiled once.
Status launch_store(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors, std::uint64_t n,
                    std::uint32_t kv_heads, const std::int64_t* slots, const Stream& stream);
}  // namespace jevons::kernels::gpu::dev
