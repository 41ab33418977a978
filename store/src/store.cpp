#include "jevons/store/store.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "jevons/core/build_info.h"

namespace jevons::store {

extern const std::string_view kSchemaSql;

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what) {
  throw StoreError(fmt::format("SQLite error on '{}': {}: {}", path, what,
                               db ? sqlite3_errmsg(db) : "out of memory"));
}

// Schema version 1 → 2: run_notes (created by kSchemaSql), two over-context counters on
// sim_runs, and sim_groups rebuilt with nullable latency columns (SQLite cannot drop a NOT NULL
// in place). Version-1 rows measured nothing where no request finished: those zeros become NULL.
constexpr std::string_view kUpgrade1To2Before = R"(
ALTER TABLE sim_runs ADD COLUMN requests_over_context INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_runs ADD COLUMN requests_truncated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_groups RENAME TO sim_groups_v1;
)";
constexpr std::string_view kUpgrade1To2After = R"(
INSERT INTO sim_groups SELECT * FROM sim_groups_v1;
DROP TABLE sim_groups_v1;
UPDATE sim_groups SET ttft_mean_ns = NULL, ttft_p50_ns = NULL, ttft_p90_ns = NULL,
  ttft_p99_ns = NULL, ttft_max_ns = NULL, e2e_mean_ns = NULL, e2e_p50_ns = NULL,
  e2e_p90_ns = NULL, e2e_p99_ns = NULL, e2e_max_ns = NULL, queue_mean_ns = NULL,
  queue_p50_ns = NULL, queue_p90_ns = NULL, queue_p99_ns = NULL, queue_max_ns = NULL
  WHERE finished = 0;
UPDATE sim_groups SET tpot_mean_ns = NULL, tpot_p50_ns = NULL, tpot_p90_ns = NULL,
  tpot_p99_ns = NULL, tpot_max_ns = NULL WHERE tpot_count = 0;
)";

}  // namespace

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Statement::Statement(sqlite3* db, std::string_view sql, std::string path)
    : db_(db), path_(std::move(path)) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
      SQLITE_OK)
    fail(db, path_, fmt::format("preparing \"{}\"", sql.substr(0, 80)));
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& o) noexcept
    : stmt_(o.stmt_), db_(o.db_), path_(std::move(o.path_)) {
  o.stmt_ = nullptr;
}

Statement& Statement::bind(int index, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, index, v) != SQLITE_OK) fail(db_, path_, "binding an integer");
  return *this;
}
Statement& Statement::bind(int index, double v) {
  // SQLite stores NaN as NULL anyway; doing it explicitly keeps the intent visible.
  const int rc =
      std::isnan(v) ? sqlite3_bind_null(stmt_, index) : sqlite3_bind_double(stmt_, index, v);
  if (rc != SQLITE_OK) fail(db_, path_, "binding a real");
  return *this;
}
Statement& Statement::bind(int index, const std::string& v) {
  if (sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    fail(db_, path_, "binding text");
  return *this;
}
Statement& Statement::bind(int index, std::nullptr_t) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, path_, "binding NULL");
  return *this;
}
Statement& Statement::bind(int index, const Value& v) {
  std::visit([&](const auto& x) { bind(index, x); }, v);
  return *this;
}

void Statement::insert(const std::vector<Value>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) bind(static_cast<int>(i + 1), values[i]);
  step();
  reset();
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, path_, "executing a statement");
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
double Statement::column_double(int col) const {
  return sqlite3_column_double(stmt_, col);
}
std::string Statement::column_text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string{};
}
bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
Value Statement::column_value(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      return column_int(col);
    case SQLITE_FLOAT:
      return column_double(col);
    default:
      return column_text(col);
  }
}
int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}
std::string Statement::column_name(int col) const {
  return sqlite3_column_name(stmt_, col);
}

Store::Store(const std::string& path) : path_(path) {
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(fmt::format("cannot open database '{}': {}", path, msg));
  }
  try {
    // A concurrent reader (an analyst's notebook) may hold the file; wait rather than fail.
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA foreign_keys = ON");
    if (path != ":memory:") exec("PRAGMA journal_mode = WAL");
    // In WAL mode NORMAL keeps every transaction atomic across process crashes (a SIGKILLed run
    // leaves no trace); only a power loss may roll back the last commits, never corrupt. FULL
    // would fsync every commit and make per-request rows disk-bound (bench/RESULTS.md).
    exec("PRAGMA synchronous = NORMAL");
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Store::~Store() {
  sqlite3_close(db_);
}

void Store::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(fmt::format("SQLite error on '{}': {}", path_, msg));
  }
}

Statement Store::prepare(std::string_view sql) {
  return Statement(db_, sql, path_);
}

int Store::schema_version() const {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr);
  int v = 0;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

