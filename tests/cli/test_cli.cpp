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

/// One capacity cache for every run of the default scenario in this test process: the first run
/// searches (cold), later ones read it (warm), as a user's repeated runs would.
std::string default_cache() {
  static const std::string path =
      (std::filesystem::temp_directory_path() /
       ("jevons-cli-" + std::to_string(::getpid()) + "-default-cache.json"))
          .string();
  return path;
}

}  // namespace

TEST_CASE("the version and help flags", "[cli]") {
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

/// The default scenario's projection searches capacity on the simulator over 20 generations: about
/// a minute of CPU in Release, and 10–15 minutes under AddressSanitizer, where it would dominate
/// CI's sanitizer stage. Under the sanitizers this test takes the closed-form capacity instead;
/// the simulated search is checked there by the cold-search determinism test (test_determinism)
/// and the planner's own tests, and here in every Release run.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JEVONS_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define JEVONS_TEST_UNDER_ASAN 1
#endif
#ifdef JEVONS_TEST_UNDER_ASAN
const std::string kDefaultCapacity = " --analytical-capacity";
#else
const std::string kDefaultCapacity;
#endif

TEST_CASE("run the default scenario: summary on screen, results in the database", "[cli]") {
  const auto db = temp_path("default.sqlite");
  auto r = run("run " + kScenarios + "/default.yaml --db " + db + " --capacity-cache " +
               default_cache() + kDefaultCapacity);
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
  r = run("run " + kScenarios + "/default.yaml --db " + db + " --capacity-cache " +
          default_cache() + kDefaultCapacity);
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

TEST_CASE("calibrate checks the model against the measured H100 set", "[cli]") {
  auto r = run("calibrate " + kScenarios + "/../data/measured/h100 --summary");
  CHECK(r.code == 0);
  CHECK(r.out.find("2088 layers measured") != std::string::npos);
  CHECK(r.out.find("Held-out (1044 rows)") != std::string::npos);
  CHECK(r.out.find("Decode attention, 7 measurements") != std::string::npos);
  CHECK(r.out.find("8 GPUs (994)") != std::string::npos);
  r = run("calibrate " + kScenarios + "/../data/measured/h100 --summary --project-to " +
          kScenarios + "/../data/measured/a100");
  CHECK(r.code == 0);
  CHECK(r.out.find("Projected to a100-80gb (bf16) by catalog ratios") != std::string::npos);
  // A directory that is not a measured set: exit 2 naming the missing file.
  r = run("calibrate " + kScenarios);
  CHECK(r.code == 2);
  CHECK(r.out.find("sources.yaml") != std::string::npos);
}

TEST_CASE("an unwritable database is an error before any computation", "[cli]") {
  const auto r = run("run " + kScenarios + "/default.yaml --db /nonexistent-dir/x.sqlite");
  // The database is opened before the (long) computation, so the error comes at once.
  CHECK(r.out.find("Change against no compression") == std::string::npos);
  // A path that cannot be opened is bad input (exit 2, as the README says), not a bug.
  CHECK(r.code == 2);
  CHECK(r.out.find("cannot open database '/nonexistent-dir/x.sqlite'") != std::string::npos);
}

namespace {
const std::string kFixtures = JEVONS_TEST_FIXTURE_DIR;

double num(const std::string& s) {
  return std::stod(s);
}
}  // namespace

TEST_CASE("a planner scenario projects, decomposes and reports", "[cli][planner]") {
  const auto db = temp_path("planner.sqlite");
  const auto cache = temp_path("cache.json");
  auto r =
      run("run " + kFixtures + "/planner-small.yaml --db " + db + " --capacity-cache " + cache);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("efficiency + rebound = net") != std::string::npos);
  CHECK(r.out.find("break-even elasticity") != std::string::npos);
  // The served share and rationing price per year, one row per calendar year of the horizon.
  const auto served = r.out.find("Peak demand served without compression");
  REQUIRE(served != std::string::npos);
  CHECK(r.out.find("\n2026 ", served) != std::string::npos);
  CHECK(r.out.find("\n2027 ", served) != std::string::npos);
  jevons::store::Store s(db);
  CHECK(s.query("SELECT kind FROM runs")[0][0] == "projection");
  CHECK(s.query("SELECT count(*) FROM projection_quarters")[0][0] == "24");  // 3 variants × 8
  CHECK(s.query("SELECT count(DISTINCT gpu) FROM projection_generations")[0][0] == "2");
  CHECK(
      s.query(
          "SELECT count(*) FROM capacity_search WHERE method='simulated' AND rate_per_s > 0")[0]
                                                                                             [0] ==
      "8");
  // The stored decomposition matches the stored variants.
  for (const auto& row :
       s.query("SELECT d.efficiency_effect, d.rebound_effect, d.net, c.hbm_installed_bytes, "
               "e.hbm_installed_bytes, f.hbm_installed_bytes FROM memory_decomposition d "
               "JOIN projection_quarters c ON c.run_id=d.run_id AND "
               "c.quarter_index=d.quarter_index AND c.variant='counterfactual' "
               "JOIN projection_quarters e ON e.run_id=d.run_id AND "
               "e.quarter_index=d.quarter_index AND e.variant='efficiency' "
               "JOIN projection_quarters f ON f.run_id=d.run_id AND "
               "f.quarter_index=d.quarter_index AND f.variant='with-rebound' "
               "WHERE d.metric='hbm_installed_bytes'")) {
    CHECK(num(row[0]) == Approx(num(row[4]) - num(row[3])).margin(1e-6 * num(row[3])));
    CHECK(num(row[1]) == Approx(num(row[5]) - num(row[4])).margin(1e-6 * num(row[3])));
    CHECK(num(row[2]) == Approx(num(row[5]) - num(row[3])).margin(1e-6 * num(row[3])));
  }
  // A second run reads the capacity cache and gives identical results.
  r = run("run " + kFixtures + "/planner-small.yaml --db " + db + " --capacity-cache " + cache);
  REQUIRE(r.code == 0);
  const std::string q =
      "SELECT variant, quarter_index, gpus_installed, hbm_installed_bytes, hbm_kv_bytes, "
      "host_dram_bytes FROM (SELECT *, host_dram_baseline_bytes + host_dram_offload_bytes + "
      "host_dram_prefix_bytes AS host_dram_bytes FROM projection_quarters) WHERE run_id=";
  CHECK(s.query(q + "1 ORDER BY 1,2") == s.query(q + "2 ORDER BY 1,2"));
  CHECK(s.query("SELECT sum(probes) FROM capacity_search WHERE run_id=2")[0][0] == "0");

  const auto out = temp_path("report");
  r = run("report " + db + " --out " + out);
  INFO(r.out);
  REQUIRE(r.code == 0);
  for (const char* f :
       {"report.html", "report.md", "hbm-by-generation.svg", "host-dram.svg", "fleet.svg",
        "cost.svg", "decomposition.svg", "break-even.svg", "tornado.svg"})
    CHECK(std::filesystem::exists(std::filesystem::path(out) / f));
  std::ifstream html(std::filesystem::path(out) / "report.html");
  const std::string body{std::istreambuf_iterator<char>(html), {}};
  CHECK(body.find("<svg") != std::string::npos);
  CHECK(body.find("efficiency effect") != std::string::npos);
  // The answer comes first: the headline right under the title, before the intro.
  std::ifstream mdf(std::filesystem::path(out) / "report.md");
  std::string title, blank, first;
  std::getline(mdf, title);
  std::getline(mdf, blank);
  std::getline(mdf, first);
  CHECK(first.rfind("**Compression with its demand response, against none, in ", 0) == 0);
  CHECK(body.find("<p><strong>Compression with its demand response") < body.find("Three variants"));
  CHECK(run("report " + temp_path("nosuch.sqlite")).code == 2);
}

TEST_CASE("sweeps give identical rows on 1 or 2 threads and 1 or 2 MPI ranks", "[cli][sweep]") {
  const auto cache = temp_path("sweep-cache.json");
  std::vector<std::string> dbs;
  auto rows = [](const std::string& db) {
    jevons::store::Store s(db);
    return s.query(
        "SELECT q.point_index, p.parameters_json, p.scenario_sha256, q.variant, q.quarter_index, "
        "q.gpus_installed, q.hbm_installed_bytes, q.host_dram_bytes, q.cost_usd_per_mtok FROM "
        "sweep_quarters q JOIN sweep_points p USING (run_id, point_index) ORDER BY 1,4,5");
  };
  for (const char* threads : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("sweep-t") + threads + ".sqlite"));
    const auto r = run("sweep " + kFixtures + "/sweep-small.yaml --threads " + threads + " --db " +
                       dbs.back() + " --capacity-cache " + cache);
    INFO(r.out);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("Sweep over 4 point(s)") != std::string::npos);
  }
  CHECK(rows(dbs[0]).size() == 4u * 3u * 8u);
  CHECK(rows(dbs[0]) == rows(dbs[1]));
  // Under mpirun (root needs OpenMPI's explicit consent in containers).
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  for (const char* ranks : {"1", "2"}) {
    dbs.push_back(temp_path(std::string("sweep-r") + ranks + ".sqlite"));
    const std::string cmd = std::string("mpirun --oversubscribe -np ") + ranks + " " + JEVONS_EXE +
                            " sweep " + kFixtures + "/sweep-small.yaml --db " + dbs.back() +
                            " --capacity-cache " + cache + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int status = ::pclose(p);
    INFO(out);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(out.find(std::string("computed on ") + ranks + " MPI rank") != std::string::npos);
    CHECK(rows(dbs.back()) == rows(dbs[0]));
  }
}

