#include "jevons/core/error.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <numeric>

namespace jevons {

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(text.size(), max_bytes);
  out.reserve(n + 32);
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence (2 to 4 bytes, no overlong lead bytes) passes whole.
    std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    if (len > 0 && i + len <= n) {
      for (std::size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) len = 0;
    } else {
      len = 0;
    }
    if (len > 0) {
      out.append(text.data() + i, len);
      i += len;
    } else {
      if (c == '\t')
        out.append("\\t");
      else {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      }
      ++i;
    }
  }
  if (text.size() > max_bytes) {
    out += "… (";
    out += std::to_string(text.size());
    out += " bytes in all)";
  }
  return out;
}

void check_input_file_size(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size <= kMaxInputFileBytes) return;
  Diagnostic d;
  d.file = path;
  d.message = "a ";
  d.message += what;
  d.message += " of ";
  d.message += std::to_string(size);
  d.message += " bytes; such files are limited to ";
  d.message += std::to_string(kMaxInputFileBytes);
  d.message += " bytes (64 MiB)";
  throw InputError(d);
}

void check_input_lines(const std::string& path, std::string_view text, const std::string& what) {
  std::size_t line = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::size_t length = end - start;
    if (length > kMaxInputLineBytes) {
      Diagnostic d;
      d.file = path;
      d.line = static_cast<int>(line);
      d.message = "a line of ";
      d.message += std::to_string(length);
      d.message += " bytes in the ";
      d.message += what;
      d.message += "; lines are limited to ";
      d.message += std::to_string(kMaxInputLineBytes);
      d.message += " bytes (1 MiB): is this the right file?";
      throw InputError(d);
    }
    start = end + 1;
    ++line;
  }
}

std::string Diagnostic::format() const {
  // Appended piece by piece (no fmt, so the kernels-only build needs no third-party library;
  // no operator+ chains, on which GCC 12 reports a false -Wrestrict).
  std::string out;
  if (!file.empty()) {
    out += printable(file, 500);
    if (line > 0) {
      out += ':';
      out += std::to_string(line);
      if (column > 0) {
        out += ':';
        out += std::to_string(column);
      }
    }
    out += ": ";
  }
  if (!key.empty()) {
    out += "key '";
    out += printable(key);
    out += '\'';
    if (!value.empty()) {
      out += " = '";
      out += printable(value);
      out += '\'';
    }
    out += ": ";
  } else if (!value.empty()) {
    out += '\'';
    out += printable(value);
    out += "': ";
  }
  out += message;
  if (!hint.empty()) {
    out += " (";
    out += hint;
    out += ')';
  }
  return out;
}

namespace {
std::string join(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (i) out += "\n";
    out += ds[i].format();
  }
  return out;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(Diagnostic diagnostic)
    : InputError(std::vector<Diagnostic>{std::move(diagnostic)}) {}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Users often type the start of an id ("h100" for "h100-sxm"): a prefix match wins outright.
  std::string prefix;
  for (const auto& c : candidates)
    if (word.size() >= 3 && c.size() > word.size() && c.compare(0, word.size(), word) == 0 &&
        (prefix.empty() || c.size() < prefix.size()))
      prefix = c;
  if (!prefix.empty()) return prefix;
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A third of the word's length (at least 2 edits) separates typos from unrelated words.
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string{};
}

}  // namespace jevons
