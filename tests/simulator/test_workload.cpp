// Workload: trace readers (Azure, Mooncake, plain CSV), malformed-line policies, synthetic
// arrivals (Poisson, Gamma cv, diurnal, spikes), length distributions, trace scaling.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "jevons/core/error.h"
#include "workload/source.h"
#include "workload/trace.h"

using namespace jevons;
using namespace jevons::sim;

namespace {
const std::string kDir = JEVONS_SIM_FIXTURE_DIR;
}

TEST_CASE("Azure CSV: times rebased to the first request, tokens summed", "[workload][trace]") {
  const Trace t =
      read_trace(kDir + "/azure_small.csv", TraceFormat::kAzure, MalformedPolicy::kError);
  REQUIRE(t.rows.size() == 5);
  CHECK(t.rows[0].arrival_ns == 0);
  // 18:15:50.9951690 − 18:15:46.6805900 = 4.314579 s
  CHECK(t.rows[1].arrival_ns == 4'314'579'000);
  CHECK(t.rows[4].arrival_ns == 15'319'410'000);
  CHECK(t.input_tokens == 374 + 396 + 879 + 91 + 1200);
  CHECK(t.output_tokens == 44 + 109 + 55 + 16 + 300);
}

TEST_CASE("malformed lines: an error naming the line, or skipped and counted",
          "[workload][trace]") {
  const std::string path = kDir + "/azure_malformed.csv";
  try {
    read_trace(path, TraceFormat::kAzure, MalformedPolicy::kError);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].line == 3);
    CHECK(e.diagnostics()[0].key == "ContextTokens");
    CHECK(e.diagnostics()[0].value == "abc");
    CHECK(std::string(e.what()).find("azure_malformed.csv:3") != std::string::npos);
  }
  const Trace t = read_trace(path, TraceFormat::kAzure, MalformedPolicy::kSkip);
  CHECK(t.rows.size() == 2);
  CHECK(t.skipped_lines == 3);
  CHECK(t.first_skipped_line == 3);
}

TEST_CASE("Mooncake JSONL: milliseconds, hash ids kept", "[workload][trace]") {
  const Trace t =
      read_trace(kDir + "/mooncake_small.jsonl", TraceFormat::kMooncake, MalformedPolicy::kError);
  REQUIRE(t.rows.size() == 4);
  CHECK(t.rows[1].arrival_ns == 250'000'000);
  CHECK(t.rows[3].hash_count == 4);
  CHECK(t.hashes[t.rows[3].hash_offset + 3] == 5);
  CHECK(t.input_tokens == 1500 + 1100 + 600 + 2048);
  // Every line skipped leaves nothing to replay: refused, with the count and the first line.
  CHECK_THROWS_WITH(parse_trace("{\"timestamp\": 1, \"input_length\": 5}\n{oops\n", "m.jsonl",
                                TraceFormat::kMooncake, MalformedPolicy::kSkip),
                    Catch::Contains("all 2 non-blank lines were malformed and skipped (the first "
                                    "at line 1)"));
  CHECK_THROWS_AS(parse_trace("{\"timestamp\": 1, \"input_length\": 5}\n", "m.jsonl",
                              TraceFormat::kMooncake, MalformedPolicy::kError),
                  InputError);
}

TEST_CASE("plain CSV: header-named columns, comments, stable sort by time", "[workload][trace]") {
  const Trace t = read_trace(kDir + "/plain.csv", TraceFormat::kCsv, MalformedPolicy::kError);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[1].arrival_ns == 250'000'000);
  CHECK(t.rows[1].input_tokens == 300);
  CHECK_THROWS_AS(parse_trace("a,b,c\n1,2,3\n", "x.csv", TraceFormat::kCsv, MalformedPolicy::kSkip),
                  InputError);
  const Trace vidur = parse_trace("arrived_at,num_prefill_tokens,num_decode_tokens\n1.5,10,2\n",
                                  "v.csv", TraceFormat::kCsv, MalformedPolicy::kError);
  REQUIRE(vidur.rows.size() == 1);
}

TEST_CASE("empty and header-only traces are refused, not replayed as an idle run",
          "[workload][trace][edge]") {
  CHECK_THROWS_WITH(read_trace(kDir + "/empty.csv", TraceFormat::kAzure, MalformedPolicy::kError),
                    Catch::Contains("the trace has no requests"));
  CHECK_THROWS_WITH(
      read_trace(kDir + "/azure_header_only.csv", TraceFormat::kAzure, MalformedPolicy::kError),
      Catch::Contains("the trace has no requests"));
  CHECK_THROWS_AS(read_trace(kDir + "/missing.csv", TraceFormat::kAzure, MalformedPolicy::kError),
                  InputError);
}

namespace {
std::vector<Arrival> drain(Source& s) {
  std::vector<Arrival> out;
  Arrival a;
  while (s.next(a)) out.push_back(a);
  return out;
}
RequestClassSpec klass(double rate) {
  RequestClassSpec c;
  c.name = "c";
  c.arrival.rate_per_s = rate;
  return c;
}
}  // namespace

