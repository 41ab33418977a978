#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "common.h"
#include "jevons/core/scenario.h"

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
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
