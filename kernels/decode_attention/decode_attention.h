#pragma once
/// \file Fused decode attention over a compressed paged KV cache (one new query token per
/// sequence): scores from compressed keys, online softmax, weighted sum of compressed values in
/// the codec domain, output rotated back once per row.
///
/// GQA-aware: the H/HKV query heads of one KV head are processed together, so each stored K/V
/// byte is read once per step. Split-sequence (flash-decoding): each sequence's tokens are cut
/// into `num_splits` page-aligned chunks processed independently; partial (max, sum, acc) triples
/// are merged exactly, so the result does not depend on the split count beyond float rounding.

#include <cstdint>
#include <string>
#include <vector>

#include "scores/scores.h"

namespace jevons::kernels {

/// Splits per (sequence, KV head) so that batch·kv_heads·splits fills `parallel_units` ≈2 times
/// over, never below one page per split and at most 64. Shared by the CPU twin and the launcher.
inline std::uint32_t choose_num_splits(std::uint32_t batch, std::uint32_t kv_heads,
                                       std::uint32_t max_len, std::uint32_t page_tokens,
                                       std::uint32_t parallel_units) {
  const std::uint64_t ctas = std::uint64_t{batch} * kv_heads;
  if (ctas == 0 || max_len == 0) return 1;
  std::uint64_t want = (2ull * parallel_units + ctas - 1) / ctas;
  const std::uint64_t pages = (max_len + page_tokens - 1) / page_tokens;
  if (want > pages) want = pages;
  if (want > 64) want = 64;
  return want < 1 ? 1u : static_cast<std::uint32_t>(want);
}

/// Tokens per split for a sequence of `len` tokens (a multiple of page_tokens).
inline std::uint32_t split_chunk_tokens(std::uint32_t len, std::uint32_t num_splits,
                                        std::uint32_t page_tokens) {
  const std::uint32_t per = (len + num_splits - 1) / num_splits;
  const std::uint32_t pages = (per + page_tokens - 1) / page_tokens;
  return (pages == 0 ? 1 : pages) * page_tokens;
}

/// CPU twin of the fused decode kernel.
/// `q`: [batch][q_heads][head_dim] floats (original domain). `out`: [batch][q_heads][head_dim].
/// `softmax_scale`: usually 1/√head_dim. `num_splits` ≥ 1 (see choose_num_splits).
/// Pools: [layout.total_bytes()] bytes each; sequences with seq_len 0 produce zeros.
void decode_attention_ref(const std::vector<VectorCodec>& k_codecs,
                          const std::vector<VectorCodec>& v_codecs, const HostKvCache& cache,
                          const PagedBatch& batch, const float* q, float softmax_scale,
                          std::uint32_t num_splits, float* out);

/// Plain float64 attention on uncompressed inputs, the accuracy reference.
/// `q`: [batch][q_heads][d]; `k`, `v`: [batch][max_len][kv_heads][d]; `out`: [batch][q_heads][d].
void attention_reference_f64(const float* q, const float* k, const float* v, std::uint32_t batch,
                             std::uint32_t q_heads, std::uint32_t kv_heads, std::uint32_t d,
                             std::uint32_t max_len, const std::uint32_t* seq_lens,
                             double softmax_scale, double* out);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

/// Scratch for the split-sequence path, sized by decode_workspace_bytes().
std::size_t decode_workspace_bytes(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                                   const PagedBatch& batch, std::uint32_t num_splits);

/// Fused decode attention (GPU twin of decode_attention_ref): query prologue (rotate/sketch),
/// split kernel over compressed K/V pages, combine kernel (merge splits, rotate back).
/// `batch` holds device pointers; `q`, `out`: device [batch][q_heads][dim] floats;
/// `workspace`: device, ≥ decode_workspace_bytes(). `num_splits` 0 = choose_num_splits().
/// bf16 K and V take the dedicated bf16 kernel (the baseline); K and V of one TurboQuant format
/// (tq-mse-2/3/4, the outlier-split tq-3.5 and tq-2.5; tq-prod-2/3/4 at head_dim ≤ 128) with ≤ 8
/// query heads per KV head take the pipelined tensor-core kernel (decode_pipelined_kernel.cuh);
/// every other combination the generic kernel.
Status decode_attention(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                        const DeviceKvCache& cache, const PagedBatch& batch, const float* q,
                        float softmax_scale, std::uint32_t num_splits, void* workspace, float* out,
                        const Stream& stream);

/// Which split kernel decode_attention runs for these inputs: "pipelined", "split-bf16" or
/// "split-generic" (tests use it to prove they cover the pipelined kernel; the benchmark prints
/// it).
std::string decode_kernel_name(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                               const DeviceKvCache& cache, const PagedBatch& batch);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
