// KV format byte layouts: pinned against the reference byte counts (shared/reference/
// turboquant.md §6–7) and checked for internal consistency.
#include <catch2/catch.hpp>

#include "jevons/core/error.h"
#include "jevons/core/kv_format.h"

using jevons::InputError;
using jevons::KvConfig;
using jevons::KvFormat;

TEST_CASE("bytes per d=128 vector match the reference layouts", "[kv_format]") {
  // turboquant.md §6: bf16 512 B per token·head K+V, 4-bit+norm 132 B, 3-bit+norm 100 B;
  // §7.13: prod b=3 = 52 B; outlier split 32×3 + 96×2 = 36 B of codes.
  CHECK(KvFormat::parse("bf16").bytes_per_vector(128) == 256);
  CHECK(KvFormat::parse("fp16").bytes_per_vector(128) == 256);
  CHECK(KvFormat::parse("fp8").bytes_per_vector(128) == 128);
  CHECK(KvFormat::parse("tq-mse-4").bytes_per_vector(128) * 2 == 132);
  CHECK(KvFormat::parse("tq-mse-3").bytes_per_vector(128) * 2 == 100);
  CHECK(KvFormat::parse("tq-mse-2").bytes_per_vector(128) == 34);
  CHECK(KvFormat::parse("tq-mse-1").bytes_per_vector(128) == 18);
  CHECK(KvFormat::parse("tq-prod-3").bytes_per_vector(128) == 52);
  CHECK(KvFormat::parse("tq-prod-2").bytes_per_vector(128) == 36);
  CHECK(KvFormat::parse("tq-prod-4").bytes_per_vector(128) == 68);
  CHECK(KvFormat::parse("tq-2.5").bytes_per_vector(128) == 36 + 4);
  CHECK(KvFormat::parse("tq-3.5").bytes_per_vector(128) == 52 + 4);
  // KIVI-4/KIVI-2 with fp16 scale + zero per 32: "≈5 / ≈3 bits" in TurboQuant Table 1.
  CHECK(KvFormat::parse("int4-kivi").bits_per_value(128) == Approx(5.0));
  CHECK(KvFormat::parse("int2-kivi").bits_per_value(128) == Approx(3.0));
  // NVFP4: E2M1 + one FP8 scale per 16 values = 4.5 bits.
  CHECK(KvFormat::parse("nvfp4").bits_per_value(128) == Approx(4.5));
}

TEST_CASE("outlier split: 2.5 / 3.5 bits per channel at d=128, norms included", "[kv_format]") {
  // 32 outliers at b+1 bits, 96 regular at b bits, two fp16 norms: (32(b+1) + 96b + 32) / 128.
  CHECK(KvFormat::parse("tq-2.5").bits_per_value(128) == 2.5);
  CHECK(KvFormat::parse("tq-3.5").bits_per_value(128) == 3.5);
  for (std::uint32_t d : {64u, 128u, 256u}) {
    const auto f25 = KvFormat::parse("tq-2.5");
    const auto f35 = KvFormat::parse("tq-3.5");
    CHECK(f25.outlier_channels(d) == d / 4);
    CHECK(f35.outlier_channels(d) == d / 4);
    // Code bits alone: 2.25 and 3.25 per channel.
    CHECK((f25.bytes_per_vector(d) - 4) * 8 * 4 == d * 9);
    CHECK((f35.bytes_per_vector(d) - 4) * 8 * 4 == d * 13);
  }
}

TEST_CASE("formats order by size as their bit widths do", "[kv_format]") {
  const std::uint32_t d = 128;
  auto b = [&](const char* n) { return KvFormat::parse(n).bytes_per_vector(d); };
  CHECK(b("tq-mse-1") < b("tq-mse-2"));
  CHECK(b("tq-mse-2") < b("tq-2.5"));
  CHECK(b("tq-2.5") < b("tq-mse-3"));
  CHECK(b("tq-mse-3") < b("tq-3.5"));
  CHECK(b("tq-3.5") < b("tq-mse-4"));
  CHECK(b("tq-mse-4") < b("fp8"));
  CHECK(b("fp8") < b("bf16"));
  // prod spends one bit on QJL signs plus a second norm: slightly larger than mse at equal b.
  for (int bits = 2; bits <= 4; ++bits)
    CHECK(b(("tq-prod-" + std::to_string(bits)).c_str()) ==
          b(("tq-mse-" + std::to_string(bits)).c_str()) + 2);
}

TEST_CASE("every canonical name round-trips", "[kv_format]") {
  for (const auto& n : KvFormat::names()) {
    const KvFormat f = KvFormat::parse(n);
    CHECK(f.name() == n);
    CHECK(KvConfig::parse(n).name() == n);
  }
}

TEST_CASE("split key/value configs parse and print", "[kv_format]") {
  const KvConfig c = KvConfig::parse("k:tq-prod-4/v:tq-mse-3");
  CHECK(c.key.name() == "tq-prod-4");
  CHECK(c.value.name() == "tq-mse-3");
  CHECK(c.name() == "k:tq-prod-4/v:tq-mse-3");
  CHECK(KvConfig::parse("k:fp8/v:fp8").name() == "fp8");
  CHECK_THROWS_AS(KvConfig::parse("k:fp8"), InputError);
}

TEST_CASE("unknown formats are rejected with a suggestion", "[kv_format]") {
  try {
    KvFormat::parse("tq-mse4");
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.diagnostics().front().hint == "did you mean 'tq-mse-4'?");
    CHECK(std::string(e.what()).find("tq-mse4") != std::string::npos);
  }
  CHECK_THROWS_AS(KvFormat::parse("tq-mse-5"), InputError);
  CHECK_THROWS_AS(KvFormat::parse("tq-prod-1"), InputError);
  CHECK_THROWS_AS(KvFormat::parse(""), InputError);
}

TEST_CASE("a split needs room for both channel groups", "[kv_format]") {
  CHECK_THROWS_AS(KvFormat::parse("tq-2.5").bytes_per_vector(2), std::invalid_argument);
  CHECK_THROWS_AS(KvFormat::parse("bf16").bytes_per_vector(0), std::invalid_argument);
}
