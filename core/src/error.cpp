#include "jevons/core/error.h"

#include <algorithm>
#include <numeric>

namespace jevons {

std::string Diagnostic::format() const {
  // Appended piece by piece (no fmt, so the kernels-only build needs no third-party library;
  // no operator+ chains, on which GCC 12 reports a false -Wrestrict).
  std::string out;
  if (!file.empty()) {
    out += file;
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
    out += key;
    out += '\'';
    if (!value.empty()) {
      out += " = '";
      out += value;
      out += '\'';
    }
    out += ": ";
  } else if (!value.empty()) {
    out += '\'';
    out += value;
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
