#pragma once
/// \file Per-vector quantizers: TurboQuant_mse, TurboQuant_prod, the outlier split (tq-2.5/3.5),
/// and the bf16/fp16/fp8/int-KIVI baselines, behind one interface (turboquant.md §2.2–2.4).
///
/// A VectorCodec is built for one (KvFormat, head_dim, KV head). Heads of one layer share the
/// rotations and the QJL matrix (same seed); split formats differ per head only in which channels
/// are outliers. All pointer parameters are host memory.

#include <cstdint>
#include <memory>
#include <vector>

#include "append/pool_layout.h"
#include "common/device.h"
#include "jevons/core/kv_format.h"
#include "quant/vector_desc.h"
#include "rotation/rotation.h"

namespace jevons::kernels {

struct CodecOptions {
  RotationKind rotation = RotationKind::kHadamard;  ///< kDense for the paper's Haar reference
  std::uint64_t seed = 0x4a45564f4e53ull;           ///< one per layer and K/V stream
  /// Split formats only: this head's outlier channels (KvFormat::outlier_channels(dim) distinct
  /// indices < dim, any order). Empty means channels [0, o). See select_outlier_channels().
  std::vector<std::uint32_t> outlier_channels;
  float fp8_scale = 1.0f;  ///< fp8 only: per-tensor scale
};

class VectorCodec {
 public:
  /// Throws std::invalid_argument for an unsupported format (nvfp4) or dimension (not a multiple
  /// of 8, or of 32 for KIVI).
  static VectorCodec make(const KvFormat& format, std::uint32_t dim, const CodecOptions& options);

  const KvFormat& format() const { return format_; }
  const VectorDesc& desc() const { return desc_; }
  std::uint32_t dim() const { return desc_.dim; }
  std::uint32_t code_bytes() const { return desc_.code_bytes; }
  std::uint32_t meta_bytes() const { return desc_.meta_bytes; }
  std::uint64_t vector_bytes() const { return desc_.code_bytes + desc_.meta_bytes; }
  /// See VectorDesc::work_width().
  std::uint32_t work_width() const { return desc_.work_width(); }

  /// Quantizes `x` ([dim] floats) into `code` ([code_bytes]) and `meta` ([meta_bytes]).
  /// Uses the canonical float operation order that the CUDA append kernel reproduces.
  void encode(const float* x, std::uint8_t* code, std::uint8_t* meta) const;
  /// Dequantizes into `x` ([dim] floats, original channel order).
  void decode(const std::uint8_t* code, const std::uint8_t* meta, float* x) const;

  /// Moves a query into the codec domain: `q` [dim] → `q_work` [work_width] (rotated per
  /// segment; for tq-prod followed by the QJL sketch S·q_rot). Identity copy for baselines.
  void prepare_query(const float* q, float* q_work) const;
  /// ⟨q, x̃⟩ straight from the stored bytes, never materialising x̃ (codebook lookup-dot).
  float score(const float* q_work, const std::uint8_t* code, const std::uint8_t* meta) const;
  /// acc += p · x̃ in the codec domain. `acc`: [work_width].
  void accumulate(float p, const std::uint8_t* code, const std::uint8_t* meta, float* acc) const;
  /// Moves an accumulator back: `acc` [work_width] → `out` [dim], original channel order.
  void finish(const float* acc, float* out) const;

  /// Codec-domain transform T ([dim][dim] row-major, q_work[0:dim] = T·q): permutation then
  /// per-segment rotation. Identity for baselines. The GPU rotates queries and outputs with it.
  std::vector<float> transform_matrix() const;
  /// tq-prod: the QJL matrix S ([dim][dim] row-major, i.i.d. N(0,1), acting on the rotated
  /// vector); empty otherwise.
  const std::vector<float>& qjl_matrix() const;
  /// Channel permutation into the codec domain: codec channel j holds original channel perm[j].
  const std::vector<std::uint16_t>& permutation() const { return perm_; }
  /// Rotation of segment s (null for baselines).
  const Rotation* rotation(int s) const { return rot_[s].get(); }

 private:
  KvFormat format_;
  VectorDesc desc_;
  std::vector<std::uint16_t> perm_;
  std::shared_ptr<const Rotation> rot_[2];
  std::shared_ptr<const std::vector<float>> qjl_;
};

/// Outlier rule for the split formats (documented in docs/kernels.md): the `count` channels with
/// the largest mean |x| over a calibration sample of this head (e.g. its prefill keys), ties to
/// the lower index; returned ascending. Fixed for the layer's lifetime, so it is per-layer
/// metadata, not per-token bytes. `x`: [n][stride] floats, channels [0, dim) used.
std::vector<std::uint32_t> select_outlier_channels(const float* x, std::size_t n,
                                                   std::size_t stride, std::uint32_t dim,
                                                   std::uint32_t count);

/// One codec per KV head of a layer (shared rotations and QJL matrix).
/// `calibration`: [n][kv_heads][dim] floats used to pick split-format outliers (may be null:
/// then channels [0, o)); ignored for other formats.
std::vector<VectorCodec> make_head_codecs(const KvFormat& format, std::uint32_t dim,
                                          std::uint32_t kv_heads, const CodecOptions& options,
                                          const float* calibration = nullptr,
                                          std::size_t calibration_tokens = 0);

/// Element type of K/V handed to the GPU quantizers.
enum class InputType : std::uint32_t { kF32 = 0, kBf16 = 1 };

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

/// Device copies of one layer's codecs (all KV heads): the descriptor by value plus its tables.
struct DeviceCodecSet {
  VectorDesc desc;
  std::uint32_t kv_heads = 0;
  std::uint32_t rot_kind[2] = {0, 0};  ///< RotationKind of each segment
  float hadamard_scale[2] = {1, 1};
  bool identity_transform = true;  ///< baselines: no permutation, no rotation
  bool identity_perm = true;       ///< every head's channel permutation is the identity
  DeviceBuffer perm;  ///< [kv_heads][dim] uint16: codec channel j holds original perm[j]
  /// Catalog splits (tq-2.5/3.5: Hadamard + kBlockHadamard segments): [kv_heads][dim] uint32,
  /// per original channel c half the byte offset of its codec slot in append_split_kernel's
  /// scratch and, in bit 31, that channel's rotation sign (append_split_scatter_table), the
  /// scatter that kernel permutes and flips signs with; empty otherwise.
  DeviceBuffer perm_scatter;
  DeviceBuffer rot[2];       ///< per segment: kDense [n][n] floats (Πᵀ), else [n] signs
  DeviceBuffer transform;    ///< [kv_heads][dim][dim] floats, T (q_work = T·q)
  DeviceBuffer transform_t;  ///< [kv_heads][dim][dim] floats, Tᵀ
  DeviceBuffer qjl;          ///< tq-prod: [dim][dim] floats, S
  DeviceBuffer qjl_t;        ///< tq-prod: [dim][dim] floats, Sᵀ

  /// `codecs`: one per KV head, same format and dim. Uploads every table.
  static Status create(const std::vector<VectorCodec>& codecs, DeviceCodecSet* out);
};

/// Quantizes n vectors of one tensor into a pool (the single-tensor form of gpu::append).
/// `x`: device [n][kv_heads][dim] of `input` type; `slots`: device [n]; `pool`: device
/// [layout.total_bytes()].
Status quantize_vectors(const DeviceCodecSet& set, const PoolLayout& layout, const void* x,
                        InputType input, std::size_t n, const std::int64_t* slots,
                        std::uint8_t* pool, const Stream& stream);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
