// Replaying the real Azure conversation trace reproduces its request count and token sums.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "jevons/core/error.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {
const std::string kAzure = std::string(JEVONS_TEST_DATA_DIR) + "/traces/azure_llm_2023_conv.csv";

// Independent count of the CSV: rows and token sums, with nothing shared with the reader.
void count_csv(const std::string& path, std::uint64_t& rows, std::uint64_t& in,
               std::uint64_t& out) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  rows = in = out = 0;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    const auto a = line.find(','), b = line.find(',', a + 1);
    in += std::stoull(line.substr(a + 1, b - a - 1));
    out += std::stoull(line.substr(b + 1));
    ++rows;
  }
}
}  // namespace

TEST_CASE("Azure conversation trace: counts and token sums survive replay", "[simulate][trace]") {
  std::ifstream probe(kAzure);
  if (!probe) {
    WARN("shared trace not found at " << kAzure << "; skipping");
    return;
  }
  std::uint64_t rows, in, out;
  count_csv(kAzure, rows, in, out);
  CHECK(rows == 19366);
  const std::string pools = R"(
pools:
  - {name: h100, gpu: h100-sxm, model: llama-3.1-8b, gpus: 8}
)";
  const auto r =
      run_sim("  duration_s: 3600\n  workload: {trace: {path: " + kAzure + "}}\n", pools);
  CHECK(r.requests_arrived == rows);
  CHECK(r.input_tokens_arrived == in);
  CHECK(r.output_tokens_arrived == out);
  CHECK(r.requests_finished == rows);
  std::uint64_t gin = 0, gout = 0;
  for (const auto& g : r.groups) gin += g.input_tokens, gout += g.output_tokens;
  CHECK(gin == in);
  CHECK(gout == out);
  CHECK(r.trace_lines_skipped == 0);
}

TEST_CASE("trace fixtures replay exactly, Mooncake with prefix hits", "[simulate][trace]") {
  const auto r = run_sim(
      "  duration_s: 60\n  prefix_cache: {enabled: true}\n"
      "  workload: {trace: {path: mooncake_small.jsonl, format: mooncake}}\n");
  CHECK(r.requests_arrived == 4);
  CHECK(r.requests_finished == 4);
  CHECK(r.input_tokens_arrived == 1500 + 1100 + 600 + 2048);
  REQUIRE(r.groups.size() == 1);
  // Only full 512-token blocks are cached. Request 1 caches hashes 0 and 1; requests 2, 3 and 4
  // then hit 2, 1 (600 tokens hold one full block) and 2 blocks (hash 2 was never full).
  CHECK(r.groups[0].prefix_hit_tokens_gpu == (2 + 1 + 2) * 512);
  const auto skip = run_sim(
      "  duration_s: 60\n  workload: {trace: {path: azure_malformed.csv, malformed: skip}}\n");
  CHECK(skip.requests_arrived == 2);
  CHECK(skip.trace_lines_skipped == 3);
  CHECK_THROWS_AS(run_sim("  duration_s: 60\n  workload: {trace: {path: azure_malformed.csv}}\n"),
                  InputError);
}
