#pragma once
/// \file Typed readers: a stored run back into the structs that produced it. Together with the
/// writers, the only code that knows table and column names; every query names its columns.
///
/// Front ends (the CLI's report and export, the GUI's "Open database") read through these, so
/// a stored projection reads back the same everywhere.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/projection_result.h"
#include "jevons/core/simulation_report.h"
#include "jevons/store/store.h"

namespace jevons::store {

/// One row of `runs`, with its notes.
struct StoredRun {
  std::int64_t run_id = 0;
  std::string kind;  ///< static-capacity | simulation | projection | sweep
  std::string scenario_name;
  std::string scenario_path;
  std::string scenario_text;
  std::uint64_t seed = 0;
  std::string started_at_utc;
  std::int64_t wall_time_ms = 0;  ///< 0 when not recorded
  std::vector<std::string> notes;
};

/// Every run, newest first (without scenario text or notes: a listing).
std::vector<StoredRun> list_runs(Store& store);
/// One run with its scenario text and notes; nullopt when there is no such run.
std::optional<StoredRun> read_run(Store& store, std::int64_t run_id);
/// The newest run of `kind` (any kind when empty); nullopt when there is none.
std::optional<std::int64_t> latest_run(Store& store, const std::string& kind = "");

/// The projection tables of `run_id` as the planner produced them (totals, classes,
/// generations, decomposition, break-even, sensitivity, capacity). Throws StoreError when the
/// run has no projection rows.
Projection read_projection(Store& store, std::int64_t run_id);

/// The sim_* tables of `run_id`: run counters, classes, pools, groups and the time series;
/// per-request rows only when `with_requests`. Throws StoreError when the run has no
/// simulation. Not read back: wall time's fraction of a millisecond, the latency sources.
SimulationReport read_simulation(Store& store, std::int64_t run_id, bool with_requests = false);

/// Per (class, entry pool) summary of the per-request table, computed in SQL so a run with
/// millions of rows is summarised without loading them.
struct RequestTableSummary {
  std::string class_name;
  std::string pool;
  std::uint64_t rows = 0;
  std::uint64_t finished = 0;
  std::uint64_t rejected = 0;
  std::uint64_t unfinished = 0;
  double mean_input_tokens = 0;
  double mean_output_tokens = 0;
  double mean_prefix_hit_tokens = 0;
  std::uint64_t preempted = 0;  ///< requests preempted at least once
};
std::vector<RequestTableSummary> summarize_requests(Store& store, std::int64_t run_id);

/// Writes every table row of `run_id` as CSV, one file per table that has rows (`runs.csv`
/// holds the run's own row), into `dir` (created). Integers as integers, reals with the
/// shortest digits that read back to the same double, text quoted as RFC 4180 says. Returns
/// the files written with their row counts.
struct CsvFile {
  std::filesystem::path path;
  std::string table;
  std::uint64_t rows = 0;
};
std::vector<CsvFile> export_run_csv(Store& store, std::int64_t run_id,
                                    const std::filesystem::path& dir);

/// One CSV field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(const Value& v);

}  // namespace jevons::store
