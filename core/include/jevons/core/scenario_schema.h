#pragma once
/// \file The scenario file's keys, written once: each key's dotted path, its type, its range, its
/// default and what it means.
///
/// The loader reads these keys through their descriptors (core/src/yaml_reader.h takes a Key and
/// uses its name, range and default, so its messages name the expectation written here); the
/// GUI addresses the same keys when it writes levers and form fields into YAML text, and maps a
/// loader error's key path back to the lever or form field that edits it. A key path names list
/// items with "[]": `planner.classes[].growth_per_year`; a loader error names the item's index,
/// `planner.classes[2].growth_per_year`, and `find()` reads either. Qt-free and yaml-free.
///
/// Not every key of the file is here yet: the keys the GUI writes or marks and their sections
/// are; the simulation and uncertainty sections are read with their own literals.

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace jevons::schema {

/// Limits for a number; NaN, infinities and non-numbers are always rejected.
struct Range {
  double min = -std::numeric_limits<double>::max();
  double max = std::numeric_limits<double>::max();
  bool min_exclusive = false;  ///< true: value must be > min (e.g. strictly positive)
  /// "a finite number in [0, 1]", as the loader's messages say it.
  std::string expected() const;
  bool contains(double v) const;
};
Range positive(double max);      ///< (0, max]
Range non_negative(double max);  ///< [0, max]
Range between(double lo, double hi);
Range unit_open_below();  ///< (0, 1]: shares and efficiencies that cannot be zero

enum class Kind {
  kSection,       ///< a mapping of further keys
  kList,          ///< a list of mappings (its items are the key with "[]" appended)
  kNumber,        ///< a finite number within `range`
  kInteger,       ///< a whole number within `range`
  kText,          ///< free text
  kChoice,        ///< one of `choices`
  kQuarter,       ///< a quarter written YYYYQn
  kKvFormat,      ///< a KV format name (docs/scenarios.md "KV formats")
  kKvFormatList,  ///< a list of KV format names
};

struct Key {
  std::string_view path;  ///< "planner.classes[].growth_per_year"
  Kind kind = Kind::kNumber;
  Range range;                 ///< kNumber, kInteger
  double fallback = 0;         ///< kNumber, kInteger: the value when the key is absent
  std::string_view text = {};  ///< kText, kChoice, kQuarter, kKvFormat: the value when absent
  std::vector<std::string> choices = {};  ///< kChoice
  bool required = false;                  ///< the loader reports the key when it is absent
  std::string_view doc = {};              ///< one sentence: what the value means

  /// The last segment of the path: the key as it stands in its mapping ("growth_per_year").
  std::string_view name() const;
  /// The path of the mapping (or list item) that holds the key ("planner.classes[]").
  std::string_view parent() const;
  /// The path's segments, list items as "classes[]": {"planner", "classes[]", "growth_per_year"}.
  std::vector<std::string_view> segments() const;
  /// The path with list indices filled in, outermost first: at({2}) →
  /// "planner.classes[2].growth_per_year". Missing indices read as 0.
  std::string at(std::initializer_list<std::size_t> indices = {}) const;
};

/// Every key described here, sections and lists included, in file order.
const std::vector<const Key*>& all();

/// The descriptor of a key path with or without list indices ("planner.classes[2].slo.ttft_ms");
/// the indices found go to `indices`, outermost first. nullptr when the path is not described.
const Key* find(std::string_view path, std::vector<std::size_t>* indices = nullptr);
/// The descriptor of `path` or, when it has none, of the nearest enclosing key that has one
/// ("pools[0].kv_formats[3]" → pools[].kv_formats). nullptr when nothing encloses it.
const Key* find_enclosing(std::string_view path, std::vector<std::size_t>* indices = nullptr);

/// The keys, named after their paths.
namespace keys {
// Top level.
extern const Key kName, kDescription, kSeed;
extern const Key kHorizon, kHorizonStart, kHorizonQuarters;
extern const Key kPools, kPool, kPoolKvFormats;
// planner:
extern const Key kPlanner, kBaselineFormat, kCompressedFormat;
extern const Key kAdoption, kAdoptionStart, kAdoptionSpeed, kAdoptionCeiling;
extern const Key kClasses, kClass, kClassName, kClassModel, kClassTokensPerS, kClassGrowth;
extern const Key kClassElasticity, kElasticityShortRun, kElasticityLongRun, kElasticityLow,
    kElasticityHigh;
extern const Key kClassSlo, kSloTtftMs, kSloTpotMs;
extern const Key kFleet, kGenerations, kGeneration, kGenerationGpu, kGenerationInstalled,
    kGenerationAvailableFrom, kGenerationDeliveries, kGenerationPrice, kGenerationCompressedFormat;
extern const Key kGenerationAdoption, kGenerationAdoptionStart, kGenerationAdoptionSpeed,
    kGenerationAdoptionCeiling;
extern const Key kEconomics, kGpuLifetimeYears, kServerCostMultiplier, kPowerUsdPerKwh,
    kAverageUtilization, kDefaultPriceUsd, kMargin, kPassThrough;
extern const Key kCapacity, kCapacityMethod, kSloAttainment;
}  // namespace keys

}  // namespace jevons::schema
