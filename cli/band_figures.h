#pragma once
// The figures of an uncertainty band (`jevons band`): fan charts of the headline series and the
// net-versus-elasticity curve. One builder for `jevons band --svg` and `jevons report`, so the
// two draw the same charts from the same stored band.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "jevons/core/band_result.h"

namespace jevons::cli {

struct BandFigure {
  std::string file;     ///< e.g. "fan-hbm_installed_bytes.svg"
  std::string caption;  ///< one sentence for the report
  std::string svg;
};

/// The scenario's own point on the net-versus-ε curve (its per-class elasticities averaged by
/// tokens, and its net change); NaN when unknown, and then no mark is drawn.
struct CurrentSetting {
  double elasticity = std::numeric_limits<double>::quiet_NaN();
  double net_bytes = std::numeric_limits<double>::quiet_NaN();
};

/// Fan charts (with/without, and net/efficiency/rebound) for installed HBM, HBM shipped per year
/// and host DRAM, and the installed-HBM break-even curve when the band holds one. Quarters and
/// years are told apart by their labels ("2030Q4" against "2030").
std::vector<BandFigure> band_figures(const Band& band, const CurrentSetting& current);

/// The net-versus-ε curve of installed HBM on a numeric ε axis, the crossing marked (and the
/// scenario's setting when known). Empty when fewer than two points.
std::string break_even_curve_svg(const std::string& title, const std::vector<double>& elasticity,
                                 const std::vector<double>& net_bytes, double break_even,
                                 const CurrentSetting& current);

}  // namespace jevons::cli
