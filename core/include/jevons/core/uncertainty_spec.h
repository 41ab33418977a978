#pragma once
/// \file The scenario's optional `uncertainty:` section: stated distributions for the planner's
/// uncertain inputs (elasticities, growth, adoption, prices, HBM per package, deliveries, the HBM
/// supply and the speed of compressed-KV attention), the number of samples and how they are drawn.
/// Schema, input names and the default ranges with their sources: docs/uncertainty.md.
///
/// Scenario::parse validates the section with everything else (so a bad distribution fails the
/// load with file, line, key, value and what was expected); read_uncertainty() returns it to the
/// planner's band run. Kept out of `Scenario` itself so that adding it recompiled nothing else.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jevons {

struct Scenario;

/// One stated distribution. Bounds (`low`, `high`) truncate normal and lognormal distributions
/// (sampled by the inverse CDF on the truncated range), and are the support of the others.
struct Distribution {
  enum class Kind : std::uint8_t { kTriangular, kUniform, kLognormal, kNormal };
  Kind kind = Kind::kUniform;
  double low = -1e300;  ///< support / truncation lower bound
  double high = 1e300;  ///< support / truncation upper bound
  double mode = 0;      ///< triangular
  double mean = 0;      ///< normal
  double sd = 0;        ///< normal
  double median = 0;    ///< lognormal (= exp(μ))
  double sigma = 0;     ///< lognormal (σ of the log)

  /// The value at cumulative probability `u` in [0, 1] (the inverse CDF; 0 and 1 give the
  /// support's ends, clamped to ±6 σ for an untruncated normal or lognormal).
  double quantile(double u) const;
  /// "triangular(0.5, 1.1, 2)" for messages and stored run notes.
  std::string describe() const;
};

/// One uncertain input. Names (docs/uncertainty.md): elasticity, elasticity.<class>, growth,
/// growth.<class>, adoption.ceiling, adoption.speed_per_quarter, gpu_price_factor,
/// hbm_per_package_factor, deliveries_factor, hbm_supply_factor, software_efficiency_growth,
/// compressed_attention_time.
struct UncertainInput {
  std::string name;
  Distribution dist;
  /// compressed_attention_time only: capacity is searched at this many evenly spaced speeds
  /// across the distribution's range and interpolated in between (it changes capacity).
  int grid_points = 0;
  /// ... or at these speeds (ascending, `grid: [0.22, 0.6, 1.0, 1.5]`), when given as a list.
  std::vector<double> grid;
  int line = 0;
};

struct UncertaintySpec {
  std::uint64_t samples = 1000;
  bool latin_hypercube = true;  ///< method: lhs (stratified) or monte-carlo (independent)
  std::uint64_t seed = 0;
  std::vector<UncertainInput> inputs;  ///< in file order (the order sets each input's stream)
  /// Break-even search range for the long-run elasticity (the same for every sample).
  double break_even_low = 0;
  double break_even_high = 5;
};

/// The scenario's `uncertainty:` section, or nothing when it has none. The section was validated
/// when the scenario loaded; this re-reads it from the scenario's text.
std::optional<UncertaintySpec> read_uncertainty(const Scenario& scenario);

/// Parses `text` as the body of an `uncertainty:` mapping for `scenario` (tests, the CLI's
/// --inputs override). Throws InputError naming `label`, line, key, value and what was expected.
UncertaintySpec parse_uncertainty_text(const std::string& text, const std::string& label,
                                       const Scenario& scenario);

}  // namespace jevons
