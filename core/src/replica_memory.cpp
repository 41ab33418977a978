#include "jevons/core/replica_memory.h"

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
  Diagnostic d;
  d.value = s;
  d.message = "unknown weight precision; expected bf16, fp8 or fp4";
  if (auto m = closest_match(s, {"bf16", "fp16", "fp8", "fp4"}); !m.empty())
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
  }
  return 2.0;
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
  const double weight_bytes = model.params_total_b * 1e9 * bytes_per_weight(weights);
  m.weight_bytes_per_gpu =
      static_cast<std::uint64_t>(std::ceil(weight_bytes / static_cast<double>(tensor_parallel)));
  m.reserve_bytes_per_gpu = static_cast<std::uint64_t>(
      std::llround((policy.activation_reserve_gib + policy.runtime_overhead_gib) * kGiB));
  m.kv_bytes_per_gpu = static_cast<std::int64_t>(m.budget_bytes_per_gpu) -
                       static_cast<std::int64_t>(m.weight_bytes_per_gpu) -
                       static_cast<std::int64_t>(m.reserve_bytes_per_gpu);
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
