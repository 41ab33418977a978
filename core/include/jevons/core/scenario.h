#pragma once
/// \file Scenario files (YAML): models, GPU pools, KV formats, workload, horizon and seed, plus
/// the `simulation` and `planner` sections. The schema is documented in docs/scenarios.md.
///
/// Loading validates everything once: every error names the file, line, column, key, the bad
/// value and what was expected; unknown keys get a "did you mean". After load() the scenario is
/// trusted by the rest of Jevons.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_format.h"
#include "jevons/core/planner_spec.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/roofline.h"
#include "jevons/core/simulation_spec.h"

namespace jevons {

/// A pool: `gpus` GPUs of one type serving one model as replicas of
/// `tensor_parallel` × `parallel.pipeline_parallel` GPUs.
struct PoolSpec {
  std::string name;
  std::string gpu_id;
  std::string model_id;
  std::uint32_t gpus = 0;
  std::uint32_t tensor_parallel = 1;
  WeightPrecision weights = WeightPrecision::kBf16;
  std::vector<KvConfig> kv_formats;  ///< formats to evaluate on this pool (pool or scenario list)
  MemoryPolicy memory;
  ParallelSpec parallel;  ///< pipeline, expert and DP-attention parallelism (default: none)
  int line = 0;           ///< where the pool is defined, for later messages

  std::uint32_t gpus_per_replica() const { return tensor_parallel * parallel.pipeline_parallel; }
  std::uint32_t replicas() const { return gpus / gpus_per_replica(); }
};

struct WorkloadSpec {
  /// Context lengths (prompt + generated tokens) at which static capacity is reported.
  std::vector<std::uint64_t> context_tokens;
  /// Upper bound on sequences in one decode batch (vLLM max_num_seqs default 256).
  std::uint32_t max_batch_sequences = 256;
};

struct HorizonSpec {
  int start_year = 2026;
  int start_quarter = 1;  ///< 1..4
  std::uint32_t quarters = 20;
  std::string start_label() const;  ///< "2026Q1"
};

struct Scenario {
  std::string path;  ///< as given
  std::string text;  ///< the file's exact bytes (stored with every run)
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  HorizonSpec horizon;
  std::vector<std::string> models;   ///< model ids the scenario names
  std::vector<KvConfig> kv_formats;  ///< default formats for pools that list none
  std::vector<PoolSpec> pools;
  WorkloadSpec workload;
  AnalyticalParams analytical;
  std::optional<SimulationSpec> simulation;  ///< present when the file has `simulation:`
  std::optional<PlannerSpec> planner;        ///< present when the file has `planner:`

  /// Reads and validates a file. Throws InputError (file unreadable, YAML syntax, or content).
  static Scenario load(const std::string& path, const Catalog& catalog);
  /// Validates text already in memory; `path` labels the messages.
  static Scenario parse(const std::string& text, const std::string& path, const Catalog& catalog);
};

/// SHA-256 of the scenario text is computed by the store; this is the canonical text it hashes.
inline const std::string& canonical_text(const Scenario& s) {
  return s.text;
}

}  // namespace jevons
