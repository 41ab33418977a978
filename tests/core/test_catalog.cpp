// Catalog content and validation.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "catalog_fixture.h"
#include "jevons/core/error.h"

using namespace jevons;

TEST_CASE("the catalog holds every GPU and model the project needs", "[catalog]") {
  const auto& c = test_catalog();
  for (const char* id : {"a100-40gb", "a100-80gb", "h100-sxm", "h200", "b200", "b300", "gb200",
                         "gb300", "rubin", "rubin-ultra", "mi300x", "mi355x"})
    CHECK(c.find_gpu(id) != nullptr);
  for (const char* id : {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-4-scout",
                         "llama-4-maverick", "mistral-7b", "mixtral-8x22b", "gemma-3-27b",
                         "qwen3-235b-a22b", "deepseek-v3", "gpt-oss-120b"})
    CHECK(c.find_model(id) != nullptr);
}

TEST_CASE("every GPU figure has a source, and roadmap parts are projections", "[catalog]") {
  const auto& c = test_catalog();
  for (const auto& g : c.gpus()) {
    for (const Figure* f :
         {&g.hbm_nominal_gib, &g.hbm_usable_gib, &g.hbm_bandwidth_tbps, &g.bf16_dense_tflops,
          &g.scaleup_link_gbps, &g.host_dram_per_gpu_gib, &g.host_link_gbps, &g.tdp_w}) {
      CHECK(f->known());
      CHECK(c.sources().count(f->source) == 1);
    }
    CHECK(*g.hbm_usable_gib.value <= *g.hbm_nominal_gib.value);
  }
  CHECK(c.gpu("rubin").projection);
  CHECK(c.gpu("rubin-ultra").projection);
  CHECK_FALSE(c.gpu("h100-sxm").projection);
  CHECK(c.gpu("h100-sxm").hbm_bandwidth_tbps.confidence == Confidence::kVendor);
  // A100 has no FP8: it runs fp8 weights at its bf16 rate.
  CHECK(c.gpu("a100-80gb").dense_tflops("fp8") == 312);
  CHECK(c.gpu("h100-sxm").dense_tflops("fp8") == 1979);
}

TEST_CASE("models expand their attention pattern per layer", "[catalog]") {
  const auto& c = test_catalog();
  const auto& g = c.model("gemma-3-27b");
  REQUIRE(g.layer_attention.size() == 62);
  CHECK(std::count(g.layer_attention.begin(), g.layer_attention.end(), LayerAttention::kFull) ==
        10);
  const auto& s = c.model("llama-4-scout");
  CHECK(std::count(s.layer_attention.begin(), s.layer_attention.end(), LayerAttention::kFull) ==
        12);
  CHECK(c.model("deepseek-v3").is_mla());
  CHECK(c.model("deepseek-v3").is_moe());
  CHECK_FALSE(c.model("llama-3.1-70b").is_moe());
  CHECK_THROWS_WITH(c.model("llama-3.1-7b"), Catch::Contains("did you mean 'llama-3.1-8b'"));
}

namespace {
std::string write_catalog_dir(const std::string& name, const std::string& gpus,
                              const std::string& models) {
  const auto dir = std::filesystem::temp_directory_path() / ("jevons-cat-" + name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "gpus.yaml") << gpus;
  std::ofstream(dir / "models.yaml") << models;
  return dir.string();
}
std::string read(const std::string& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("a malformed catalog names file, line and key", "[catalog]") {
  std::string gpus = read(std::string(JEVONS_TEST_DATA_DIR) + "/gpus.yaml");
  const std::string models = read(std::string(JEVONS_TEST_DATA_DIR) + "/models.yaml");
  // Break one figure: a negative bandwidth.
  const std::string needle = "hbm_bandwidth_tbps:    [3.35,";
  const auto pos = gpus.find(needle);
  REQUIRE(pos != std::string::npos);
  gpus.replace(pos, needle.size(), "hbm_bandwidth_tbps:    [-3.35,");
  const auto dir = write_catalog_dir("bad", gpus, models);
  try {
    Catalog::load(dir);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const auto& d = e.diagnostics().front();
    CHECK(d.file == dir + "/gpus.yaml");
    CHECK(d.key == "gpus[2].hbm_bandwidth_tbps[0]");
    CHECK(d.value == "-3.35");
    CHECK(d.line > 0);
    CHECK(d.message.find("expected a finite number in (0, ") != std::string::npos);
  }
  CHECK_THROWS_AS(Catalog::load("/nonexistent-jevons-dir"), InputError);
}
