#include "jevons/planner/elasticity.h"

#include <cmath>
#include <limits>

namespace jevons::planner {

double constant_elasticity_demand(double q0, double price_ratio, double elasticity) {
  return q0 * std::pow(price_ratio, -elasticity);
}

double rationing_price_ratio(double served_share, double elasticity) {
  if (served_share >= 1.0) return 1.0;
  if (served_share <= 0.0 || elasticity <= 0.0) return std::numeric_limits<double>::infinity();
  return std::pow(served_share, -1.0 / elasticity);
}

double adjust_log_deviation(double previous_deviation, double price_ratio,
                            const ElasticitySpec& elasticity) {
  const double target = -elasticity.long_run * std::log(price_ratio);
  if (elasticity.long_run <= 0) return previous_deviation;
  const double lambda = std::min(1.0, elasticity.short_run / elasticity.long_run);
  return previous_deviation + lambda * (target - previous_deviation);
}

double adoption_share(const AdoptionSpec& a, int quarter_index) {
  if (quarter_index < a.start_quarter_index || a.ceiling <= 0) return 0.0;
  // share(start) = 1 % of the ceiling: 1/(1 + e^{k·m}) = 0.01 ⇒ m = ln(99)/k.
  const double t_mid = a.start_quarter_index + std::log(99.0) / a.speed_per_quarter;
  return a.ceiling / (1.0 + std::exp(-a.speed_per_quarter * (quarter_index - t_mid)));
}

double break_even_elasticity(double memory_ratio, double price_ratio) {
  if (price_ratio >= 1.0) return std::numeric_limits<double>::infinity();
  return std::log(memory_ratio) / std::log(price_ratio);
}

}  // namespace jevons::planner
