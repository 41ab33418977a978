#pragma once
// Step time of one replica from the composition of its batch (docs/latency-model.md).
//
// The model is a roofline over the step's work, with every per-step quantity O(1) in the batch
// size: the replica passes sums (decode sequences, KV tokens attended, prefill tokens, causal
// attention pairs), never the batch itself.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/event_queue.h"
#include "jevons/core/catalog.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/latency_params.h"
#include "jevons/core/profile.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/roofline.h"
#include "jevons/core/simulation_spec.h"
#include "timing/step_calibration.h"

namespace jevons::sim {

/// What a step does, as sums over its sequences.
struct StepShape {
  std::uint32_t decode_seqs = 0;
  std::uint64_t decode_kv_tokens = 0;  ///< Σ over decoders of KV tokens attended (incl. new)
  /// Σ over decoders of min(KV tokens attended, W): what a sliding-window or chunked layer of
  /// window W reads (LatencyModel::window_tokens(); 0 for models without such layers).
  std::uint64_t decode_window_kv_tokens = 0;
  std::uint32_t prefill_seqs = 0;
  std::uint64_t prefill_tokens = 0;  ///< new prompt tokens computed this step
  /// Σ over prefill chunks of c·(o + (c+1)/2): (query, key) pairs of causal attention for a
  /// chunk of c tokens after o tokens already in KV.
  double prefill_attention_pairs = 0;
  /// The same pairs with each query attending at most W keys (windowed_attention_pairs).
  double prefill_window_attention_pairs = 0;
  std::uint64_t host_transfer_bytes_per_gpu = 0;  ///< swap in/out + prefix-tier loads
  /// Pipelined replicas: the step's sequences as the microbatches that hold them (each
  /// sequence stays in one microbatch for its life, as TensorRT-LLM and vLLM pin it), so a
  /// prefill chunk weighs on its own microbatch, not on a share of the step. Null: the step is
  /// split by token share (LatencyModel::step). Points at storage the caller keeps alive.
  const StepShape* microbatch_shapes = nullptr;
  std::uint32_t microbatch_shape_count = 0;
};

/// Σ over the queries j = 1..c of a causal chunk of c tokens after o tokens in KV of
/// min(o + j, w): the (query, key) pairs of a layer that attends at most w keys. Equals
/// c·(o + (c+1)/2) when o + c ≤ w; 0 when w = 0.
inline double windowed_attention_pairs(double c, double o, double w) {
  if (w <= 0 || c <= 0) return 0;
  if (o + c <= w) return c * (o + (c + 1) / 2);
  if (o >= w) return c * w;
  const double m = w - o;  // queries still inside the window
  return m * (o + (m + 1) / 2) + (c - m) * w;
}

struct StepCost {
  TimeNs time_ns = 0;
  double compute_ns = 0;
  double memory_ns = 0;
  double power_w_per_gpu = 0;
};

/// Where the KV-read cost of a format came from (reported with each pool).
struct KvCalibration {
  double seconds_per_byte = 0;  ///< effective HBM time per KV byte read, per GPU
  std::string source;           ///< "profile:bandwidth", "profile:ratio", "roofline"
  bool projected = false;       ///< measured on another GPU and scaled by bandwidth ratio
};

class LatencyModel {
 public:
  /// Builds the model of one replica. `profile` may be absent (pure roofline); `profile_gpu` is
  /// the catalog entry of the GPU the profile was measured on (nullptr when unknown), used to
  /// scale measured figures to another GPU by HBM bandwidth (a labelled projection).
  LatencyModel(const GpuSpec& gpu, const ModelSpec& model, const KvFootprint& kv,
               WeightPrecision weights, std::uint32_t tensor_parallel,
               const AnalyticalParams& params, const TimingSpec& timing, const PowerSpec& power,
               const std::optional<Profile>& profile, const GpuSpec* profile_gpu,
               std::uint32_t max_step_tokens, const DeviceStepCalibration* steps = nullptr,
               const LatencyCalibration* calibration = nullptr,
               const ParallelSpec& parallel = ParallelSpec{});

