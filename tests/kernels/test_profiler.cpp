// The profiler end to end on the CPU twins with a tiny grid, and its option handling.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/kv_format.h"
#include "profiler/cli_options.h"
#include "profiler/profiler.h"
#include "profiler/step_models.h"

using namespace jevons;
using namespace jevons::kernels::profiler;
namespace fs = std::filesystem;

TEST_CASE("Profiler writes a loadable CPU profile whose bytes match KvFormat", "[profiler]") {
  const fs::path dir = fs::temp_directory_path() / ("jevons_prof_" + std::to_string(::getpid()));
  Options o;
  o.device = DeviceChoice::kCpu;
  o.out_dir = dir.string();
  GridOverrides g;
  g.head_dims = {64};
  g.kv_formats = {"bf16", "tq-mse-4", "tq-2.5", "k:tq-prod-3/v:tq-mse-2"};
  g.batches = {2};
  g.contexts = {100};  // not a page multiple on purpose
  g.q_heads = 4;
  g.kv_heads = 2;
  g.iterations = 1;
  // The default CPU grid also times Llama 3.1 8B steps (3 GB of weights, minutes): not here.
  g.step_models = {"none"};
  apply_overrides(o, g);
  o.grid.accuracy_vectors = 200;
  CHECK(o.grid.step_models.empty());
  const Result r = run(o);
  REQUIRE(fs::exists(r.path));
  const Profile p = Profile::load(r.path);
  CHECK(p.meta.device_kind == "cpu");
  CHECK(p.meta.device_name.find("cpu-only") != std::string::npos);
  CHECK(p.meta.copy_bandwidth_bytes_per_s > 0);
  REQUIRE(p.attention.size() == 4);
  for (const auto& a : p.attention) {
    const KvConfig c = KvConfig::parse(a.kv_format);
    CHECK(a.bytes_per_token_allocated ==
          double(c.key.bytes_per_vector(64) + c.value.bytes_per_vector(64)));
    CHECK(a.bytes_per_token_allocated == a.bytes_per_token_format);
    CHECK(a.decode_time_ns > 0);
    CHECK(a.append_time_ns_per_token > 0);
    CHECK(a.attention_cosine > 0.8);
  }
  CHECK(p.attention[0].attention_cosine > 0.9999);  // bf16
  CHECK(p.decode_time_ratio_vs_bf16("tq-mse-4", 64).has_value());
  fs::remove_all(dir);
}

TEST_CASE("Profiler options: device, lists, and errors", "[profiler]") {
  Options o;
  std::string err;
  CHECK(parse_profile_args({"--device", "cpu", "--quick", "--formats", "bf16,tq-3.5", "--contexts",
                            "1024,2048", "--head-dims", "128"},
                           o, err));
  CHECK(o.device == DeviceChoice::kCpu);
  CHECK(o.grid.kv_formats == std::vector<std::string>{"bf16", "tq-3.5"});
  CHECK(o.grid.contexts == std::vector<std::uint64_t>{1024, 2048});
  Options bad;
  CHECK_FALSE(parse_profile_args({"--device", "tpu"}, bad, err));
  CHECK(err.find("--device") != std::string::npos);
  CHECK_FALSE(parse_profile_args({"--batches", "1,x"}, bad, err));
  CHECK_FALSE(parse_profile_args({"--bogus"}, bad, err));
  CHECK_THROWS_AS(parse_profile_args({"--device", "cpu", "--formats", "tq-mse-7"}, bad, err),
                  InputError);
  CHECK_THROWS_AS(parse_profile_args({"--device", "cpu", "--head-dims", "96"}, bad, err),
                  InputError);
  CHECK_THROWS_AS(
      parse_profile_args({"--device", "cpu", "--q-heads", "6", "--kv-heads", "4"}, bad, err),
      InputError);
  CHECK(slugify("Intel(R) Xeon(R) Platinum 8481C") == "intel-r-xeon-r-platinum-8481c");
  CHECK(slugify("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3");
}

TEST_CASE("Step-model table matches the catalog", "[profiler]") {
  // The profiler reads layer shapes from its own table (no YAML reader in the kernels-only
  // build); every field it copies must equal data/models.yaml.
  const Catalog catalog = Catalog::load(Catalog::default_dir());
  const auto ids = step_model_ids();
  REQUIRE(ids.size() >= 3);
  for (const auto& id : ids) {
    INFO(id);
    const ModelSpec& c = catalog.model(id);
    const ModelSpec t = step_model(id);
    CHECK(t.layers == c.layers);
    CHECK(t.hidden_size == c.hidden_size);
    CHECK(t.q_heads == c.q_heads);
    CHECK(t.kv_heads == c.kv_heads);
    CHECK(t.head_dim == c.head_dim);
    CHECK(t.max_context_tokens == c.max_context_tokens);
    CHECK(t.intermediate_size == c.intermediate_size);
    CHECK(t.vocab_size == c.vocab_size);
    CHECK_FALSE(c.is_moe());
    CHECK_FALSE(c.is_mla());
  }
  // The default GPU grid's models are all in the table.
  for (const char* id : {"llama-3.1-8b", "llama-3.1-70b", "llama-2-70b"})
    CHECK_NOTHROW(step_model(id));
  CHECK_THROWS_AS(step_model("no-such-model"), std::invalid_argument);
}
