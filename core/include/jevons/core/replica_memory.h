#pragma once
/// \file The HBM budget of one replica (a model on N GPUs of one type under tensor parallelism):
/// weights, activation/workspace reserve, runtime overhead, and what is left for the KV cache.

#include <cstdint>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"

namespace jevons {

/// Weight storage precision. fp4 counts one FP8 scale per 16 weights (NVFP4/MXFP4-style).
enum class WeightPrecision : std::uint8_t { kBf16, kFp8, kFp4 };
WeightPrecision parse_weight_precision(const std::string& s);  ///< throws InputError
std::string to_string(WeightPrecision p);
double bytes_per_weight(WeightPrecision p);  ///< 2, 1, 0.5625

/// How much of a GPU the serving engine may use, as vLLM configures it.
struct MemoryPolicy {
  double utilization = 0.90;          ///< fraction of usable HBM (vLLM gpu_memory_utilization)
  double activation_reserve_gib = 4;  ///< activations and GEMM/attention workspace, per GPU
  double runtime_overhead_gib = 1.5;  ///< CUDA context, NCCL buffers, allocator slack, per GPU
  std::uint32_t block_tokens = 16;    ///< paged KV block size (vLLM default 16)
};

struct ReplicaMemory {
  std::uint32_t tensor_parallel = 1;
  std::uint64_t hbm_usable_bytes_per_gpu = 0;
  std::uint64_t budget_bytes_per_gpu = 0;  ///< usable × utilization
  std::uint64_t weight_bytes_per_gpu = 0;
  std::uint64_t reserve_bytes_per_gpu = 0;  ///< activation reserve + runtime overhead
  /// budget − weights − reserve; negative when the model does not fit.
  std::int64_t kv_bytes_per_gpu = 0;

  bool fits() const { return kv_bytes_per_gpu > 0; }
  /// Bytes missing per GPU when it does not fit (0 when it does).
  std::uint64_t shortfall_bytes_per_gpu() const {
    return kv_bytes_per_gpu > 0 ? 0 : static_cast<std::uint64_t>(-kv_bytes_per_gpu);
  }
};

/// Plans one replica's memory. Does not throw for a model that does not fit: check fits().
ReplicaMemory plan_replica_memory(const GpuSpec& gpu, const ModelSpec& model,
                                  std::uint32_t tensor_parallel, WeightPrecision weights,
                                  const MemoryPolicy& policy);

/// KV capacity of a planned replica under a KV footprint.
struct KvCapacity {
  std::uint64_t tokens = 0;     ///< tokens if every layer held them (full-attention equivalent)
  std::uint64_t sequences = 0;  ///< whole sequences of `context_tokens` that fit (paged)
  std::uint64_t context_tokens = 0;
};
KvCapacity kv_capacity(const ReplicaMemory& mem, const KvFootprint& kv,
                       std::uint64_t context_tokens, std::uint32_t block_tokens);

}  // namespace jevons
