#include "jevons/core/roofline.h"

#include <algorithm>
#include <cmath>

namespace jevons {

double moe_expert_fraction_touched(std::uint32_t experts, std::uint32_t k, std::uint64_t tokens) {
  if (experts == 0) return 1.0;
  const double p_miss = 1.0 - static_cast<double>(k) / static_cast<double>(experts);
  return 1.0 - std::pow(p_miss, static_cast<double>(tokens));
}

WeightStream::WeightStream(const ModelSpec& model, WeightPrecision weights) : model_(&model) {
  if (model.is_moe()) {
    const double routed = model.routed_expert_params();
    const double shared = model.params_total_b * 1e9 - routed;
    shared_bytes_ = shared * shared_bytes_per_weight(model, weights);
    routed_bytes_ = routed * bytes_per_weight(weights);
  } else {
    dense_bytes_ = stored_weight_bytes(model, weights);
  }
}

double WeightStream::bytes(std::uint64_t tokens) const {
  if (!model_->is_moe()) return dense_bytes_;
  return shared_bytes_ +
         routed_bytes_ * moe_expert_fraction_touched(model_->experts, model_->experts_per_token,
                                                     std::max<std::uint64_t>(tokens, 1));
}

double weight_bytes_read_per_gpu(const ModelSpec& model, WeightPrecision weights,
                                 std::uint32_t tensor_parallel, std::uint64_t tokens) {
  return WeightStream(model, weights).bytes(tokens) / static_cast<double>(tensor_parallel);
}

DecodeStepModel::DecodeStepModel(const GpuSpec& gpu, const ModelSpec& model, const KvFootprint& kv,
                                 WeightPrecision weights, std::uint64_t context_tokens,
                                 const AnalyticalParams& params)
    : model_(&model),
      context_tokens_(context_tokens),
      tp_(kv.tensor_parallel()),
      weights_(model, weights) {
  kv_bytes_per_sequence_ = static_cast<double>(kv.bytes_for_sequence_per_gpu(context_tokens, 1));

  // Attention FLOPs: QK^T and PV, 2 FLOPs per multiply-add, over the tokens each layer holds.
  // Per attention kind rather than per layer: every term is an integer below 2^53, so the sum
  // is exact either way.
  for (auto kind : {LayerAttention::kFull, LayerAttention::kSliding, LayerAttention::kChunked,
                    LayerAttention::kMla}) {
    const std::uint64_t layers = kv.layers_of_kind(kind);
    if (layers == 0) continue;
    std::uint64_t held = context_tokens;
    if (kind == LayerAttention::kSliding || kind == LayerAttention::kChunked)
      held = std::min<std::uint64_t>(context_tokens, model.window_tokens);
    const double width = kind == LayerAttention::kMla
                             ? static_cast<double>(2 * model.kv_lora_rank + model.qk_rope_head_dim)
                             : 2.0 * model.head_dim;
    attn_flops_per_token_ +=
        static_cast<double>(layers) * 2.0 * model.q_heads * width * static_cast<double>(held);
  }
  flops_per_token_ = 2.0 * model.params_active_b * 1e9 + attn_flops_per_token_;
  bw_ = gpu.hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e12 * params.bandwidth_efficiency;
  flops_ = gpu.dense_tflops(gemm_precision(gpu, weights)) * 1e12 * params.compute_efficiency;
  if (tp_ > 1)
    link_gbps_ =
        gpu.scaleup_link_gbps.get("scaleup_link_gbps") * params.allreduce_bandwidth_efficiency;
  allreduce_latency_us_ = params.allreduce_latency_us;
  overhead_ns_ = params.step_overhead_us * 1e3;
}

DecodeEstimate DecodeStepModel::at(std::uint32_t batch_sequences) const {
  const ModelSpec& model = *model_;
  DecodeEstimate e;
  e.batch_sequences = batch_sequences;
  e.context_tokens = context_tokens_;
  const std::uint32_t tp = tp_;
  const double batch = batch_sequences;

  e.weight_bytes_read_per_gpu = weights_.bytes(batch_sequences) / static_cast<double>(tp);
  e.kv_bytes_read_per_gpu = batch * kv_bytes_per_sequence_;
  e.flops_per_gpu = batch * flops_per_token_ / tp;

  const double bw = bw_, flops = flops_;
  e.memory_time_ns = (e.weight_bytes_read_per_gpu + e.kv_bytes_read_per_gpu) / bw * 1e9;
  e.compute_time_ns = e.flops_per_gpu / flops * 1e9;

  if (tp > 1) {
    // Two ring all-reduces per layer of the bf16 hidden state; a ring moves 2(p−1)/p of the
    // message over each GPU's link, one direction of the bidirectional NVLink figure.
    const double msg_bytes = batch * model.hidden_size * 2.0;
    e.allreduce_time_ns =
        2.0 * model.layers * ring_allreduce_ns(msg_bytes, tp, link_gbps_, allreduce_latency_us_);
  }
  e.overhead_time_ns = overhead_ns_;
  // GEMMs and attention are separate kernels: each is bound by its own roof and their times add
  // (the simulator's latency model does the same; docs/latency-model.md).
  const double gemm_compute = batch * 2.0 * model.params_active_b * 1e9 / tp / flops * 1e9;
  const double gemm = std::max(gemm_compute, e.weight_bytes_read_per_gpu / bw * 1e9);
  const double attention = std::max(e.kv_bytes_read_per_gpu / bw * 1e9,
                                    batch * attn_flops_per_token_ / tp / flops * 1e9);
  const double core = gemm + attention;
  e.bound = e.memory_time_ns >= e.compute_time_ns ? "memory" : "compute";
  e.step_time_ns =
      static_cast<std::int64_t>(std::llround(core + e.allreduce_time_ns + e.overhead_time_ns));
  e.tokens_per_s_replica = batch / (static_cast<double>(e.step_time_ns) * 1e-9);
  e.tokens_per_s_per_gpu = e.tokens_per_s_replica / tp;
  return e;
}

DecodeEstimate estimate_decode_step(const GpuSpec& gpu, const ModelSpec& model,
                                    const KvFootprint& kv, WeightPrecision weights,
                                    std::uint32_t batch_sequences, std::uint64_t context_tokens,
                                    const AnalyticalParams& params) {
  return DecodeStepModel(gpu, model, kv, weights, context_tokens, params).at(batch_sequences);
}

}  // namespace jevons
