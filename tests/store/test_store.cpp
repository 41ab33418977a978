// Store: schema versioning, round trips, and atomic runs (an interrupted write leaves the
// database exactly as it was).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jevons/store/store.h"

using namespace jevons::store;

namespace {

std::string temp_db(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("jevons-test-" + name + "-" + std::to_string(::getpid()) + ".sqlite");
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
  return p.string();
}

RunInfo info(const std::string& name) {
  RunInfo i;
  i.kind = "static-capacity";
  i.scenario_name = name;
  i.scenario_path = name + ".yaml";
  i.scenario_text = "name: " + name + "\n";
  i.seed = 42;
  return i;
}

std::int64_t count(Store& s, const std::string& table) {
  return std::stoll(s.query("SELECT count(*) FROM " + table)[0][0]);
}

}  // namespace

TEST_CASE("a new database gets the current schema version", "[store]") {
  Store s(":memory:");
  CHECK(s.schema_version() == kSchemaVersion);
  CHECK(count(s, "runs") == 0);
}

TEST_CASE("runs round-trip with their hash, version and results", "[store]") {
  Store s(":memory:");
  const auto id = s.write_run(info("a"), [&](std::int64_t run) {
    s.prepare("INSERT INTO replica_memory VALUES (?1,'p','h100-sxm','m',8,2,4,'bf16',1,2,3,4,-5)")
        .insert({run});
  });
  const auto rows = s.query(
      "SELECT run_id, kind, scenario_name, scenario_sha256, seed, jevons_version, "
      "finished_at_utc IS NOT NULL, scenario_text FROM runs");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == std::to_string(id));
  CHECK(rows[0][1] == "static-capacity");
  CHECK(rows[0][3] == Store::sha256_hex("name: a\n"));
  CHECK(rows[0][4] == "42");
  CHECK_FALSE(rows[0][5].empty());
  CHECK(rows[0][6] == "1");
  CHECK(rows[0][7] == "name: a\n");
  CHECK(s.query("SELECT kv_bytes_per_gpu FROM replica_memory")[0][0] == "-5");
}