  StepCost step(const StepShape& s) const;
  /// Host-link time for `bytes` per GPU (swap, prefix-tier load).
  double host_transfer_ns(std::uint64_t bytes_per_gpu) const {
    return static_cast<double>(bytes_per_gpu) * host_ns_per_byte_;
  }
  const KvCalibration& kv_calibration() const { return kv_cal_; }
  /// The window W of the model's sliding-window or chunked layers (0 when it has none): the
  /// replica sums min(KV tokens, W) over its decoders for StepShape::decode_window_kv_tokens.
  std::uint64_t window_tokens() const { return window_tokens_; }
  double idle_power_w_per_gpu() const { return idle_w_; }
  /// The step's work per GPU (FLOPs, weight bytes, KV time at the format's cost), before rates.
  StepWork work(const StepShape& s) const;
  /// The step a profile's synthetic step point describes, in this model's terms.
  StepShape shape_of(const StepPoint& p) const;
  /// True when the rates come from measured steps of a GPU profile (`steps` given).
  bool step_calibrated() const { return step_calibrated_; }
  /// "roofline defaults" or "profile steps: N points on h100-sxm (bf16), mean error …".
  const std::string& calibration_source() const { return calibration_source_; }
  /// The physical parameters in use (data/latency-model.yaml resolved for this GPU and weight
  /// type, scenario `analytical:` keys applied); the roofline defaults when uncalibrated.
  const LatencyParams& params() const { return lp_; }
  /// Fixed time of every step: overhead, per-layer and per-attention-kernel costs, MoE dispatch
  /// (per pipeline stage and microbatch when the replica is pipelined).
  double fixed_ns() const { return overhead_ns_ + layer_fixed_ns_ + moe_dispatch_ns_; }
  /// The replica's parallelism (pipeline stages, expert parallelism, DP-attention).
  const ParallelSpec& parallel() const { return par_; }
  /// Microbatches a step's sequences are divided into: the pipeline's, 1 when not pipelined.
  std::uint32_t microbatches() const {
    return par_.pipeline_parallel > 1 ? std::max<std::uint32_t>(1, par_.microbatch_count()) : 1;
  }

 private:
  double weight_bytes(std::uint64_t tokens) const;
  /// Time of one pass of the work `w` through one stage (the whole model when not pipelined):
  /// overhead, fixed costs, GEMM and attention bodies, collectives; `tokens` through the GEMMs.
  double pass_ns(const StepWork& w, double tokens, double* compute_ns, double* memory_ns) const;
  /// The step's work scaled to the share `f` of its sums (a microbatch of the step).
  StepWork share_of(const StepShape& s, double f) const;

  bool constant_ = false;
  TimeNs constant_ns_ = 0;
  std::vector<double> weight_bytes_by_tokens_;  // MoE: bytes read per GPU for T tokens
  double dense_weight_bytes_ = 0;
  double embedding_bytes_adjust_ = 0;  // calibrated: − embedding table + 16-bit LM head excess
  bool moe_ = false;
  double linear_flops_per_token_ = 0;      // per GPU
  double attn_flops_per_pair_ = 0;         // per GPU, the full-attention (and MLA) layers
  double attn_flops_per_window_pair_ = 0;  // per GPU, the sliding-window and chunked layers
  double kv_bytes_per_token_ = 0;          // per GPU, every layer holding the token
  double full_kv_bytes_per_token_ = 0;     // per GPU, full-attention (and MLA) layers only
  double window_kv_bytes_per_token_ = 0;   // per GPU, sliding-window and chunked layers only
  std::uint64_t window_tokens_ = 0;        // W of the windowed layers (0: none)
  double ns_per_weight_byte_ = 0;
  double ns_per_flop_ = 0;
  double overhead_ns_ = 0;
  double layer_fixed_ns_ = 0;   // per step: layers × per-layer + attention layers × kernel cost
  double moe_dispatch_ns_ = 0;  // per step: MoE layers × router and launch cost
  /// Per step and GPU, the MoE cost that grows with the step's tokens T: every distinct expert
  /// the step touches pays the grouped GEMM's per-expert fixed cost, and every routed token's
  /// hidden state is permuted to its experts and back (docs/latency-model.md, "MoE").
  double moe_tokens_ns(double tokens) const;
  double moe_expert_ns_ = 0;        // per step: MoE layers × per-expert cost (per expert touched)
  double moe_routed_token_ns_ = 0;  // per step: MoE layers × permutation per routed token per GPU
  double moe_experts_ = 0, moe_k_ = 0, moe_ep_ = 1;
  double attention_flop_scale_ = 1;  // attention ns/FLOP over GEMM ns/FLOP
  LatencyParams lp_;
  double allreduce_fixed_ns_ = 0;      // per step: all-reduces per layer × layers × latency
  double allreduce_ns_per_token_ = 0;  // per step, per token
  double alltoall_fixed_ns_ = 0;       // per step: EP dispatch + combine latency, MoE layers
  double alltoall_ns_per_token_ = 0;   // per step, per token of the replica
  double p2p_fixed_ns_ = 0;            // pipeline: one stage-to-stage activation send
  double p2p_ns_per_token_ = 0;
  ParallelSpec par_;
  double host_ns_per_byte_ = 0;
  double tdp_w_ = 0;
  double idle_w_ = 0;
  double memory_weight_ = 0.49;
  void apply_step_calibration(const GpuSpec& gpu, WeightPrecision weights,
                              const DeviceStepCalibration& cal);
  double gemm_half_tokens_ = 0;  // GEMM efficiency ramp T½ (fitted; 0 = none)
  bool step_calibrated_ = false;
  std::string calibration_source_ = "roofline defaults";
  KvCalibration kv_cal_;
};

}  // namespace jevons::sim
