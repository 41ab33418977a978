#pragma once
/// \file The one number the charts answer, and how the capacity mode changes it.
///
/// Analytical capacity (the closed form) and simulated capacity (bisection on simulations) give
/// different answers on the same scenario — on the default one, −2.7 % against +6.2 % in installed
/// HBM. The interface shows the mode as a different answer, next to the last simulated one,
/// instead of letting a checkbox change the result silently.

#include <QString>
#include <optional>

#include "snapshot.h"

namespace jevons::gui {

/// Installed HBM in the last quarter, with compression and its rebound against without
/// compression, as a fraction ((with − without) / without); nullopt without a projection.
std::optional<double> net_hbm_change(const Projection& projection);

/// The headline sentence of `result` (session/headline.h, as `jevons run` and the report print
/// it); "" without a projection.
QString headline_text(const ResultSnapshot& result);

/// The banner text when `result` used analytical capacity for a scenario whose answer differs
/// by mode: names the mode and shows its net change beside `last_simulated`'s (the last result
/// of the same scenario file with simulated capacity, may be empty). "" when `result` is
/// simulated, stored or has no projection.
QString capacity_mode_note(const ResultSnapshot& result, const ResultSnapshot& last_simulated);

}  // namespace jevons::gui