TEST_CASE("SHA-256 matches the FIPS 180-2 test vector", "[store]") {
  CHECK(Store::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Store::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a failed run leaves the previous contents intact", "[store]") {
  const auto path = temp_db("rollback");
  {
    Store s(path);
    s.write_run(info("kept"), [](std::int64_t) {});
    CHECK_THROWS_WITH(s.write_run(info("lost"),
                                  [&](std::int64_t run) {
                                    s.prepare(
                                         "INSERT INTO replica_memory VALUES "
                                         "(?1,'p','g','m',1,1,1,'bf16',1,1,1,1,1)")
                                        .insert({run});
                                    throw std::runtime_error("simulated failure mid-run");
                                  }),
                      "simulated failure mid-run");
    CHECK(count(s, "runs") == 1);
    CHECK(count(s, "replica_memory") == 0);
  }
  Store again(path);
  CHECK(again.query("SELECT scenario_name FROM runs")[0][0] == "kept");
}

TEST_CASE("a process killed mid-transaction leaves an intact database", "[store]") {
  const auto path = temp_db("sigkill");
  {
    Store(path).write_run(info("before"), [](std::int64_t) {});
  }
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipefd[0]);
    try {
      Store s(path);
      s.write_run(info("killed"), [&](std::int64_t run) {
        auto st =
            s.prepare("INSERT INTO replica_memory VALUES (?1,?2,'g','m',1,1,1,'bf16',1,1,1,1,1)");
        for (int i = 0; i < 1000; ++i) st.insert({run, "pool" + std::to_string(i)});
        const char ready = 'r';
        (void)!::write(pipefd[1], &ready, 1);
        ::pause();  // wait inside the open transaction for SIGKILL
      });
    } catch (...) {
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char c = 0;
  REQUIRE(::read(pipefd[0], &c, 1) == 1);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  Store s(path);
  CHECK(s.query("PRAGMA integrity_check")[0][0] == "ok");
  CHECK(count(s, "runs") == 1);
  CHECK(s.query("SELECT scenario_name FROM runs")[0][0] == "before");
  CHECK(count(s, "replica_memory") == 0);
}

TEST_CASE("databases from a newer Jevons or another program are refused", "[store]") {
  const auto newer = temp_db("newer");
  { Store(newer).exec("PRAGMA user_version = 99"); }
  CHECK_THROWS_WITH(Store(newer), Catch::Contains("schema version 99") &&
                                      Catch::Contains("newer than this Jevons"));
  const auto foreign = temp_db("foreign");
  {
    Store tmp(":memory:");  // make a plain SQLite file with an unrelated table
  }
  {
    // A file Jevons did not create: a table but no user_version.
    std::filesystem::remove(foreign);
    Store probe(":memory:");
    probe.exec("ATTACH DATABASE '" + foreign + "' AS f");
    probe.exec("CREATE TABLE f.other (x INTEGER)");
    probe.exec("DETACH DATABASE f");
  }
  CHECK_THROWS_WITH(Store(foreign), Catch::Contains("did not create"));
  CHECK_THROWS_AS(Store("/nonexistent-dir/x/y.sqlite"), StoreError);
}

TEST_CASE("NaN binds as NULL, as SQLite would store it", "[store]") {
  Store s(":memory:");
  s.exec("CREATE TEMP TABLE t (x REAL)");
  s.prepare("INSERT INTO t VALUES (?1)").insert({std::nan("")});
  CHECK(s.query("SELECT x IS NULL FROM t")[0][0] == "1");
}

TEST_CASE("a database from before schema versioning is refused with the version named",
          "[store][bad-input]") {
  // A hand-made "version 0" file: Jevons-like tables (an older, narrower `runs`) and one run,
  // but user_version never set. Stamping it as version 1 would mix incompatible rows.
  const auto old = temp_db("version0");
  {
    Store probe(":memory:");
    probe.exec("ATTACH DATABASE '" + old + "' AS v0");
    probe.exec(
        "CREATE TABLE v0.runs (run_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, scenario_name "
        "TEXT NOT NULL)");
    probe.exec("CREATE TABLE v0.replica_memory (run_id INTEGER, pool TEXT)");
    probe.exec("INSERT INTO v0.runs VALUES (1, 'static-capacity', 'old')");
    probe.exec("DETACH DATABASE v0");
  }
  CHECK_THROWS_WITH(Store(old), Catch::Contains("schema version 0") &&
                                    Catch::Contains("schema version " +
                                                    std::to_string(kSchemaVersion) + " only") &&
                                    Catch::Contains("use a new database file"));
  // Refused, not modified: still version 0 with its one run and no new tables.
  Store probe(":memory:");
  probe.exec("ATTACH DATABASE '" + old + "' AS v0");
  CHECK(probe.query("PRAGMA v0.user_version")[0][0] == "0");
  CHECK(probe.query("SELECT count(*) FROM v0.runs")[0][0] == "1");
  CHECK(probe.query("SELECT count(*) FROM v0.sqlite_master WHERE type='table'")[0][0] == "2");
}

TEST_CASE("an unknown older or newer schema version is named with this Jevons' version",
          "[store][bad-input]") {
  const auto path = temp_db("version-negative");
  { Store(path).exec("PRAGMA user_version = -3"); }
  CHECK_THROWS_WITH(Store(path),
                    Catch::Contains("unknown schema version -3") &&
                        Catch::Contains("this Jevons: " + std::to_string(kSchemaVersion)));
}

TEST_CASE("missing, empty, unreadable and non-database files", "[store][bad-input]") {
  // A missing file in an existing directory is created; an empty file becomes a new database.
  const auto empty = temp_db("empty");
  { std::ofstream(empty).flush(); }
  {
    Store s(empty);
    CHECK(s.schema_version() == kSchemaVersion);
  }
  // Not a database at all.
  const auto junk = temp_db("junk");
  { std::ofstream(junk) << std::string(4096, 'x'); }
  CHECK_THROWS_WITH(Store(junk), Catch::Contains(junk) && Catch::Contains("not a database"));
  // A directory in the database's place.
  const auto dir = temp_db("dir");
  std::filesystem::create_directories(dir);
  CHECK_THROWS_WITH(Store(dir), Catch::Contains(dir));
  std::filesystem::remove_all(dir);
  // Unreadable: permissions do not bind for root, so the check is skipped there with a message.
  const auto locked = temp_db("locked");
  {
    Store(locked).write_run(info("kept"), [](std::int64_t) {});
  }
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  if (std::FILE* f = std::fopen(locked.c_str(), "r")) {
    std::fclose(f);
    WARN("skipping the unreadable-database check: chmod 000 does not bind here (running as root?)");
  } else {
    CHECK_THROWS_WITH(Store(locked), Catch::Contains(locked));
  }
  std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
}

TEST_CASE("a schema-1 database is upgraded in place: run_notes, over-context, NULL latencies",
          "[store][schema]") {
  // A real version-1 database, made with SQLite directly from the version-1 schema files as they
  // were, holding one simulation run whose "huge" group finished nothing (stored, as version 1
  // did, with 0.0 latencies) and whose "small" group finished requests.
  std::ifstream f(std::string(JEVONS_STORE_FIXTURE_DIR) + "/schema-v1.sql");
  std::stringstream v1;
  v1 << f.rdbuf();
  const auto path = temp_db("v1");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    std::string sql = v1.str() + R"(
PRAGMA user_version = 1;
INSERT INTO runs (run_id, kind, scenario_name, scenario_path, scenario_text, scenario_sha256, seed,
  jevons_version, git_commit, started_at_utc) VALUES (1, 'simulation', 's', 's.yaml', '', '', 1,
  '0.1', 'abc', '2026-01-01T00:00:00Z');
INSERT INTO sim_runs VALUES (1, 1, 10, 0, 10, 'least-outstanding', 'recompute', 'classes', 2, 1, 1,
  0, 0, 10, 10, 5, 3, '00', 0.004, 12);
)";
    for (const char* cls : {"huge", "small"}) {
      const bool done = std::string(cls) == "small";
      sql += std::string("INSERT INTO sim_groups VALUES (1, '") + cls + "', 'p', 1, " +
             (done ? "1" : "0") + ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, " +
             (done ? "5, 5, 5, 5, 5, 1, 7, 7, 7, 7, 7, 9, 9, 9, 9, 9, 2, 2, 2, 2, 2, "
                   : "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ") +
             "0, 0, 0);\n";
    }
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  Store s(path);
  CHECK(s.schema_version() == kSchemaVersion);
  // 1 → current in one step: version 3 added only the band tables, created with the rest.
  CHECK(kSchemaVersion == 3);
  CHECK(s.query("SELECT count(*) FROM band_quantiles")[0][0] == "0");
  const auto groups = s.query(
      "SELECT class, ttft_p50_ns IS NULL, e2e_max_ns IS NULL, tpot_mean_ns IS NULL, ttft_p50_ns "
      "FROM sim_groups ORDER BY class");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0] == std::vector<std::string>{"huge", "1", "1", "1", ""});
  CHECK(groups[1] == std::vector<std::string>{"small", "0", "0", "0", "5.0"});
  CHECK(s.query("SELECT requests_over_context, requests_truncated FROM sim_runs")[0] ==
        std::vector<std::string>{"0", "0"});
  // New runs write notes next to the old run.
  RunInfo i = info("after");
  i.notes = {"first note", "second note"};
  const auto id = s.write_run(i, [](std::int64_t) {});
  CHECK(s.query("SELECT note FROM run_notes WHERE run_id = " + std::to_string(id) +
                " ORDER BY note_index") ==
        std::vector<std::vector<std::string>>{{"first note"}, {"second note"}});
  // The HBM market and cost series (issue 13) exist, and the old rows read their defaults.
  CHECK(s.query("SELECT count(*) FROM pragma_table_info('projection_quarters') WHERE name IN "
                "('hbm_shipped_bytes', 'hbm_demanded_bytes', 'hbm_supply_bytes', "
                "'cost_all_in_usd_per_mtok', 'cost_marginal_usd_per_mtok', "
                "'initial_demand_scale')")[0][0] == "6");
  CHECK(s.query("SELECT count(*) FROM pragma_table_info('projection_generations') WHERE "
                "name = 'hbm_shipped_bytes'")[0][0] == "1");
  // Nothing of the old table is left behind.
  CHECK(s.query("SELECT count(*) FROM sqlite_master WHERE name = 'sim_groups_v1'")[0][0] == "0");
}
