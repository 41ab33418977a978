// `jevons rate-search SCENARIO --p99-ttft-ms X --p99-tpot-ms Y`: the highest Poisson arrival
// rate at which the scenario's simulation keeps both p99 limits and stays in steady state
// (simulator/include/jevons/simulator/rate_search.h), with every probe printed, then the summary
// of the run at that rate.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "jevons/simulator/rate_search.h"
#include "jevons/simulator/simulate.h"

namespace jevons::cli {

namespace {

struct Options {
  std::string path, data_dir;
  RateSearchOptions search;
  double duration_s = 0;
  bool no_steady_check = false;
};

int run(const Options& o) {
  const Catalog catalog = load_catalog(o.data_dir);
  Scenario s = Scenario::load(o.path, catalog);
  if (s.simulation && o.duration_s > 0) {
    s.simulation->duration_ns = static_cast<std::int64_t>(o.duration_s * 1e9);
    if (s.simulation->warmup_ns >= s.simulation->duration_ns)
      s.simulation->warmup_ns = s.simulation->duration_ns / 10;
  }
  RateSearchOptions search = o.search;
  search.steady_state_check = !o.no_steady_check;
  fmt::print("Rate search on {}: p99 TTFT ≤ {}, p99 TPOT ≤ {}{}\n", o.path,
             search.p99_ttft_ms > 0 ? fmt::format("{:g} ms", search.p99_ttft_ms) : "any",
             search.p99_tpot_ms > 0 ? fmt::format("{:g} ms", search.p99_tpot_ms) : "any",
             search.steady_state_check ? ", queue not growing" : "");
  fmt::print("{:>12} {:>6} {:>11} {:>11} {:>12} {:>12} {:>10}  {}\n", "rate/s", "pass", "TTFT p99",
             "TPOT p99", "queue Q2", "queue Q4", "tok/s", "why not");
  const RateSearchResult r = search_max_rate(s, catalog, search, [](const RateProbe& p) {
    fmt::print("{:>12.4f} {:>6} {:>9.1f}ms {:>9.2f}ms {:>10.1f}ms {:>10.1f}ms {:>10.0f}  {}\n",
               p.rate_per_s, p.passed ? "yes" : "no", p.p99_ttft_ns * 1e-6, p.p99_tpot_ns * 1e-6,
               p.queue_mid_ns * 1e-6, p.queue_end_ns * 1e-6, p.output_tokens_per_s, p.reason);
    std::fflush(stdout);
  });
  if (!r.best) {
    fmt::print("No rate tried met the limits (the lowest was {:.4g}/s).\n",
               r.probes.empty() ? 0.0 : r.probes.back().rate_per_s);
    return kExitOk;
  }
  fmt::print("Highest rate meeting the limits: {:.4f} requests/s ({} probes)\n\n", r.rate_per_s,
             r.probes.size());
  print_summary(std::cout, *r.best);
  return kExitOk;
}

}  // namespace

void add_rate_search(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "rate-search",
      "Find the highest Poisson arrival rate at which the scenario's simulation keeps p99 TTFT "
      "and p99 TPOT within limits in steady state (MLPerf Server style)");
  auto o = std::make_shared<Options>();
  sub->add_option("scenario", o->path, "Scenario YAML file with a simulation: section")->required();
  sub->add_option("--data-dir", o->data_dir, "Directory holding gpus.yaml and models.yaml");
  sub->add_option("--p99-ttft-ms", o->search.p99_ttft_ms, "p99 time-to-first-token limit (ms)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--p99-tpot-ms", o->search.p99_tpot_ms, "p99 time-per-output-token limit (ms)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--max-rate", o->search.upper_rate_per_s,
                  "Bisect below this total rate (default: bracket from the scenario's own rate "
                  "by doubling or halving)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--bisections", o->search.bisections, "Probes after bracketing (default 9)")
      ->check(CLI::Range(1, 40));
  sub->add_option("--duration-s", o->duration_s,
                  "Arrivals window of each probe (default: the scenario's duration_s)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--no-steady-state-check", o->no_steady_check,
                "Accept a rate whose queueing delay is still growing at the end of the window");
  sub->callback([&action, o] {
    action = [o] {
      if (!(o->search.p99_ttft_ms > 0) && !(o->search.p99_tpot_ms > 0))
        throw InputError(Diagnostic{"", 0, 0, "--p99-ttft-ms", "",
                                    "expected at least one limit (--p99-ttft-ms, --p99-tpot-ms)",
                                    ""});
      return run(*o);
    };
  });
}

}  // namespace jevons::cli
