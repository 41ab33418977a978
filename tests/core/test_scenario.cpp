// Scenario loading: the bundled files are valid, and every kind of bad input gets a message that
// names the file, line, key, value and what was expected.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "catalog_fixture.h"
#include "jevons/core/error.h"
#include "jevons/core/scenario.h"

using namespace jevons;

namespace {

const std::string kValid = R"(name: t
seed: 3
kv_formats: [bf16, tq-3.5]
pools:
  - name: p
    gpu: h100-sxm
    model: llama-3.1-8b
    gpus: 8
    tensor_parallel: 2
workload:
  context_tokens: [4096]
)";

/// Parses `text`, expecting failure; returns the diagnostics.
std::vector<Diagnostic> errors_of(const std::string& text) {
  try {
    Scenario::parse(text, "test.yaml", test_catalog());
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  FAIL("expected an InputError for:\n" << text);
  return {};
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("bundled scenarios are valid", "[scenario]") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(JEVONS_TEST_SCENARIO_DIR)) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path());
    const Scenario s = Scenario::load(e.path().string(), test_catalog());
    CHECK_FALSE(s.name.empty());
    CHECK((!s.pools.empty() || s.planner.has_value()));
    ++n;
  }
  CHECK(n >= 3);
}

TEST_CASE("a valid scenario reads every field", "[scenario]") {
  const Scenario s = Scenario::parse(kValid, "t.yaml", test_catalog());
  CHECK(s.name == "t");
  CHECK(s.seed == 3);
  REQUIRE(s.pools.size() == 1);
  CHECK(s.pools[0].replicas() == 4);
  CHECK(s.pools[0].kv_formats.size() == 2);  // inherited from the top level
  CHECK(s.pools[0].line == 5);
  CHECK(s.workload.context_tokens == std::vector<std::uint64_t>{4096});
  CHECK(s.text == kValid);
  CHECK_FALSE(s.simulation.has_value());
}

TEST_CASE("unknown keys get a did-you-mean", "[scenario]") {
  const auto d = errors_of(replace(kValid, "tensor_parallel: 2", "tensor_paralel: 2"));
  REQUIRE(d.size() == 1);
  CHECK(d[0].key == "pools[0].tensor_paralel");
  CHECK(d[0].line == 9);
  CHECK(d[0].column == 5);
  CHECK(d[0].hint == "did you mean 'tensor_parallel'?");
  CHECK(d[0].format().rfind("test.yaml:9:5: key 'pools[0].tensor_paralel'", 0) == 0);
}

TEST_CASE("bad numbers are rejected with the value and the expectation", "[scenario]") {
  struct Case {
    std::string value;
    std::string expect;
  };
  for (const auto& c : std::vector<Case>{{"-8", "expected a finite number in (0, 100000000]"},
                                         {"0", "(0, 100000000]"},
                                         {".nan", "finite number"},
                                         {"nan", "finite number"},
                                         {".inf", "finite number"},
                                         {"1e300", "(0, 100000000]"},
                                         {"eight", "finite number"},
                                         {"8.5", "whole number"}}) {
    INFO(c.value);
    const auto d = errors_of(replace(kValid, "gpus: 8", "gpus: " + c.value));
    REQUIRE_FALSE(d.empty());
    CHECK(d[0].key == "pools[0].gpus");
    CHECK(d[0].value == c.value);
    CHECK(d[0].line == 8);
    CHECK(d[0].message.find(c.expect) != std::string::npos);
  }
  const auto u = errors_of(kValid + "analytical: {bandwidth_efficiency: 1.5}\n");
  CHECK(u[0].key == "analytical.bandwidth_efficiency");
  CHECK(u[0].message.find("(0, 1]") != std::string::npos);
}

TEST_CASE("unknown catalog ids and formats get suggestions", "[scenario]") {
  auto d = errors_of(replace(kValid, "gpu: h100-sxm", "gpu: h100"));
  CHECK(d[0].key == "pools[0].gpu");
  CHECK(d[0].value == "h100");
  // A prefix of an id beats a one-letter edit to another id.
  CHECK(d[0].hint == "did you mean 'h100-sxm'?");
  d = errors_of(replace(kValid, "model: llama-3.1-8b", "model: llama-3.1-8B"));
  CHECK(d[0].hint == "did you mean 'llama-3.1-8b'?");
  d = errors_of(replace(kValid, "[bf16, tq-3.5]", "[bf16, tq-35]"));
  CHECK(d[0].key == "kv_formats[1]");
  CHECK(d[0].hint == "did you mean 'tq-3.5'?");
}

TEST_CASE("a model that does not fit says by how many bytes", "[scenario]") {
  const auto d = errors_of(replace(replace(kValid, "model: llama-3.1-8b", "model: llama-3.1-405b"),
                                   "tensor_parallel: 2", "tensor_parallel: 1"));
  REQUIRE(d.size() == 1);
  CHECK(d[0].key == "pools[0]");
  CHECK(d[0].message.find("does not fit") != std::string::npos);
  CHECK(d[0].message.find("short by") != std::string::npos);
  CHECK(d[0].message.find("bytes per GPU") != std::string::npos);
}

TEST_CASE("structural mistakes are named", "[scenario]") {
  // Context longer than the model supports.
  auto d = errors_of(replace(kValid, "[4096]", "[200000]"));
  CHECK(d[0].key == "workload.context_tokens[0]");
  CHECK(d[0].message.find("maximum context of 131072") != std::string::npos);
  // GPUs not a multiple of TP; TP not dividing heads.
  d = errors_of(replace(kValid, "gpus: 8", "gpus: 7"));
  CHECK(d[0].message.find("multiple of tensor_parallel") != std::string::npos);
  d = errors_of(
      replace(replace(kValid, "tensor_parallel: 2", "tensor_parallel: 3"), "gpus: 8", "gpus: 9"));
  CHECK(d[0].key == "pools[0].tensor_parallel");
  // Missing required keys, wrong types, empty lists.
  d = errors_of(replace(kValid, "name: t\n", ""));
  CHECK(d[0].key == "name");
  CHECK(d[0].message == "required key is missing");
  d = errors_of(replace(kValid, "[4096]", "[]"));
  CHECK(d[0].key == "workload.context_tokens");
  d = errors_of(replace(kValid, "seed: 3", "seed: [3]"));
  CHECK(d[0].key == "seed");
  // Horizon quarter syntax.
  d = errors_of(kValid + "horizon: {start: 2026-Q1}\n");
  CHECK(d[0].message.find("YYYYQn") != std::string::npos);
  // Every problem in one pass.
  d = errors_of(replace(replace(kValid, "gpus: 8", "gpus: -1"), "seed: 3", "seed: -3"));
  CHECK(d.size() == 2);
}

TEST_CASE("empty, missing, unparsable and unreadable files", "[scenario]") {
  auto d = errors_of("");
  CHECK(d[0].message.find("empty") != std::string::npos);
  d = errors_of("name: [unclosed\n");
  CHECK(d[0].message.find("YAML syntax error") != std::string::npos);
  CHECK(d[0].line >= 1);
  d = errors_of("- just\n- a list\n");
  CHECK(d[0].message.find("mapping") != std::string::npos);
  try {
    Scenario::load("/nonexistent/jevons.yaml", test_catalog());
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.diagnostics()[0].file == "/nonexistent/jevons.yaml");
    CHECK(std::string(e.what()).find("cannot open") != std::string::npos);
  }
  CHECK_THROWS_AS(Scenario::load(JEVONS_TEST_SCENARIO_DIR, test_catalog()), InputError);
}
