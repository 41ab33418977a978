// Issue 15: what a newcomer tripped over on real traces and bad inputs. Each case failed before
// its fix: bounded lines and fields, binary bytes in messages, empty traces, a trace error
// pointing back at the scenario, prefix hash 0, requests over the model's context, latencies of
// groups that finished nothing, and the notes a run leaves when it changes its inputs.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "jevons/core/error.h"
#include "jevons/store/simulation_writer.h"
#include "jevons/store/store.h"
#include "sim_fixture.h"
#include "workload/trace.h"

using namespace jevons;
using namespace jevons::sim;

namespace {

namespace fs = std::filesystem;

// A file in a per-process temporary folder, holding `text`.
std::string temp_file(const std::string& name, const std::string& text) {
  const fs::path dir =
      fs::temp_directory_path() / ("jevons-newcomer-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError");
  return "";
}

const std::string kAzureHead = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
const std::string kAzureRow = "2023-11-16 18:15:46.6805900,374,44\n";

}  // namespace

TEST_CASE("every reader bounds its fields and says so, quoting only the start",
          "[trace][bad-input][limits]") {
  const std::string digits(100000, '7');
  const std::string azure = kAzureHead + kAzureRow + "2023-11-16 18:15:47.0," + digits + ",5\n";
  const std::string csv = "time_s,input_tokens,output_tokens\n0,1,1\n1," + digits + ",5\n";
  for (const auto& [text, format] :
       {std::pair{azure, TraceFormat::kAzure}, std::pair{csv, TraceFormat::kCsv}}) {
    const std::string m = error_of(
        [&, t = text, f = format] { parse_trace(t, "t.csv", f, MalformedPolicy::kError); });
    CHECK(m.find("t.csv:3") != std::string::npos);
    CHECK(m.find("a field of 100000 bytes; fields are limited to 256 bytes") != std::string::npos);
    CHECK(m.size() < 600);  // the field is quoted, not printed whole
  }
  // Skipped and counted under `malformed: skip`, like any malformed line.
  const Trace t = parse_trace(azure, "t.csv", TraceFormat::kAzure, MalformedPolicy::kSkip);
  CHECK(t.rows.size() == 1);
  CHECK(t.skipped_lines == 1);
}

TEST_CASE("every reader bounds its lines, from text and from a file without newlines",
          "[trace][bad-input][limits]") {
  const std::string huge(3u << 20, '9');  // 3 MiB, no newline: a corrupt or binary file
  for (const auto format : {TraceFormat::kAzure, TraceFormat::kMooncake, TraceFormat::kCsv}) {
    INFO(static_cast<int>(format));
    const std::string header = format == TraceFormat::kCsv ? "time_s,input_tokens,output_tokens\n"
                               : format == TraceFormat::kAzure ? kAzureHead
                                                               : "";
    const std::string path = temp_file("huge.trace", header + huge);
    const std::string m = error_of([&] { read_trace(path, format, MalformedPolicy::kError); });
    CHECK(m.find("a line of 3145728 bytes; lines are limited to 1048576 bytes") !=
          std::string::npos);
    CHECK(m.size() < 600);
    const std::string m2 =
        error_of([&] { parse_trace(header + huge, "t", format, MalformedPolicy::kError); });
    CHECK(m2.find("lines are limited to 1048576 bytes") != std::string::npos);
  }
  // A long line in the middle is skipped under `malformed: skip` and the rest is read.
  const std::string path =
      temp_file("mid.csv", kAzureHead + kAzureRow + huge + "\n" + kAzureRow + kAzureRow);
  const Trace t = read_trace(path, TraceFormat::kAzure, MalformedPolicy::kSkip);
  CHECK(t.rows.size() == 3);
  CHECK(t.skipped_lines == 1);
  CHECK(t.first_skipped_line == 3);
}

TEST_CASE("NUL and binary bytes are escaped in messages, never sent raw", "[trace][bad-input]") {
  const std::string nul = kAzureHead + std::string(
                                           "2023-11-16 18:15:46.0,12\0"
                                           "34,5\n",
                                           30);
  const std::string m1 =
      error_of([&] { parse_trace(nul, "t.csv", TraceFormat::kAzure, MalformedPolicy::kError); });
  INFO(m1);
  CHECK(m1.find('\0') == std::string::npos);
  CHECK(m1.find("12\\x0034") != std::string::npos);
  CHECK(m1.find("expected a positive integer") != std::string::npos);  // after the NUL: not cut

  const std::string bin = kAzureHead + "2023-11-16 18:15:46.0,\x1b[2J\xff\xfe,5\n";
  const std::string m2 =
      error_of([&] { parse_trace(bin, "t.csv", TraceFormat::kAzure, MalformedPolicy::kError); });
  CHECK(m2.find('\x1b') == std::string::npos);
  CHECK(m2.find("\\x1b[2J\\xff\\xfe") != std::string::npos);

  CHECK(printable("H100 × 8 — ok") == "H100 × 8 — ok");  // valid UTF-8 passes
  CHECK(printable(std::string(300, 'a'), 10) == "aaaaaaaaaa… (300 bytes in all)");
  CHECK(printable("\xe2\x82") == "\\xe2\\x82");  // a truncated sequence is escaped
}

