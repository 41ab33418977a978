#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.h"
#include "common.h"
#include "jevons/core/capacity.h"
#include "jevons/core/scenario.h"
#include "jevons/session/headline.h"
#include "jevons/session/session.h"
#include "jevons/simulator/simulate.h"
#include "jevons/store/store.h"
#include "progress.h"
#include "projection_cli.h"

namespace jevons::cli {

namespace {

// Simulates the scenario's `simulation:` section, with progress on stderr (cli/progress.h).
SimulationReport run_simulation(const Scenario& s, const Catalog& catalog,
                                const std::string& profile_path) {
  std::optional<Profile> profile;
  if (!profile_path.empty()) profile = Profile::load(profile_path);
  Progress progress("simulation");
  SimulationReport report =
      simulate(s, catalog, profile, [&](double fraction, std::uint64_t finished) {
        progress.update(fraction, thousands(finished) + " requests finished");
      });
  progress.finish();
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
  // Quick checks (scripts/newcomer-check.sh) run every bundled scenario in seconds without
  // editing it: each override is printed and stored as a note of the run.
  auto max_duration_s = std::make_shared<double>(0);
  sub->add_option("--max-duration-s", *max_duration_s,
                  "Cap simulation.duration_s at this many seconds (a quick check; noted in the "
                  "output and the database)")
      ->check(CLI::PositiveNumber);
  auto analytical = std::make_shared<bool>(false);
  sub->add_flag("--analytical-capacity", *analytical,
                "Planner: size replicas with the analytical capacity estimate instead of the "
                "simulated capacity search (a quick check; noted)");
  sub->callback([&action, path, db, data_dir, profile, cache, max_duration_s, analytical] {
    action = [path, db, data_dir, profile, cache, max_duration_s, analytical] {
      // The run's record covers the whole invocation, not only its database write.
      const auto started = std::chrono::steady_clock::now();
      const std::string started_utc = store::utc_now();
      const Catalog catalog = load_catalog(*data_dir);
      Scenario s = Scenario::load(*path, catalog);
      std::vector<std::string> notes;
      if (*max_duration_s > 0 && s.simulation) {
        auto& sim_spec = *s.simulation;
        // Compared in double: a cap beyond int64 nanoseconds simply does not bind.
        const double cap = *max_duration_s * 1e9;
        if (cap < static_cast<double>(sim_spec.duration_ns)) {
          const auto cap_ns = std::max<std::int64_t>(1, static_cast<std::int64_t>(cap));
          notes.push_back(fmt::format(
              "simulation.duration_s capped at {:g} s by --max-duration-s (the scenario says {:g} "
              "s){}",
              *max_duration_s, static_cast<double>(sim_spec.duration_ns) * 1e-9,
              sim_spec.warmup_ns >= cap_ns / 2 ? "; warmup_s cut to a tenth of it" : ""));
          sim_spec.duration_ns = cap_ns;
          if (sim_spec.warmup_ns >= cap_ns / 2) sim_spec.warmup_ns = cap_ns / 10;
        }
      }
      std::string analytical_note;
      if (*analytical) analytical_note = session::use_analytical_capacity(s);
      if (!analytical_note.empty()) notes.push_back(analytical_note);
      // Without a projection there is no headline: the notes come first, before a long run.
      if (!s.planner)
        for (const auto& n : notes) fmt::print("Note: {}\n", n);
      // Open (or create) the database before a long computation, so a bad path fails at once; the
      // run's rows are written in one transaction at the end, so a failure leaves it untouched.
      store::Store st = open_results_db(*db);
      const StaticCapacity cap = compute_static_capacity(s, catalog);
      std::optional<SimulationReport> sim;
      if (s.simulation) sim = run_simulation(s, catalog, *profile);
      std::optional<session::ProjectionRun> projection;
      std::optional<session::Headline> headline;
      if (s.planner) {
        std::optional<Profile> prof;
        if (!profile->empty()) prof = Profile::load(*profile);
        session::Oracles oracles(catalog, std::move(prof), session::capacity_cache_path(s, *cache));
        projection = run_projection_with_progress(s, catalog, oracles);
        headline = session::make_headline(projection->projection, projection->capacity_method);
        // A band of this scenario already in the database (`jevons band --db`) gives the
        // headline its P10/P50/P90; without one the sentence says how to get it.
        if (headline) session::attach_latest_band(*headline, st, s.name);
        // An analytical answer where the scenario asks for the simulated search is a different
        // answer: shown beside the simulated one when the cache holds it (docs/planner.md).
        if (headline && !analytical_note.empty()) {
          std::uint64_t needed = 0;
          const auto simulated = session::cached_simulated_headline(s, catalog, oracles, needed);
          notes.push_back(session::capacity_mode_difference(*headline, simulated, needed));
        }
      }

      // The answer first: the headline, then the notes and the tables behind it.
      if (headline) fmt::print("{}\n\n", session::headline_sentence(*headline));
      if (s.planner)
        for (const auto& n : notes) fmt::print("Note: {}\n", n);
      if (!cap.rows.empty()) print_static_capacity(s, catalog, cap);
      if (sim) print_summary(std::cout, *sim);
      if (projection) {
        print_projection(std::cout, s, projection->projection);
        print_world_comparison(std::cout, catalog, *data_dir, projection->projection);
        print_scarcity(std::cout, s, projection->projection);
      }

      store::RunInfo info;
      info.scenario_name = s.name;
      info.scenario_path = s.path;
      info.scenario_text = s.text;
      info.seed = s.seed;
      info.started = started;
      info.started_at_utc = started_utc;
      info.notes = notes;
      // A write of millions of per-request rows takes minutes: say what is happening.
      fmt::print(stderr, "Writing the results to {}{}\n", *db,
                 sim && !sim->requests.empty()
                     ? fmt::format(" ({} per-request rows)", thousands(sim->requests.size()))
                     : std::string());
      const session::RunResults results{&cap, sim ? &*sim : nullptr,
                                        projection ? &projection->projection : nullptr};
      info.kind = session::run_kind(results);
      const auto run_id = session::store_run(st, info, results);
      fmt::print("Wrote run {} ({}) to {}\n", run_id, info.kind, *db);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
