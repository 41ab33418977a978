#include "jevons/core/kv_format.h"

#include <stdexcept>

#include "jevons/core/error.h"

namespace jevons {

namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return (a + b - 1) / b;
}

KvFormat make(KvScheme s, int bits) {
  KvFormat f;
  f.scheme = s;
  f.bits = bits;
  return f;
}

KvFormat make_split(int outlier_bits, int regular_bits, int num, int den) {
  KvFormat f;
  f.scheme = KvScheme::kTqSplit;
  f.bits = outlier_bits;
  f.regular_bits = regular_bits;
  f.outlier_num = num;
  f.outlier_den = den;
  return f;
}

constexpr std::uint64_t kNormBytes = 2;  // fp16 norms, as the reference byte counts assume
}  // namespace

const std::vector<std::string>& KvFormat::names() {
  static const std::vector<std::string> kNames = {"bf16",      "fp16",     "fp8",       "int4-kivi",
                                                  "int2-kivi", "nvfp4",    "tq-mse-1",  "tq-mse-2",
                                                  "tq-mse-3",  "tq-mse-4", "tq-prod-2", "tq-prod-3",
                                                  "tq-prod-4", "tq-2.5",   "tq-3.5"};
  return kNames;
}

KvFormat KvFormat::parse(const std::string& name) {
  if (name == "bf16") return make(KvScheme::kBf16, 16);
  if (name == "fp16") return make(KvScheme::kFp16, 16);
  if (name == "fp8") return make(KvScheme::kFp8, 8);
  if (name == "int4-kivi") return make(KvScheme::kInt4Kivi, 4);
  if (name == "int2-kivi") return make(KvScheme::kInt2Kivi, 2);
  if (name == "nvfp4") return make(KvScheme::kNvfp4, 4);
  for (int b = 1; b <= 4; ++b)
    if (name == "tq-mse-" + std::to_string(b)) return make(KvScheme::kTqMse, b);
  for (int b = 2; b <= 4; ++b)
    if (name == "tq-prod-" + std::to_string(b)) return make(KvScheme::kTqProd, b);
  if (name == "tq-2.5") return make_split(3, 2, 1, 4);
  if (name == "tq-3.5") return make_split(4, 3, 1, 4);

  Diagnostic d;
  d.value = name;
  d.message =
      "unknown KV format; expected one of bf16, fp16, fp8, int4-kivi, int2-kivi, nvfp4, "
      "tq-mse-1..4, tq-prod-2..4, tq-2.5, tq-3.5";
  if (auto m = closest_match(name, names()); !m.empty()) d.hint = "did you mean '" + m + "'?";
  throw InputError(d);
}

std::string KvFormat::name() const {
  switch (scheme) {
    case KvScheme::kBf16:
      return "bf16";
    case KvScheme::kFp16:
      return "fp16";
    case KvScheme::kFp8:
      return "fp8";
    case KvScheme::kInt4Kivi:
      return "int4-kivi";
    case KvScheme::kInt2Kivi:
      return "int2-kivi";
    case KvScheme::kNvfp4:
      return "nvfp4";
    case KvScheme::kTqMse:
      return "tq-mse-" + std::to_string(bits);
    case KvScheme::kTqProd:
      return "tq-prod-" + std::to_string(bits);
    case KvScheme::kTqSplit:
      return bits == 3 ? "tq-2.5" : "tq-3.5";
  }
  throw std::logic_error("KvFormat::name: unhandled scheme");
}

std::uint32_t KvFormat::outlier_channels(std::uint32_t dim) const {
  if (scheme != KvScheme::kTqSplit) return 0;
  return static_cast<std::uint32_t>(std::uint64_t{dim} * outlier_num / outlier_den);
}

std::uint64_t KvFormat::bytes_per_vector(std::uint32_t dim) const {
  if (dim == 0) throw std::invalid_argument("KV vector dimension must be positive");
  const std::uint64_t d = dim;
  switch (scheme) {
    case KvScheme::kBf16:
    case KvScheme::kFp16:
      return 2 * d;
    case KvScheme::kFp8:
      return d;
    case KvScheme::kInt4Kivi:
      return ceil_div(4 * d, 8) + 4 * ceil_div(d, 32);
    case KvScheme::kInt2Kivi:
      return ceil_div(2 * d, 8) + 4 * ceil_div(d, 32);
    case KvScheme::kNvfp4:
      return ceil_div(4 * d, 8) + ceil_div(d, 16);
    case KvScheme::kTqMse:
      return ceil_div(static_cast<std::uint64_t>(bits) * d, 8) + kNormBytes;
    case KvScheme::kTqProd:
      return ceil_div(static_cast<std::uint64_t>(bits - 1) * d, 8) + ceil_div(d, 8) +
             2 * kNormBytes;
    case KvScheme::kTqSplit: {
      const std::uint64_t o = outlier_channels(dim);
      if (o == 0 || o == d)
        throw std::invalid_argument("dimension " + std::to_string(dim) +
                                    " too small for an outlier split");
      return ceil_div(static_cast<std::uint64_t>(bits) * o, 8) +
             ceil_div(static_cast<std::uint64_t>(regular_bits) * (d - o), 8) + 2 * kNormBytes;
    }
  }
  throw std::logic_error("KvFormat::bytes_per_vector: unhandled scheme");
}

double KvFormat::bits_per_value(std::uint32_t dim) const {
  return 8.0 * static_cast<double>(bytes_per_vector(dim)) / static_cast<double>(dim);
}

bool KvFormat::is_turboquant() const {
  return scheme == KvScheme::kTqMse || scheme == KvScheme::kTqProd || scheme == KvScheme::kTqSplit;
}

std::string KvConfig::name() const {
  if (key == value) return key.name();
  return "k:" + key.name() + "/v:" + value.name();
}

KvConfig KvConfig::parse(const std::string& name) {
  if (name.rfind("k:", 0) == 0) {
    const auto slash = name.find("/v:");
    if (slash == std::string::npos) {
      Diagnostic d;
      d.value = name;
      d.message = "a split KV format is written 'k:KEYFORMAT/v:VALUEFORMAT'";
      throw InputError(d);
    }
    return {KvFormat::parse(name.substr(2, slash - 2)), KvFormat::parse(name.substr(slash + 3))};
  }
  const KvFormat f = KvFormat::parse(name);
  return {f, f};
}

}  // namespace jevons