TEST_CASE("an empty, blank or header-only trace is refused by the run, at the scenario's line",
          "[trace][simulate][edge]") {
  for (const std::string text : {std::string(), std::string("\n\n"), kAzureHead}) {
    const std::string path = temp_file("empty.csv", text);
    const Scenario s =
        sim_scenario("  duration_s: 60\n  workload:\n    trace:\n      path: " + path + "\n");
    const std::string m = error_of([&] { simulate(s, sim_catalog(), std::nullopt); });
    CHECK(m.find(path + ": the trace has no requests") != std::string::npos);
    CHECK(m.find("scenario.yaml:12: key 'simulation.workload.trace.path'") != std::string::npos);
  }
}

TEST_CASE("a missing trace is reported at the scenario's path: line, with the resolved path",
          "[trace][simulate][bad-input]") {
  const Scenario s =
      sim_scenario("  duration_s: 60\n  workload:\n    trace:\n      path: no-such-trace.csv\n");
  const std::string m = error_of([&] { check_simulation_traces(s); });
  CHECK(m.find("scenario.yaml:12: key 'simulation.workload.trace.path' = 'no-such-trace.csv'") !=
        std::string::npos);
  CHECK(m.find(std::string(JEVONS_SIM_FIXTURE_DIR) + "/no-such-trace.csv") != std::string::npos);
  // lengths_from_trace too.
  const Scenario c = sim_scenario(
      "  duration_s: 60\n  workload:\n    classes:\n      - name: a\n        arrival: "
      "{rate_per_s: 1}\n        lengths_from_trace: {path: gone.csv}\n");
  const std::string mc = error_of([&] { check_simulation_traces(c); });
  CHECK(mc.find("simulation.workload.classes[0].lengths_from_trace.path") != std::string::npos);
  CHECK(mc.find("no trace file at") != std::string::npos);
  // A readable trace is summarised.
  const std::string ok = temp_file("ok.csv", kAzureHead + kAzureRow + kAzureRow);
  const auto sums = check_simulation_traces(
      sim_scenario("  duration_s: 60\n  workload:\n    trace:\n      path: " + ok + "\n"));
  REQUIRE(sums.size() == 1);
  CHECK(sums[0].requests == 2);
}

TEST_CASE("prefix affinity routes on hash id 0 like on any other hash", "[routing][prefix]") {
  // Mooncake numbers blocks from 0 and most prompts start with block 0. Every request here
  // shares block 0: affinity keeps them on one home replica (until it is 16 requests busier than
  // the least loaded), where least-outstanding spreads them over the four.
  std::ostringstream trace;
  for (int i = 0; i < 400; ++i) {
    trace << "{\"timestamp\": " << i * 50 << ", \"input_length\": 1024, \"output_length\": 64, "
          << "\"hash_ids\": [0, " << 1000 + i << "]}\n";
  }
  const std::string path = temp_file("mooncake.jsonl", trace.str());
  const std::string pools = R"(
pools:
  - {name: h100, gpu: h100-sxm, model: llama-3.1-8b, gpus: 4, tensor_parallel: 1}
)";
  auto busiest_share = [&](const std::string& router) {
    const auto r =
        run_sim("  duration_s: 30\n  router: " + router +
                    "\n  prefix_cache: {enabled: true}\n"
                    "  metrics: {per_request: all}\n  workload:\n    trace:\n      path: " +
                    path + "\n      format: mooncake\n",
                pools);
    std::map<std::uint32_t, int> per_replica;
    for (const auto& row : r.requests) ++per_replica[row.replica];
    int most = 0;
    for (const auto& [replica, n] : per_replica) most = std::max(most, n);
    REQUIRE(!r.requests.empty());
    return static_cast<double>(most) / static_cast<double>(r.requests.size());
  };
  const double affinity = busiest_share("prefix-affinity");
  const double spread = busiest_share("least-outstanding");
  INFO("affinity " << affinity << ", least-outstanding " << spread);
  CHECK(affinity > 0.6);
  CHECK(spread < 0.5);
}

