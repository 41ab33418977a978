#pragma once
/// \file The band run: a Latin-hypercube (or Monte Carlo) sample of the scenario's uncertain
/// inputs (`uncertainty:`, core/uncertainty_spec.h), each sample projected, and P10/P50/P90 of
/// every headline series per quarter and per year, plus the break-even elasticity's band.
/// Method and defaults: docs/uncertainty.md.
///
/// Determinism: sample i's input values are a pure function of (seed, i, the design), computed
/// before any projection runs; each sample's projection is independent; the reduction sorts the
/// samples' values in sample order. So any split of samples across threads or MPI ranks gives
/// bit-identical bands.
///
/// Speed: sampled inputs act on the projection layer, not on the capacity search, and the
/// capacity cache is shared by every sample (per thread); the one input that changes capacity,
/// the compressed-KV attention speed, is searched at a few grid points and interpolated.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jevons/core/band_result.h"
#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/core/uncertainty_spec.h"
#include "jevons/planner/break_even.h"
#include "jevons/planner/capacity_oracle.h"

namespace jevons::planner {

/// The design: every sample's value of every input, [sample][input] in the spec's input order.
std::vector<std::vector<double>> sample_inputs(const UncertaintySpec& spec);

/// The probabilities behind the design, [sample][input] in [0, 1). LHS: one sample per stratum
/// of 1/n per input, strata permuted independently per input; Monte Carlo: independent draws.
std::vector<std::vector<double>> sample_probabilities(const UncertaintySpec& spec);

/// The scenario with one sample's values written into its planner section (elasticities,
/// growth, adoption, prices, deliveries, HBM supply). Inputs acting inside the projection
/// (HBM per package, attention speed) go to `adjust`.
Scenario apply_sample(const Scenario& base, const Catalog& catalog, const UncertaintySpec& spec,
                      const std::vector<double>& values, ProjectionAdjustments& adjust);

/// The compressed-attention speeds at which capacity is searched (ascending), or empty when the
/// spec does not sample that input.
std::vector<double> speed_grid(const UncertaintySpec& spec);
/// A copy of `catalog` whose latency model gives the compressed formats of `scenario` the decode
/// attention time `time_vs_bf16` (what the capacity search at one speed grid point uses).
Catalog catalog_at_speed(const Catalog& catalog, const Scenario& scenario, double time_vs_bf16);

/// Samples [begin, end) of MPI rank `rank` of `ranks`: contiguous blocks, sizes differing by at
/// most one, covering [0, n) exactly once over all ranks.
std::pair<std::size_t, std::size_t> rank_block(std::size_t n, std::size_t rank, std::size_t ranks);

/// Headline series names: "<metric>.<part>", part ∈ without, with, net, efficiency, rebound.
std::vector<std::string> band_series_names();
/// Periods: every quarter label, then every year ("2026" ... ; stocks at the year's last quarter,
/// flows summed over its quarters in the horizon).
std::vector<std::string> band_periods(const Scenario& scenario);

/// One sample's outcome: every (series, period) value in band_series_names() × band_periods()
/// order, and the final-year break-even per headline metric (ordered_value(): ±inf when none).
struct SampleOutcome {
  std::vector<double> values;
  std::vector<double> break_even;  ///< kHeadlineCount entries
  /// Flattened for MPI messages and back (lossless: doubles as doubles).
  std::vector<double> pack() const;
  static SampleOutcome unpack(const std::vector<double>& packed, std::size_t values);
};

struct BandOptions {
  bool break_even = true;
  double break_even_step = 0.25;
  double break_even_tolerance = 1e-3;
  /// Called from worker threads with the number of samples finished so far (any thread).
  std::function<void(std::size_t done, std::size_t total)> progress;
};

/// Per-thread capacity oracles: `base` answers at the catalog's latency model, `at_speed[k]` at
/// speed grid point k (same order as speed_grid()). Each is used by one thread only.
struct BandOracles {
  CapacityOracle* base = nullptr;
  std::vector<CapacityOracle*> at_speed;
};

/// A memo in front of `inner` for one thread's samples: grid-point capacities by a cheap key, in
/// between interpolated as CachedOracle does (run_samples puts one before every oracle).
std::unique_ptr<CapacityOracle> band_memo(CapacityOracle& inner);

/// Computes samples [begin, end) on `oracles.size()` threads (thread t takes samples
/// begin + t, begin + t + T, ...). Results are in sample order.
std::vector<SampleOutcome> run_samples(const Scenario& scenario, const Catalog& catalog,
                                       const UncertaintySpec& spec,
                                       const std::vector<Catalog>& speed_catalogs,
                                       const std::vector<BandOracles>& oracles, std::size_t begin,
                                       std::size_t end, const BandOptions& options = {});

using jevons::Band;
using jevons::BandRow;
using jevons::BreakEvenBand;

/// Quantile p of `values` (sorted ascending, ±inf allowed): linear interpolation between order
/// statistics (Hyndman–Fan type 7); next to an infinite neighbour, the nearer order statistic.
double quantile_sorted(const std::vector<double>& sorted, double p);

/// Reduces outcomes (all samples, in sample order) to the band. `scenario_break_even` holds the
/// scenario's own final-year break-even per headline metric (ordered_value()), or is empty.
Band reduce_band(const Scenario& scenario, const UncertaintySpec& spec,
                 const std::vector<SampleOutcome>& outcomes,
                 const std::vector<double>& scenario_break_even, const BandOptions& options = {});

}  // namespace jevons::planner
