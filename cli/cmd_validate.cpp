#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "common.h"
#include "jevons/core/scenario.h"
#include "jevons/simulator/simulate.h"

namespace jevons::cli {

void add_validate(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("validate", "Check a scenario file and report every problem");
  auto path = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  sub->add_option("scenario", *path, "Scenario YAML file")->required();
  sub->add_option("--data-dir", *data_dir, "Directory holding gpus.yaml and models.yaml");
  sub->callback([&action, path, data_dir] {
    action = [path, data_dir] {
      const Catalog catalog = load_catalog(*data_dir);
      const Scenario s = Scenario::load(*path, catalog);
      // A run opens its traces only when it starts: read them now, so validate finds a missing,
      // malformed or empty trace.
      const std::vector<TraceSummary> traces = check_simulation_traces(s);
      std::size_t combos = 0;
      for (const auto& p : s.pools) combos += p.kv_formats.size();
      fmt::print(
          "{}: ok — scenario '{}', {} pool(s), {} pool×format combination(s), {} context "
          "length(s){}{}\n",
          *path, s.name, s.pools.size(), combos, s.workload.context_tokens.size(),
          s.simulation ? ", with a simulation section" : "",
          s.planner ? fmt::format(", with a planner section ({} demand classes, {} GPU "
                                  "generations, {} quarters)",
                                  s.planner->classes.size(), s.planner->generations.size(),
                                  s.horizon.quarters)
                    : std::string());
      for (const auto& t : traces) {
        fmt::print("  trace {}: {} requests over {:.1f} s{}{}\n", t.path, thousands(t.requests),
                   static_cast<double>(t.span_ns) * 1e-9,
                   t.skipped_lines ? fmt::format(", {} malformed lines skipped", t.skipped_lines)
                                   : std::string(),
                   t.resorted ? ", not in time order (a run sorts it)" : "");
      }
      if (s.simulation) {
        // The bound the run checks against the memory available before it starts.
        const SimulationMemoryEstimate m = estimate_simulation_memory(s, &catalog);
        fmt::print("  simulation memory: at most about {} ({:.0f} bytes; {})\n",
                   human_bytes(m.bytes), m.bytes, m.breakdown);
      }
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
