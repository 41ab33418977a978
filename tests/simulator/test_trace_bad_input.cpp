// Bad input in request traces: every number each reader takes (times and token counts) fed
// negative, zero, NaN, infinite and absurdly large values; missing, empty and unreadable files;
// and the overflow cases the fuzzers and this suite found (far-off times, large time scales).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "jevons/core/error.h"
#include "sim_fixture.h"
#include "workload/source.h"
#include "workload/trace.h"

using namespace jevons;
using namespace jevons::sim;

namespace {

/// The single diagnostic of parsing `text` with policy kError; fails when it parses.
Diagnostic error_of(const std::string& text, TraceFormat format) {
  try {
    parse_trace(text, "t.trace", format, MalformedPolicy::kError);
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    return e.diagnostics()[0];
  }
  FAIL("expected an InputError for:\n" << text);
  return {};
}

struct Case {
  std::string value;
  bool ok;  ///< a valid value for this field
};

}  // namespace

TEST_CASE("Azure traces: bad token counts and timestamps are named with their line",
          "[trace][bad-input]") {
  const std::string head =
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n";
  for (const std::string v : {"-1", "0", "nan", "NaN", "inf", "-inf", "1e300", "4294967296",
                              "99999999999999999999999", "3.5", ""}) {
    INFO("tokens = '" << v << "'");
    auto d = error_of(head + "2023-11-16 18:15:47.0," + v + ",10\n", TraceFormat::kAzure);
    CHECK(d.file == "t.trace");
    CHECK(d.line == 3);
    CHECK(d.key == "ContextTokens");
    CHECK(d.value == v);
    CHECK(d.message == "expected a positive integer");
    CHECK(d.hint.find("malformed: skip") != std::string::npos);
    d = error_of(head + "2023-11-16 18:15:47.0,10," + v + "\n", TraceFormat::kAzure);
    CHECK(d.key == "GeneratedTokens");
  }
  for (const std::string v :
       {"-1", "0", "nan", "inf", "2023-13-01 00:00:00", "2023-11-16 25:00:00",
        "9999-12-31 23:59:59.9999999", "0001-01-01 00:00:00", "2023-11-16 18:15:46.1234567890"}) {
    INFO("timestamp = '" << v << "'");
    const auto d = error_of(head + v + ",10,10\n", TraceFormat::kAzure);
    CHECK(d.line == 3);
    CHECK(d.key == "TIMESTAMP");
    CHECK(d.message.find("expected a time like 2023-11-16 18:15:46.6805900") != std::string::npos);
  }
  // The last representable years still parse, and rebasing them cannot overflow.
  const auto t = parse_trace(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n1845-01-01 00:00:00,1,1\n"
      "2095-12-31 23:59:59,1,1\n",
      "t", TraceFormat::kAzure, MalformedPolicy::kError);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_ns > 7'800'000'000'000'000'000);
}

TEST_CASE("Mooncake traces: bad times and lengths are named with their line",
          "[trace][bad-input]") {
  auto line = [](const std::string& ts, const std::string& in, const std::string& out) {
    return R"({"timestamp": )" + ts + R"(, "input_length": )" + in + R"(, "output_length": )" +
           out + "}\n";
  };
  const std::string ok = line("0", "100", "10");
  for (const Case& c : std::vector<Case>{{"-1", false},
                                         {"0", true},
                                         {"NaN", false},
                                         {"1e300", false},
                                         {"4.1e12", false},
                                         {"4e12", true},
                                         {"\"5\"", false}}) {
    INFO("timestamp = " << c.value);
    if (c.ok) {
      CHECK_NOTHROW(parse_trace(ok + line(c.value, "1", "1"), "t", TraceFormat::kMooncake,
                                MalformedPolicy::kError));
      continue;
    }
    const auto d = error_of(ok + line(c.value, "1", "1"), TraceFormat::kMooncake);
    CHECK(d.line == 2);
    CHECK(d.key == (c.value == "NaN" ? "" : "timestamp"));  // NaN is not JSON: the line is named
    CHECK(d.message.find("expected") != std::string::npos);
  }
  for (const std::string v : {"-1", "0", "1.5", "1e300", "4294967296", "Infinity", "null"}) {
    INFO("length = " << v);
    auto d = error_of(ok + line("1", v, "1"), TraceFormat::kMooncake);
    CHECK(d.line == 2);
    if (v != "Infinity") {
      CHECK(d.key == "input_length");
      CHECK(d.message == "expected a positive integer");
      d = error_of(ok + line("1", "1", v), TraceFormat::kMooncake);
      CHECK(d.key == "output_length");
    } else {
      CHECK(d.message == "expected one JSON object per line");
    }
  }
}

