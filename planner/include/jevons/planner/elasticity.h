#pragma once
/// \file Demand-response maths: constant elasticity, partial adjustment, logistic adoption, and
/// the closed-form break-even elasticity. Pure functions, unit-tested against closed forms.

#include "jevons/core/planner_spec.h"

namespace jevons::planner {

/// Q = Q0 · (P/P0)^(−ε). `price_ratio` = P/P0 > 0; ε = 0 leaves demand unchanged and ε = 1
/// keeps spend P·Q constant.
double constant_elasticity_demand(double q0, double price_ratio, double elasticity);

/// The price ratio P/P0 at which constant-elasticity demand falls to `served_share` (in (0, 1])
/// of itself: served_share^(−1/ε), the inverse of constant_elasticity_demand. 1 when everything
/// is served; +infinity when nothing is, or when ε ≤ 0 (no price rations an inelastic demand).
double rationing_price_ratio(double served_share, double elasticity);

/// Partial adjustment of the log demand deviation d = ln(Q/Q0): each quarter closes a share
/// λ = ε_short/ε_long of the gap to the long-run target −ε_long·ln(P/P0). With a constant price
/// ratio, the first quarter's response has elasticity ε_short and the response converges to
/// ε_long.
double adjust_log_deviation(double previous_deviation, double price_ratio,
                            const ElasticitySpec& elasticity);

/// Share of a generation's GPUs running the compressed format in quarter `t` (0-based from the
/// horizon start): 0 before `start`, ceiling/(1 + exp(−k(t − t_mid))) after, with t_mid chosen so
/// that the share at `start` is 1 % of the ceiling.
double adoption_share(const AdoptionSpec& adoption, int quarter_index);

/// Break-even elasticity in the closed form where memory demand is proportional to token demand
/// and to memory per token: compression multiplies memory per unit demand by `memory_ratio` (< 1)
/// and the price by `price_ratio` (< 1); total memory is unchanged when
/// price_ratio^(−ε)·memory_ratio = 1, i.e. ε* = ln(memory_ratio)/ln(price_ratio).
/// Returns +infinity when the price does not fall.
double break_even_elasticity(double memory_ratio, double price_ratio);

}  // namespace jevons::planner
