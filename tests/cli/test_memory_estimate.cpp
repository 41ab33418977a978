// The pre-run memory estimate is an upper bound: for scenarios of several shapes (fleet size,
// per-request rows on and off, an overloaded fleet whose queues grow, a trace replay, a prefix
// cache) the peak resident memory of a real `jevons run` stays below what `jevons validate`
// estimates. And a run that would not fit is refused before it starts, with the estimate and
// what to change, leaving no result behind.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "jevons/store/store.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JEVONS_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define JEVONS_TEST_UNDER_ASAN 1
#endif

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("jevons-memory-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::string write(const std::string& name, const std::string& text) {
  const fs::path p = temp_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

// Runs `jevons args...` with its output in `log`; returns the exit status and the child's peak
// resident set (wait4's rusage is that child's alone).
struct Child {
  int code = -1;
  double max_rss_bytes = 0;
  std::string out;
};

Child spawn(const std::vector<std::string>& args, const std::string& env_kv = "") {
  const fs::path log = temp_dir() / "child.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f == nullptr) ::_exit(120);
    ::dup2(::fileno(stdout), 2);
    if (!env_kv.empty()) {
      const auto eq = env_kv.find('=');
      ::setenv(env_kv.substr(0, eq).c_str(), env_kv.substr(eq + 1).c_str(), 1);
    }
    std::vector<char*> argv;
    std::string exe = JEVONS_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  REQUIRE(::wait4(pid, &status, 0, &ru) == pid);
  Child c;
  c.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  c.max_rss_bytes = static_cast<double>(ru.ru_maxrss) * 1024;  // Linux: kilobytes
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  c.out = ss.str();
  return c;
}

double estimate_of(const std::string& scenario) {
  const Child v = spawn({"validate", scenario});
  INFO(v.out);
  REQUIRE(v.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(v.out, m,
                            std::regex("simulation memory: at most about [^(]*\\(([0-9]+) bytes")));
  return std::stod(m[1]);
}

std::string scenario(const std::string& name, const std::string& pools,
                     const std::string& simulation) {
  return write(name + ".yaml", "name: " + name + "\nseed: 3\nkv_formats: [bf16]\npools:\n" + pools +
                                   "workload: {context_tokens: [8192]}\nsimulation:\n" +
                                   simulation);
}

const std::string kOne =
    "  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1, tensor_parallel: 1}\n";

}  // namespace

TEST_CASE("the memory estimate bounds the measured peak RSS of real runs",
          "[cli][limits][memory]") {
  std::ostringstream trace;
  trace << "time_s,input_tokens,output_tokens\n";
  for (int i = 0; i < 20000; ++i) trace << i * 0.01 << "," << 200 + i % 500 << "," << 20 << "\n";
  const std::string trace_path = write("replay.csv", trace.str());

  struct Case {
    std::string name, pools, simulation;
  };
  const std::vector<Case> cases = {
      {"small", kOne,
       "  duration_s: 60\n  workload: {classes: [{name: c, arrival: {rate_per_s: 5}}]}\n"},
      // A large fleet, barely loaded: the replicas dominate.
      {"fleet",
       "  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 60000, tensor_parallel: 1}\n",
       "  duration_s: 5\n  workload: {classes: [{name: c, arrival: {rate_per_s: 20}}]}\n"},
      // Every request kept as a row.
      {"rows", "  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 8, tensor_parallel: 1}\n",
       "  duration_s: 120\n  metrics: {per_request: all}\n"
       "  workload: {classes: [{name: c, arrival: {rate_per_s: 1500}, input_tokens: 100, "
       "output_tokens: 5}]}\n"},
      // Overloaded: one replica, far more arrivals than it serves; the queue takes them all.
      {"overload", kOne,
       "  duration_s: 60\n  drain: false\n"
       "  workload: {classes: [{name: c, arrival: {rate_per_s: 4000}, input_tokens: 4000, "
       "output_tokens: 400}]}\n"},
      // A trace replay, prefix cache on with a host tier.
      {"trace", "  - {name: p, gpu: h100-sxm, model: llama-3.1-8b, gpus: 4, tensor_parallel: 1}\n",
       "  duration_s: 200\n  prefix_cache: {enabled: true, host_tier_gib_per_gpu: 64}\n"
       "  workload: {trace: {path: " +
           trace_path + ", format: csv}}\n"},
  };
  for (const auto& c : cases) {
    const std::string path = scenario(c.name, c.pools, c.simulation);
    const double estimate = estimate_of(path);
    const Child run = spawn({"run", path, "--db", (temp_dir() / (c.name + ".sqlite")).string()});
    INFO(c.name << ": estimate " << estimate / 1048576 << " MiB, peak RSS "
                << run.max_rss_bytes / 1048576 << " MiB\n"
                << run.out.substr(0, 2000));
    REQUIRE(run.code == 0);
#ifdef JEVONS_TEST_UNDER_ASAN
    WARN(
        "AddressSanitizer build: shadow memory and quarantine inflate RSS, so the estimate (of "
        "the program's own memory) is not compared with it here; the Release build compares it");
#else
    CHECK(run.max_rss_bytes <= estimate);
    // And the bound is not absurd: within 64× of what was used (plus the fixed process term).
    CHECK(estimate <= 64 * run.max_rss_bytes + 256.0 * 1048576);
#endif
  }
}

TEST_CASE("a run that would not fit is refused before it starts, saying what to change",
          "[cli][limits][memory]") {
  const std::string path =
      scenario("big", kOne,
               "  duration_s: 3600\n  metrics: {per_request: all}\n"
               "  workload: {classes: [{name: c, arrival: {rate_per_s: 100000}}]}\n");
  const std::string db = (temp_dir() / "refused.sqlite").string();
  fs::remove(db);
  const Child run = spawn({"run", path, "--db", db}, "JEVONS_MEMORY_AVAILABLE_BYTES=1000000000");
  INFO(run.out);
  CHECK(run.code == 2);
  CHECK(run.out.find("would need about") != std::string::npos);
  CHECK(run.out.find("more than the 0.9 GiB available") != std::string::npos);
  CHECK(run.out.find("shorten duration_s") != std::string::npos);
  CHECK(run.out.find("per-request rows") != std::string::npos);
  CHECK(run.max_rss_bytes < 512.0 * 1048576);  // refused up front, not after growing
  // No run was stored.
  if (fs::exists(db))
    CHECK(jevons::store::Store(db).query("SELECT count(*) FROM runs")[0][0] == "0");
}
