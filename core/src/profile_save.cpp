// Profile::save without a JSON library, so the kernels-only build (CUDA toolkit, CMake and the
// C++ standard library only) writes profiles too. The layout is nlohmann::json::dump(1)'s (keys
// sorted, one-space indent, its number layout), so profiles keep diffing cleanly; the digits are
// std::to_chars' shortest round-trip ones, which on rare values differ from nlohmann's Grisu2 in
// the last digit (both read back to the same double). Tested in test_profile_io.cpp.
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "jevons/core/profile.h"

namespace jevons {
namespace {

constexpr const char* kFormatTag = "jevons-profile";  // also in profile.cpp
constexpr int kSchemaVersion = 1;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through, as nlohmann's default
        }
    }
  }
  return out + "\"";
}

/// nlohmann's double format: the shortest digits that read back exactly (std::to_chars), laid
/// out by its rules: fixed notation for decimal exponents in (−4, 15], a ".0" on integral values,
/// else d.ddde±XX with at least two exponent digits; non-finite values become null.
std::string number(double x) {
  if (!std::isfinite(x)) return "null";
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const std::string sci(buf, r.ptr);  // [-]d[.ddd]e±XX
  std::string out = sci[0] == '-' ? "-" : "";
  const std::size_t start = out.size(), e = sci.find('e');
  std::string digits;
  for (std::size_t i = start; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int k = static_cast<int>(digits.size());
  const int n = std::atoi(sci.c_str() + e + 1) + 1;  // decimal point after n digits
  constexpr int kMinExp = -4, kMaxExp = 15;
  if (k <= n && n <= kMaxExp) return out + digits + std::string(n - k, '0') + ".0";
  if (0 < n && n <= kMaxExp) return out + digits.substr(0, n) + "." + digits.substr(n);
  if (kMinExp < n && n <= 0) return out + "0." + std::string(-n, '0') + digits;
  out += digits.substr(0, 1);
  if (k > 1) out += "." + digits.substr(1);
  const int ex = n - 1;
  out += ex < 0 ? "e-" : "e+";
  const int a = std::abs(ex);
  if (a < 10) out += '0';
  return out + std::to_string(a);
}

/// One JSON object member list at `indent` spaces; members are given in sorted key order.
class Object {
 public:
  explicit Object(int indent) : indent_(indent) {}
  Object& raw(const char* key, const std::string& value) {
    text_ +=
        (text_.empty() ? "" : ",\n") + std::string(indent_ + 1, ' ') + quoted(key) + ": " + value;
    return *this;
  }
  Object& str(const char* key, const std::string& v) { return raw(key, quoted(v)); }
  Object& num(const char* key, double v) { return raw(key, number(v)); }
  Object& count(const char* key, std::uint64_t v) { return raw(key, std::to_string(v)); }
  std::string done() const { return "{\n" + text_ + "\n" + std::string(indent_, ' ') + "}"; }

 private:
  int indent_;
  std::string text_;
};

std::string array(const std::vector<std::string>& items, int indent) {
  if (items.empty()) return "[]";
  std::string s = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i)
    s += (i ? ",\n" : "") + std::string(indent + 1, ' ') + items[i];
  return s + "\n" + std::string(indent, ' ') + "]";
}

}  // namespace

std::string Profile::to_json() const {
  std::vector<std::string> att;
  for (const auto& a : attention)
    att.push_back(Object(2)
                      .num("append_time_ns_per_token", a.append_time_ns_per_token)
                      .num("attention_cosine", a.attention_cosine)
                      .num("attention_rel_error", a.attention_rel_error)
                      .count("batch", a.batch)
                      .num("bytes_per_token_allocated", a.bytes_per_token_allocated)
                      .num("bytes_per_token_format", a.bytes_per_token_format)
                      .count("context_tokens", a.context_tokens)
                      .num("decode_bandwidth_bytes_per_s", a.decode_bandwidth_bytes_per_s)
                      .num("decode_time_ns", a.decode_time_ns)
                      .count("head_dim", a.head_dim)
                      .num("inner_product_error", a.inner_product_error)
                      .str("kv_format", a.kv_format)
                      .count("kv_heads", a.kv_heads)
                      .num("mse", a.mse)
                      .count("q_heads", a.q_heads)
                      .done());
  std::vector<std::string> st;
  for (const auto& s : steps)
    st.push_back(Object(2)
                     .count("batch", s.batch)
                     .count("context_tokens", s.context_tokens)
                     .str("kv_format", s.kv_format)
                     .count("layers_measured", s.layers_measured)
                     .str("model_id", s.model_id)
                     .str("phase", s.phase)
                     .count("tensor_parallel", s.tensor_parallel)
                     .num("time_ns", s.time_ns)
                     .count("tokens", s.tokens)
                     .str("weights", s.weights)
                     .done());
  const std::string m = Object(1)
                            .num("copy_bandwidth_bytes_per_s", meta.copy_bandwidth_bytes_per_s)
                            .str("cuda_version", meta.cuda_version)
                            .str("date_utc", meta.date_utc)
                            .str("device_kind", meta.device_kind)
                            .str("device_name", meta.device_name)
                            .str("driver_version", meta.driver_version)
                            .str("git_commit", meta.git_commit)
                            .str("gpu_catalog_id", meta.gpu_catalog_id)
                            .str("host", meta.host)
                            .raw("iterations", std::to_string(meta.iterations))
                            .str("jevons_version", meta.jevons_version)
                            .done();
  return Object(0)
      .raw("attention", array(att, 1))
      .str("format", kFormatTag)
      .raw("meta", m)
      .raw("schema_version", std::to_string(kSchemaVersion))
      .raw("steps", array(st, 1))
      .done();
}

void Profile::save(const std::string& path) const {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  // Same directory as the target so the rename is atomic (never across file systems).
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write profile temporary file " + tmp.string());
    out << to_json() << '\n';
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error("failed writing profile " + tmp.string());
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot move profile into place at " + path);
  }
}

}  // namespace jevons
