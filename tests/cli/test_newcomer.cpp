// Issue 15, end to end: what a newcomer meets in the first hour with the `jevons` executable —
// a bad --db, a typo in the subcommand, duplicate keys, validate on a broken trace, the
// progress output in a log, what the runs table records, and docs that name every scenario and
// every subcommand. Each case failed before its fix.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "jevons/store/store.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;  ///< stdout and stderr together
};

Result run(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + std::string(JEVONS_EXE) + " " + args + " 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path temp_dir() {
  const fs::path d =
      fs::temp_directory_path() / ("jevons-newcomer-cli-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::string write(const std::string& name, const std::string& text) {
  const fs::path p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const fs::path kRoot = fs::path(JEVONS_TEST_SCENARIO_DIR).parent_path();
const std::string kFixtures = JEVONS_TEST_FIXTURE_DIR;

// A small trace-replay scenario whose trace path is `trace`.
std::string trace_scenario(const std::string& trace) {
  return "name: t\nkv_formats: [bf16]\npools:\n"
         "  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}\n"
         "workload: {context_tokens: [8192]}\nsimulation:\n  duration_s: 60\n  workload:\n"
         "    trace:\n      path: " +
         trace + "\n      format: azure\n";
}

}  // namespace

TEST_CASE("a bad --db is bad input (exit 2) naming the option, and '' is refused",
          "[cli][newcomer]") {
  const std::string scenario = kFixtures + "/planner-small.yaml";
  auto r = run("validate " + scenario);
  REQUIRE(r.code == 0);
  r = run("run " + (kRoot / "scenarios/legacy-fleet.yaml").string() +
          " --db /nonexistent-folder/x.sqlite");
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find("key '--db' = '/nonexistent-folder/x.sqlite'") != std::string::npos);
  CHECK(r.out.find("internal error") == std::string::npos);
  r = run("run " + (kRoot / "scenarios/legacy-fleet.yaml").string() + " --db ''");
  CHECK(r.code == 2);
  CHECK(r.out.find("expected the path of a results database file") != std::string::npos);
  // A sweep checks its --db before computing, not after.
  r = run("sweep " + kFixtures + "/sweep-small.yaml --db /nonexistent-folder/x.sqlite");
  CHECK(r.code == 2);
  CHECK(r.out.find("key '--db'") != std::string::npos);
  CHECK(r.out.find("computed on") == std::string::npos);
  // Not a Jevons database: bad input too.
  const std::string not_db = write("not-a-db.sqlite", "hello, this is not SQLite\n");
  r = run("report " + not_db);
  CHECK(r.code == 2);
  CHECK(r.out.find("--db") != std::string::npos);
}

TEST_CASE("an unknown subcommand is named, with the nearest one and the list", "[cli][newcomer]") {
  auto r = run("valdate x.yaml");
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find("unknown subcommand 'valdate' (did you mean 'validate'?)") != std::string::npos);
  CHECK(r.out.find("run, validate, catalog") != std::string::npos);
  r = run("frobnicate");
  CHECK(r.code == 2);
  CHECK(r.out.find("unknown subcommand 'frobnicate'") != std::string::npos);
  CHECK(r.out.find("A subcommand is required") == std::string::npos);
}

TEST_CASE("duplicate YAML keys are refused with both lines", "[cli][newcomer][yaml]") {
  const std::string text = slurp(kFixtures + "/planner-small.yaml");
  const std::string path = write("dup.yaml", text + "seed: 7\nseed: 8\n");
  const auto r = run("validate " + path);
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(std::regex_search(r.out, std::regex("dup\\.yaml:[0-9]+:1: key 'seed': duplicate key "
                                            "\\(first given at line [0-9]+\\)")));
}

TEST_CASE("an input file past 64 MiB is refused before it is read", "[cli][newcomer][limits]") {
  // A sparse file: 65 MiB long, no disk used. Read whole, it would take its size in memory
  // (and yaml-cpp several times more) before any message.
  const fs::path big = temp_dir() / "huge.yaml";
  { std::ofstream(big) << "name: x\n"; }
  fs::resize_file(big, 65u << 20);
  const auto r = run("validate " + big.string());
  INFO(r.out.substr(0, 500));
  CHECK(r.code == 2);
  CHECK(r.out.find("huge.yaml: a scenario file of 68157440 bytes; such files are limited to "
                   "67108864 bytes (64 MiB)") != std::string::npos);
  CHECK(r.out.size() < 1000);
  fs::remove(big);
}