TEST_CASE("Poisson and Gamma arrivals have the requested rate and burstiness", "[workload]") {
  for (double cv : {1.0, 3.0}) {
    RequestClassSpec c = klass(50);
    if (cv != 1.0) {
      c.arrival.process = ArrivalSpec::Process::kGamma;
      c.arrival.cv = cv;
    }
    SyntheticSource s(c, 0, 9, 2000'000'000'000, 512, nullptr);
    const auto a = drain(s);
    CHECK(static_cast<double>(a.size()) == Approx(100000).epsilon(0.03));
    double sum = 0, sum2 = 0;
    for (std::size_t i = 1; i < a.size(); ++i) {
      const double g = static_cast<double>(a[i].time_ns - a[i - 1].time_ns);
      sum += g;
      sum2 += g * g;
    }
    const double n = static_cast<double>(a.size() - 1), mean = sum / n;
    CHECK(std::sqrt(sum2 / n - mean * mean) / mean == Approx(cv).epsilon(0.05));
  }
}

TEST_CASE("zero rate gives no arrivals", "[workload][edge]") {
  const RequestClassSpec c = klass(0);  // the source keeps a reference: it must outlive it
  SyntheticSource s(c, 0, 1, 1000'000'000'000, 512, nullptr);
  CHECK(drain(s).empty());
}

TEST_CASE("diurnal profile: peak-to-trough ratio and a daily mean equal to the rate",
          "[workload]") {
  RequestClassSpec c = klass(20);
  c.arrival.diurnal = true;
  c.arrival.peak_hour = 12;
  c.arrival.peak_to_trough = 4;
  SyntheticSource s(c, 0, 3, 86400'000'000'000, 512, nullptr);
  const auto a = drain(s);
  CHECK(static_cast<double>(a.size()) == Approx(20.0 * 86400).epsilon(0.01));
  std::vector<double> per_hour(24, 0);
  for (const auto& x : a) per_hour[static_cast<std::size_t>(x.time_ns / 3600'000'000'000)] += 1;
  CHECK(per_hour[12] / per_hour[0] == Approx(4.0).epsilon(0.08));
  CHECK(rate_multiplier(c.arrival, 12 * 3600'000'000'000LL) == Approx(1.6));
  CHECK(rate_multiplier(c.arrival, 0) == Approx(0.4));
}

TEST_CASE("spikes multiply the rate inside their window only", "[workload]") {
  RequestClassSpec c = klass(10);
  c.arrival.spikes.push_back({100'000'000'000, 50'000'000'000, 5.0});
  SyntheticSource s(c, 0, 4, 300'000'000'000, 512, nullptr);
  const auto a = drain(s);
  std::size_t in = 0;
  for (const auto& x : a) in += (x.time_ns >= 100'000'000'000 && x.time_ns < 150'000'000'000);
  CHECK(static_cast<double>(in) == Approx(2500).epsilon(0.08));
  CHECK(static_cast<double>(a.size() - in) == Approx(2500).epsilon(0.08));
}

TEST_CASE("length distributions: fixed, lognormal mean/cv, empirical, clamping", "[workload]") {
  Rng r(8);
  LengthDistSpec fixed;
  fixed.value = 77;
  CHECK(draw_length(fixed, r) == 77);
  LengthDistSpec ln;
  ln.kind = LengthDistSpec::Kind::kLognormal;
  ln.mean = 1000;
  ln.cv = 1.5;
  double s = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) s += static_cast<double>(draw_length(ln, r));
  CHECK(s / n == Approx(1000).epsilon(0.03));
  LengthDistSpec emp;
  emp.kind = LengthDistSpec::Kind::kEmpirical;
  emp.values = {5, 9};
  emp.max_tokens = 8;
  for (int i = 0; i < 100; ++i) {
    const auto v = draw_length(emp, r);
    REQUIRE((v == 5 || v == 8));
  }
}

TEST_CASE("trace time and rate scaling", "[workload][trace]") {
  const Trace t =
      read_trace(kDir + "/azure_small.csv", TraceFormat::kAzure, MalformedPolicy::kError);
  TraceSpec spec;
  spec.time_scale = 0.5;
  TraceSource half(t, spec, 1, 1'000'000'000'000);
  const auto a = drain(half);
  REQUIRE(a.size() == 5);
  CHECK(a[1].time_ns == 2'157'289'500);
  spec.time_scale = 1;
  spec.rate_scale = 3;
  TraceSource triple(t, spec, 1, 1'000'000'000'000);
  CHECK(drain(triple).size() == 15);
  spec.rate_scale = 0;
  TraceSource none(t, spec, 1, 1'000'000'000'000);
  CHECK(drain(none).empty());
  spec.rate_scale = 1;
  TraceSource cut(t, spec, 1, 4'500'000'000);  // arrivals stop at the duration
  CHECK(drain(cut).size() == 2);
}
