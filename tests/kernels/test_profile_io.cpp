// Profile JSON: save/load round trip, atomic save, and load errors that name file and key.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "jevons/core/error.h"
#include "jevons/core/profile.h"

using namespace jevons;
namespace fs = std::filesystem;

namespace {
Profile sample() {
  Profile p;
  p.meta.device_name = "test cpu";
  p.meta.device_kind = "cpu";
  p.meta.date_utc = "2026-01-01T00:00:00Z";
  p.meta.iterations = 3;
  for (const char* f : {"bf16", "tq-mse-4"})
    for (std::uint64_t ctx : {1024u, 4096u}) {
      AttentionPoint a;
      a.kv_format = f;
      a.head_dim = 128;
      a.batch = 2;
      a.context_tokens = ctx;
      a.q_heads = 32;
      a.kv_heads = 8;
      a.bytes_per_token_format = a.bytes_per_token_allocated = (f[0] == 'b' ? 512 : 132);
      a.decode_time_ns = (f[0] == 'b' ? 4.0 : 1.0) * static_cast<double>(ctx);
      a.decode_bandwidth_bytes_per_s =
          a.bytes_per_token_allocated * static_cast<double>(ctx) * 2 * 8 / a.decode_time_ns * 1e9;
      p.attention.push_back(a);
    }
  return p;
}
std::string tmpdir() {
  const fs::path d =
      fs::temp_directory_path() / ("jevons_profile_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}
}  // namespace

TEST_CASE("Profile round-trips through JSON and answers queries", "[profile]") {
  const std::string dir = tmpdir();
  const std::string path = dir + "/sub/profile.json";
  const Profile p = sample();
  p.save(path);
  for (const auto& e : fs::directory_iterator(dir + "/sub"))
    CHECK(e.path().filename() == "profile.json");  // no temporary left behind
  const Profile q = Profile::load(path);
  REQUIRE(q.attention.size() == 4);
  CHECK(q.meta.device_name == "test cpu");
  CHECK(q.attention[3].decode_time_ns == p.attention[3].decode_time_ns);
  CHECK(q.decode_time_ratio_vs_bf16("tq-mse-4", 128).value() == Approx(0.25));
  CHECK(q.decode_bandwidth("tq-mse-4", 128).has_value());
  CHECK_FALSE(q.decode_bandwidth("tq-mse-3", 128).has_value());
  CHECK_FALSE(q.decode_time_ratio_vs_bf16("tq-mse-4", 64).has_value());
  fs::remove_all(dir);
}

TEST_CASE("Profile load errors name the file, key and value", "[profile]") {
  const std::string dir = tmpdir();
  const std::string path = dir + "/bad.json";
  auto write = [&](const std::string& s) { std::ofstream(path) << s; };
  auto message = [&]() -> std::string {
    try {
      Profile::load(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  write("{not json");
  CHECK(message().find("bad.json") != std::string::npos);
  write(
      R"({"format":"jevons-profile","schema_version":1,"meta":{"device_name":"x","device_kind":"tpu","date_utc":"d"}})");
  CHECK(message().find("meta.device_kind") != std::string::npos);
  write(
      R"({"format":"jevons-profile","schema_version":1,"meta":{"device_name":"x","device_kind":"cpu","date_utc":"d"},
           "attention":[{"kv_format":"tq-mse-9","head_dim":128,"batch":1,"context_tokens":1,"q_heads":1,"kv_heads":1,
           "bytes_per_token_format":1,"bytes_per_token_allocated":1,"decode_time_ns":1}]})");
  const std::string m = message();
  CHECK(m.find("attention[0].kv_format") != std::string::npos);
  CHECK(m.find("tq-mse-9") != std::string::npos);
  write(
      R"({"format":"jevons-profile","schema_version":1,"meta":{"device_name":"x","device_kind":"cpu","date_utc":"d"},
           "attention":[{"kv_format":"bf16","head_dim":-4}]})");
  CHECK(message().find("attention[0].head_dim") != std::string::npos);
  CHECK_THROWS_AS(Profile::load(dir + "/missing.json"), InputError);
  fs::remove_all(dir);
}

TEST_CASE("Hand-written profile JSON reads back exactly and lays out as nlohmann's dump",
          "[profile]") {
  // Profile::save has no JSON library (the kernels-only build writes profiles too). Awkward
  // strings and numbers over the whole double range must read back bit for bit.
  Profile p = sample();
  p.meta.device_name = "NVIDIA \"H100\"\n\t\\ é\x01";
  p.meta.copy_bandwidth_bytes_per_s = 2.5e12;
  const double values[] = {1e15,   1e16,   123456789012345.67,     1e-5,
                           0.0001, 5e-324, 1.7976931348623157e308, 0.5,
                           0.1,    3.0,    869855052330377.8};
  for (double v : values) {
    AttentionPoint a = p.attention[0];
    a.mse = v;
    a.decode_time_ns = v / 3;
    p.attention.push_back(a);
  }
  StepPoint s;
  s.model_id = "llama-3.1-8b";
  s.phase = "decode";
  s.kv_format = "tq-3.5";
  s.batch = 32;
  s.tokens = 32;
  s.context_tokens = 1ull << 40;
  s.time_ns = 1.25e6;
  p.steps.push_back(s);
  const std::string text = p.to_json();
  const nlohmann::json j = nlohmann::json::parse(text);
  // Same keys, nesting and indentation as nlohmann's dump(1): equal after normalising digits.
  const std::string redump = j.dump(1);
  CHECK(std::count(text.begin(), text.end(), '\n') ==
        std::count(redump.begin(), redump.end(), '\n'));
  CHECK(nlohmann::json::parse(redump) == j);
  const Profile back = Profile::parse(text, "mem");
  REQUIRE(back.attention.size() == p.attention.size());
  CHECK(back.meta.device_name == p.meta.device_name);
  CHECK(back.meta.copy_bandwidth_bytes_per_s == p.meta.copy_bandwidth_bytes_per_s);
  for (std::size_t i = 0; i < p.attention.size(); ++i) {
    CHECK(back.attention[i].mse == p.attention[i].mse);
    CHECK(back.attention[i].decode_time_ns == p.attention[i].decode_time_ns);
  }
  REQUIRE(back.steps.size() == 1);
  CHECK(back.steps[0].context_tokens == s.context_tokens);
  CHECK(back.steps[0].time_ns == s.time_ns);
  // Without digits, the text equals nlohmann's: the layout (keys, commas, spaces) is the same.
  auto strip = [](std::string t) {
    t.erase(std::remove_if(t.begin(), t.end(),
                           [](char c) { return (c >= '0' && c <= '9') || c == '.'; }),
            t.end());
    return t;
  };
  CHECK(strip(text) == strip(redump));
}
