#include "jevons/core/replica_memory.h"

#include <algorithm>
#include <cmath>

#include "jevons/core/error.h"

namespace jevons {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
}

WeightPrecision parse_weight_precision(const std::string& s) {
  if (s == "bf16" || s == "fp16") return WeightPrecision::kBf16;
  if (s == "fp8") return WeightPrecision::kFp8;
  if (s == "fp4") return WeightPrecision::kFp4;
  if (s == "mxfp4") return WeightPrecision::kMxfp4;
  Diagnostic d;
  d.value = s;
  d.message = "unknown weight precision; expected bf16, fp8, fp4 or mxfp4";
  if (auto m = closest_match(s, {"bf16", "fp16", "fp8", "fp4", "mxfp4"}); !m.empty())
    d.hint = "did you mean '" + m + "'?";
  throw InputError(d);
}

std::string to_string(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kBf16:
      return "bf16";
    case WeightPrecision::kFp8:
      return "fp8";
    case WeightPrecision::kFp4:
      return "fp4";
    case WeightPrecision::kMxfp4:
      return "mxfp4";
  }
  return "?";
}

double bytes_per_weight(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kBf16:
      return 2.0;
    case WeightPrecision::kFp8:
      return 1.0;
    // 4-bit values plus one FP8 scale per 16 (NVFP4); MXFP4's E8M0 per 32 is close enough below.
    case WeightPrecision::kFp4:
      return 0.5 + 1.0 / 16.0;
    // OCP MXFP4: 4-bit values plus one 8-bit E8M0 scale per 32.
    case WeightPrecision::kMxfp4:
      return 0.5 + 1.0 / 32.0;
  }
  return 2.0;
}

std::string gemm_precision(const GpuSpec& gpu, WeightPrecision w) {
  if (w == WeightPrecision::kMxfp4) return gpu.fp4_dense_tflops.known() ? "fp4" : "bf16";
  return to_string(w);
}

double shared_bytes_per_weight(const ModelSpec& model, WeightPrecision w) {
  // gpt-oss's MXFP4 checkpoint quantizes the routed experts only; everything else is bf16.
  if (w == WeightPrecision::kMxfp4 && model.is_moe()) return 2.0;
  return bytes_per_weight(w);
}

double stored_weight_bytes(const ModelSpec& model, WeightPrecision w) {
  const double total = model.params_total_b * 1e9;
  if (w != WeightPrecision::kMxfp4) return total * bytes_per_weight(w);
  if (model.is_moe()) {
    const double routed = model.routed_expert_params();
    return routed * bytes_per_weight(w) + (total - routed) * 2.0;
  }
  // A dense model in MXFP4 keeps its embedding and LM head in bf16, as narrow checkpoints do.
  const double embed = std::min(total, model.embedding_params());
  return (total - embed) * bytes_per_weight(w) + embed * 2.0;
}

double attention_weight_bytes(const ModelSpec& model, WeightPrecision w) {
  return model.attention_params() * shared_bytes_per_weight(model, w);
}

ReplicaMemory plan_replica_memory(const GpuSpec& gpu, const ModelSpec& model,
                                  std::uint32_t tensor_parallel, WeightPrecision weights,
                                  const MemoryPolicy& policy) {
  ReplicaMemory m;
  m.tensor_parallel = tensor_parallel;
  m.hbm_usable_bytes_per_gpu =
      static_cast<std::uint64_t>(std::llround(gpu.hbm_usable_gib.get("hbm_usable_gib") * kGiB));
  m.budget_bytes_per_gpu = static_cast<std::uint64_t>(
      std::floor(static_cast<double>(m.hbm_usable_bytes_per_gpu) * policy.utilization));
  const double weight_bytes = stored_weight_bytes(model, weights);
  m.weight_bytes_per_gpu =
      static_cast<std::uint64_t>(std::ceil(weight_bytes / static_cast<double>(tensor_parallel)));
  m.reserve_bytes_per_gpu = static_cast<std::uint64_t>(
      std::llround((policy.activation_reserve_gib + policy.runtime_overhead_gib) * kGiB));
  m.kv_bytes_per_gpu = static_cast<std::int64_t>(m.budget_bytes_per_gpu) -
                       static_cast<std::int64_t>(m.weight_bytes_per_gpu) -
                       static_cast<std::int64_t>(m.reserve_bytes_per_gpu);
  return m;
}

ReplicaMemory plan_replica_memory(const GpuSpec& gpu, const ModelSpec& model,
                                  std::uint32_t tensor_parallel, WeightPrecision weights,
                                  const MemoryPolicy& policy, const ParallelSpec& parallel) {
  const std::uint32_t pp = std::max<std::uint32_t>(1, parallel.pipeline_parallel);
  ReplicaMemory m = plan_replica_memory(gpu, model, tensor_parallel * pp, weights, policy);
  if (parallel.dp_attention && tensor_parallel > 1) {
    // Each DP-attention rank holds its stage's attention projections whole, not a 1/tp shard.
    const double extra = attention_weight_bytes(model, weights) / pp *
                         (1.0 - 1.0 / static_cast<double>(tensor_parallel));
    const auto add = static_cast<std::uint64_t>(std::ceil(extra));
    m.weight_bytes_per_gpu += add;
    m.kv_bytes_per_gpu -= static_cast<std::int64_t>(add);
  }
  return m;
}

KvCapacity kv_capacity(const ReplicaMemory& mem, const KvFootprint& kv,
                       std::uint64_t context_tokens, std::uint32_t block_tokens) {
  KvCapacity c;
  c.context_tokens = context_tokens;
  if (!mem.fits()) return c;
  const auto budget = static_cast<std::uint64_t>(mem.kv_bytes_per_gpu);
  c.tokens = budget / kv.bytes_per_token_per_gpu();
  if (context_tokens > 0)
    c.sequences = budget / kv.bytes_for_sequence_per_gpu(context_tokens, block_tokens);
  return c;
}

}  // namespace jevons
