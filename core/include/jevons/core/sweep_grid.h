#pragma once
/// \file Sweep grids: a base scenario plus parameters to vary, as a full grid or a Latin
/// hypercube. Each point is the base scenario's YAML with the parameters overwritten, validated
/// by the ordinary scenario loader. Schema: docs/planner.md ("Sweeps").

#include <cstdint>
#include <string>
#include <vector>

namespace jevons {

struct SweepParameter {
  std::string key;                  ///< dotted path; `[i]` picks a list item, `[*]` all of them
  std::vector<std::string> values;  ///< grid values (as YAML scalars)
  bool continuous = false;          ///< a range sampled by the Latin hypercube
  double low = 0, high = 0;
  int line = 0;
};

struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::string> values;  ///< one per parameter, as written into the scenario
};

struct SweepGrid {
  std::string path;
  std::string scenario_path;  ///< resolved against the grid file's directory
  std::string scenario_text;
  bool latin_hypercube = false;
  std::uint32_t samples = 0;  ///< Latin hypercube only
  std::uint64_t seed = 0;     ///< Latin hypercube sampling seed
  std::vector<SweepParameter> parameters;

  /// Reads and validates a grid file and its base scenario's text. Throws InputError (file, line,
  /// key) — including for a grid with no points and for keys the base scenario does not have.
  static SweepGrid load(const std::string& path);
  static SweepGrid parse(const std::string& text, const std::string& path);

  /// Every point, in a fixed order (grid: the last parameter varies fastest).
  std::vector<SweepPoint> points() const;
  /// The base scenario's YAML with `point`'s values written in (comments are not preserved).
  std::string apply(const SweepPoint& point) const;
  /// {"key": value, ...} as JSON text, for storing with the point's results.
  std::string describe(const SweepPoint& point) const;
};

}  // namespace jevons
