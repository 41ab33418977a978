#pragma once
/// \file GPU and model catalogs, loaded from data/gpus.yaml and data/models.yaml.
///
/// Every GPU figure keeps its source and confidence so reports can say how sure a number is.
/// Units are in the field names: capacities in GiB (HBM stacks are binary: 16/24/36 GiB each),
/// bandwidths in decimal TB/s or GB/s, compute in dense TFLOPS.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/latency_params.h"

namespace jevons {

enum class Confidence : std::uint8_t {
  kVendor,     ///< [V] vendor datasheet, filing, or primary paper
  kSecondary,  ///< [S] reputable secondary source
  kUncertain,  ///< [U] single blog, roadmap, conflicting figures, or our own derivation
};
std::string to_string(Confidence c);

/// A catalog number with its provenance. `value` is empty when no source reports it ("n/r").
struct Figure {
  std::optional<double> value;
  std::string source;  ///< key into Catalog::sources
  Confidence confidence = Confidence::kUncertain;

  bool known() const { return value.has_value(); }
  /// The value; throws std::logic_error naming `what` when unknown. Callers validate first.
  double get(const char* what) const;
};

struct Source {
  std::string id;
  std::string url;
  std::string note;
};

struct GpuSpec {
  std::string id;    ///< e.g. "h100-sxm"
  std::string name;  ///< e.g. "NVIDIA H100 SXM5 80GB"
  std::string vendor;
  std::string architecture;  ///< e.g. "Hopper"
  bool projection = false;   ///< roadmap part: figures are projections, not measurements
  std::string launch;        ///< "YYYY-MM" (first volume availability)
  std::string host_link;     ///< "pcie-gen4", "pcie-gen5", "nvlink-c2c", ...

  Figure hbm_nominal_gib;
  Figure hbm_usable_gib;
  Figure hbm_bandwidth_tbps;
  Figure bf16_dense_tflops;
  Figure fp8_dense_tflops;
  Figure fp4_dense_tflops;
  Figure scaleup_link_gbps;      ///< GB/s per GPU, bidirectional (NVLink convention)
  Figure host_dram_per_gpu_gib;  ///< host DRAM per GPU in a typical server
  Figure host_link_gbps;         ///< GB/s per direction, GPU <-> host
  Figure tdp_w;
  Figure price_usd;

  /// Dense TFLOPS for a compute precision ("bf16", "fp8", "fp4"); falls back to the next wider
  /// precision the part supports (an A100 runs fp8 weights at its bf16 rate).
  double dense_tflops(const std::string& precision) const;
};

enum class LayerAttention : std::uint8_t {
  kFull,     ///< global attention: holds every token of the sequence
  kSliding,  ///< sliding window: holds at most `window_tokens`
  kChunked,  ///< chunked local attention (Llama 4 iRoPE): at most `window_tokens`
  kMla,      ///< multi-head latent attention: one (kv_lora_rank + rope) latent per token
};

struct ModelSpec {
  std::string id;  ///< e.g. "llama-3.1-70b"
  std::string name;
  std::uint32_t layers = 0;
  std::uint32_t hidden_size = 0;
  std::uint32_t q_heads = 0;
  std::uint32_t kv_heads = 0;  ///< for MLA: the latent is shared by all heads (1 per layer)
  std::uint32_t head_dim = 0;  ///< never derived from hidden/heads (Qwen3 breaks that)
  double params_total_b = 0;   ///< billions
  double params_active_b = 0;  ///< billions per token (MoE)
  std::uint64_t max_context_tokens = 0;
  std::uint32_t experts = 0;            ///< routed experts; 0 for dense models
  std::uint32_t experts_per_token = 0;  ///< routed experts chosen per token
  std::uint32_t kv_lora_rank = 0;       ///< MLA only
  std::uint32_t qk_rope_head_dim = 0;   ///< MLA only
  std::uint32_t window_tokens = 0;      ///< for sliding/chunked layers
  /// MLP width and vocabulary (dense models; 0 when the catalog does not give them). Only the
  /// profiler's synthetic steps need them: the latency model works from parameter counts.
  std::uint32_t intermediate_size = 0;
  std::uint32_t vocab_size = 0;
  /// Attention projection parameters (q, k, v, o; MLA's low-rank projections), billions, as the
  /// catalog gives them; 0 = not given (attention_params() then derives GQA shapes).
  double attention_params_b = 0;
  /// Per-layer attention kind, `layers` entries (expanded from the catalog's repeating pattern).
  std::vector<LayerAttention> layer_attention;
  std::vector<std::string> sources;

  bool is_moe() const { return experts > 0; }
  /// Attention projection parameters of the whole model: the catalog's figure, else for GQA
  /// layers layers · hidden · head_dim · 2 · (q_heads + kv_heads); 0 for MLA without a figure.
  double attention_params() const;
  /// Routed-expert parameters: total = shared + routed and active = shared + (k/E) · routed give
  /// routed = (total − active) / (1 − k/E); 0 for dense models.
  double routed_expert_params() const;
  /// Input embedding plus LM head (untied): 2 · vocab · hidden; 0 when the vocabulary is not given.
  double embedding_params() const;
  bool is_mla() const {
    return !layer_attention.empty() && layer_attention[0] == LayerAttention::kMla;
  }
  /// "full", "sliding(1024) 52/62 layers", "mla(512+64)", ...
  std::string layout_description() const;
};

/// Both catalogs plus the sources they cite. Loading validates every field once.
class Catalog {
 public:
  /// Loads `dir`/gpus.yaml and `dir`/models.yaml. Throws InputError on bad content.
  static Catalog load(const std::string& dir);
  /// The data/ directory: $JEVONS_DATA_DIR, else the source tree's data/ baked in at build time.
  static std::string default_dir();

  const GpuSpec& gpu(const std::string& id) const;      ///< throws InputError with a hint
  const ModelSpec& model(const std::string& id) const;  ///< throws InputError with a hint
  const GpuSpec* find_gpu(const std::string& id) const;
  const ModelSpec* find_model(const std::string& id) const;
  const std::vector<GpuSpec>& gpus() const { return gpus_; }
  const std::vector<ModelSpec>& models() const { return models_; }
  const std::map<std::string, Source>& sources() const { return sources_; }
  std::vector<std::string> gpu_ids() const;
  std::vector<std::string> model_ids() const;
  /// The step-time model's fitted and sourced parameters (`dir`/latency-model.yaml); empty when
  /// the data directory has none (the latency model then uses the roofline defaults).
  const LatencyCalibration& latency() const { return latency_; }
  LatencyCalibration& latency() { return latency_; }

 private:
  std::vector<GpuSpec> gpus_;
  std::vector<ModelSpec> models_;
  std::map<std::string, Source> sources_;
  LatencyCalibration latency_;
};

}  // namespace jevons