TEST_CASE("requests longer than the model's context are rejected or truncated, and counted",
          "[simulate][context]") {
  // Llama-3.1-8B: max_context_tokens 131,072. One 200k-token prompt among short ones.
  const std::string path =
      temp_file("long.csv",
                "time_s,input_tokens,output_tokens\n0,1000,10\n1,200000,10\n2,1000,10\n"
                "3,131000,100\n");
  const std::string base =
      "  duration_s: 60\n  workload:\n    trace:\n      path: " + path + "\n      format: csv\n";
  const auto rejected = run_sim(base);
  CHECK(rejected.requests_over_context == 2);
  CHECK(rejected.requests_truncated == 0);
  CHECK(rejected.requests_rejected == 2);
  CHECK(rejected.requests_finished == 2);
  REQUIRE(!rejected.notes.empty());
  CHECK(rejected.notes.back().find("2 requests were longer than their model's maximum context") !=
        std::string::npos);

  const auto truncated = run_sim(base + "  over_context: truncate\n");
  CHECK(truncated.requests_over_context == 2);
  CHECK(truncated.requests_truncated == 2);
  CHECK(truncated.requests_rejected == 0);
  CHECK(truncated.requests_finished == 4);
  // The truncated prompts were simulated at the model's limit, not at their recorded length.
  CHECK(truncated.input_tokens_arrived == 1000 + 200000 + 1000 + 131000);
  std::ostringstream out;
  print_summary(out, truncated);
  CHECK(out.str().find("2 over the model's context, 2 truncated") != std::string::npos);
}

TEST_CASE("a group that finished nothing reports no latency: '-' on screen, NULL in the database",
          "[simulate][store]") {
  const auto r = run_sim(R"(
  duration_s: 10
  workload:
    classes:
      - name: huge
        arrival: {rate_per_s: 2}
        input_tokens: 2000000
        output_tokens: 10
      - name: small
        arrival: {rate_per_s: 2}
        input_tokens: 100
        output_tokens: 10
)");
  const GroupMetrics* huge = nullptr;
  for (const auto& g : r.groups)
    if (g.class_name == "huge") huge = &g;
  REQUIRE(huge != nullptr);
  CHECK(huge->finished == 0);
  CHECK(huge->ttft.count == 0);
  std::ostringstream out;
  print_summary(out, r);
  std::string line;
  for (std::istringstream in(out.str()); std::getline(in, line);)
    if (line.rfind("huge", 0) == 0) break;
  INFO(line);
  CHECK(line.find("0ms") == std::string::npos);
  CHECK(line.find(" - ") != std::string::npos);

  store::Store st(":memory:");
  store::RunInfo info;
  info.kind = "simulation";
  const auto id =
      st.write_run(info, [&](std::int64_t run) { store::write_simulation(st, run, r); });
  const auto rows = st.query(
      "SELECT class, ttft_p50_ns IS NULL, e2e_p99_ns IS NULL, tpot_mean_ns IS NULL FROM sim_groups "
      "WHERE run_id = " +
      std::to_string(id) + " ORDER BY class");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"huge", "1", "1", "1"});
  CHECK(rows[1] == std::vector<std::string>{"small", "0", "0", "0"});
}

TEST_CASE("a run notes every input or setting it changed", "[simulate][notes]") {
  // Out of time order, and longer than duration_s.
  const std::string path = temp_file(
      "unsorted.csv", "time_s,input_tokens,output_tokens\n0,100,5\n5,100,5\n2,100,5\n100,100,5\n");
  const auto r = run_sim("  duration_s: 60\n  workload:\n    trace:\n      path: " + path +
                         "\n      format: csv\n");
  auto has = [&r](const std::string& text) {
    for (const auto& n : r.notes)
      if (n.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(has("the trace was not in time order (request 3 arrives before the one above it)"));
  CHECK(has("the trace holds 4 requests over 100.0 s; duration_s 60 replays the first 3"));
  std::ostringstream out;
  print_summary(out, r);
  CHECK(out.str().find("Note: the trace was not in time order") != std::string::npos);

  // An overloaded run whose drain is cut short says how many requests it left unfinished.
  const auto cut = run_sim(
      "  duration_s: 10\n  max_drain_s: 1\n"
      "  workload: {classes: [{name: c, arrival: {rate_per_s: 2000}, input_tokens: 4000}]}\n");
  REQUIRE(cut.requests_unfinished > 0);
  REQUIRE(!cut.notes.empty());
  CHECK(cut.notes.back() ==
        "the drain stopped at max_drain_s (1 s after the arrivals window) with " +
            std::to_string(cut.requests_unfinished) + " requests unfinished");

  // The H100's host DRAM per GPU caps the prefix cache's host tier.
  const auto capped = run_sim(
      "  duration_s: 5\n  prefix_cache: {enabled: true, host_tier_gib_per_gpu: 100000}\n"
      "  workload: {classes: [{name: c, arrival: {rate_per_s: 1}}]}\n");
  REQUIRE(capped.notes.size() == 1);
  CHECK(
      capped.notes[0].find("pool h100: prefix_cache.host_tier_gib_per_gpu 100000 GiB capped at") !=
      std::string::npos);
}
