#include "yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

namespace jevons::yaml {

namespace {

// yaml-cpp keeps both entries of a repeated key and every lookup returns the first, so a user who
// pastes a second `duration_s:` below the first would silently run with the first. Each mapping
// is checked for repeated scalar keys; the walk uses its own stack because a document may nest
// far deeper than the call stack allows (fuzz inputs do). Aliases share one node, met once per
// alias: each container is visited once (by its position in the text), so a "billion laughs"
// document of nested aliases costs its size, not its expansion.
void report_duplicate_keys(const YAML::Node& root, const std::string& file) {
  std::vector<Diagnostic> found;
  std::vector<YAML::Node> stack{root};
  std::unordered_set<int> visited;
  while (!stack.empty()) {
    const YAML::Node n = stack.back();
    stack.pop_back();
    if ((n.IsSequence() || n.IsMap()) && !visited.insert(n.Mark().pos).second) continue;
    if (n.IsSequence()) {
      for (const auto& e : n) stack.push_back(e);
    } else if (n.IsMap()) {
      std::unordered_map<std::string, int> first_line;  // key → 1-based line of its first entry
      for (const auto& kv : n) {
        if (kv.first.IsScalar()) {
          const auto [it, fresh] = first_line.emplace(kv.first.Scalar(), kv.first.Mark().line + 1);
          if (!fresh) {
            Diagnostic d;
            d.file = file;
            d.line = kv.first.Mark().line + 1;
            d.column = kv.first.Mark().column + 1;
            d.key = kv.first.Scalar();
            d.message =
                fmt::format("duplicate key (first given at line {}); keep one of them", it->second);
            found.push_back(std::move(d));
          }
        }
        stack.push_back(kv.second);
      }
    }
  }
  if (!found.empty()) {
    std::sort(found.begin(), found.end(),
              [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    throw InputError(std::move(found));
  }
}

}  // namespace

YAML::Node parse_document(const std::string& text, const std::string& file) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    Diagnostic d;
    d.file = file;
    d.line = e.mark.line + 1;
    d.column = e.mark.column + 1;
    d.message = "YAML syntax error: " + e.msg;
    throw InputError(d);
  }
  report_duplicate_keys(doc, file);
  return doc;
}

void Context::error_at(const YAML::Mark& mark, const std::string& key, const std::string& value,
                       const std::string& message, const std::string& hint) {
  Diagnostic d;
  d.file = file_;
  if (!mark.is_null()) {
    d.line = mark.line + 1;
    d.column = mark.column + 1;
  }
  d.key = key;
  d.value = value;
  d.message = message;
  d.hint = hint;
  diagnostics_.push_back(std::move(d));
}

void Context::error(const YAML::Node& at, const std::string& key, const std::string& value,
                    const std::string& message, const std::string& hint) {
  error_at(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), key, value, message, hint);
}

void Context::throw_if_errors() const {
  if (!diagnostics_.empty()) throw InputError(diagnostics_);
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "";
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) return "<list>";
  if (node.IsMap()) return "<mapping>";
  return "<?>";
}

MapReader::MapReader(Context& ctx, YAML::Node node, std::string path)
    : ctx_(ctx), node_(std::move(node)), path_(std::move(path)) {
  if (!node_.IsDefined() || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  } else if (!node_.IsMap()) {
    ctx_.error(node_, path_.empty() ? "<document>" : path_, describe(node_),
               "expected a mapping of 'key: value' entries");
    valid_ = false;
  }
}

