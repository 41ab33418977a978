#pragma once
/// \file The world baseline: the installed accelerator base and the HBM it holds, built from the
/// world dataset's shipments (data/world.yaml) with retirement after a service life, and checked
/// side by side against every public figure the dataset marks as modelled. Method:
/// docs/planner.md, "The world baseline".

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
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

/// One calendar year of a projection's no-compression HBM shipments beside the world's.
struct ProjectionWorldYear {
  int year = 0;
  int quarters = 0;                    ///< quarters of the year inside the horizon (4 = whole year)
  double projected_bytes = 0;          ///< HBM of the parts the inference fleet received
  double inference_share = 0;          ///< the world's sourced share, latest at or before the year
  double backcast_bytes = 0;           ///< the back-cast's HBM shipped (covered vendors), 0 if none
  std::optional<WorldFigure> shipped;  ///< the sourced HBM shipped (hbm_shipped_bytes)
  std::optional<WorldFigure> supply;   ///< the sourced HBM supply (hbm_supply_bytes)
  /// The projection's shipments scaled to the whole market (over the inference share).
  double market_bytes() const {
    return inference_share > 0 ? projected_bytes / inference_share : 0;
  }
  /// The sourced figure it is checked against: shipped where published, else supply (suppliers
  /// sold out through 2026, so supply is read as shipments; data/world.yaml).
  const WorldFigure* reference() const { return shipped ? &*shipped : supply ? &*supply : nullptr; }
  double ratio() const {
    const WorldFigure* f = reference();
    return f && f->value > 0 ? market_bytes() / f->value : 0;
  }
};

/// The projection's no-compression HBM shipped per calendar year (`baseline`: the
/// counterfactual's quarters, `labels` "YYYYQn") beside the back-cast's and the sourced figures.
std::vector<ProjectionWorldYear> compare_with_world(const World& world, const Backcast& b,
                                                    const std::vector<QuarterTotals>& baseline);

}  // namespace jevons::planner
