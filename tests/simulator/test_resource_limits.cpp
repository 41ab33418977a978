// Resource limits: a simulation that needs more memory than the machine has is refused before
// it starts, with the estimate and what drives it, instead of being found by the OOM killer.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>

#include "jevons/core/error.h"
#include "sim_fixture.h"

using namespace jevons;

namespace {

std::string refusal(const Scenario& s) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    simulate(s, sim_catalog(), std::nullopt);
  } catch (const InputError& e) {
    // Refused up front: nothing was simulated.
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    return e.what();
  }
  FAIL("expected the simulation to be refused");
  return "";
}

}  // namespace

TEST_CASE("the memory estimate counts per-request rows, samples and replicas",
          "[simulate][limits]") {
  const auto small = estimate_simulation_memory(sim_scenario(
      "  duration_s: 600\n  workload: {classes: [{name: c, arrival: {rate_per_s: 10}}]}\n"));
  // An upper bound on the Poisson count: the mean plus a margin (5 % and 6 standard deviations).
  CHECK(small.expected_requests >= 6000);
  CHECK(small.expected_requests <= 6000 * 1.05 + 6 * 78 + 16);
  CHECK(small.bytes < 128.0 * 1024 * 1024);
  const auto rows = estimate_simulation_memory(sim_scenario(
      "  duration_s: 600\n  workload: {classes: [{name: c, arrival: {rate_per_s: 10}}]}\n"
      "  metrics: {per_request: all}\n"));
  // Rows live in a vector that may have doubled: twice the rows' size.
  CHECK(rows.bytes - small.bytes ==
        Approx(2 * small.expected_requests * sizeof(RequestRow)).epsilon(0.01));
  CHECK(available_memory_bytes() > 0);
}

TEST_CASE("per-request rows for billions of requests are refused with an estimate",
          "[simulate][limits]") {
  // 1e9 requests/s for 1e6 s with every request kept: ~1e15 rows, petabytes.
  const auto m =
      refusal(sim_scenario("  duration_s: 1000000\n"
                           "  workload: {classes: [{name: c, arrival: {rate_per_s: 1000000000}}]}\n"
                           "  metrics: {per_request: all}\n"));
  CHECK(m.find("simulation") != std::string::npos);
  CHECK(m.find("would need about") != std::string::npos);
  CHECK(m.find("per-request rows") != std::string::npos);
  CHECK(m.find("GiB available") != std::string::npos);
  CHECK(m.find("metrics.per_request") != std::string::npos);
}

TEST_CASE("a million-replica fleet under a huge arrival rate is refused with an estimate",
          "[simulate][limits]") {
  const std::string pools = R"(
pools:
  - {name: big, gpu: h100-sxm, model: llama-3.1-8b, gpus: 1000000, tensor_parallel: 1}
)";
  const auto m =
      refusal(sim_scenario("  duration_s: 3600\n"
                           "  workload: {classes: [{name: c, arrival: {rate_per_s: 1000000000}}]}\n"
                           "  metrics: {interval_s: 0.000001}\n",
                           pools));
  CHECK(m.find("1e+06 replicas") != std::string::npos);
  CHECK(m.find("requests in flight") != std::string::npos);
  CHECK(m.find("time-series samples") != std::string::npos);
}

TEST_CASE("the available-memory override refuses a run that would fit a bigger machine",
          "[simulate][limits]") {
  ::setenv("JEVONS_MEMORY_AVAILABLE_BYTES", "1000000", 1);  // 1 MB
  const auto m = refusal(sim_scenario(
      "  duration_s: 600\n  workload: {classes: [{name: c, arrival: {rate_per_s: 100}}]}\n"
      "  metrics: {per_request: all}\n"));
  ::unsetenv("JEVONS_MEMORY_AVAILABLE_BYTES");
  CHECK(m.find("0.0 GiB available") != std::string::npos);
}
