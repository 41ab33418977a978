#pragma once
/// \file The world baseline: the installed accelerator base and the HBM it holds, built from the
/// world dataset's shipments (data/world.yaml) with retirement after a service life, and checked
/// side by side against every public figure the dataset marks as modelled. Method:
/// docs/planner.md, "The world baseline".

#include <map>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/world.h"

namespace jevons::planner {

/// One year of the back-cast, at the end of the year.
struct BackcastYear {
  int year = 0;
  double packages_shipped = 0;
  double hbm_shipped_bytes = 0;
  double packages_installed = 0;  ///< shipped within the service life, at year end
  double hbm_installed_bytes = 0;
  double host_dram_installed_bytes = 0;            ///< host DRAM of the installed base's servers
  std::map<std::string, double> shipped_by_gpu;    ///< catalog id → packages shipped
  std::map<std::string, double> installed_by_gpu;  ///< catalog id → packages installed
  std::map<std::string, double> shipped_by_vendor;
  std::map<std::string, double> hbm_shipped_by_vendor;
};

/// A sourced figure next to the back-cast's value for the same quantity.
struct BackcastCheck {
  std::string series;
  std::string what;
  std::string unit;
  std::string period;
  WorldFigure sourced;
  double modelled = 0;
  /// A vendor's own packages: the back-cast reproduces its input (a check of the arithmetic,
  /// not of the model).
  bool identity = false;
  double ratio() const { return sourced.value > 0 ? modelled / sourced.value : 0; }
  /// Within a factor `f` either way.
  bool within(double f) const { return ratio() >= 1 / f && ratio() <= f; }
};

struct Backcast {
  double service_life_years = 0;
  std::vector<BackcastYear> years;  ///< world.first_year() .. world.last_year()
  std::vector<BackcastCheck> checks;

  const BackcastYear* year(int y) const;
  /// Packages of each catalog part installed at the start of `year` (the end of year − 1).
  std::map<std::string, double> installed_at_start_of(int year) const;
};

/// Builds the back-cast. A package shipped in year y is in service at the end of years
/// y .. y + life − 1 (life = service_life_years rounded to whole years).
Backcast backcast(const World& world, const Catalog& catalog);

}  // namespace jevons::planner