void Store::migrate() {
  const int v = schema_version();
  if (v > kSchemaVersion)
    throw StoreError(
        fmt::format("database '{}' has schema version {}, newer than this Jevons ({}, schema {}); "
                    "use a newer Jevons or a new database file",
                    path_, v, jevons::version(), kSchemaVersion));
  if (v == kSchemaVersion) return;
  if (v == 2) {
    // 2 → 3 adds tables only (the bands, issue 14): every CREATE is IF NOT EXISTS, so the whole
    // schema text creates exactly the new ones, in one transaction with the version.
    Transaction tx(*this);
    exec(kSchemaSql);
    exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
    tx.commit();
    return;
  }
  if (v == 1) {
    // 1 → 2 in one transaction, so a kill part-way leaves the version-1 database as it was:
    // run_notes, the over-context counters and nullable latencies (issue 15), and the HBM market
    // layer with the all-in and marginal cost per token (issue 13). Old projection rows read 0 for
    // the new series (1 for the fleet scale), which they did not compute.
    Transaction tx(*this);
    exec(kUpgrade1To2Before);
    for (const char* column :
         {"hbm_shipped_bytes REAL NOT NULL DEFAULT 0", "hbm_demanded_bytes REAL NOT NULL DEFAULT 0",
          "hbm_supply_bytes REAL NOT NULL DEFAULT 0",
          "cost_all_in_usd_per_mtok REAL NOT NULL DEFAULT 0",
          "cost_marginal_usd_per_mtok REAL NOT NULL DEFAULT 0",
          "initial_demand_scale REAL NOT NULL DEFAULT 1"})
      exec(fmt::format("ALTER TABLE projection_quarters ADD COLUMN {}", column));
    exec("ALTER TABLE projection_generations ADD COLUMN hbm_shipped_bytes REAL NOT NULL DEFAULT 0");
    exec(kSchemaSql);
    exec(kUpgrade1To2After);
    exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
    tx.commit();
    return;
  }
  if (v != 0) {
    throw StoreError(fmt::format("database '{}' has unknown schema version {} (this Jevons: {})",
                                 path_, v, kSchemaVersion));
  }
  // A file that is not empty but has user_version 0 is not ours: refuse rather than mix tables.
  Statement tables =
      prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'");
  tables.step();
  const bool empty = tables.column_int(0) == 0;
  if (!empty) {
    Statement runs = prepare("SELECT count(*) FROM sqlite_master WHERE name='runs'");
    runs.step();
    if (runs.column_int(0) == 0)
      throw StoreError(fmt::format(
          "'{}' is an SQLite database that Jevons did not create (no schema version); refusing "
          "to write into it",
          path_));
    // Jevons tables at user_version 0 come from before the schema was versioned (the schema and
    // its version are written in one transaction, so no crash leaves this state). Their columns
    // are unknown, so stamping them as version 1 would mix incompatible rows: refuse instead.
    throw StoreError(fmt::format(
        "database '{}' has schema version 0 (Jevons tables from before schema versioning); this "
        "Jevons ({}) reads and writes schema version {} only and cannot migrate it; use a new "
        "database file",
        path_, jevons::version(), kSchemaVersion));
  }
  Transaction tx(*this);
  exec(kSchemaSql);
  exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  tx.commit();
}

std::int64_t Store::write_run(const RunInfo& info, const std::function<void(std::int64_t)>& body) {
  const auto t0 = info.started.value_or(std::chrono::steady_clock::now());
  Transaction tx(*this);
  Statement ins = prepare(
      "INSERT INTO runs (kind, scenario_name, scenario_path, scenario_text, scenario_sha256, seed, "
      "jevons_version, git_commit, started_at_utc) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  ins.insert({info.kind, info.scenario_name, info.scenario_path, info.scenario_text,
              sha256_hex(info.scenario_text), static_cast<std::int64_t>(info.seed),
              std::string(jevons::version()), std::string(jevons::git_commit()),
              info.started_at_utc.empty() ? utc_now() : info.started_at_utc});
  const std::int64_t run_id = sqlite3_last_insert_rowid(db_);
  body(run_id);
  if (!info.notes.empty()) {
    Statement note =
        prepare("INSERT INTO run_notes (run_id, note_index, note) VALUES (?1, ?2, ?3)");
    for (std::size_t i = 0; i < info.notes.size(); ++i)
      note.insert({run_id, static_cast<std::int64_t>(i), info.notes[i]});
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  Statement fin =
      prepare("UPDATE runs SET finished_at_utc = ?1, wall_time_ms = ?2 WHERE run_id = ?3");
  fin.insert({utc_now(), static_cast<std::int64_t>(ms), run_id});
  tx.commit();
  return run_id;
}

std::vector<std::vector<std::string>> Store::query(std::string_view sql) {
  Statement st = prepare(sql);
  std::vector<std::vector<std::string>> rows;
  while (st.step()) {
    std::vector<std::string> row;
    for (int c = 0; c < st.column_count(); ++c) row.push_back(st.column_text(c));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Store::sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw StoreError("SHA-256 failed");
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

Transaction::Transaction(Store& store) : store_(store) {
  store_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    store_.exec("ROLLBACK");
  } catch (...) {
    // A destructor must not throw; SQLite rolls back an unfinished transaction on close anyway.
  }
}

void Transaction::commit() {
  store_.exec("COMMIT");
  done_ = true;
}

}  // namespace jevons::store
