#pragma once
/// \file The step-time model's physical parameters (data/latency-model.yaml): per GPU and per
/// weight precision the achieved GEMM efficiency, the memory streaming efficiency, fixed costs per
/// step, per layer and per attention kernel, MoE grouped-GEMM efficiency and dispatch cost,
/// collective constants, and the speed of each KV format's decode attention relative to bf16.
///
/// Every value carries its provenance: "fitted" (by `jevons validate-published --fit`, the
/// procedure of docs/latency-model.md), a source id, or "assumption". A GPU without an entry, or
/// without a figure for a precision, takes the `defaults` (the documented projection). Loaded by
/// Catalog::load when `<data dir>/latency-model.yaml` exists.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jevons {

/// One parameter with where it came from.
struct LatencyFigure {
  double value = 0;
  std::string source;  ///< "fitted", a source id, or "assumption"
};

/// The parameters of one GPU entry (or of `defaults`); absent fields fall back to `defaults`.
struct LatencyEntry {
  std::map<std::string, LatencyFigure> gemm_efficiency;  ///< by weight precision
  std::optional<LatencyFigure> bandwidth_efficiency;     ///< weights and KV streaming, of HBM peak
  std::optional<LatencyFigure> step_overhead_us;         ///< per step (scheduling, launch)
  std::optional<LatencyFigure> layer_fixed_us;        ///< per layer and step (norms, small kernels)
  std::optional<LatencyFigure> attention_kernel_us;   ///< per attention layer and step
  std::optional<LatencyFigure> attention_efficiency;  ///< attention FLOPs, of bf16 dense peak
  std::optional<LatencyFigure> moe_gemm_efficiency;   ///< grouped GEMMs, relative to dense
  std::optional<LatencyFigure> moe_dispatch_us;       ///< per MoE layer and step (router, launch)
  std::optional<LatencyFigure> moe_expert_us;  ///< per distinct expert a step touches, per layer
  std::optional<LatencyFigure> moe_permute_passes;  ///< HBM passes per routed token's hidden state
  /// MXFP4 experts on a GPU without FP4 tensor cores are dequantized to bf16 inside the grouped
  /// GEMMs: their rate relative to moe_gemm_efficiency.
  std::optional<LatencyFigure> moe_dequant_efficiency;
  /// Extra fixed cost of an MLA layer per step (its low-rank projections, norms and the absorbed
  /// up-projections are several more small kernels than a GQA layer's).
  std::optional<LatencyFigure> mla_layer_us;
  std::optional<LatencyFigure> allreduce_latency_us;
  std::optional<LatencyFigure> allreduce_bandwidth_efficiency;
  /// GEMM efficiency ramp: a step of T tokens runs its GEMMs at T / (T + T½) of the large-T rate
  /// (tile and wave quantization at small M). Absent: no ramp.
  std::optional<LatencyFigure> gemm_half_tokens;
};

/// Decode-attention speed of a KV format: its time relative to bf16 at the same context.
struct KvSpeed {
  double time_vs_bf16 = 1;
  std::string source;
};

/// Parameters resolved for one (GPU, weight precision): what the latency model uses.
struct LatencyParams {
  double gemm_efficiency = 0.60;
  double bandwidth_efficiency = 0.90;
  double step_overhead_us = 300;
  double layer_fixed_us = 0;
  double attention_kernel_us = 0;
  double attention_efficiency = 0.60;
  double moe_gemm_efficiency = 1;
  double moe_dispatch_us = 0;
  double moe_expert_us = 0;
  double moe_permute_passes = 0;
  double moe_dequant_efficiency = 1;
  double mla_layer_us = 0;
  double allreduce_latency_us = 8;
  double allreduce_bandwidth_efficiency = 1;
  double gemm_half_tokens = 0;  ///< T½ of the GEMM efficiency ramp, tokens (0: none)
  /// "fitted for h100-sxm fp8" or "projected: defaults (no fitted h100-sxm fp4 entry)".
  std::string description;
  bool gpu_fitted = false;  ///< the GEMM efficiency came from this GPU's own entry
};

class LatencyCalibration {
 public:
  /// Parses `path`; throws InputError naming file, line, key and value on bad content.
  static LatencyCalibration load(const std::string& path);
  /// Parses `text` as if read from `path`.
  static LatencyCalibration parse(const std::string& text, const std::string& path);

  bool empty() const { return !loaded_; }
  const std::string& path() const { return path_; }
  /// The parameters for `gpu_id` at `precision` ("bf16", "fp8", "fp4", ...). The GEMM efficiency
  /// is the GPU's own fitted figure; else, the geometric mean of the fitted GPUs of the same
  /// architecture at that precision (H200 from H100: the same die and tensor cores); else of the
  /// same vendor (the same kernel libraries and engines: MI355X from MI300X, not from TensorRT-LLM
  /// on NVIDIA parts); else the defaults.
  LatencyParams resolve(const std::string& gpu_id, const std::string& precision) const;

  /// A GPU's vendor and architecture, for the projection above (set by Catalog::load from
  /// gpus.yaml; a GPU not listed is projected from the defaults).
  struct GpuFamily {
    std::string vendor, architecture;
  };
  void set_gpu_families(std::map<std::string, GpuFamily> families) {
    families_ = std::move(families);
  }
  /// The decode-attention speed of KV format `name`; empty when the file has no entry.
  std::optional<KvSpeed> kv_speed(const std::string& name) const;

  /// Mutable access for the fit (published suite) and tests.
  LatencyEntry& defaults() { return defaults_; }
  const LatencyEntry& defaults() const { return defaults_; }
  std::map<std::string, LatencyEntry>& gpus() { return gpus_; }
  const std::map<std::string, LatencyEntry>& gpus() const { return gpus_; }
  std::map<std::string, KvSpeed>& kv_formats() { return kv_; }
  void mark_loaded() { loaded_ = true; }

 private:
  /// The GEMM efficiency projected from fitted GPUs of the same architecture, else vendor, with
  /// its description; empty when no such GPU has a figure at `precision`.
  std::optional<std::pair<double, std::string>> family_projection(
      const std::string& gpu_id, const std::string& precision) const;

  bool loaded_ = false;
  std::string path_;
  LatencyEntry defaults_;
  std::map<std::string, LatencyEntry> gpus_;
  std::map<std::string, KvSpeed> kv_;
  std::map<std::string, GpuFamily> families_;
};

}  // namespace jevons
