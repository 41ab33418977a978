#pragma once
/// \file The world dataset (data/world.yaml): accelerator shipments by vendor and catalog part,
/// and the public figures a back-cast is checked against (HBM bits shipped, tokens served, the
/// inference share, prices). Every figure keeps its source, publication date and confidence, and
/// knows whether it is a forecast (its period ends after its date). Schema: docs/planner.md.

#include <map>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"

namespace jevons {

/// A period of a world figure: a year, a quarter or a month. Months are counted from year 0.
struct WorldPeriod {
  std::string label;  ///< as written: "2026", "2025Q1", "2025-05"
  int year = 0;
  int first_month = 0;  ///< year*12 + (month - 1) of the period's first month
  int last_month = 0;   ///< of its last month

  /// Parses "YYYY", "YYYYQn" or "YYYY-MM"; false when the text is none of these.
  static bool parse(const std::string& text, WorldPeriod& out);
};

/// A sourced world figure: [value, source, date, confidence].
struct WorldFigure {
  double value = 0;
  std::string source;  ///< key into World::sources
  std::string date;    ///< "YYYY-MM" or "YYYY-MM-DD": when the source published it
  Confidence confidence = Confidence::kUncertain;
  bool forecast = false;  ///< the period ends after the date: a forecast, not an actual
  int line = 0;           ///< 1-based line in the file, for messages
};

struct WorldPoint {
  WorldPeriod period;
  WorldFigure figure;
};

/// A public series. With `model` set, the back-cast computes the same quantity and is checked
/// against it; without, it is context (printed, not modelled).
struct WorldSeries {
  std::string name;
  std::string unit;
  std::string what;
  std::string model;              ///< "" | hbm_shipped_bytes | hbm_installed_bytes |
                                  ///< packages_shipped | packages_installed
  std::string vendor;             ///< restrict the modelled quantity to one vendor ("" = all)
  std::vector<std::string> gpus;  ///< or to these catalog parts (empty = all)
  int since_year = 0;             ///< > 0: packages_shipped cumulative from this year
  std::vector<WorldPoint> points;
  int line = 0;
};

/// One vendor's packages shipped per year and their split across catalog parts.
struct VendorShipments {
  std::string vendor;
  std::map<int, WorldFigure> packages;                    ///< year → packages shipped
  std::map<int, std::map<std::string, WorldFigure>> mix;  ///< year → gpu id → share (sums to 1)
  int line = 0;
};

struct World {
  std::string path;
  std::map<std::string, Source> sources;
  WorldFigure service_life_years;     ///< accelerators retire after this many years in service
  WorldFigure installed_utilization;  ///< share of the installed base busy (a stated reason)
  /// The last year whose accelerator and HBM deliveries were contracted before the planner's
  /// horizon (value 0 when the dataset states none): the scenario's fleet.committed_through.
  WorldFigure committed_through_year;
  /// Yearly growth of tokens/s per GPU on the same part and model from software alone (value 1
  /// when the dataset states none): the scenario's fleet.software_efficiency_growth_per_year.
  WorldFigure software_efficiency_growth_per_year;
  std::vector<VendorShipments> vendors;
  std::vector<WorldSeries> series;

  /// Loads and validates `path` against the catalog (every mix part must be a catalog GPU).
  /// Throws InputError listing every problem with file:line:col, key, value and what was
  /// expected.
  static World load(const std::string& path, const Catalog& catalog);
  /// `dir`/world.yaml.
  static std::string default_path(const std::string& dir);

  const WorldSeries* find_series(const std::string& name) const;
  /// First and last year with shipments of any vendor.
  int first_year() const;
  int last_year() const;
};

}  // namespace jevons
