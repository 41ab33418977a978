#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "jevons/core/capacity.h"
#include "jevons/core/scenario.h"
#include "jevons/store/capacity_writer.h"
#include "jevons/store/store.h"

namespace jevons::cli {

namespace {

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
                 r.batch_sequences ? fmt::format("{:.2f}", r.decode.step_time_ns / 1e6) : "-",
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
  sub->callback([&action, path, db, data_dir] {
    action = [path, db, data_dir] {
      const Catalog catalog = load_catalog(*data_dir);
      const Scenario s = Scenario::load(*path, catalog);
      // Compute everything before touching the database: a failure leaves it untouched.
      const StaticCapacity cap = compute_static_capacity(s, catalog);
      print_static_capacity(s, catalog, cap);

      store::Store st(*db);
      store::RunInfo info;
      info.kind = "static-capacity";
      info.scenario_name = s.name;
      info.scenario_path = s.path;
      info.scenario_text = s.text;
      info.seed = s.seed;
      const auto run_id =
          st.write_run(info, [&](std::int64_t id) { store::write_static_capacity(st, id, cap); });
      fmt::print("Wrote run {} ({} capacity rows) to {}\n", run_id, cap.rows.size(), *db);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
