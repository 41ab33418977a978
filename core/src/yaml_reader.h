#pragma once
// Validating access to YAML documents (internal to core; yaml-cpp never leaks into public headers).
//
// Every accessor records the key it asked for, so finish() can report keys nobody asked for
// with a "did you mean". Errors are collected, not thrown, so one load reports every problem.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jevons/core/error.h"
#include "jevons/core/scenario_schema.h"

namespace jevons::yaml {

/// Parses `text` (from `file`); a syntax error becomes an InputError at its line and column.
YAML::Node parse_document(const std::string& text, const std::string& file);

/// Collects diagnostics for one file.
class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) {}
  void error(const YAML::Node& at, const std::string& key, const std::string& value,
             const std::string& message, const std::string& hint = "");
  void error_at(const YAML::Mark& mark, const std::string& key, const std::string& value,
                const std::string& message, const std::string& hint = "");
  bool ok() const { return diagnostics_.empty(); }
  /// Throws InputError with every diagnostic collected, if any.
  void throw_if_errors() const;
  const std::string& file() const { return file_; }
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
};

/// Scalar rendering for messages.
std::string describe(const YAML::Node& node);

/// Limits for a number (the schema's; core/include/jevons/core/scenario_schema.h).
using schema::between;
using schema::non_negative;
using schema::positive;
using schema::Range;

class MapReader {
 public:
  /// `path` is the dotted key path of this mapping ("" at the root). A null node reads as an
  /// empty mapping; any other non-map node is reported.
  MapReader(Context& ctx, YAML::Node node, std::string path);

  bool valid() const { return valid_; }
  bool has(const std::string& key);
  const YAML::Node& node() const { return node_; }
  std::string path_of(const std::string& key) const;
  Context& context() { return ctx_; }

  std::optional<double> number(const std::string& key, const Range& range, bool required);
  double number_or(const std::string& key, double fallback, const Range& range);
  std::optional<std::int64_t> integer(const std::string& key, const Range& range, bool required);
  std::int64_t integer_or(const std::string& key, std::int64_t fallback, const Range& range);
  std::optional<std::string> string(const std::string& key, bool required);
  std::string string_or(const std::string& key, const std::string& fallback);
  /// A string that must be one of `choices` (with "did you mean" on a typo).
  std::string choice_or(const std::string& key, const std::string& fallback,
                        const std::vector<std::string>& choices);
  bool boolean_or(const std::string& key, bool fallback);
  /// The raw child node (marks the key as known); an undefined node when absent.
  YAML::Node child(const std::string& key, bool required = false);

  /// The same reads by a schema key: its name in this mapping, its range, whether it is required
  /// and its default (or `fallback` where the default depends on other values).
  bool has(const schema::Key& key) { return has(std::string(key.name())); }
  std::string path_of(const schema::Key& key) const { return path_of(std::string(key.name())); }
  YAML::Node node_of(const schema::Key& key) const { return node_[std::string(key.name())]; }
  std::optional<double> number(const schema::Key& key);
  double number_or(const schema::Key& key) { return number_or(key, key.fallback); }
  double number_or(const schema::Key& key, double fallback);
  std::int64_t integer_or(const schema::Key& key);
  std::optional<std::string> string(const schema::Key& key);
  std::string string_or(const schema::Key& key);
  std::string choice_or(const schema::Key& key);
  YAML::Node child(const schema::Key& key) { return child(std::string(key.name()), key.required); }
  /// Reports keys of this mapping that no accessor asked for.
  void finish();

  /// Number conversion shared with list readers: reports and returns empty on failure.
  static std::optional<double> to_number(Context& ctx, const YAML::Node& n, const std::string& path,
                                         const Range& range);

 private:
  Context& ctx_;
  YAML::Node node_;
  std::string path_;
  bool valid_ = true;
  std::set<std::string> known_;
};

}  // namespace jevons::yaml
