// Server rate search (include/jevons/simulator/rate_search.h): bracket, then bisect on the
// arrival rate, each probe a full simulation judged on its p99 latencies and on whether its
// queue was still growing.
#include "jevons/simulator/rate_search.h"

#include <fmt/format.h>

#include <algorithm>

#include "jevons/core/error.h"
#include "jevons/simulator/simulate.h"

namespace jevons {

namespace {

double total_rate(const SimulationSpec& s) {
  double r = 0;
  for (const auto& c : s.classes) r += c.arrival.rate_per_s;
  return r;
}

void check_searchable(const Scenario& sc) {
  auto fail = [&](const std::string& key, const std::string& msg) {
    Diagnostic d;
    d.file = sc.path;
    d.key = key;
    d.message = msg;
    throw InputError(d);
  };
  if (!sc.simulation) fail("simulation", "expected a `simulation:` section to search the rate of");
  const SimulationSpec& s = *sc.simulation;
  if (s.has_trace)
    fail("simulation.workload.trace",
         "a rate search scales synthetic arrival rates; a trace has none (scale it with "
         "rate_scale instead)");
  for (std::size_t i = 0; i < s.classes.size(); ++i) {
    const auto& a = s.classes[i].arrival;
    if (a.offline_requests > 0 || a.concurrency > 0)
      fail(fmt::format("simulation.workload.classes[{}].arrival", i),
           "expected Poisson or gamma arrivals: an offline or closed-loop class has no rate to "
           "search");
  }
  if (!(total_rate(s) > 0))
    fail("simulation.workload.classes",
         "expected a positive total rate_per_s (the search scales it, keeping each class's share)");
}

}  // namespace

RateProbe probe_rate(const Scenario& scenario, const Catalog& catalog, double rate_per_s,
                     const RateSearchOptions& o, SimulationReport* report_out) {
  check_searchable(scenario);
  Scenario sc = scenario;
  SimulationSpec& sim = *sc.simulation;
  const double factor = rate_per_s / total_rate(sim);
  for (auto& c : sim.classes) c.arrival.rate_per_s *= factor;
  // Every request's row, for the queueing delay by arrival time.
  sim.metrics.per_request = MetricsSpec::PerRequest::kAll;
  SimulationReport rep = simulate(sc, catalog, std::nullopt);

  RateProbe p;
  p.rate_per_s = rate_per_s;
  std::uint64_t finished = 0;
  for (const auto& g : rep.groups) {
    p.p99_ttft_ns = std::max(p.p99_ttft_ns, g.ttft.p99_ns);
    p.p99_tpot_ns = std::max(p.p99_tpot_ns, g.tpot.p99_ns);
    p.output_tokens_per_s += g.throughput_tokens_per_s;
    p.unfinished += g.unfinished;
    p.rejected += g.rejected;
    finished += g.finished;
  }
  const double ttft_limit_ns = o.p99_ttft_ms * 1e6, tpot_limit_ns = o.p99_tpot_ms * 1e6;
  std::string why;
  if (finished == 0) why = "no request finished";
  if (p.unfinished > 0)
    why = fmt::format("{} requests unfinished when the drain ended", p.unfinished);
  if (p.rejected > 0) why = fmt::format("{} requests rejected", p.rejected);
  if (why.empty() && ttft_limit_ns > 0 && p.p99_ttft_ns > ttft_limit_ns)
    why = fmt::format("p99 TTFT {:.1f} ms over {:g} ms", p.p99_ttft_ns * 1e-6, o.p99_ttft_ms);
  if (why.empty() && tpot_limit_ns > 0 && p.p99_tpot_ns > tpot_limit_ns)
    why = fmt::format("p99 TPOT {:.2f} ms over {:g} ms", p.p99_tpot_ns * 1e-6, o.p99_tpot_ms);
  p.limits_met = why.empty();

  // Steady state: queueing delay of arrivals in the second and the last quarter of the window.
  const double w0 = static_cast<double>(sim.warmup_ns);
  const double q = (static_cast<double>(sim.duration_ns) - w0) / 4;
  double sum[2] = {0, 0};
  double n[2] = {0, 0};
  for (const auto& r : rep.requests) {
    if (r.first_scheduled_ns < 0) continue;
    const double t = static_cast<double>(r.arrival_ns);
    const int k = t >= w0 + q && t < w0 + 2 * q ? 0 : t >= w0 + 3 * q ? 1 : -1;
    if (k < 0) continue;
    sum[k] += static_cast<double>(r.first_scheduled_ns - r.arrival_ns);
    n[k] += 1;
  }
  p.queue_mid_ns = n[0] > 0 ? sum[0] / n[0] : 0;
  p.queue_end_ns = n[1] > 0 ? sum[1] / n[1] : 0;
  const double floor_ns = o.growth_floor_ns >= 0 ? o.growth_floor_ns
                          : ttft_limit_ns > 0    ? 0.05 * ttft_limit_ns
                                                 : 1e7;
  p.steady = !o.steady_state_check || p.queue_end_ns <= o.growth_ratio * p.queue_mid_ns + floor_ns;
  if (why.empty() && !p.steady)
    why = fmt::format(
        "not in steady state: mean queueing delay {:.1f} ms for arrivals in the last quarter "
        "against {:.1f} ms in the second",
        p.queue_end_ns * 1e-6, p.queue_mid_ns * 1e-6);
  p.passed = why.empty();
  p.reason = why;
  if (report_out) {
    rep.requests.clear();  // the rows were for the growth test; a caller keeps the summary
    *report_out = std::move(rep);
  }
  return p;
}

RateSearchResult search_max_rate(const Scenario& scenario, const Catalog& catalog,
                                 const RateSearchOptions& o,
                                 const std::function<void(const RateProbe&)>& on_probe) {
  check_searchable(scenario);
  RateSearchResult res;
  SimulationReport last;
  auto probe = [&](double rate) {
    RateProbe p = probe_rate(scenario, catalog, rate, o, &last);
    res.probes.push_back(p);
    if (on_probe) on_probe(p);
    if (p.passed && rate > res.rate_per_s) {
      res.rate_per_s = rate;
      res.best = std::move(last);
    }
    return p.passed;
  };
  double lo = 0, hi = o.upper_rate_per_s;
  if (!(hi > 0)) {
    // Bracket from the scenario's own rate: double while passing, halve while failing.
    const double start = total_rate(*scenario.simulation);
    if (probe(start)) {
      lo = start;
      hi = 2 * start;
      for (int i = 0; i < o.max_bracket && probe(hi); ++i) lo = hi, hi *= 2;
    } else {
      hi = start;
      lo = start / 2;
      for (int i = 0; i < o.max_bracket && !probe(lo); ++i) hi = lo, lo /= 2;
      if (res.rate_per_s == 0) return res;  // nothing passed even at the smallest rate tried
    }
  }
  for (int i = 0; i < o.bisections; ++i) {
    const double mid = 0.5 * (lo + hi);
    (probe(mid) ? lo : hi) = mid;
  }
  return res;
}

}  // namespace jevons
