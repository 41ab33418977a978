// CPU twins of the synthetic-step kernels, layer shapes and step sizing (no Eigen: this file
// is in the kernels-only build; the Eigen CPU step is model_step_cpu.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "append/append.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "model_step/model_step.h"
#include "quant/quant.h"
#include "scores/scores.h"

namespace jevons::kernels {

LayerDims LayerDims::of(const ModelSpec& model, std::uint32_t tp) {
  if (model.is_moe() || model.is_mla())
    throw std::invalid_argument(model.id +
                                ": synthetic steps cover dense GQA models only (MoE routing and "
                                "MLA absorption are not modelled by the step profiler)");
  if (model.intermediate_size == 0 || model.vocab_size == 0)
    throw std::invalid_argument(model.id +
                                ": data/models.yaml gives no intermediate_size / vocab_size");
  if (tp == 0 || model.q_heads % tp || model.intermediate_size % tp)
    throw std::invalid_argument(model.id + ": tensor parallelism " + std::to_string(tp) +
                                " does not divide the query heads and MLP width");
  LayerDims d;
  d.hidden = model.hidden_size;
  d.q_heads = model.q_heads / tp;
  d.kv_heads = std::max<std::uint32_t>(1, model.kv_heads / tp);
  d.head_dim = model.head_dim;
  d.intermediate = model.intermediate_size / tp;
  d.vocab = (model.vocab_size + tp - 1) / tp;
  if (d.q_heads % d.kv_heads)
    throw std::invalid_argument(model.id +
                                ": query heads per shard are not a multiple of KV heads");
  return d;
}

std::uint64_t LayerDims::layer_weights() const {
  return std::uint64_t{hidden} * qkv_out() + std::uint64_t{q_heads} * head_dim * hidden +
         std::uint64_t{3} * hidden * intermediate;
}

namespace {

std::uint64_t kv_cache_bytes(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                             std::uint32_t page_tokens) {
  const std::uint64_t len = r.context + (r.prefill ? r.chunk : 1);
  const std::uint64_t pages = (len + page_tokens - 1) / page_tokens;
  return std::uint64_t{r.batch} * pages * page_tokens * d.kv_heads *
         (kv.key.bytes_per_vector(d.head_dim) + kv.value.bytes_per_vector(d.head_dim));
}

}  // namespace

StepPages step_pages(const StepRequest& r, std::uint32_t page_tokens) {
  StepPages p;
  p.len = r.context + (r.prefill ? r.chunk : 1);
  p.pages_per_seq = static_cast<std::uint32_t>((p.len + page_tokens - 1) / page_tokens);
  p.pages = r.batch * p.pages_per_seq;
  p.table.resize(p.pages);
  for (std::uint32_t i = 0; i < p.pages; ++i) p.table[i] = static_cast<std::int32_t>(i);
  for (std::uint32_t b = 0; b < r.batch; ++b)
    slots_for_positions(p.table.data(), p.pages_per_seq, page_tokens, b, r.context,
                        r.prefill ? r.chunk : 1, p.slots);
  p.lens.assign(r.batch, static_cast<std::uint32_t>(p.len));
  return p;
}

PagedBatch step_batch(const LayerDims& d, const StepRequest& r, const StepPages& p,
                      const std::int32_t* table, const std::uint32_t* lens) {
  PagedBatch pb;
  pb.batch = r.batch;
  pb.q_heads = d.q_heads;
  pb.kv_heads = d.kv_heads;
  pb.head_dim = d.head_dim;
  pb.block_table = table;
  pb.max_pages_per_seq = p.pages_per_seq;
  pb.seq_lens = lens;
  return pb;
}

std::uint64_t step_device_bytes(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                                std::uint32_t layers_measured, std::uint32_t page_tokens,
                                std::size_t weight_bytes_per_element) {
  const std::uint64_t t = r.new_tokens();
  std::uint64_t bytes = (d.layer_weights() * layers_measured + std::uint64_t{d.vocab} * d.hidden) *
                        weight_bytes_per_element;
  bytes += kv_cache_bytes(d, kv, r, page_tokens) * layers_measured;
  // Activations: x, qkv, attention out, gate/up, act, down, logits (generous: 4 B/element).
  bytes += 4 * t * (2ull * d.hidden + d.qkv_out() + d.q_heads * d.head_dim + 3ull * d.intermediate);
  bytes += 4ull * r.batch * d.vocab;
  if (r.prefill) {
    const std::uint64_t keys = r.context + r.chunk;
    const std::uint64_t group = d.q_heads / d.kv_heads;
    bytes += 6 * keys * group * r.chunk * d.kv_heads;  // fp32 scores + bf16 probabilities
    bytes += 4 * keys * (d.q_heads + 2ull * d.kv_heads) * d.head_dim;
  }
  return bytes;
}

void causal_softmax_ref(const float* s, std::uint32_t keys, std::uint32_t queries,
                        std::uint32_t chunk, std::uint32_t offset, float scale, float* p) {
  for (std::uint32_t q = 0; q < queries; ++q) {
    const float* col = s + std::size_t{q} * keys;
    float* out = p + std::size_t{q} * keys;
    const std::uint32_t visible = std::min<std::uint32_t>(keys, offset + q % chunk + 1);
    float m = -INFINITY;
    for (std::uint32_t j = 0; j < visible; ++j) m = std::max(m, col[j] * scale);
    double sum = 0;
    for (std::uint32_t j = 0; j < visible; ++j) sum += std::exp(double{col[j] * scale - m});
    for (std::uint32_t j = 0; j < visible; ++j)
      out[j] = static_cast<float>(std::exp(double{col[j] * scale - m}) / sum);
    for (std::uint32_t j = visible; j < keys; ++j) out[j] = 0.0f;
  }
}

void silu_mul_ref(const float* gate_up, std::uint32_t width, std::uint32_t tokens, float* out) {
  for (std::uint32_t t = 0; t < tokens; ++t) {
    const float* g = gate_up + std::size_t{t} * 2 * width;
    const float* u = g + width;
    float* o = out + std::size_t{t} * width;
    for (std::uint32_t i = 0; i < width; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

}  // namespace jevons::kernels
