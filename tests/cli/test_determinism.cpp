// Determinism: the same scenario and seed give identical result rows in every table, ignoring
// only the wall-clock columns (*_utc, wall_time_ms) and run ids, across repeated runs (simulation
// and projection), across thread counts and across MPI rank counts. Every capacity search here
// is cold (no cache), so equality is of the computation, not of a cache read.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>

#include "jevons/store/store.h"

namespace {

namespace fs = std::filesystem;

std::string sh(const std::string& cmd, int& code) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

void run_jevons(const std::string& args, const std::string& prefix = "") {
  int code = 0;
  const auto out = sh(prefix + JEVONS_EXE + " " + args, code);
  INFO(out);
  REQUIRE(code == 0);
}

std::string temp_path(const std::string& name) {
  const auto p =
      fs::temp_directory_path() / ("jevons-det-" + std::to_string(::getpid()) + "-" + name);
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(p.string() + ext);
  return p.string();
}

bool wall_clock(const std::string& column) {
  return column == "run_id" || column == "wall_time_ms" ||
         (column.size() > 4 && column.compare(column.size() - 4, 4, "_utc") == 0);
}

/// Every table's rows for the only run in `db`, without wall-clock columns, sorted: table → rows.
std::map<std::string, std::vector<std::vector<std::string>>> contents(const std::string& db) {
  jevons::store::Store s(db);
  REQUIRE(s.query("SELECT count(*) FROM runs")[0][0] == "1");
  std::map<std::string, std::vector<std::vector<std::string>>> out;
  for (const auto& t : s.query("SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
                               "LIKE 'sqlite_%' ORDER BY name")) {
    std::string cols;
    for (const auto& c : s.query("PRAGMA table_info(" + t[0] + ")"))
      if (!wall_clock(c[1])) cols += (cols.empty() ? "" : ", ") + c[1];
    if (cols.empty()) continue;
    out[t[0]] = s.query("SELECT " + cols + " FROM " + t[0] + " ORDER BY " + cols);
  }
  return out;
}

/// Compares two databases table by table, so a difference names its table.
void check_same(const std::string& a, const std::string& b) {
  const auto x = contents(a), y = contents(b);
  REQUIRE(x.size() == y.size());
  std::size_t rows = 0;
  for (const auto& [table, rows_a] : x) {
    INFO("table " << table);
    REQUIRE(y.count(table));
    CHECK(rows_a.size() == y.at(table).size());
    CHECK(rows_a == y.at(table));
    rows += rows_a.size();
  }
  CHECK(rows > 0);
}

const std::string kFixtures = JEVONS_TEST_FIXTURE_DIR;

}  // namespace

TEST_CASE("repeated simulation runs give identical rows in every table", "[cli][determinism]") {
  const auto a = temp_path("sim-a.sqlite"), b = temp_path("sim-b.sqlite");
  run_jevons("run " + kFixtures + "/crash-sim.yaml --db " + a);
  run_jevons("run " + kFixtures + "/crash-sim.yaml --db " + b);
  check_same(a, b);
  jevons::store::Store s(a);
  CHECK(std::stoll(s.query("SELECT count(*) FROM sim_requests")[0][0]) > 10000);
}

TEST_CASE("repeated projection runs with cold capacity searches give identical rows",
          "[cli][determinism]") {
  const auto a = temp_path("plan-a.sqlite"), b = temp_path("plan-b.sqlite");
  run_jevons("run " + kFixtures + "/planner-small.yaml --capacity-cache - --db " + a);
  run_jevons("run " + kFixtures + "/planner-small.yaml --capacity-cache - --db " + b);
  check_same(a, b);
}

TEST_CASE("sweeps give identical rows on 1 or 2 threads and on 1 or 2 MPI ranks",
          "[cli][determinism]") {
  std::vector<std::string> dbs;
  for (const char* threads : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("sweep-t") + threads + ".sqlite"));
    run_jevons("sweep " + kFixtures + "/sweep-small.yaml --capacity-cache - --threads " + threads +
               " --db " + dbs.back());
  }
  check_same(dbs[0], dbs[1]);
  // Root needs OpenMPI's explicit consent in containers; --oversubscribe lets 2 ranks run on
  // fewer cores.
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  // Our own OpenMPI session directory: two mpiruns started at once by parallel CTest processes
  // race to create the shared one ("orte_session_dir failed ... File exists").
  const auto session = temp_path("ompi");
  fs::create_directories(session);
  ::setenv("OMPI_MCA_orte_tmpdir_base", session.c_str(), 1);
  for (const char* ranks : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("sweep-r") + ranks + ".sqlite"));
    run_jevons("sweep " + kFixtures + "/sweep-small.yaml --capacity-cache - --db " + dbs.back(),
               std::string("mpirun --oversubscribe -np ") + ranks + " ");
    check_same(dbs[0], dbs.back());
  }
}

TEST_CASE("bands give identical rows on 1 or 2 threads and on 1 or 2 MPI ranks",
          "[cli][determinism][band]") {
  std::vector<std::string> dbs;
  for (const char* threads : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("band-t") + threads + ".sqlite"));
    run_jevons("band " + kFixtures + "/band-small.yaml --capacity-cache - --threads " + threads +
               " --db " + dbs.back());
  }
  check_same(dbs[0], dbs[1]);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const auto session = temp_path("ompi-band");
  fs::create_directories(session);
  ::setenv("OMPI_MCA_orte_tmpdir_base", session.c_str(), 1);
  for (const char* ranks : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("band-r") + ranks + ".sqlite"));
    run_jevons("band " + kFixtures + "/band-small.yaml --capacity-cache - --db " + dbs.back(),
               std::string("mpirun --oversubscribe -np ") + ranks + " ");
    check_same(dbs[0], dbs.back());
  }
  // The band tables are there and hold every series and period: 15 series × (8 quarters + 2
  // years), and one break-even band per headline metric.
  jevons::store::Store st(dbs[0]);
  CHECK(st.query("SELECT count(*) FROM band_quantiles")[0][0] == "150");
  CHECK(st.query("SELECT count(*) FROM band_break_even")[0][0] == "3");
}
