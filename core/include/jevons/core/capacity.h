#pragma once
/// \file Static capacity of a scenario: for every (pool × KV format × context length), how many
/// tokens and sequences fit in KV memory, and the analytical decode-step estimate at that
/// concurrency. This is what `jevons run` reports for scenarios without a simulation section.

#include <cstdint>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/roofline.h"
#include "jevons/core/scenario.h"

namespace jevons {

struct PoolMemoryRow {
  std::string pool;
  std::string gpu_id;
  std::string model_id;
  std::uint32_t gpus = 0;
  std::uint32_t replicas = 0;
  WeightPrecision weights = WeightPrecision::kBf16;
  ReplicaMemory memory;
};

struct CapacityRow {
  std::string pool;
  std::string gpu_id;
  std::string model_id;
  std::uint32_t tensor_parallel = 1;
  std::uint32_t replicas = 0;
  KvConfig kv;
  std::uint64_t context_tokens = 0;
  std::uint64_t kv_bytes_per_token = 0;     ///< whole replica, every layer holding the token
  std::uint64_t kv_bytes_per_sequence = 0;  ///< whole replica, at context_tokens, paged
  double effective_kv_bytes_per_token = 0;  ///< per sequence / context (windows count)
  std::uint64_t kv_capacity_tokens = 0;     ///< per replica
  std::uint64_t kv_capacity_sequences = 0;  ///< per replica, at context_tokens
  std::uint32_t batch_sequences = 0;        ///< min(capacity, max_batch_sequences)
  DecodeEstimate decode;                    ///< at batch_sequences (zero when nothing fits)
  double compression_vs_bf16 = 0;           ///< bf16 bytes per token / this format's
};

struct StaticCapacity {
  std::vector<PoolMemoryRow> pools;
  std::vector<CapacityRow> rows;
};

/// Computes the static capacity of every (pool × format × context) in a validated scenario.
StaticCapacity compute_static_capacity(const Scenario& scenario, const Catalog& catalog);

}  // namespace jevons
