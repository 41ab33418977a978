#pragma once
/// \file Quarter-by-quarter projection of fleet size, HBM and host DRAM under KV compression and
/// demand elasticity, with the efficiency/rebound decomposition against a no-compression
/// counterfactual and the break-even elasticity. Method: docs/planner.md.
///
/// Three variants run over the same horizon:
/// - counterfactual — the baseline KV format everywhere, baseline demand;
/// - efficiency     — compression adopted, demand held at the counterfactual's;
/// - with-rebound   — compression adopted, demand responding to the lower cost per token.
/// efficiency − counterfactual is the efficiency effect, with-rebound − efficiency the rebound,
/// and their sum the net change: the three add up exactly by construction.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/capacity_oracle.h"

namespace jevons::planner {

struct ProjectionOptions {
  bool break_even = true;
  bool sensitivity = true;
  double max_elasticity = 5;
  double elasticity_step = 0.05;
  /// Called with a stage name and a 0..1 fraction (capacity searches dominate cold runs).
  std::function<void(const std::string&, double)> progress;
};

/// Projects a validated scenario with a `planner` section. Throws std::logic_error when the
/// scenario has none (callers check).
Projection project(const Scenario& scenario, const Catalog& catalog, CapacityOracle& oracle,
                   const ProjectionOptions& options = {});

/// One class in one quarter of one variant: the share of its peak demand the fleet served, and
/// the price over cost at which its demand would fall to what was served (its long-run
/// elasticity, rationing_price_ratio). The projection prices tokens at cost and leaves the rest
/// unserved; this is the scarcity premium that would ration it instead (docs/planner.md,
/// "Unserved demand").
struct ScarcityRow {
  int quarter = 0;
  std::string class_name;
  double peak_tokens_per_s = 0;
  double served_share = 1;
  double long_run_elasticity = 0;
  double rationing_price_ratio = 1;
};

/// Every class and quarter of variant `v` in `p`, in the projection's order.
std::vector<ScarcityRow> scarcity(const PlannerSpec& plan, const Projection& p,
                                  Variant v = Variant::kCounterfactual);

/// Quarter label for an index from the horizon start, e.g. 2026Q1 + 3 → "2026Q4".
std::string quarter_label(const HorizonSpec& h, int index);

}  // namespace jevons::planner
