#pragma once
/// \file KV-cache storage formats and their exact byte layout per stored vector.
///
/// A "vector" is one key (or one value) of one token in one KV head (or one MLA latent), of
/// dimension `dim`. Every format below stores a whole number of bytes per vector; the kernels in
/// `kernels/` allocate exactly this layout, and the profiler checks the two agree.
///
/// Layout per vector (bytes), for dimension d:
///   bf16 / fp16        2·d
///   fp8 (E4M3)         d            (one per-tensor scale, not per token: 0 B/token)
///   int4-kivi          d/2 + 4·⌈d/32⌉   (fp16 scale + fp16 zero point per group of 32; KIVI)
///   int2-kivi          d/4 + 4·⌈d/32⌉
///   nvfp4              d/2 + ⌈d/16⌉     (E2M1 + one FP8 E4M3 scale per 16; per-tensor fp32
///   ignored) tq-mse-b           ⌈b·d/8⌉ + 2      (b-bit Lloyd-Max codes + fp16 vector norm), b
///   = 1..4 tq-prod-b          ⌈(b−1)·d/8⌉ + ⌈d/8⌉ + 2 + 2
///                                       ((b−1)-bit codes, d QJL sign bits, fp16 residual norm γ,
///                                        fp16 vector norm), b = 2..4
///   tq-2.5             outlier split: d/4 channels at 3 bits and 3d/4 at 2 bits, two independent
///                      tq-mse instances, each with its own fp16 norm (paper §4.3: 32×3 + 96×2)
///   tq-3.5             d/4 channels at 4 bits and 3d/4 at 3 bits, two fp16 norms ("likewise")
/// The paper's "(32×3 + 96×2)/128 = 2.5" does not hold for the codes alone (288 bits = 2.25 per
/// channel); it holds once the two 16-bit norms are counted: (288 + 32)/128 = 2.5. The same
/// reading gives 3.5 bits for 32×4 + 96×3 + 32 = 448 bits. So at d = 128 both names are exact
/// storage costs, norms included.
/// Codes are packed little-endian bit streams per vector (see kernels/packing), so 3-bit codes
/// straddle bytes; each vector starts on a byte boundary.

#include <cstdint>
#include <string>
#include <vector>

namespace jevons {

enum class KvScheme : std::uint8_t {
  kBf16,
  kFp16,
  kFp8,
  kInt4Kivi,
  kInt2Kivi,
  kNvfp4,
  kTqMse,    ///< TurboQuant_mse, `bits` = 1..4
  kTqProd,   ///< TurboQuant_prod, `bits` = 2..4 ((bits−1)-bit mse + 1-bit QJL)
  kTqSplit,  ///< outlier split of two tq-mse instances
};

/// One storage format for keys or for values.
struct KvFormat {
  KvScheme scheme = KvScheme::kBf16;
  int bits = 16;         ///< code bits for int/tq formats (for kTqSplit: the outlier bits)
  int regular_bits = 0;  ///< kTqSplit only: bits of the non-outlier channels
  int outlier_num = 0;   ///< kTqSplit only: outlier channels = dim · outlier_num / outlier_den
  int outlier_den = 1;

  /// Parses a canonical name ("bf16", "fp8", "int4-kivi", "nvfp4", "tq-mse-3", "tq-prod-4",
  /// "tq-2.5", "tq-3.5"). Throws InputError with a "did you mean" hint on an unknown name.
  static KvFormat parse(const std::string& name);
  /// Every canonical name, in catalog order.
  static const std::vector<std::string>& names();

  std::string name() const;
  /// Exact stored bytes for one vector of dimension `dim` (see the file comment).
  /// Throws std::invalid_argument when `dim` does not suit the format (e.g. not a multiple of 8).
  std::uint64_t bytes_per_vector(std::uint32_t dim) const;
  /// Stored bits per channel including metadata, for `dim` (e.g. tq-mse-4 at d=128: 4.125).
  double bits_per_value(std::uint32_t dim) const;
  /// Outlier channels of a split format at dimension `dim` (0 for other formats).
  std::uint32_t outlier_channels(std::uint32_t dim) const;
  /// True for formats with a quantization codebook (the TurboQuant family).
  bool is_turboquant() const;

  friend bool operator==(const KvFormat&, const KvFormat&) = default;
};

/// Formats for keys and for values; they may differ (e.g. prod keys, mse values).
struct KvConfig {
  KvFormat key;
  KvFormat value;

  /// "fp8" when both agree, else "k:tq-prod-4/v:tq-mse-3".
  std::string name() const;
  /// Parses either a single format name or the "k:X/v:Y" form.
  static KvConfig parse(const std::string& name);

  friend bool operator==(const KvConfig&, const KvConfig&) = default;
};

}  // namespace jevons