TEST_CASE("validate reads the trace: missing, malformed and empty traces fail",
          "[cli][newcomer][trace]") {
  const std::string good = write("good.csv",
                                 "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                 "2023-11-16 18:15:46.6805900,374,44\n"
                                 "2023-11-16 18:15:50.9951690,396,109\n");
  auto r = run("validate " + write("good.yaml", trace_scenario(good)));
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("2 requests over 4.3 s") != std::string::npos);

  r = run("validate " + write("missing.yaml", trace_scenario("nowhere.csv")));
  CHECK(r.code == 2);
  CHECK(r.out.find("missing.yaml:10: key 'simulation.workload.trace.path' = 'nowhere.csv'") !=
        std::string::npos);

  const std::string bad =
      write("bad.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,x,1\n");
  r = run("validate " + write("bad.yaml", trace_scenario(bad)));
  CHECK(r.code == 2);
  CHECK(r.out.find("bad.csv:2: key 'ContextTokens' = 'x'") != std::string::npos);

  const std::string empty = write("empty.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  r = run("validate " + write("empty.yaml", trace_scenario(empty)));
  CHECK(r.code == 2);
  CHECK(r.out.find("the trace has no requests") != std::string::npos);
  // And the run refuses it too, instead of storing an idle run with exit 0.
  const std::string db = (temp_dir() / "empty.sqlite").string();
  r = run("run " + (temp_dir() / "empty.yaml").string() + " --db " + db);
  CHECK(r.code == 2);
  // The database is opened first (a bad --db fails at once) but holds no run.
  if (fs::exists(db))
    CHECK(jevons::store::Store(db).query("SELECT count(*) FROM runs")[0][0] == "0");
}

TEST_CASE("progress in a log is plain periodic lines with an ETA, and the runs row covers the run",
          "[cli][newcomer][progress]") {
  const std::string db = (temp_dir() / "progress.sqlite").string();
  fs::remove(db);
  // About a second of simulation with no per-request rows: the database write is milliseconds,
  // so a record of the write alone would be far short of the run.
  std::string text = slurp(kFixtures + "/crash-sim.yaml");
  text.replace(text.find("per_request: all"), 16, "per_request: off");
  const std::string scenario = write("progress.yaml", text);
  const std::time_t before = std::time(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run("run " + scenario + " --db " + db, "JEVONS_PROGRESS_INTERVAL_S=0");
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out.substr(0, 3000));
  REQUIRE(r.code == 0);
  // Not a terminal: no carriage-return redraws, one line per update.
  CHECK(r.out.find('\r') == std::string::npos);
  CHECK(std::regex_search(r.out, std::regex("\nsimulation: [0-9]+% after [0-9]+ s, ETA [0-9]")));
  CHECK(r.out.find("Writing the results to " + db) != std::string::npos);

  jevons::store::Store st(db);
  const auto rows = st.query("SELECT started_at_utc, wall_time_ms FROM runs");
  REQUIRE(rows.size() == 1);
  // The record covers the simulation, not only the database write: at least half of what the
  // whole process took from outside (start-up and catalog loading are the rest).
  const double recorded_ms = std::stod(rows[0][1]);
  CHECK(recorded_ms >= 0.5 * wall_ms);
  std::tm tm{};
  REQUIRE(strptime(rows[0][0].c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  CHECK(timegm(&tm) <= before + 1);
}

TEST_CASE("notes about changed inputs land in run_notes", "[cli][newcomer][notes]") {
  const std::string trace = write("unsorted.csv",
                                  "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                  "2023-11-16 18:15:46.0,374,44\n"
                                  "2023-11-16 18:15:50.0,396,109\n"
                                  "2023-11-16 18:15:48.0,396,109\n"
                                  "2023-11-16 18:25:48.0,396,109\n");
  const std::string db = (temp_dir() / "notes.sqlite").string();
  fs::remove(db);
  const auto r = run("run " + write("notes.yaml", trace_scenario(trace)) + " --db " + db);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Note: the trace was not in time order") != std::string::npos);
  jevons::store::Store st(db);
  const auto notes = st.query("SELECT note FROM run_notes ORDER BY note_index");
  REQUIRE(notes.size() == 2);
  CHECK(notes[0][0].find("not in time order") != std::string::npos);
  CHECK(notes[1][0].find("the trace holds 4 requests over 602.0 s; duration_s 60 replays the "
                         "first 3") != std::string::npos);
}

TEST_CASE("scenarios/README.md names every bundled scenario", "[cli][newcomer][docs]") {
  const std::string readme = slurp(kRoot / "scenarios/README.md");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kRoot / "scenarios")) {
    const std::string name = e.path().filename().string();
    if (name == "README.md") continue;
    ++files;
    INFO(name);
    CHECK(readme.find("`" + name + "`") != std::string::npos);
  }
  CHECK(files > 0);
  // And the README names no scenario that is gone (planner-tq35.yaml was removed once and
  // lingered there).
  static const std::regex named("`([A-Za-z0-9_.-]+\\.yaml)`");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), named);
       it != std::sregex_iterator(); ++it) {
    INFO((*it)[1].str());
    CHECK(fs::exists(kRoot / "scenarios" / (*it)[1].str()));
  }
}

TEST_CASE("cli/README.md names every subcommand", "[cli][newcomer][docs]") {
  // The subcommands as the executable lists them in --help, so a new one is caught.
  const auto help = run("--help");
  REQUIRE(help.code == 0);
  const auto at = help.out.find("Subcommands:");
  REQUIRE(at != std::string::npos);
  std::set<std::string> subs;
  std::istringstream in(help.out.substr(at));
  std::string line;
  std::getline(in, line);
  const std::regex entry("^  ([a-z][a-z-]*)\\s");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, entry)) subs.insert(m[1]);
  }
  CHECK(subs.size() >= 7);
  const std::string readme = slurp(kRoot / "cli/README.md");
  const std::string top = slurp(kRoot / "README.md");
  for (const auto& s : subs) {
    INFO(s);
    CHECK(readme.find("jevons " + s) != std::string::npos);
    CHECK(top.find("jevons " + s) != std::string::npos);
  }
}
