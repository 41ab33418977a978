#pragma once
/// \file The one component that touches SQLite. Nothing else in Jevons includes sqlite3.h.
///
/// The schema is versioned with PRAGMA user_version and documented for analysts in
/// docs/database.md. A run is written in one transaction: an error or a kill part-way leaves the
/// database exactly as it was. WAL mode lets readers (an analyst's notebook) see only whole runs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace jevons::store {

/// Current schema version written to PRAGMA user_version.
// 2: run_notes, nullable latencies, over-context counts, the HBM market and cost series.
// 3: the band tables (band_runs, band_inputs, band_quantiles, band_break_even,
//    break_even_curve), added by migration from 2.
inline constexpr int kSchemaVersion = 3;

/// A SQLite failure, with the database path and SQLite's message.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

/// A prepared statement. Bind by 1-based index; NaN doubles bind as NULL (SQLite's own rule).
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql, std::string path);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&&) noexcept;

  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, double v);
  Statement& bind(int index, const std::string& v);
  Statement& bind(int index, const char* v) { return bind(index, std::string(v)); }
  Statement& bind(int index, std::nullptr_t);
  Statement& bind(int index, const Value& v);
  /// Binds `values` to ?1..?N, steps once, and resets: one INSERT.
  void insert(const std::vector<Value>& values);
  /// Steps; true while a row is available.
  bool step();
  void reset();
  std::int64_t column_int(int col) const;
  double column_double(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;
  /// The column as stored: NULL, integer, real (all 17 digits) or text (CSV export, readers).
  Value column_value(int col) const;
  int column_count() const;
  std::string column_name(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// What identifies a run: stored in `runs`.
struct RunInfo {
  std::string kind;  ///< "static-capacity", "simulation", "projection", "sweep", ...
  std::string scenario_name;
  std::string scenario_path;
  std::string scenario_text;  ///< exact file bytes
  std::uint64_t seed = 0;
  std::string started_at_utc;  ///< ISO 8601; filled by Store when empty
  /// When the invocation began: `wall_time_ms` then covers the computation as well as the
  /// write (a run stamped only around its write looked 154 s long after 361 s). Unset: the write.
  std::optional<std::chrono::steady_clock::time_point> started;
  /// Inputs or settings the run changed (SimulationReport::notes, ...), written to run_notes.
  std::vector<std::string> notes;
};

/// The current UTC time as ISO 8601 ("2026-12-02T02:20:14Z"), as started_at_utc is written.
std::string utc_now();

class Store {
 public:
  /// Opens or creates `path` (":memory:" for tests), enables WAL and foreign keys, and creates or
  /// migrates the schema. Refuses a database from a newer Jevons, naming both versions.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const;

  Statement prepare(std::string_view sql);
  void exec(std::string_view sql);

  /// Writes one run atomically: inserts the `runs` row, calls `body(run_id)` to add the result
  /// rows, records the finish time, and commits. Any exception rolls everything back and is
  /// rethrown. Returns the new run id.
  std::int64_t write_run(const RunInfo& info, const std::function<void(std::int64_t)>& body);

  /// Rows of a query, for tests and the CLI (values as text, NULL as "").
  std::vector<std::vector<std::string>> query(std::string_view sql);

  /// Lowercase hex SHA-256 of `text` (the run's scenario hash).
  static std::string sha256_hex(std::string_view text);

 private:
  void migrate();

  sqlite3* db_ = nullptr;
  std::string path_;
};

/// RAII transaction: BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Store& store);
  ~Transaction();  ///< never throws
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Store& store_;
  bool done_ = false;
};

}  // namespace jevons::store
