#pragma once
/// \file The answer in one sentence, built once for every front end: `jevons run` prints it
/// first, `jevons report` puts it at the top, the GUI shows it in its headline strip.
///
/// Net change against no compression in the final year: HBM shipped during that year (bits
/// bought), HBM installed and host DRAM at its last quarter, each with its efficiency and
/// rebound parts; and the break-even long-run elasticity, read from the projection (the
/// planner's one definition, planner/src/projection.cpp), never recomputed here. Each figure
/// may carry a P10/P50/P90 band from an uncertainty run; without one the sentence says how to
/// get it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/band_result.h"
#include "jevons/core/projection_result.h"

namespace jevons::store {
class Store;
}

namespace jevons::session {

/// Percentiles of one figure over an uncertainty run's samples.
struct Band {
  double p10 = 0;
  double p50 = 0;
  double p90 = 0;
};

/// One memory metric's change against no compression (bytes).
struct HeadlineFigure {
  std::string metric;  ///< memory_decomposition.metric
  std::string period;  ///< "2030" for a year's sum, "2030Q4" for a quarter
  int quarters = 0;    ///< quarters summed (1 for a stock such as installed HBM)
  double counterfactual = 0;
  double efficiency = 0;  ///< efficiency effect: demand held
  double rebound = 0;     ///< rebound: demand responding to the lower price
  double net = 0;         ///< efficiency + rebound
  std::optional<Band> net_band;
  /// net / counterfactual; NaN when the counterfactual is 0.
  double net_fraction() const;
};

struct Headline {
  std::string final_quarter;  ///< "2030Q4"
  std::string final_year;     ///< "2030"
  /// The projection's quarters in order: a band attaches only to a projection of the same
  /// horizon (a longer band's final year would sum other quarters).
  std::vector<std::string> quarter_labels;
  HeadlineFigure hbm_shipped;    ///< summed over the final year's quarters (a flow)
  HeadlineFigure hbm_installed;  ///< final quarter (a stock)
  HeadlineFigure host_dram;      ///< final quarter (a stock)
  /// Smallest uniform long-run elasticity at which compression raises installed HBM in the
  /// final quarter; NaN when it does not below `max_elasticity`.
  double break_even = 0;
  double max_elasticity = 0;
  std::optional<Band> break_even_band;
  std::string capacity_method;  ///< "simulated", "analytical" or "" when unknown
  /// Years in which the HBM supply cap binds both without compression and with it (the parts
  /// demanded need more HBM than the market supplies): there HBM shipped is the supply in both,
  /// so compression cannot move it. With the final year's demanded and supplied bytes (without
  /// compression) and the share of the final quarter's peak demand no GPU served.
  std::vector<std::string> supply_bound_years;
  double final_hbm_demanded_bytes = 0;
  double final_hbm_supply_bytes = 0;
  double final_unserved_share = 0;
  bool has_bands() const;
};

/// The headline of a projection; nullopt when it has no decomposition (an empty horizon).
std::optional<Headline> make_headline(const Projection& projection,
                                      const std::string& capacity_method = "");

/// Fills the headline's bands from a band run (`jevons band`; store::read_bands and
/// store::read_break_even_band): each figure's net change at the headline's own period (the final
/// year's sum for HBM shipped, the final quarter for the stocks) and the break-even of installed
/// HBM. Returns false, leaving the headline as it was, when the band's quarters are not the
/// projection's (a band of another horizon or start).
bool attach_band(Headline& headline, const std::vector<BandRow>& rows,
                 const std::vector<BreakEvenBand>& break_even);

/// The newest band run of `scenario_name` in `store`, attached as above; false when the store
/// holds none (or one of another horizon).
bool attach_latest_band(Headline& headline, store::Store& store, const std::string& scenario_name);

/// The sentence (one paragraph, plain text, U+2212 for minus).
std::string headline_sentence(const Headline& headline);

/// How to get the bands, for a headline without them.
std::string band_hint();

/// Analytical (closed-form) and simulated capacity count as the same answer when their headlines
/// differ by at most this much in installed HBM's net change (percentage points of the
/// counterfactual) and in break-even elasticity. Measured on the default scenario
/// (docs/planner.md, "Analytical against simulated capacity"), per-point capacities differ by
/// factors of 0.26 to 980 and the headline by 1.7 points and 0.06 in break-even: the modes do
/// not agree there, so the analytical answer is always shown beside the simulated one.
inline constexpr double kModeToleranceNetPoints = 0.5;
inline constexpr double kModeToleranceBreakEven = 0.1;

/// True when `analytical` and `simulated` agree within the tolerances above.
bool capacity_modes_agree(const Headline& analytical, const Headline& simulated);

/// The line a front end shows for an analytical-capacity answer: both answers and their
/// difference when the simulated one is known, else how many searches it would take.
std::string capacity_mode_difference(const Headline& analytical,
                                     const std::optional<Headline>& simulated,
                                     std::uint64_t searches_needed);

/// "+12.3 PB", "−418 TB", "0 B": bytes in decimal units, three significant digits, with a sign.
std::string signed_bytes(double bytes);

}  // namespace jevons::session
