#pragma once
/// \file Exact KV-cache bytes for a model under a KV format, for every attention layout.
///
/// Per layer and token, a GQA layer stores kv_heads key vectors and kv_heads value vectors of
/// head_dim; an MLA layer stores one latent of (kv_lora_rank + qk_rope_head_dim) under the key
/// format (MLA has no separate value cache). A sliding-window or chunked layer holds at most its
/// window of tokens; a full layer holds them all.

#include <cstddef>
#include <cstdint>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_format.h"

namespace jevons {

class KvFootprint {
 public:
  /// `tensor_parallel` shards KV heads across GPUs; when it exceeds kv_heads, heads are
  /// replicated (each GPU holds one), and an MLA latent is replicated on every rank.
  KvFootprint(const ModelSpec& model, const KvConfig& kv, std::uint32_t tensor_parallel = 1);

  /// Bytes one token adds to one layer of the given kind, summed over the replica's GPUs.
  std::uint64_t bytes_per_token_layer(LayerAttention kind) const;
  /// Bytes per token if every layer held the token: the catalog's "KV per token" number
  /// (Llama-3.1-70B bf16: 327,680 B; DeepSeek-V3 MLA bf16: 70,272 B). Whole replica.
  std::uint64_t bytes_per_token() const { return bytes_per_token_all_layers_; }
  /// Exact bytes held for one sequence of `tokens`, whole replica, with each layer's token count
  /// rounded up to `block_tokens` (paged KV; 1 = no paging).
  std::uint64_t bytes_for_sequence(std::uint64_t tokens, std::uint32_t block_tokens = 1) const;
  /// Same, on the most loaded GPU of the replica (what decides whether it fits).
  std::uint64_t bytes_for_sequence_per_gpu(std::uint64_t tokens,
                                           std::uint32_t block_tokens = 1) const;
  /// bytes_for_sequence(tokens) / tokens: what a token really costs at that context.
  double effective_bytes_per_token(std::uint64_t tokens) const;
  /// Per-token bytes on one GPU if every layer held the token.
  std::uint64_t bytes_per_token_per_gpu() const { return bytes_per_token_per_gpu_; }
  /// How many of the model's layers have attention of this kind.
  std::uint64_t layers_of_kind(LayerAttention kind) const {
    return layers_of_kind_[static_cast<std::size_t>(kind)];
  }
  /// KV heads each GPU holds (after sharding or replication).
  std::uint32_t kv_heads_per_gpu() const { return kv_heads_per_gpu_; }

  const ModelSpec& model() const { return *model_; }
  const KvConfig& kv() const { return kv_; }
  std::uint32_t tensor_parallel() const { return tp_; }

 private:
  std::uint64_t per_gpu_token_layer_bytes(LayerAttention kind) const;

  const ModelSpec* model_;
  KvConfig kv_;
  std::uint32_t tp_;
  std::uint32_t kv_heads_per_gpu_ = 0;
  std::uint64_t bytes_per_token_all_layers_ = 0;
  std::uint64_t bytes_per_token_per_gpu_ = 0;
  // Per attention kind (indexed by LayerAttention): how many layers, and the bytes one token
  // adds to one such layer on one GPU. Sequence sizes are asked for millions of times by the
  // capacity searches and bands; summing per kind rather than per layer gives the same integers.
  static constexpr std::size_t kKinds = 4;
  std::uint64_t layers_of_kind_[kKinds] = {};
  std::uint64_t per_gpu_bytes_of_kind_[kKinds] = {};
};

}  // namespace jevons
