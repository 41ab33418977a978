#pragma once
/// \file Measured kernel profiles (data/profiles/<device>/profile.json): the data model shared by
/// the profiler (kernels/, which writes them) and the simulator's latency model (which reads them).
///
/// Nothing in a profile is typed by hand: `jevons profile` measures and writes it. The JSON layout
/// is documented in docs/profiles.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jevons {

struct ProfileMeta {
  std::string device_name;     ///< e.g. "NVIDIA H100 80GB HBM3" or the CPU model name
  std::string device_kind;     ///< "gpu" or "cpu"
  std::string gpu_catalog_id;  ///< catalog id the device maps to (e.g. "h100-sxm"), "" for CPUs
  std::string driver_version;  ///< "" on CPU
  std::string cuda_version;    ///< runtime version, "" on CPU
  std::string date_utc;        ///< ISO 8601
  std::string git_commit;
  std::string jevons_version;
  std::string host;                       ///< hostname-free description: cores, compiler
  double copy_bandwidth_bytes_per_s = 0;  ///< measured device-to-device (or memcpy) bandwidth
  int iterations = 0;                     ///< timed repetitions per point (median reported)
};

/// One (format × shape) measurement of the attention kernels.
struct AttentionPoint {
  std::string kv_format;  ///< KvConfig::name(), e.g. "tq-3.5" or "k:tq-prod-4/v:tq-mse-3"
  std::uint32_t head_dim = 0;
  std::uint32_t batch = 0;
  std::uint64_t context_tokens = 0;
  std::uint32_t q_heads = 0;
  std::uint32_t kv_heads = 0;
  double bytes_per_token_format = 0;        ///< per token per KV head, K+V, from KvFormat
  double bytes_per_token_allocated = 0;     ///< per token per KV head, K+V, from the real buffers
  double append_time_ns_per_token = 0;      ///< quantize + append, per token (all KV heads)
  double decode_time_ns = 0;                ///< one fused decode-attention step (whole batch)
  double decode_bandwidth_bytes_per_s = 0;  ///< compressed bytes read / decode_time
  double mse = 0;                           ///< E‖x − x̃‖² / E‖x‖² on the keys
  double inner_product_error = 0;  ///< d·E[(⟨q,k̃⟩ − ⟨q,k⟩)²] for unit vectors
  double attention_cosine = 0;     ///< cosine(output, fp32 reference output)
  double attention_rel_error = 0;  ///< ‖out − ref‖ / ‖ref‖
};

/// One synthetic model step measured by the profiler: the model's real layer shapes (GEMMs on
/// random weights, the KV format's append and attention kernels, the LM head), timed on the
/// device. `time_ns` is the whole step: layers × the measured time of one layer + the LM head.
struct StepPoint {
  std::string model_id;
  std::string phase;                  ///< "prefill" or "decode"
  std::string kv_format;              ///< KvConfig::name() of the cache the step attends over
  std::string weights = "bf16";       ///< GEMM weight type: "bf16" (GPU) or "fp32" (CPU)
  std::uint32_t tensor_parallel = 1;  ///< per-shard shapes of this TP degree (no all-reduce)
  std::uint32_t batch = 0;            ///< sequences in the step
  std::uint64_t tokens = 0;           ///< new tokens processed in the step
  /// Decode: KV tokens per sequence before the step. Prefill: o + c, the sequence length after
  /// its chunk of c = tokens / batch new tokens.
  std::uint64_t context_tokens = 0;
  std::uint32_t layers_measured = 0;  ///< distinct layers timed back to back (0: unknown)
  double time_ns = 0;
};

struct Profile {
  ProfileMeta meta;
  std::vector<AttentionPoint> attention;
  std::vector<StepPoint> steps;

  /// Throws InputError naming the file and key on malformed content.
  static Profile load(const std::string& path);
  /// Same, from text already in memory (`path` labels the messages).
  static Profile parse(const std::string& text, const std::string& path);
  /// Writes atomically (temporary file + rename), so a killed profiler never leaves half a file.
  void save(const std::string& path) const;
  /// The JSON text `save` writes (no JSON library: the kernels-only build writes profiles too).
  std::string to_json() const;

  /// Achieved decode-attention bandwidth for a format at a head_dim: the median over the points
  /// with the largest byte volume (the bandwidth-bound regime). Empty when not measured.
  std::optional<double> decode_bandwidth(const std::string& kv_format,
                                         std::uint32_t head_dim) const;
  /// Decode-attention time ratio of `kv_format` against bf16 at the same shape, median over the
  /// shapes measured for both. Empty when either is missing.
  std::optional<double> decode_time_ratio_vs_bf16(const std::string& kv_format,
                                                  std::uint32_t head_dim) const;
};

}  // namespace jevons
