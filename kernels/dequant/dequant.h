#pragma once
/// \file Dequantize stored vectors back to floats (tests and accuracy measurements only: the
/// attention paths never materialise dequantized K or V).

#include <cstdint>
#include <vector>

#include "append/append.h"

namespace jevons::kernels {

/// CPU twin of the dequant kernel. `pool`: [layout.total_bytes()]; `slots`: [n_tokens];
/// `out`: [n_tokens][kv_heads][dim] floats in the original channel order.
void dequant_ref(const std::vector<VectorCodec>& codecs, const PoolLayout& layout,
                 const std::uint8_t* pool, const std::int64_t* slots, std::size_t n_tokens,
                 float* out);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

/// GPU twin of dequant_ref. `pool`: device; `slots`: device [n_tokens]; `out`: device
/// [n_tokens][kv_heads][dim] floats.
Status dequant(const DeviceCodecSet& set, const PoolLayout& layout, const std::uint8_t* pool,
               const std::int64_t* slots, std::size_t n_tokens, float* out, const Stream& stream);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
