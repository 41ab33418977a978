#pragma once
/// \file Attention scores straight from compressed keys: the query is moved into the codec domain
/// once (rotated; for tq-prod also sketched), then each key costs a codebook lookup-dot over its
/// packed codes times its stored norm (plus the QJL signed sum). A dequantized K never exists.

#include <cstdint>
#include <vector>

#include "append/append.h"

namespace jevons::kernels {

/// Decode-time batch description shared by scores and decode attention.
struct PagedBatch {
  std::uint32_t batch = 0;
  std::uint32_t q_heads = 0;   ///< H; must be a multiple of kv_heads (GQA group H / kv_heads)
  std::uint32_t kv_heads = 0;  ///< HKV
  std::uint32_t head_dim = 0;
  const std::int32_t* block_table = nullptr;  ///< [batch][max_pages_per_seq] page ids
  std::uint32_t max_pages_per_seq = 0;
  const std::uint32_t* seq_lens = nullptr;  ///< [batch] tokens in the cache per sequence
};

/// CPU twin of the scores kernel. `q`: [batch][q_heads][head_dim] floats (original domain, not
/// pre-scaled). `scores`: [batch][q_heads][max_len] floats, entries ≥ seq_len left untouched.
/// `k_pool`: [layout.total_bytes()] bytes.
void scores_ref(const std::vector<VectorCodec>& k_codecs, const PoolLayout& layout,
                const std::uint8_t* k_pool, const PagedBatch& batch, const float* q,
                std::uint32_t max_len, float* scores);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

/// Moves queries into the codec domain, pre-multiplied by `scale` (for decode: softmax scale ·
/// log2 e, so the kernels use exp2). `q`: device [batch][q_heads][dim] floats; `q_work`: device
/// [batch][q_heads][set.desc.work_width()] floats.
Status prepare_queries(const DeviceCodecSet& set, const float* q, std::uint32_t batch,
                       std::uint32_t q_heads, float scale, float* q_work, const Stream& stream);

/// Scores straight from compressed keys (GPU twin of scores_ref). `batch` holds device pointers
/// (block_table, seq_lens). `q`: device [batch][q_heads][dim]; `q_work`: device scratch
/// [batch][q_heads][work_width]; `scores`: device [batch][q_heads][max_len].
Status scores(const DeviceCodecSet& k_set, const PoolLayout& layout, const std::uint8_t* k_pool,
              const PagedBatch& batch, const float* q, float* q_work, std::uint32_t max_len,
              float* scores, const Stream& stream);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
