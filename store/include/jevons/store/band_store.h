#pragma once
/// \file Bands (core/band_result.h) into and out of the store: the writer used inside
/// Store::write_run, and typed readers (named-column SQL) for the CLI, the report and the GUI.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/band_result.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// Inserts the band's rows for `run_id`. Call inside Store::write_run (one transaction).
void write_band(Store& store, std::int64_t run_id, const Band& band);

/// P10/P50/P90 of every series and period of a band run, ordered by series then time.
std::vector<BandRow> read_bands(Store& store, std::int64_t run_id);
/// The break-even bands of a band run, one per headline metric (none when not computed).
std::vector<BreakEvenBand> read_break_even_band(Store& store, std::int64_t run_id);
/// The net-versus-elasticity curve of a band run, by metric then elasticity.
std::vector<BreakEvenCurvePoint> read_break_even_curve(Store& store, std::int64_t run_id);
/// The whole band of a run (settings, inputs, rows, break-even, curve); nothing when `run_id`
/// is not a band run.
std::optional<Band> read_band(Store& store, std::int64_t run_id);
/// The newest band run of `scenario_name` ("" = of any scenario), if any.
std::optional<std::int64_t> latest_band_run(Store& store, const std::string& scenario_name = "");

}  // namespace jevons::store
