#pragma once
/// \file The published-results suite (data/published/serving.yaml): serving measurements made by
/// others on real GPUs, each with its source, workload, engine settings and metric, and a
/// fit/holdout split. `jevons validate-published` runs every row through the simulator
/// (docs/validation.md).

#include <cstdint>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_format.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/simulation_spec.h"

namespace jevons {

struct PublishedRow {
  std::string id;
  std::string split;  ///< "fit" or "holdout"
  std::string source;
  std::string date;
  std::string confidence;  ///< V, S or U
  std::string system;      ///< as published ("8 × H200-SXM-141GB (700 W)")
  std::string gpu_id;      ///< catalog id
  std::uint32_t system_gpus = 1;
  std::string model_id;
  WeightPrecision weights = WeightPrecision::kBf16;
  std::string kv_format = "bf16";
  std::uint32_t tensor_parallel = 1;
  ParallelSpec parallel;  ///< pipeline, expert and DP-attention parallelism as the system ran
  /// GPUs of one simulated replica: per-GPU figures divide the replica's throughput by this.
  std::uint32_t gpus_per_replica() const { return tensor_parallel * parallel.pipeline_parallel; }
  /// "offline" (requests at t = 0, throughput to the last completion), "server" (highest
  /// Poisson rate meeting the p99 limits), "static" (one batch of `batch` requests at t = 0),
  /// "closed_loop" (`concurrency` clients issuing `requests` in all, a new one as each finishes;
  /// throughput to the last completion: benchmark_serving --max-concurrency).
  std::string scenario;
  std::uint32_t concurrency = 0;  ///< closed_loop: clients per simulated replica
  std::string family;             ///< model family for the MAE breakdown ("llama", "deepseek", ...)
  LengthDistSpec input_tokens;
  LengthDistSpec output_tokens;
  std::uint64_t requests = 0;          ///< offline/static: requests per simulated replica
  SloSpec server_p99;                  ///< server: p99 TTFT and TPOT limits
  BatchingSpec batching;               ///< engine settings
  double published_tok_s_per_gpu = 0;  ///< output tokens/s per GPU
  std::string note;
  int line = 0;
};

struct PublishedSuite {
  std::string path;
  std::vector<PublishedRow> rows;
};

/// Loads the suite; every error names file, line, key, value and what was expected.
PublishedSuite load_published_suite(const std::string& path, const Catalog& catalog);

}  // namespace jevons
