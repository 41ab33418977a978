#pragma once
/// \file The fused append: K and V as grid.y = 0 and 1 of one launch that rotates, quantizes,
/// packs and stores both tensors. Single-segment Hadamard tq-mse formats take the
/// warp-cooperative append_tq_kernel (append/append_tq_kernel.cuh); the outlier splits tq-2.5/3.5
/// its four-block form append_split_kernel (append/append_split_kernel.cuh); tq-prod with a
/// Hadamard rotation at head_dim 64/128 the tensor-core append_mma_kernel
/// (append/append_mma_kernel.cuh); every other format quant/quant_kernel.cuh's store_kernel. K and
/// V share a launch when they take the same instance.

#include "quant/quant.h"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu::dev {
/// Builds the per-tensor kernel argument (defined in quant_launch.cu).
StoreTensor make_store_tensor(const DeviceCodecSet& set, const PoolLayout& layout,
                              std::uint8_t* pool, const void* input, InputType type);
/// Launches the append over `tensors` (1 or 2) tensors, each through append_tq_kernel or
/// append_mma_kernel when it is eligible, else store_kernel; store_kernel's instantiations live in
/// quant_launch.cu only, so each head_dim is compiled once.
Status launch_store(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors, std::uint64_t n,
                    std::uint32_t kv_heads, const std::int64_t* slots, const Stream& stream);
/// What every warp-cooperative append needs of a tensor beyond its format: bf16 input in
/// 16-byte-aligned rows (16-byte row loads), slots < 2^31 and in-page offsets < 2^32 (the kernels'
/// 32-bit slot and offset arithmetic).
inline bool append_pool_fits(const StoreTensor& t) {
  return t.input_bf16 != 0u && reinterpret_cast<std::uintptr_t>(t.input) % 16 == 0 &&
         std::uint64_t{t.layout.num_pages} * t.layout.page_tokens < (1ull << 31) &&
         t.layout.page_bytes() < (1ull << 32);
}
/// True when `t` is a format append_tq_kernel encodes: TurboQuant_mse, one segment, Hadamard
/// rotation, identity channel permutation, head_dim 64/128/256 (append_tq_launch.cu).
bool append_tq_eligible(const StoreTensor& t);
/// Launches append_tq_kernel over `tensors` (1 or 2) eligible tensors that share head_dim and
/// bit width (append_tq_launch.cu).
Status launch_append_tq(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                        std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                        const Stream& stream);
/// True when `t` is a format append_mma_kernel encodes: TurboQuant_prod-2/3/4, Hadamard rotation,
/// bf16 input, head_dim 64/128 (append_mma_launch.cu).
bool append_mma_eligible(const StoreTensor& t);
/// Launches append_mma_kernel over `tensors` (1 or 2) eligible tensors that share head_dim and
/// bit width (append_mma_launch.cu).
Status launch_append_mma(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                         std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                         const Stream& stream);
/// True when `t` is a format append_split_kernel encodes: tq-3.5 or tq-2.5 (d/4 outliers at 4 / 3
/// bits with a Hadamard rotation, 3d/4 at 3 / 2 bits with kBlockHadamard), bf16 input, head_dim
/// 64/128/256 (append_split_launch.cu).
bool append_split_eligible(const StoreTensor& t);
/// Launches append_split_kernel over `tensors` (1 or 2) eligible tensors that share head_dim and
/// format (append_split_launch.cu).
Status launch_append_split(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                           std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                           const Stream& stream);
}  // namespace jevons::kernels::gpu::dev