std::string MapReader::path_of(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool MapReader::has(const std::string& key) {
  known_.insert(key);
  return valid_ && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node MapReader::child(const std::string& key, bool required) {
  known_.insert(key);
  if (!valid_) return YAML::Node();
  YAML::Node n = node_[key];
  if (required && (!n.IsDefined() || n.IsNull())) {
    ctx_.error(node_, path_of(key), "", "required key is missing");
    return YAML::Node();
  }
  return n;
}

std::optional<double> MapReader::to_number(Context& ctx, const YAML::Node& n,
                                           const std::string& path, const Range& range) {
  if (!n.IsScalar()) {
    ctx.error(n, path, describe(n), "expected " + range.expected());
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  // strtod alone would accept "nan", "inf", hex floats and trailing junk; we accept plain decimal
  // numbers only, with optional '_' digit separators as YAML 1.1 allows.
  std::string clean;
  for (char c : s)
    if (c != '_') clean += c;
  errno = 0;
  char* end = nullptr;
  const double v = clean.empty() ? 0.0 : std::strtod(clean.c_str(), &end);
  const bool parsed =
      !clean.empty() && end && *end == '\0' && clean.find_first_of("xXnNiI") == std::string::npos;
  if (!parsed) {
    ctx.error(n, path, s, "expected " + range.expected());
    return std::nullopt;
  }
  if (errno == ERANGE || !std::isfinite(v)) {
    ctx.error(n, path, s, "value is out of the representable range; expected " + range.expected());
    return std::nullopt;
  }
  const bool below = range.min_exclusive ? !(v > range.min) : v < range.min;
  if (below || v > range.max) {
    ctx.error(n, path, s, "expected " + range.expected());
    return std::nullopt;
  }
  return v;
}

std::optional<double> MapReader::number(const std::string& key, const Range& range, bool required) {
  YAML::Node n = child(key, required);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  return to_number(ctx_, n, path_of(key), range);
}

double MapReader::number_or(const std::string& key, double fallback, const Range& range) {
  return number(key, range, false).value_or(fallback);
}

std::optional<std::int64_t> MapReader::integer(const std::string& key, const Range& range,
                                               bool required) {
  YAML::Node n = child(key, required);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  auto v = to_number(ctx_, n, path_of(key), range);
  if (!v) return std::nullopt;
  if (std::floor(*v) != *v || std::fabs(*v) > 9.0e15) {
    ctx_.error(n, path_of(key), n.Scalar(), "expected a whole number, " + range.expected());
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*v);
}

std::int64_t MapReader::integer_or(const std::string& key, std::int64_t fallback,
                                   const Range& range) {
  return integer(key, range, false).value_or(fallback);
}

std::optional<std::string> MapReader::string(const std::string& key, bool required) {
  YAML::Node n = child(key, required);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  if (!n.IsScalar()) {
    ctx_.error(n, path_of(key), describe(n), "expected a text value");
    return std::nullopt;
  }
  return n.Scalar();
}

std::string MapReader::string_or(const std::string& key, const std::string& fallback) {
  return string(key, false).value_or(fallback);
}

std::string MapReader::choice_or(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& choices) {
  auto s = string(key, false);
  if (!s) return fallback;
  for (const auto& c : choices)
    if (*s == c) return *s;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  const std::string m = closest_match(*s, choices);
  ctx_.error(node_[key], path_of(key), *s, "expected one of: " + list,
             m.empty() ? "" : "did you mean '" + m + "'?");
  return fallback;
}

bool MapReader::boolean_or(const std::string& key, bool fallback) {
  YAML::Node n = child(key, false);
  if (!n.IsDefined() || n.IsNull()) return fallback;
  const std::string s = n.IsScalar() ? n.Scalar() : describe(n);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  ctx_.error(n, path_of(key), s, "expected true or false");
  return fallback;
}

std::optional<double> MapReader::number(const schema::Key& key) {
  return number(std::string(key.name()), key.range, key.required);
}

double MapReader::number_or(const schema::Key& key, double fallback) {
  return number(std::string(key.name()), key.range, key.required).value_or(fallback);
}

std::int64_t MapReader::integer_or(const schema::Key& key) {
  return integer(std::string(key.name()), key.range, key.required)
      .value_or(static_cast<std::int64_t>(key.fallback));
}

std::optional<std::string> MapReader::string(const schema::Key& key) {
  return string(std::string(key.name()), key.required);
}

std::string MapReader::string_or(const schema::Key& key) {
  return string(key).value_or(std::string(key.text));
}

std::string MapReader::choice_or(const schema::Key& key) {
  return choice_or(std::string(key.name()), std::string(key.text), key.choices);
}

void MapReader::finish() {
  if (!valid_) return;
  const std::vector<std::string> known(known_.begin(), known_.end());
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.IsScalar() ? it->first.Scalar() : describe(it->first);
    if (known_.count(k)) continue;
    const std::string m = closest_match(k, known);
    ctx_.error(it->first, path_of(k), "", "unknown key",
               m.empty() ? "" : "did you mean '" + m + "'?");
  }
}

}  // namespace jevons::yaml
