#pragma once
/// \file The published-results suite through the simulator (`jevons validate-published`):
/// every row of data/published/serving.yaml simulated as the benchmark ran it, the H100 step
/// times of data/published/h100-llama31-8b-steps.json predicted by the latency model, and the
/// fit of data/latency-model.yaml's fitted figures (docs/latency-model.md, "Fit").

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/published.h"

namespace jevons {

struct PublishedOutcome {
  std::string id;
  double published = 0;          ///< output tokens/s per GPU
  double simulated = 0;          ///< output tokens/s per GPU
  double error = 0;              ///< (simulated − published) / published
  double server_rate_per_s = 0;  ///< server rows: the highest rate that met the limits
  std::string latency_source;    ///< which latency-model entry (or projection) the run used
  std::string kv_speed_source;
  /// What the run did, to say why a row is off (`validate-published --detail`): the replica's
  /// mean running batch, its KV capacity and mean occupancy, the mean step time, preemptions.
  double mean_batch_sequences = 0;
  double kv_capacity_gb_per_gpu = 0;
  double mean_kv_occupancy = 0;
  double mean_step_ms = 0;
  std::uint64_t preemptions = 0;
  /// Latencies of the run (server rows: at the rate found), to set beside published logs.
  double ttft_p99_ms = 0, tpot_p50_ms = 0, tpot_p99_ms = 0;
};

struct PublishedRunOptions {
  double server_duration_s = 600;  ///< each probe of the server rate search
  int server_bisections = 9;
};

/// Simulates one row (one replica) and compares per-GPU output tokens/s. Deterministic.
PublishedOutcome run_published_row(const PublishedRow& row, const Catalog& catalog,
                                   const PublishedRunOptions& options = {});

/// One measured step of data/published/h100-llama31-8b-steps.json.
struct PublishedStep {
  std::string phase;  ///< "decode" or "prefill"
  std::uint32_t batch = 1;
  std::uint64_t context_tokens = 0;  ///< decode: KV tokens per sequence; prefill: prompt length
  double measured_ms = 0;  ///< decode under CUDA graphs (graph_ms); prefill eager (eager_ms)
};
struct PublishedSteps {
  std::string gpu_id = "h100-sxm";
  std::string model_id = "llama-3.1-8b";
  std::vector<PublishedStep> steps;
};
/// Throws InputError naming the file and the row on bad content.
PublishedSteps load_published_steps(const std::string& path);
/// The latency model's time for each step (ms) under `catalog`'s latency-model parameters.
std::vector<double> predict_published_steps(const PublishedSteps& s, const Catalog& catalog);

/// Fits data/latency-model.yaml's `fitted` figures: stage A on the measured steps (per-layer
/// fixed cost, the GPU's streaming and bf16 GEMM efficiency), stage B on the suite's `fit` rows
/// (each GPU's GEMM efficiency per weight precision; then the MoE grouped-GEMM efficiency), by
/// Levenberg–Marquardt on log(simulated / published). Rows of `exclude_gpu` are left out
/// (leave-one-GPU-out). Returns the catalog's calibration with the fitted figures in place and
/// the defaults (the projection for unfitted GPUs) recomputed from the fitted GPUs.
LatencyCalibration fit_published(const PublishedSuite& suite, const PublishedSteps& steps,
                                 const Catalog& catalog, std::ostream& log,
                                 const std::string& exclude_gpu = "");

/// The `defaults:` and `gpus:` sections of data/latency-model.yaml for `cal` (fitted figures
/// printed with 3 significant digits).
std::string latency_yaml_sections(const LatencyCalibration& cal);

/// Mean absolute relative error of `outcomes` whose row satisfies `pick`; NaN when none.
double mean_abs_error(const std::vector<PublishedOutcome>& outcomes,
                      const std::vector<PublishedRow>& rows,
                      const std::function<bool(const PublishedRow&)>& pick);

}  // namespace jevons
