// A degenerate configuration, one replica with batch size 1 and a constant step time, is a
// single-server queue: Poisson arrivals and a service of (output tokens) steps. With a fixed
// output it is M/D/1; with exponential outputs (rounded to whole steps) it is M/M/1 up to the
// rounding, which the exact Pollaczek–Khinchine formula accounts for.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "sim_fixture.h"

using namespace jevons;

namespace {

std::string single_server(double rate, const std::string& output, double seconds) {
  return "  duration_s: " + std::to_string(seconds) + R"(
  batching: {max_num_seqs: 1}
  timing: {model: constant, constant_step_ms: 1}
  workload:
    classes:
      - name: q
        arrival: {rate_per_s: )" +
         std::to_string(rate) + R"(}
        input_tokens: 10
        output_tokens: )" +
         output + R"(
  metrics: {interval_s: 1000}
)";
}

// E[N] and E[N²] of max(1, round(X)), X ~ Exp(mean): the service in steps.
void rounded_exponential_moments(double mean, double& m1, double& m2) {
  m1 = m2 = 0;
  auto cdf = [&](double x) { return x <= 0 ? 0.0 : 1.0 - std::exp(-x / mean); };
  for (int k = 1; k < 100000; ++k) {
    const double p = k == 1 ? cdf(1.5) : cdf(k + 0.5) - cdf(k - 0.5);
    m1 += p * k;
    m2 += p * k * k;
  }
}

}  // namespace

TEST_CASE("M/D/1: mean wait matches ρ·S / (2(1 − ρ))", "[simulate][queueing]") {
  const double s = 0.2;       // 200 steps of 1 ms
  const double lambda = 3.0;  // ρ = 0.6
  const auto r = run_sim(single_server(lambda, "200", 20000));
  const double rho = lambda * s;
  const double wq = rho * s / (2 * (1 - rho));
  REQUIRE(r.groups.size() == 1);
  const auto& g = r.groups[0];
  CHECK(g.e2e.max_ns >= 200e6);
  CHECK(g.queue.mean_ns * 1e-9 == Approx(wq).epsilon(0.05));
  const auto& p = r.pools[0];
  CHECK(p.utilization == Approx(rho).epsilon(0.02));
  // Little's law on the measured queue, against theory: Lq = λ·Wq.
  CHECK(p.mean_queue_length == Approx(lambda * wq).epsilon(0.06));
}

TEST_CASE("M/M/1: mean wait matches theory", "[simulate][queueing]") {
  const double mean_steps = 200;
  const double lambda = 2.5;
  double n1, n2;
  rounded_exponential_moments(mean_steps, n1, n2);
  const double es = n1 * 1e-3, es2 = n2 * 1e-6;
  const double rho = lambda * es;
  const double wq_pk = lambda * es2 / (2 * (1 - rho));             // exact for the rounded service
  const double wq_mm1 = rho / (1 / (mean_steps * 1e-3) - lambda);  // pure exponential service
  const auto r = run_sim(single_server(lambda, "{dist: exponential, mean: 200}", 40000));
  const auto& g = r.groups[0];
  CHECK(g.queue.mean_ns * 1e-9 == Approx(wq_pk).epsilon(0.06));
  CHECK(g.queue.mean_ns * 1e-9 == Approx(wq_mm1).epsilon(0.08));
  CHECK(r.pools[0].utilization == Approx(rho).epsilon(0.02));
}