TEST_CASE("plain CSV traces: bad times and token counts are named with their line",
          "[trace][bad-input]") {
  const std::string head = "time_s,input_tokens,output_tokens\n0,10,10\n";
  for (const Case& c : std::vector<Case>{{"-1", false},
                                         {"0", true},
                                         {"nan", false},
                                         {"inf", false},
                                         {"-inf", false},
                                         {"1e300", false},
                                         {"4e9", true},
                                         {"4.1e9", false},
                                         {"x", false}}) {
    INFO("time = " << c.value);
    if (c.ok) {
      CHECK_NOTHROW(
          parse_trace(head + c.value + ",1,1\n", "t", TraceFormat::kCsv, MalformedPolicy::kError));
      continue;
    }
    const auto d = error_of(head + c.value + ",1,1\n", TraceFormat::kCsv);
    CHECK(d.line == 3);
    CHECK(d.key == "time");
    CHECK(d.value == c.value);
    CHECK(d.message.find("expected a non-negative number") != std::string::npos);
  }
  for (const std::string v : {"-1", "0", "nan", "1e300", "4294967296"}) {
    INFO("tokens = " << v);
    auto d = error_of(head + "1," + v + ",1\n", TraceFormat::kCsv);
    CHECK(d.key == "input_tokens");
    CHECK(d.message == "expected a positive integer");
    d = error_of(head + "1,1," + v + "\n", TraceFormat::kCsv);
    CHECK(d.key == "output_tokens");
  }
  const auto d = error_of("when,input_tokens,output_tokens\n1,1,1\n", TraceFormat::kCsv);
  CHECK(d.line == 1);
  CHECK(d.message.find("expected a header naming a time column") != std::string::npos);
}

TEST_CASE("trace files: missing, empty, a directory and unreadable", "[trace][bad-input]") {
  namespace fs = std::filesystem;
  try {
    read_trace("/nonexistent/t.csv", TraceFormat::kAzure, MalformedPolicy::kError);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/t.csv: cannot open the trace file") !=
          std::string::npos);
  }
  // An empty trace has nothing to replay: refused by name rather than run as an idle fleet.
  CHECK_THROWS_WITH(read_trace(std::string(JEVONS_SIM_FIXTURE_DIR) + "/empty.csv",
                               TraceFormat::kAzure, MalformedPolicy::kError),
                    Catch::Contains("empty.csv: the trace has no requests"));
  const fs::path dir = fs::temp_directory_path() / ("jevons-trace-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    read_trace(dir.string(), TraceFormat::kCsv, MalformedPolicy::kError);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("cannot open the trace file") != std::string::npos);
  }
  const fs::path locked = dir / "locked.csv";
  std::ofstream(locked) << "time_s,input_tokens,output_tokens\n0,1,1\n";
  ::chmod(locked.c_str(), 0);
  if (std::FILE* f = std::fopen(locked.c_str(), "r")) {
    std::fclose(f);
    WARN("skipping the unreadable-trace check: chmod 000 does not bind here (running as root?)");
  } else {
    try {
      read_trace(locked.string(), TraceFormat::kCsv, MalformedPolicy::kError);
      FAIL("expected an InputError");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(locked.string() + ": cannot open the trace file") !=
            std::string::npos);
    }
  }
  fs::permissions(locked, fs::perms::owner_all);
  fs::remove_all(dir);
}

TEST_CASE("a large time_scale on a late trace row ends the replay instead of overflowing",
          "[trace][bad-input]") {
  // 4e12 ms (the largest time a trace may hold) × time_scale 1e6 does not fit int64 ns: the row
  // lies past the end of any simulation and must end the trace, not arrive at a negative time.
  const Trace t = parse_trace("time_ms,input_tokens,output_tokens\n0,1,1\n4e12,1,1\n", "t",
                              TraceFormat::kCsv, MalformedPolicy::kError);
  TraceSpec spec;
  spec.time_scale = 1e6;
  TraceSource src(t, spec, 1, 3'600'000'000'000);
  Arrival a;
  REQUIRE(src.next(a));
  CHECK(a.time_ns == 0);
  CHECK_FALSE(src.next(a));
}

TEST_CASE("a Mooncake line nested 200,000 levels deep is reported, not a stack overflow",
          "[trace][bad-input]") {
  // Found by hand after fuzzing: the message used json::dump(), which recurses per level.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  for (const char* key : {"hash_ids", "timestamp"}) {
    std::string line = R"({"timestamp": 0, "input_length": 1, "output_length": 1})";
    if (std::string(key) == "hash_ids")
      line.insert(line.size() - 1, R"(, "hash_ids": [)" + deep + "]");
    else
      line.replace(line.find('0'), 1, deep);
    INFO(key);
    const auto d = error_of(line + "\n", TraceFormat::kMooncake);
    CHECK(d.key == key);
    CHECK(d.value == "[a list of 1]");
  }
}
