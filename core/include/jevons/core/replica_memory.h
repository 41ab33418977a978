#pragma once
/// \file The HBM budget of one replica (a model on N GPUs of one type under tensor parallelism):
/// weights, activation/workspace reserve, runtime overhead, and what is left for the KV cache.

#include <cstdint>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"

namespace jevons {

/// Weight storage precision. fp4 is NVFP4 (4-bit values, one FP8 scale per 16: 4.5 bits).
/// mxfp4 is OCP MXFP4 as gpt-oss ships it (4-bit values, one E8M0 scale per 32: 4.25 bits) on the
/// routed experts only, attention, embedding and LM head in bf16; on a dense model every linear
/// layer but the embedding and LM head. A GPU without FP4 tensor cores (Hopper, MI300X) dequantizes
/// MXFP4 in the GEMM and runs it at its bf16 rate (gemm_precision).
enum class WeightPrecision : std::uint8_t { kBf16, kFp8, kFp4, kMxfp4 };
WeightPrecision parse_weight_precision(const std::string& s);  ///< throws InputError
std::string to_string(WeightPrecision p);
double bytes_per_weight(WeightPrecision p);  ///< 2, 1, 0.5625, 0.53125

/// The precision a GEMM over weights of format `w` runs at on `gpu` ("bf16", "fp8", "fp4"): the
/// weight format itself, except MXFP4 on a part without FP4 tensor cores, which runs at bf16
/// (weight-only dequantization: the bytes are 4.25 bits, the arithmetic is not).
std::string gemm_precision(const GpuSpec& gpu, WeightPrecision w);

/// Bytes of the whole model's weights as stored in format `w` (MXFP4: see WeightPrecision).
double stored_weight_bytes(const ModelSpec& model, WeightPrecision w);
/// Bytes of the attention projections as stored in format `w` (bf16 under MXFP4 on MoE models).
double attention_weight_bytes(const ModelSpec& model, WeightPrecision w);
/// Bytes per weight of the parameters outside the routed experts (MXFP4 on MoE models: bf16).
double shared_bytes_per_weight(const ModelSpec& model, WeightPrecision w);

/// How a replica's GPUs split the model beyond tensor parallelism (docs/latency-model.md,
/// "Parallelism"). The replica has tensor_parallel × pipeline_parallel GPUs.
struct ParallelSpec {
  /// Pipeline stages: the layers are split evenly, each stage on its own tensor_parallel GPUs.
  std::uint32_t pipeline_parallel = 1;
  /// Microbatches in flight per pipeline iteration; 0 = one per stage (no bubble when balanced).
  std::uint32_t microbatches = 0;
  /// Ranks the routed experts are spread over, whole experts per rank (a divisor of
  /// tensor_parallel; 1 = experts split by tensor parallelism). > 1: tokens reach their experts by
  /// an all-to-all dispatch and come back by an all-to-all combine.
  std::uint32_t expert_parallel = 1;
  /// Attention data-parallel across the tensor_parallel ranks (SGLang/TRT-LLM DP-attention): each
  /// rank holds the attention weights whole and the KV of its own sequences only.
  bool dp_attention = false;
  /// Tokens routed to the busiest expert-parallel rank over the mean (≥ 1): it sets the time of
  /// the grouped GEMMs. A stated parameter of the deployment (EPLB brings it near 1).
  double expert_imbalance = 1.0;

  std::uint32_t stages() const { return pipeline_parallel; }
  std::uint32_t microbatch_count() const {
    return microbatches > 0 ? microbatches : pipeline_parallel;
  }
};

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
/// The same under pipeline parallelism and DP-attention: weights divided over
/// tensor_parallel × pipeline_parallel GPUs, plus the attention weights each DP-attention rank
/// holds whole. `tensor_parallel` in the result is the replica's GPU count.
ReplicaMemory plan_replica_memory(const GpuSpec& gpu, const ModelSpec& model,
                                  std::uint32_t tensor_parallel, WeightPrecision weights,
                                  const MemoryPolicy& policy, const ParallelSpec& parallel);

/// KV capacity of a planned replica under a KV footprint.
struct KvCapacity {
  std::uint64_t tokens = 0;     ///< tokens if every layer held them (full-attention equivalent)
  std::uint64_t sequences = 0;  ///< whole sequences of `context_tokens` that fit (paged)
  std::uint64_t context_tokens = 0;
};
KvCapacity kv_capacity(const ReplicaMemory& mem, const KvFootprint& kv,
                       std::uint64_t context_tokens, std::uint32_t block_tokens);

}  // namespace jevons
