#include "jevons/planner/sweep.h"

#include <fmt/format.h>

#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/projection.h"

namespace jevons::planner {

SweepPointResult run_sweep_point(const SweepGrid& grid, const SweepPoint& point,
                                 const Catalog& catalog, CapacityOracle& oracle) {
  SweepPointResult r;
  r.index = point.index;
  r.parameters_json = grid.describe(point);
  const std::string text = grid.apply(point);
  try {
    const Scenario s =
        Scenario::parse(text, fmt::format("{} (sweep point {})", grid.scenario_path, point.index), catalog);
    if (!s.planner) {
      r.error = "the base scenario has no planner section to project";
      return r;
    }
    ProjectionOptions opt;
    opt.sensitivity = false;
    const Projection p = project(s, catalog, oracle, opt);
    r.quarter_labels = p.quarter_labels;
    r.totals = p.totals;
    r.decomposition = p.decomposition;
    r.break_even = p.break_even;
  } catch (const InputError& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace jevons::planner