TEST_CASE("a sweep grid with no points is refused", "[cli][sweep]") {
  const auto grid = temp_path("empty-grid.yaml");
  std::ofstream(grid) << "scenario: " << kFixtures << "/planner-small.yaml\nparameters:\n"
                      << "  - key: planner.compressed_format\n    values: []\n";
  const auto r = run("sweep " + grid + " --db " + temp_path("x.sqlite"));
  CHECK(r.code == 2);
  CHECK(r.out.find("no points") != std::string::npos);
}

TEST_CASE("rate-search finds a rate and prints every probe; no limit is a usage error",
          "[cli][rate-search]") {
  const std::string path = temp_path("md1.yaml");
  {
    std::ofstream f(path);
    f << "name: md1\nseed: 1\nkv_formats: [bf16]\nworkload: {context_tokens: [8192]}\n"
         "pools:\n  - {name: h100, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1}\n"
         "simulation:\n  duration_s: 200\n  warmup_s: 20\n  batching: {max_num_seqs: 1}\n"
         "  timing: {model: constant, constant_step_ms: 10}\n"
         "  workload:\n    classes:\n"
         "      - {name: q, arrival: {rate_per_s: 10}, input_tokens: 16, output_tokens: 1}\n"
         "  metrics: {interval_s: 1000}\n";
  }
  auto r = run("rate-search " + path + " --p99-ttft-ms 100 --bisections 4");
  CHECK(r.code == 0);
  CHECK(r.out.find("Highest rate meeting the limits:") != std::string::npos);
  CHECK(r.out.find("p99 TTFT") != std::string::npos);     // a failing probe says why
  CHECK(r.out.find("Simulation:") != std::string::npos);  // the summary at that rate
  r = run("rate-search " + path);
  CHECK(r.code == 2);
  CHECK(r.out.find("--p99-ttft-ms") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("report and CSV export of a simulation database", "[cli][report][sim]") {
  const auto db = temp_path("sim-report.sqlite");
  auto r = run("run " + kFixtures + "/crash-sim.yaml --max-duration-s 60 --db " + db);
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto out = temp_path("sim-report");
  const auto csv = temp_path("sim-csv");
  r = run("report " + db + " --out " + out + " --csv " + csv);
  INFO(r.out);
  REQUIRE(r.code == 0);
  for (const char* f : {"report.html", "report.md", "kv-occupancy.svg", "host-tier.svg"})
    CHECK(std::filesystem::exists(std::filesystem::path(out) / f));
  std::ifstream md(std::filesystem::path(out) / "report.md");
  const std::string body{std::istreambuf_iterator<char>(md), {}};
  for (const char* s : {"## Pools", "h100-8b", "TTFT p50/p90/p99", "## Per-request table"})
    CHECK(body.find(s) != std::string::npos);
  // One CSV per table with rows; its row count is the table's.
  jevons::store::Store s(db);
  for (const char* t : {"sim_groups", "sim_requests", "sim_pools", "runs"}) {
    std::ifstream f(std::filesystem::path(csv) / (std::string(t) + ".csv"));
    REQUIRE(f);
    std::size_t lines = 0;
    for (std::string line; std::getline(f, line);) lines += line.rfind("run_id", 0) != 0;
    if (std::string(t) != "runs")  // the runs row's scenario text spans lines
      CHECK(std::to_string(lines) ==
            s.query(std::string("SELECT count(*) FROM ") + t + " WHERE run_id=1")[0][0]);
  }
  // `jevons export` writes the same files; a run that does not exist is bad input.
  const auto csv2 = temp_path("sim-csv2");
  CHECK(run("export " + db + " --csv " + csv2).code == 0);
  CHECK(std::filesystem::exists(std::filesystem::path(csv2) / "sim_groups.csv"));
  CHECK(run("export " + db + " --run 7 --csv " + csv2).code == 2);
  CHECK(run("report " + db + " --run 7").code == 2);
}
