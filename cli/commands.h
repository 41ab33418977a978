#pragma once
/// \file Subcommands of the `jevons` executable. Each lives in its own cmd_<name>.cpp, registers
/// itself on the CLI11 app, and sets `action` when the user chose it; main() runs the action and
/// maps exceptions to exit codes.

#include <CLI/CLI.hpp>
#include <functional>

namespace jevons::cli {

/// Exit codes are distinct so scripts can tell a bad scenario from a bug.
enum ExitCode : int {
  kExitOk = 0,
  kExitBadInput = 2,  ///< usage error, unreadable or invalid input file
  kExitInternal = 3,  ///< an unexpected failure inside Jevons (a bug, or the disk)
};

using Action = std::function<int()>;

void add_run(CLI::App& app, Action& action);        // cmd_run.cpp
void add_validate(CLI::App& app, Action& action);   // cmd_validate.cpp
void add_catalog(CLI::App& app, Action& action);    // cmd_catalog.cpp
void add_profile(CLI::App& app, Action& action);    // cmd_profile.cpp (kernels profiler)
void add_sweep(CLI::App& app, Action& action);      // cmd_sweep.cpp (planner sweeps, MPI)
void add_report(CLI::App& app, Action& action);     // cmd_report.cpp (HTML/Markdown reports)
void add_calibrate(CLI::App& app, Action& action);  // cmd_calibrate.cpp (step-time fit)
void add_validate_published(CLI::App& app, Action& action);  // cmd_validate_published.cpp
void add_backcast(CLI::App& app, Action& action);            // cmd_backcast.cpp (world baseline)
void add_rate_search(CLI::App& app, Action& action);  // cmd_rate_search.cpp (server rate search)
void add_band(CLI::App& app, Action& action);         // cmd_band.cpp (uncertainty bands, MPI)

}  // namespace jevons::cli
