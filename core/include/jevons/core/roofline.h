#pragma once
/// \file Analytical (roofline) estimate of one decode step of a replica.
///
/// This is an analytical estimate, not a simulation: one decode step for `batch` sequences at a
/// fixed context reads the replica's weights once (MoE: the experts the batch touches) and each
/// sequence's KV once, and runs 2·active_params FLOPs per token plus attention. The step takes
/// the larger of memory time and compute time, plus the tensor-parallel all-reduces and a fixed
/// overhead. The simulator's calibrated latency model supersedes it where a scenario has a
/// simulation section.

#include <cstdint>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/replica_memory.h"

namespace jevons {

struct AnalyticalParams {
  /// Achieved fraction of peak HBM bandwidth. 0.90: PyTorch SDPA bf16 decode measured 3.03 TB/s
  /// on an H100 SXM (3.35 TB/s peak), shared/anchors/h100_decode_attention.json.
  double bandwidth_efficiency = 0.90;
  /// Achieved fraction of dense peak FLOPS in GEMMs (typical large-GEMM efficiency).
  double compute_efficiency = 0.60;
  /// Fixed per-step scheduling/launch overhead (with CUDA graphs), microseconds.
  double step_overhead_us = 300;
  /// Latency of one all-reduce on the scale-up link, microseconds.
  double allreduce_latency_us = 8;
  /// Achieved share of the scale-up link's per-direction bandwidth in a ring all-reduce (bus
  /// bandwidth / link).
  double allreduce_bandwidth_efficiency = 1.0;
  /// `latency_model: calibrated` (default): the simulator's latency model takes its parameters
  /// from the catalog's data/latency-model.yaml (docs/latency-model.md) and a key given above
  /// overrides the calibrated figure; `roofline`: the flat defaults above, as before 2026-12.
  bool calibrated = true;
  /// Which of the keys above the scenario gave (kGiven* bits): only those override calibration.
  unsigned given = 0;
  enum : unsigned {
    kGivenBandwidth = 1,
    kGivenCompute = 2,
    kGivenOverhead = 4,
    kGivenAllreduceLatency = 8,
    kGivenAllreduceBandwidth = 16
  };
};

/// One ring all-reduce of `bytes` over `tp` GPUs: a fixed latency plus 2(tp − 1)/tp of the buffer
/// through each GPU's link in each direction (half the bidirectional scale-up figure). The
/// analytical estimate and the simulator's latency model both use it.
inline double ring_allreduce_ns(double bytes, std::uint32_t tp, double link_gbps_bidirectional,
                                double latency_us) {
  if (tp < 2) return 0;
  return latency_us * 1e3 +
         2.0 * (tp - 1) / tp * bytes / (link_gbps_bidirectional * 1e9 / 2.0) * 1e9;
}

struct DecodeEstimate {
  std::uint32_t batch_sequences = 0;
  std::uint64_t context_tokens = 0;
  double weight_bytes_read_per_gpu = 0;
  double kv_bytes_read_per_gpu = 0;
  double flops_per_gpu = 0;
  double memory_time_ns = 0;
  double compute_time_ns = 0;
  double allreduce_time_ns = 0;
  double overhead_time_ns = 0;
  std::int64_t step_time_ns = 0;
  double tokens_per_s_replica = 0;
  double tokens_per_s_per_gpu = 0;
  std::string bound;  ///< "memory" or "compute"
};

/// Expected fraction of routed experts that a batch of `tokens` touches, each choosing k of E
/// uniformly: 1 − (1 − k/E)^tokens.
double moe_expert_fraction_touched(std::uint32_t experts, std::uint32_t k, std::uint64_t tokens);

/// The weight bytes a step streams, split once per (model, precision): a dense model reads every
/// stored weight; a MoE model its shared weights plus the routed experts some token of the batch
/// chose (routed share from total and active parameters, ModelSpec::routed_expert_params).
/// weight_bytes_read_per_gpu and DecodeStepModel both read weights through it.
class WeightStream {
 public:
  WeightStream(const ModelSpec& model, WeightPrecision weights);
  /// Bytes read by one step holding `tokens` tokens, whole model (not divided by TP).
  double bytes(std::uint64_t tokens) const;

 private:
  const ModelSpec* model_;
  double dense_bytes_ = 0;   ///< all stored weights (dense models)
  double shared_bytes_ = 0;  ///< MoE: shared parameters × their bytes
  double routed_bytes_ = 0;  ///< MoE: routed parameters × their bytes
};

/// Weight bytes one decode step reads per GPU for `tokens` tokens in the batch.
double weight_bytes_read_per_gpu(const ModelSpec& model, WeightPrecision weights,
                                 std::uint32_t tensor_parallel, std::uint64_t tokens);

/// One replica's decode step at a fixed context, with everything that does not depend on the
/// batch size worked out once: a closed-form capacity asks for every batch size from 1 to 256,
/// thousands of times per uncertainty band. at(b) equals estimate_decode_step(..., b, ...) to the
/// bit (the same expressions, evaluated in the same order).
class DecodeStepModel {
 public:
  DecodeStepModel(const GpuSpec& gpu, const ModelSpec& model, const KvFootprint& kv,
                  WeightPrecision weights, std::uint64_t context_tokens,
                  const AnalyticalParams& params);
  DecodeEstimate at(std::uint32_t batch_sequences) const;

 private:
  const ModelSpec* model_;
  std::uint64_t context_tokens_;
  std::uint32_t tp_;
  WeightStream weights_;
  double kv_bytes_per_sequence_ = 0;  ///< on the most loaded GPU
  double attn_flops_per_token_ = 0;
  double flops_per_token_ = 0;
  double bw_ = 0, flops_ = 0, link_gbps_ = 0;
  double allreduce_latency_us_ = 0, overhead_ns_ = 0;
};

DecodeEstimate estimate_decode_step(const GpuSpec& gpu, const ModelSpec& model,
                                    const KvFootprint& kv, WeightPrecision weights,
                                    std::uint32_t batch_sequences, std::uint64_t context_tokens,
                                    const AnalyticalParams& params);

}  // namespace jevons
