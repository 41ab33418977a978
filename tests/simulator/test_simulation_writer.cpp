// The store writes a simulation report inside the run's transaction, per-request rows included.
#include <catch2/catch.hpp>

#include "jevons/store/simulation_writer.h"
#include "jevons/store/store.h"
#include "sim_fixture.h"

using namespace jevons;

TEST_CASE("a simulation report round-trips through the store", "[store][simulate]") {
  const auto report = run_sim(R"(
  duration_s: 20
  workload: {classes: [{name: a, arrival: {rate_per_s: 20}, input_tokens: 200, output_tokens: 30}]}
  metrics: {interval_s: 2, per_request: all}
)");
  store::Store db(":memory:");
  store::RunInfo info;
  info.kind = "simulation";
  info.scenario_name = "sim-test";
  info.scenario_path = "scenario.yaml";
  info.scenario_text = "x";
  const auto id =
      db.write_run(info, [&](std::int64_t run) { store::write_simulation(db, run, report); });
  const auto runs =
      db.query("SELECT requests_arrived, requests_finished, fingerprint FROM sim_runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0][0] == std::to_string(report.requests_arrived));
  CHECK(runs[0][1] == std::to_string(report.requests_finished));
  const auto n = db.query("SELECT COUNT(*), SUM(output_tokens) FROM sim_requests WHERE run_id = " +
                          std::to_string(id));
  CHECK(n[0][0] == std::to_string(report.requests.size()));
  CHECK(db.query("SELECT COUNT(*) FROM sim_timeseries")[0][0] ==
        std::to_string(report.timeseries.size()));
  CHECK(db.query("SELECT COUNT(*) FROM sim_groups")[0][0] == std::to_string(report.groups.size()));
  CHECK(db.query("SELECT pool, role FROM sim_pools")[0] ==
        std::vector<std::string>{"h100", "mixed"});
}

TEST_CASE("a failing writer leaves no trace of the run", "[store][simulate]") {
  store::Store db(":memory:");
  store::RunInfo info;
  info.kind = "simulation";
  info.scenario_name = "x";
  info.scenario_path = "x";
  info.scenario_text = "x";
  SimulationReport r;
  r.class_names = {"a"};
  CHECK_THROWS(db.write_run(info, [&](std::int64_t run) {
    store::write_simulation(db, run, r);
    throw std::runtime_error("disk full");
  }));
  CHECK(db.query("SELECT COUNT(*) FROM sim_runs")[0][0] == "0");
  CHECK(db.query("SELECT COUNT(*) FROM runs")[0][0] == "0");
}
