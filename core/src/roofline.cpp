#include "jevons/core/roofline.h"

#include <algorithm>
#include <cmath>

namespace jevons {

double moe_expert_fraction_touched(std::uint32_t experts, std::uint32_t k, std::uint64_t tokens) {
  if (experts == 0) return 1.0;
  const double p_miss = 1.0 - static_cast<double>(k) / static_cast<double>(experts);
  return 1.0 - std::pow(p_miss, static_cast<double>(tokens));
}

double weight_bytes_read_per_gpu(const ModelSpec& model, WeightPrecision weights,
                                 std::uint32_t tensor_parallel, std::uint64_t tokens) {
  double bytes = stored_weight_bytes(model, weights);
  if (model.is_moe()) {
    // A step reads the shared weights plus every expert some token chose (routed share from
    // total and active parameters, ModelSpec::routed_expert_params).
    const double routed = model.routed_expert_params();
    const double shared = model.params_total_b * 1e9 - routed;
    bytes = shared * shared_bytes_per_weight(model, weights) +
            routed * bytes_per_weight(weights) *
                moe_expert_fraction_touched(model.experts, model.experts_per_token,
                                            std::max<std::uint64_t>(tokens, 1));
  }
  return bytes / static_cast<double>(tensor_parallel);
}

DecodeEstimate estimate_decode_step(const GpuSpec& gpu, const ModelSpec& model,
                                    const KvFootprint& kv, WeightPrecision weights,
                                    std::uint32_t batch_sequences, std::uint64_t context_tokens,
                                    const AnalyticalParams& params) {
  DecodeEstimate e;
  e.batch_sequences = batch_sequences;
  e.context_tokens = context_tokens;
  const std::uint32_t tp = kv.tensor_parallel();
  const double batch = batch_sequences;

  e.weight_bytes_read_per_gpu = weight_bytes_read_per_gpu(model, weights, tp, batch_sequences);
  e.kv_bytes_read_per_gpu =
      batch * static_cast<double>(kv.bytes_for_sequence_per_gpu(context_tokens, 1));

  // Attention FLOPs: QK^T and PV, 2 FLOPs per multiply-add, over the tokens each layer holds.
  double attn_flops_per_token = 0;
  for (auto kind : model.layer_attention) {
    std::uint64_t held = context_tokens;
    if (kind == LayerAttention::kSliding || kind == LayerAttention::kChunked)
      held = std::min<std::uint64_t>(context_tokens, model.window_tokens);
    const double width = kind == LayerAttention::kMla
                             ? static_cast<double>(2 * model.kv_lora_rank + model.qk_rope_head_dim)
                             : 2.0 * model.head_dim;
    attn_flops_per_token += 2.0 * model.q_heads * width * static_cast<double>(held);
  }
  const double flops_per_token = 2.0 * model.params_active_b * 1e9 + attn_flops_per_token;
  e.flops_per_gpu = batch * flops_per_token / tp;

  const double bw =
      gpu.hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e12 * params.bandwidth_efficiency;
  const double flops =
      gpu.dense_tflops(gemm_precision(gpu, weights)) * 1e12 * params.compute_efficiency;
  e.memory_time_ns = (e.weight_bytes_read_per_gpu + e.kv_bytes_read_per_gpu) / bw * 1e9;
  e.compute_time_ns = e.flops_per_gpu / flops * 1e9;

  if (tp > 1) {
    // Two ring all-reduces per layer of the bf16 hidden state; a ring moves 2(p−1)/p of the
    // message over each GPU's link, one direction of the bidirectional NVLink figure.
    const double msg_bytes = batch * model.hidden_size * 2.0;
    e.allreduce_time_ns = 2.0 * model.layers *
                          ring_allreduce_ns(msg_bytes, tp,
                                            gpu.scaleup_link_gbps.get("scaleup_link_gbps") *
                                                params.allreduce_bandwidth_efficiency,
                                            params.allreduce_latency_us);
  }
  e.overhead_time_ns = params.step_overhead_us * 1e3;
  // GEMMs and attention are separate kernels: each is bound by its own roof and their times add
  // (the simulator's latency model does the same; docs/latency-model.md).
  const double gemm_compute = batch * 2.0 * model.params_active_b * 1e9 / tp / flops * 1e9;
  const double gemm = std::max(gemm_compute, e.weight_bytes_read_per_gpu / bw * 1e9);
  const double attention =
      std::max(e.kv_bytes_read_per_gpu / bw * 1e9, batch * attn_flops_per_token / tp / flops * 1e9);
  const double core = gemm + attention;
  e.bound = e.memory_time_ns >= e.compute_time_ns ? "memory" : "compute";
  e.step_time_ns =
      static_cast<std::int64_t>(std::llround(core + e.allreduce_time_ns + e.overhead_time_ns));
  e.tokens_per_s_replica = batch / (static_cast<double>(e.step_time_ns) * 1e-9);
  e.tokens_per_s_per_gpu = e.tokens_per_s_replica / tp;
  return e;
}

}  // namespace jevons
