#pragma once
/// \file Paged compressed KV cache: byte layout and the append (quantize + store) operation.
///
/// One pool per tensor (K or V, possibly different formats). Pool = [num_pages] pages; page =
/// [kv_heads] head blocks; head block = [page_tokens × code_bytes] codes followed by
/// [page_tokens × meta_bytes] metadata (fp16 norms / scales). Splitting codes from metadata keeps
/// every token's codes contiguous and 16-byte aligned for the GPU's vector loads, and adds nothing
/// per token: a pool is exactly num_pages·page_tokens·kv_heads·KvFormat::bytes_per_vector(dim)
/// bytes.
///
/// A token's place is its slot = page·page_tokens + offset; sequences map positions to pages with a
/// block table ([batch][max_pages_per_seq] int32 page ids, as in vLLM/FlashInfer paged_kv_t).

#include <cstdint>
#include <vector>

#include "append/pool_layout.h"
#include "common/hd.h"
#include "quant/quant.h"

namespace jevons::kernels {

/// Layout of a pool for `codec`'s format. Throws std::invalid_argument unless page_tokens is a
/// positive multiple of 16.
PoolLayout make_pool_layout(const VectorCodec& codec, std::uint32_t num_pages,
                            std::uint32_t page_tokens, std::uint32_t kv_heads);

/// Host-side pools for one layer (K and V).
struct HostKvCache {
  PoolLayout k_layout;
  PoolLayout v_layout;
  std::vector<std::uint8_t> k_pool;  ///< [k_layout.total_bytes()]
  std::vector<std::uint8_t> v_pool;  ///< [v_layout.total_bytes()]

  HostKvCache(const VectorCodec& k_codec, const VectorCodec& v_codec, std::uint32_t num_pages,
              std::uint32_t page_tokens, std::uint32_t kv_heads);
};

/// CPU twin of the fused append kernel: quantizes and stores n_tokens new K/V vectors.
/// `k`, `v`: [n_tokens][kv_heads][dim] floats. `slots`: [n_tokens] (page·page_tokens + offset).
/// `k_codecs`, `v_codecs`: one codec per KV head (make_head_codecs).
void append_ref(const std::vector<VectorCodec>& k_codecs, const std::vector<VectorCodec>& v_codecs,
                const float* k, const float* v, std::size_t n_tokens, const std::int64_t* slots,
                HostKvCache& cache);

/// Quantizes one tensor only (used by append_ref and the profiler's accuracy pass).
/// `x`: [n_tokens][kv_heads][dim]; `pool`: [layout.total_bytes()].
void store_vectors_ref(const std::vector<VectorCodec>& codecs, const PoolLayout& layout,
                       const float* x, std::size_t n_tokens, const std::int64_t* slots,
                       std::uint8_t* pool);

/// Slots for a contiguous batch: sequence b, positions [start, start+count) through
/// `block_table` ([batch][max_pages_per_seq]). Appends to `slots`.
void slots_for_positions(const std::int32_t* block_table, std::uint32_t max_pages_per_seq,
                         std::uint32_t page_tokens, std::uint32_t b, std::uint64_t start,
                         std::uint64_t count, std::vector<std::int64_t>& slots);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

/// Device pools for one layer (K and V), laid out exactly like HostKvCache.
struct DeviceKvCache {
  PoolLayout k_layout;
  PoolLayout v_layout;
  DeviceBuffer k_pool;                                      ///< [k_layout.total_bytes()]
  DeviceBuffer v_pool;                                      ///< [v_layout.total_bytes()]
  Status create(const PoolLayout& k, const PoolLayout& v);  ///< allocates and zeroes
};

/// Fused append: for every new token and KV head, rotate, quantize, pack and store K and V in one
/// launch (grid.z selects the tensor). `k`, `v`: device [n_tokens][kv_heads][dim] of `input`
/// type; `slots`: device [n_tokens]. Codes are bit-identical to append_ref on the same floats,
/// except append_mma_kernel's QJL sign bits, which may differ where the projection lies within
/// qjl_sign_tolerance of 0 (append/append_mma.h).
Status append(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set, const void* k,
              const void* v, InputType input, std::size_t n_tokens, const std::int64_t* slots,
              DeviceKvCache& cache, const Stream& stream);

/// Which kernel gpu::append runs for one tensor: "append_tq" (warp-cooperative, tq-mse with a
/// Hadamard rotation, bf16 input), "append_split" (its form for the outlier splits tq-2.5/3.5 at
/// head_dim 64/128/256, bf16 input), "append_mma" (tensor-core, tq-prod-2/3/4 with a Hadamard
/// rotation at head_dim 64/128, bf16 input: QJL signs within a stated tolerance of the twin's,
/// append/append_mma.h) or "store" (every other format and fp32 input). Tests assert it.
const char* append_kernel_name(const DeviceCodecSet& set, const PoolLayout& layout,
                               InputType input);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
