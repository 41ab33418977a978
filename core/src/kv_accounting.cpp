#include "jevons/core/kv_accounting.h"

#include <algorithm>
#include <stdexcept>

namespace jevons {

KvFootprint::KvFootprint(const ModelSpec& model, const KvConfig& kv, std::uint32_t tensor_parallel)
    : model_(&model), kv_(kv), tp_(tensor_parallel) {
  if (tp_ == 0) throw std::invalid_argument("tensor_parallel must be positive");
  if (model.layer_attention.size() != model.layers)
    throw std::logic_error("model " + model.id + " has no per-layer attention layout");
  if (model.is_mla()) {
    // vLLM replicates the MLA latent on every tensor-parallel rank (it is not split by head).
    kv_heads_per_gpu_ = 1;
  } else {
    // Heads shard across ranks; beyond kv_heads ranks, each rank keeps a replica of one head.
    kv_heads_per_gpu_ = std::max<std::uint32_t>(1, (model.kv_heads + tp_ - 1) / tp_);
  }
  static_assert(static_cast<std::size_t>(LayerAttention::kMla) + 1 == kKinds,
                "KvFootprint counts layers per LayerAttention value");
  for (auto kind : model.layer_attention) {
    bytes_per_token_per_gpu_ += per_gpu_token_layer_bytes(kind);
    ++layers_of_kind_[static_cast<std::size_t>(kind)];
  }
  for (std::size_t k = 0; k < kKinds; ++k)
    if (layers_of_kind_[k] > 0)
      per_gpu_bytes_of_kind_[k] = per_gpu_token_layer_bytes(static_cast<LayerAttention>(k));
  bytes_per_token_all_layers_ = bytes_per_token_per_gpu_ * tp_;
}

std::uint64_t KvFootprint::per_gpu_token_layer_bytes(LayerAttention kind) const {
  if (kind == LayerAttention::kMla) {
    // The latent [c_kv | k_rope] is one vector stored under the key format; MLA has no V cache.
    return kv_.key.bytes_per_vector(model_->kv_lora_rank + model_->qk_rope_head_dim);
  }
  const std::uint32_t d = model_->head_dim;
  return std::uint64_t{kv_heads_per_gpu_} *
         (kv_.key.bytes_per_vector(d) + kv_.value.bytes_per_vector(d));
}

std::uint64_t KvFootprint::bytes_per_token_layer(LayerAttention kind) const {
  return per_gpu_token_layer_bytes(kind) * tp_;
}

namespace {
std::uint64_t held_tokens(LayerAttention kind, std::uint64_t tokens, std::uint32_t window) {
  // A windowed layer needs its window at most; a paged allocator must reserve that much for a
  // sequence that keeps growing, so chunked layers are charged min(tokens, chunk) too.
  if (kind == LayerAttention::kSliding || kind == LayerAttention::kChunked)
    return std::min<std::uint64_t>(tokens, window);
  return tokens;
}
std::uint64_t round_up(std::uint64_t v, std::uint32_t block) {
  if (block <= 1) return v;
  return (v + block - 1) / block * block;
}
}  // namespace

std::uint64_t KvFootprint::bytes_for_sequence_per_gpu(std::uint64_t tokens,
                                                      std::uint32_t block_tokens) const {
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < kKinds; ++k) {
    if (layers_of_kind_[k] == 0) continue;
    const auto kind = static_cast<LayerAttention>(k);
    total += layers_of_kind_[k] *
             round_up(held_tokens(kind, tokens, model_->window_tokens), block_tokens) *
             per_gpu_bytes_of_kind_[k];
  }
  return total;
}

std::uint64_t KvFootprint::bytes_for_sequence(std::uint64_t tokens,
                                              std::uint32_t block_tokens) const {
  return bytes_for_sequence_per_gpu(tokens, block_tokens) * tp_;
}

double KvFootprint::effective_bytes_per_token(std::uint64_t tokens) const {
  if (tokens == 0) return 0;
  return static_cast<double>(bytes_for_sequence(tokens)) / static_cast<double>(tokens);
}

}  // namespace jevons
