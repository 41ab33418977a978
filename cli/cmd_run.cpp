#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.h"
#include "common.h"
#include "jevons/core/capacity.h"
#include "jevons/core/scenario.h"
#include "jevons/simulator/simulate.h"
#include "jevons/store/capacity_writer.h"
#include "jevons/store/projection_writer.h"
#include "jevons/store/simulation_writer.h"
#include "jevons/store/store.h"
#include "projection_cli.h"

namespace jevons::cli {

namespace {

// Simulates the scenario's `simulation:` section with a progress bar on stderr once the run has
// taken more than a second (redrawn at most 10 times a second).
SimulationReport run_simulation(const Scenario& s, const Catalog& catalog,
                                const std::string& profile_path) {
  std::optional<Profile> profile;
  if (!profile_path.empty()) profile = Profile::load(profile_path);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto last = start;
  bool drawn = false;
  const SimulationReport report =
      simulate(s, catalog, profile, [&](double fraction, std::uint64_t finished) {
        const auto now = clock::now();
        if (now - start < std::chrono::seconds(1) || now - last < std::chrono::milliseconds(100)) {
          return;
        }
        last = now;
        drawn = true;
        const int filled = static_cast<int>(fraction * 30);
        fmt::print(stderr, "\r[{:<30}] {:3.0f}%  {} requests finished", std::string(filled, '#'),
                   100 * fraction, thousands(finished));
        std::fflush(stderr);
      });
  if (drawn) fmt::print(stderr, "\n");
  return report;
}

void print_static_capacity(const Scenario& s, const Catalog& catalog, const StaticCapacity& cap) {
  fmt::print("Scenario '{}' (seed {}): static KV capacity and analytical decode estimate\n", s.name,
             s.seed);
  fmt::print(
      "(analytical roofline estimate, not a simulation: weights + KV bytes over HBM "
      "bandwidth, FLOPs over peak, TP all-reduce, fixed overhead)\n\n");
  for (const auto& pm : cap.pools) {
    const auto& gpu = catalog.gpu(pm.gpu_id);
    fmt::print("Pool {}: {} × {} serving {} (TP={}, {} replicas, {} weights)\n", pm.pool, pm.gpus,
               gpu.name, pm.model_id, pm.memory.tensor_parallel, pm.replicas,
               to_string(pm.weights));
    fmt::print("  per GPU: {} usable HBM, {} budget, {} weights, {} reserve → {} for KV\n",
               human_bytes(static_cast<double>(pm.memory.hbm_usable_bytes_per_gpu)),
               human_bytes(static_cast<double>(pm.memory.budget_bytes_per_gpu)),
               human_bytes(static_cast<double>(pm.memory.weight_bytes_per_gpu)),
               human_bytes(static_cast<double>(pm.memory.reserve_bytes_per_gpu)),
               pm.memory.fits() ? human_bytes(static_cast<double>(pm.memory.kv_bytes_per_gpu))
                                : std::string("nothing (does not fit)"));
    fmt::print("  {:<24} {:>10} {:>8} {:>7} {:>13} {:>10} {:>7} {:>9} {:>11} {:>8}\n", "KV format",
               "B/token", "vs bf16", "context", "KV tokens", "seqs/repl", "batch", "step ms",
               "tok/s/GPU", "bound");
    for (const auto& r : cap.rows) {
      if (r.pool != pm.pool) continue;
      fmt::print("  {:<24} {:>10} {:>7.2f}x {:>7} {:>13} {:>10} {:>7} {:>9} {:>11} {:>8}\n",
                 r.kv.name(), thousands(r.kv_bytes_per_token), r.compression_vs_bf16,
                 thousands(r.context_tokens), thousands(r.kv_capacity_tokens),
                 thousands(r.kv_capacity_sequences), r.batch_sequences,
                 r.batch_sequences
                     ? fmt::format("{:.2f}", static_cast<double>(r.decode.step_time_ns) / 1e6)
                     : "-",
                 r.batch_sequences ? fmt::format("{:.0f}", r.decode.tokens_per_s_per_gpu) : "-",
                 r.batch_sequences ? r.decode.bound : "-");
    }
    fmt::print("\n");
  }
}

}  // namespace

void add_run(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("run", "Run a scenario, print a summary and write the results");
  auto path = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>("jevons-results.sqlite");
  auto data_dir = std::make_shared<std::string>();
  sub->add_option("scenario", *path, "Scenario YAML file")->required();
  sub->add_option("--db", *db, "SQLite results database (created if missing)")
      ->capture_default_str();
  sub->add_option("--data-dir", *data_dir, "Directory holding gpus.yaml and models.yaml");
  auto profile = std::make_shared<std::string>();
  sub->add_option(
      "--profile", *profile,
      "Measured kernel profile (profile.json) calibrating the simulator's latency model");
  auto cache = std::make_shared<std::string>();
  sub->add_option("--capacity-cache", *cache,
                  "Planner capacity cache file ('-' for none; default ~/.cache/jevons)");
  sub->callback([&action, path, db, data_dir, profile, cache] {
    action = [path, db, data_dir, profile, cache] {
      const Catalog catalog = load_catalog(*data_dir);
      const Scenario s = Scenario::load(*path, catalog);
      // Open (or create) the database before a long computation, so a bad path fails at once; the
      // run's rows are written in one transaction at the end, so a failure leaves it untouched.
      store::Store st(*db);
      const StaticCapacity cap = compute_static_capacity(s, catalog);
      if (!cap.rows.empty()) print_static_capacity(s, catalog, cap);
      std::optional<SimulationReport> sim;
      if (s.simulation) {
        sim = run_simulation(s, catalog, *profile);
        print_summary(std::cout, *sim);
      }

      std::optional<Projection> projection;
      if (s.planner) {
        ProjectionRunOptions po;
        po.profile_path = *profile;
        po.cache_path = *cache;
        projection = run_projection(s, catalog, po);
        print_projection(std::cout, s, *projection);
      }

      store::RunInfo info;
      info.kind = projection ? "projection" : sim ? "simulation" : "static-capacity";
      info.scenario_name = s.name;
      info.scenario_path = s.path;
      info.scenario_text = s.text;
      info.seed = s.seed;
      const auto run_id = st.write_run(info, [&](std::int64_t id) {
        store::write_static_capacity(st, id, cap);
        if (sim) store::write_simulation(st, id, *sim);
        if (projection) store::write_projection(st, id, *projection);
      });
      fmt::print("Wrote run {} ({}) to {}\n", run_id, info.kind, *db);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
