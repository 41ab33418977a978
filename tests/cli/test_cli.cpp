// The CLI end to end: exit codes, messages, and what lands in the database.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "jevons/store/store.h"

namespace {

struct Result {
  int code = -1;
  std::string out;  ///< stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string(JEVONS_EXE) + " " + args + " 2>&1";
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

std::string temp_path(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("jevons-cli-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove(p);
  return p.string();
}

const std::string kScenarios = JEVONS_TEST_SCENARIO_DIR;

}  // namespace

TEST_CASE("--version and --help", "[cli]") {
  auto r = run("--version");
  CHECK(r.code == 0);
  CHECK(r.out.find("jevons 0.") != std::string::npos);
  r = run("--help");
  CHECK(r.code == 0);
  for (const char* sub : {"run", "validate", "catalog", "profile"})
    CHECK(r.out.find(sub) != std::string::npos);
  r = run("");
  CHECK(r.code == 2);
  r = run("frobnicate");
  CHECK(r.code == 2);
}

TEST_CASE("run the default scenario: summary on screen, results in the database", "[cli]") {
  const auto db = temp_path("default.sqlite");
  auto r = run("run " + kScenarios + "/default.yaml --db " + db);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("analytical roofline estimate") != std::string::npos);
  CHECK(r.out.find("Pool b200-llama70b") != std::string::npos);
  CHECK(r.out.find("tq-3.5") != std::string::npos);

  jevons::store::Store s(db);
  const auto runs = s.query("SELECT kind, scenario_name, seed FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0][0] == "projection");  // the default scenario also projects its planner section
  CHECK(runs[0][1] == "default");
  // The B200 × Llama-3.1-70B question: 32k sequences per format, more for every compression step.
  const auto rows = s.query(
      "SELECT kv_format, kv_capacity_sequences FROM capacity_estimates WHERE pool='b200-llama70b' "
      "AND context_tokens=32768 ORDER BY kv_capacity_sequences");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0][0] == "bf16");
  CHECK(rows[1][0] == "fp8");
  CHECK(rows[2][0] == "tq-3.5");
  CHECK(rows[3][0] == "tq-2.5");
  // Every pool × format × context has a row.
  CHECK(s.query("SELECT count(*) FROM capacity_estimates")[0][0] == "60");

  // Same scenario, same seed: identical result rows (run_id aside).
  r = run("run " + kScenarios + "/default.yaml --db " + db);
  REQUIRE(r.code == 0);
  const std::string cols =
      "pool, kv_format, context_tokens, kv_bytes_per_token, kv_capacity_sequences, "
      "decode_step_time_ns, decode_tokens_per_s_per_gpu";
  const auto first =
      s.query("SELECT " + cols + " FROM capacity_estimates WHERE run_id=1 ORDER BY 1,2,3");
  const auto second =
      s.query("SELECT " + cols + " FROM capacity_estimates WHERE run_id=2 ORDER BY 1,2,3");
  CHECK(first == second);
  CHECK(s.query("SELECT count(DISTINCT scenario_sha256) FROM runs")[0][0] == "1");
}

TEST_CASE("bad scenarios exit 2 with the location, and never touch the database", "[cli]") {
  const auto db = temp_path("keep.sqlite");
  REQUIRE(run("run " + kScenarios + "/legacy-fleet.yaml --db " + db).code == 0);
  const auto bad = temp_path("bad.yaml");
  std::ofstream(bad)
      << "name: bad\nkv_formats: [bf16]\npools:\n  - name: p\n    gpu: h100-sxm\n"
         "    model: llama-3.1-405b\n    gpus: 1\nworkload: {context_tokens: [1024]}\n";
  for (const std::string& cmd : {"validate " + bad, "run " + bad + " --db " + db}) {
    const auto r = run(cmd);
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find(bad + ":4:5: key 'pools[0]'") != std::string::npos);
    CHECK(r.out.find("does not fit") != std::string::npos);
  }
  jevons::store::Store s(db);
  CHECK(s.query("SELECT count(*) FROM runs")[0][0] == "1");
  const auto missing = run("validate /nonexistent/x.yaml");
  CHECK(missing.code == 2);
  CHECK(missing.out.find("/nonexistent/x.yaml: cannot open") != std::string::npos);
}

TEST_CASE("validate accepts every bundled scenario", "[cli]") {
  for (const auto& e : std::filesystem::directory_iterator(kScenarios)) {
    if (e.path().extension() != ".yaml") continue;
    const auto r = run("validate " + e.path().string());
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find(": ok") != std::string::npos);
  }
}

TEST_CASE("catalog listings", "[cli]") {
  auto r = run("catalog gpus");
  CHECK(r.code == 0);
  CHECK(r.out.find("rubin-ultra") != std::string::npos);
  CHECK(r.out.find("(projection)") != std::string::npos);
  r = run("catalog models");
  CHECK(r.code == 0);
  CHECK(r.out.find("327,680") != std::string::npos);  // Llama-3.1-70B bf16 bytes/token
  r = run("catalog formats --model llama-3.1-70b");
  CHECK(r.code == 0);
  CHECK(r.out.find("71,680") != std::string::npos);  // tq-3.5: 80 layers × 8 heads × 112 B
  r = run("catalog formats --model nosuch");
  CHECK(r.code == 2);
  CHECK(r.out.find("unknown model") != std::string::npos);
  r = run("catalog widgets");
  CHECK(r.code == 2);
}

TEST_CASE("an unwritable database is an error, after the summary", "[cli]") {
  const auto r = run("run " + kScenarios + "/default.yaml --db /nonexistent-dir/x.sqlite");
  CHECK(r.code == 3);
  CHECK(r.out.find("cannot open database '/nonexistent-dir/x.sqlite'") != std::string::npos);
}
