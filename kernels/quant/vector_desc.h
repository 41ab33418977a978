#pragma once
/// \file Plain-old-data description of one KV storage format at one head_dim: everything a
/// kernel needs to read or write a stored vector. Built on the host by VectorCodec, passed by value
/// to the CUDA kernels (≈330 bytes of kernel parameters), so the CPU twin and the GPU read the same
/// numbers.
///
/// Stored vector = [code block: code_bytes][meta block: meta_bytes]; the two blocks of a page are
/// stored apart (see append/append.h) but sum to exactly KvFormat::bytes_per_vector(dim).
///
/// TurboQuant code block:  segment 0 codes | segment 1 codes (split only) | QJL signs (prod only)
///   each a packed little-endian stream (packing/packing.h), starting on a byte boundary.
/// TurboQuant meta block (fp16 little-endian):
///   tq-mse-b  [‖x‖]          tq-prod-b [‖x‖, γ = ‖residual‖]      tq-split [‖x_out‖, ‖x_reg‖]
/// Baselines: bf16/fp16 code = 2·d bytes, meta 0; fp8 code = d bytes, meta 0 (per-tensor scale);
/// int{4,2}-kivi code = packed b-bit levels, meta = [scale, zero] fp16 per group of 32 channels.
///
/// "Codec domain": TurboQuant works on the channel-permuted (split formats: outliers first),
/// segment-wise rotated vector. Queries are moved into it once per step and attention outputs
/// moved back once; scores and value sums never leave it.

#include <cstdint>

#include "common/hd.h"

namespace jevons::kernels {

enum class CodecKind : std::uint32_t { kBf16 = 0, kFp16 = 1, kFp8 = 2, kKivi = 3, kTq = 4 };

struct SegmentDesc {
  std::uint32_t dim = 0;             ///< channels in the segment
  std::uint32_t bits = 0;            ///< code bits, 1..4
  std::uint32_t channel_offset = 0;  ///< first channel of the segment in the codec domain
  std::uint32_t code_offset = 0;     ///< byte offset of its codes inside the code block
  std::uint32_t norm_index = 0;      ///< fp16 slot of its norm inside the meta block
  float centroids[16] = {};          ///< 2^bits Lloyd-Max levels for dimension `dim`
  float boundaries[15] = {};         ///< 2^bits − 1 midpoints
};

struct VectorDesc {
  CodecKind kind = CodecKind::kBf16;
  std::uint32_t dim = 0;         ///< head_dim
  std::uint32_t code_bytes = 0;  ///< per vector
  std::uint32_t meta_bytes = 0;  ///< per vector
  // TurboQuant
  std::uint32_t num_segments = 0;  ///< 1 (mse, prod) or 2 (outlier split)
  SegmentDesc seg[2];
  std::uint32_t has_qjl = 0;      ///< tq-prod: QJL sign bits of the residual follow the codes
  std::uint32_t sign_offset = 0;  ///< byte offset of the d sign bits in the code block
  std::uint32_t gamma_index = 1;  ///< fp16 slot of γ in the meta block
  float qjl_scale = 0;            ///< √(π/2)/d, the QJL estimator constant
  // Baselines
  std::uint32_t kivi_bits = 0;    ///< 4 or 2
  std::uint32_t kivi_group = 32;  ///< channels per (scale, zero) pair
  float fp8_scale = 1.0f;         ///< per-tensor: stored = fp8(x / scale)

  /// Width of the prepared query and of the value accumulator in the codec domain:
  /// 2·dim for tq-prod (rotated vector + QJL sketch), dim otherwise.
  JEVONS_HD std::uint32_t work_width() const { return has_qjl ? 2 * dim : dim; }
};

}  // namespace jevons::kernels
