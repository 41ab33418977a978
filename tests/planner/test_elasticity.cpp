// Demand-response maths against closed forms.
#include <catch2/catch.hpp>
#include <cmath>

#include "jevons/planner/elasticity.h"

using namespace jevons;
using namespace jevons::planner;

TEST_CASE("constant elasticity: ε = 0 leaves demand, ε = 1 keeps spend", "[elasticity]") {
  for (double r : {0.1, 0.25, 0.5, 0.9, 1.0, 2.0}) {
    CHECK(constant_elasticity_demand(100, r, 0.0) == Approx(100));
    CHECK(r * constant_elasticity_demand(100, r, 1.0) == Approx(100.0));
    CHECK(constant_elasticity_demand(100, r, 1.1) == Approx(100 * std::pow(r, -1.1)));
  }
}

TEST_CASE("partial adjustment: short-run response first, long-run in the limit", "[elasticity]") {
  ElasticitySpec e;
  e.short_run = 0.4;
  e.long_run = 1.2;
  const double r = 0.5;
  double d = 0;
  d = adjust_log_deviation(d, r, e);
  // First quarter: elasticity ε_short.
  CHECK(std::exp(d) == Approx(std::pow(r, -0.4)));
  for (int i = 0; i < 200; ++i) d = adjust_log_deviation(d, r, e);
  CHECK(std::exp(d) == Approx(std::pow(r, -1.2)));
  // Equal short and long run: the full response at once.
  e.short_run = e.long_run;
  CHECK(std::exp(adjust_log_deviation(0, r, e)) == Approx(std::pow(r, -1.2)));
  // No elasticity: nothing moves.
  e.long_run = e.short_run = 0;
  CHECK(adjust_log_deviation(0.3, r, e) == 0.3);
}

TEST_CASE("logistic adoption starts at 1 % of its ceiling and saturates", "[elasticity]") {
  AdoptionSpec a;
  a.start_quarter_index = 2;
  a.speed_per_quarter = 0.8;
  a.ceiling = 0.9;
  CHECK(adoption_share(a, 1) == 0.0);
  CHECK(adoption_share(a, 2) == Approx(0.009));
  CHECK(adoption_share(a, 40) == Approx(0.9).epsilon(1e-6));
  double prev = 0;
  for (int t = 2; t < 30; ++t) {
    CHECK(adoption_share(a, t) > prev);
    prev = adoption_share(a, t);
  }
  // Half the ceiling at the midpoint ln(99)/k quarters after the start.
  const double mid = 2 + std::log(99.0) / 0.8;
  a.start_quarter_index = 0;
  a.speed_per_quarter = std::log(99.0) / 4;  // midpoint at exactly quarter 4
  CHECK(adoption_share(a, 4) == Approx(0.45));
  (void)mid;
}

TEST_CASE("closed-form break-even elasticity", "[elasticity]") {
  // Memory per unit demand and price both fall by k: break-even at ε = 1 (constant spend).
  for (double k : {1.5, 2.0, 4.57}) CHECK(break_even_elasticity(1 / k, 1 / k) == Approx(1.0));
  // Memory falls 4x while price falls 2x: demand must grow 4x, i.e. 2^ε = 4, ε = 2.
  CHECK(break_even_elasticity(0.25, 0.5) == Approx(2.0));
  CHECK(std::isinf(break_even_elasticity(0.5, 1.0)));
}

TEST_CASE("the rationing price brings constant-elasticity demand down to what was served",
          "[elasticity][scarcity]") {
  // Round trip: demand at the rationing price is exactly the served share of demand at cost.
  for (double eps : {0.3, 1.0, 1.1, 2.5})
    for (double served : {0.05, 0.11, 0.5, 0.9, 0.999}) {
      INFO("eps " << eps << " served " << served);
      const double r = rationing_price_ratio(served, eps);
      CHECK(r > 1);
      CHECK(constant_elasticity_demand(1000.0, r, eps) == Approx(1000.0 * served).epsilon(1e-12));
    }
  // 89 % unserved at ε 1.1 (the default scenario's 2030Q4): a ×7.4 premium.
  CHECK(rationing_price_ratio(0.11, 1.1) == Approx(std::pow(0.11, -1 / 1.1)));
  CHECK(rationing_price_ratio(1.0, 1.1) == 1.0);
  CHECK(std::isinf(rationing_price_ratio(0.5, 0.0)));
  CHECK(std::isinf(rationing_price_ratio(0.0, 1.1)));
}
