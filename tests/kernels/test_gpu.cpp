// GPU kernels against their CPU twins on fresh random inputs and awkward sizes: packed codes and
// pools bit-exact, dequantized values and attention outputs within tolerance of float64.
// Exits 77 (CTest: skipped) with a message when no CUDA device is present. Plain runner
// (plain_test.h), so the kernels-only build on a lent GPU needs no Catch2.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "append/append.h"
#include "codebook/codebook.h"
#include "common/device.h"
#include "common/numeric.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "dequant/dequant.h"
#include "jevons/core/kv_format.h"
#include "model_step/model_step.h"
#include "packing/packing.h"
#include "plain_test.h"
#include "rotation/rotation.h"
#include "scores/scores.h"
#include "test_util.h"

using namespace jevons;
using namespace jevons::kernels;
using namespace jevons::kernels::test;
using plain_test::Approx;
namespace g = jevons::kernels::gpu;

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--list")) return plain_test::run(argc, argv);  // no device needed
  if (g::device_count() == 0) {
    std::printf(
        "SKIPPED: no CUDA device is present; the GPU kernel tests need one "
        "(the CPU-twin tests in jevons_kernels_tests still ran)\n");
    return 77;
  }
  return plain_test::run(argc, argv);
}

namespace {

void ok(const Status& s) {
  INFO(s.message());
  REQUIRE(s.ok());
}

template <class T>
g::DeviceBuffer upload(const std::vector<T>& v) {
  g::DeviceBuffer b;
  ok(b.assign(v));
  return b;
}

/// Synchronises the stream the kernels ran on before copying (the launches are asynchronous on a
/// non-blocking stream, which a plain cudaMemcpy does not wait for).
template <class T>
std::vector<T> download(const g::DeviceBuffer& b, std::size_t n, const g::Stream& st) {
  ok(st.synchronize());
  std::vector<T> v(n);
  ok(b.download(v.data(), n * sizeof(T)));
  return v;
}

/// JEVONS_GPU_TESTS_REDUCED=1: fewer sizes and formats (every code path still covered), for the
/// compute-sanitizer runs of scripts/gpu-session.sh, which slow kernels down ~100×.
bool reduced() {
  const char* v = std::getenv("JEVONS_GPU_TESTS_REDUCED");
  return v && *v && std::strcmp(v, "0") != 0;
}

/// Sign-bit tallies of pools written by append_mma_kernel.
struct SignStats {
  std::size_t signs = 0;    ///< sign bits compared (vectors with γ > 0)
  std::size_t flagged = 0;  ///< of those, projections within ε of 0 (append/append_mma.h)
  std::size_t differ = 0;   ///< of those, bits that differ from the twin's (all flagged)
};

/// A pool written by append_mma_kernel against the twin's (`host`): every byte equal except QJL
/// sign bits whose exact projection (float64, from the twin's residual) lies within
/// qjl_sign_tolerance of 0; fails on any other difference. `x`: [n][kv_heads][d] floats.
void check_mma_pool(const std::vector<VectorCodec>& codecs, const PoolLayout& layout,
                    const std::vector<float>& x, std::size_t n,
                    const std::vector<std::int64_t>& slots, const std::vector<std::uint8_t>& host,
                    const std::vector<std::uint8_t>& dev, SignStats& stats) {
  REQUIRE(host.size() == dev.size());
  const VectorDesc& desc = codecs[0].desc();
  const std::uint32_t d = desc.dim;
  std::vector<bool> is_sign(host.size(), false);
  for (std::size_t t = 0; t < n; ++t)
    for (std::uint32_t h = 0; h < layout.kv_heads; ++h) {
      const auto page = static_cast<std::uint64_t>(slots[t]) / layout.page_tokens;
      const auto off = static_cast<std::uint32_t>(slots[t] % layout.page_tokens);
      const std::uint64_t at = layout.code_offset(page, h, off) + desc.sign_offset;
      for (std::uint32_t b = 0; b < d / 8; ++b) is_sign[at + b] = true;
    }
  std::size_t other = 0;
  for (std::size_t i = 0; i < host.size(); ++i) other += !is_sign[i] && host[i] != dev[i] ? 1 : 0;
  INFO("bytes other than QJL signs that differ: " << other);
  REQUIRE(other == 0);  // codes, ‖x‖ and γ are bit-exact
  std::size_t bad = 0;
  for (std::size_t t = 0; t < n; ++t)
    for (std::uint32_t h = 0; h < layout.kv_heads; ++h) {
      const auto page = static_cast<std::uint64_t>(slots[t]) / layout.page_tokens;
      const auto off = static_cast<std::uint32_t>(slots[t] % layout.page_tokens);
      const std::uint64_t at = layout.code_offset(page, h, off) + desc.sign_offset;
      const std::vector<float> r = prod_residual(codecs[h], &x[(t * layout.kv_heads + h) * d]);
      const QjlReference ref = qjl_reference(codecs[h].qjl_matrix(), r.data(), d);
      for (std::uint32_t i = 0; i < d; ++i) {
        const bool a = (host[at + i / 8] >> (i % 8)) & 1, b = (dev[at + i / 8] >> (i % 8)) & 1;
        const bool near = std::fabs(ref.p[i]) <= ref.eps[i];
        if (a != b && !near) ++bad;
        if (ref.gamma == 0) continue;  // r = 0: every projection is exactly 0, both bits 0
        ++stats.signs;
        stats.flagged += near ? 1 : 0;
        stats.differ += a != b ? 1 : 0;
      }
    }
  INFO("sign bits that differ outside ε: " << bad);
  REQUIRE(bad == 0);
}

/// True when gpu::append takes `name` through append_mma_kernel with bf16 input.
bool takes_mma(const std::string& name, std::uint32_t d) {
  return name.rfind("tq-prod", 0) == 0 && (d == 64 || d == 128);
}

const std::vector<std::string> kFormats = {
    "bf16",     "fp16",     "fp8",       "int4-kivi", "int2-kivi", "tq-mse-1", "tq-mse-2",
    "tq-mse-3", "tq-mse-4", "tq-prod-2", "tq-prod-3", "tq-prod-4", "tq-2.5",   "tq-3.5"};

/// `used` pages plus 5 no sequence touches, in a random order (Fisher-Yates from `seed`): the slots
/// of positions [0, n) of one sequence whose block table is that order.
std::vector<std::int64_t> shuffled_page_slots(std::size_t n, std::uint32_t page_tokens,
                                              std::uint64_t seed, std::uint32_t* pages_out) {
  const auto used = static_cast<std::uint32_t>((n + page_tokens - 1) / page_tokens);
  const std::uint32_t pages = used + 5;
  std::vector<std::int32_t> perm(pages);
  for (std::uint32_t p = 0; p < pages; ++p) perm[p] = static_cast<std::int32_t>(p);
  Rng rng(seed);
  for (std::uint32_t p = pages - 1; p > 0; --p)
    std::swap(perm[p], perm[static_cast<std::uint32_t>(rng.next_u64() % (p + 1))]);
  std::vector<std::int64_t> slots;
  slots_for_positions(perm.data(), pages, page_tokens, 0, 0, n, slots);
  *pages_out = pages;
  return slots;
}

/// Rounds `x` to bf16 in place and returns the bf16 bits (the device input).
std::vector<std::uint16_t> round_to_bf16(std::vector<float>& x) {
  std::vector<std::uint16_t> b(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    b[i] = float_to_bf16(x[i]);
    x[i] = bf16_to_float(b[i]);
  }
  return b;
}

}  // namespace

TEST_CASE("GPU pack/unpack and bucketize match the CPU bit for bit", "[cuda]") {
  g::Stream st;
  ok(st.create());
  Rng rng(5);
  for (int bits = 1; bits <= 4; ++bits)
    for (std::size_t count : {1u, 7u, 37u, 733u, 1002u}) {
      std::vector<std::uint8_t> codes(count);
      for (auto& c : codes) c = static_cast<std::uint8_t>(rng.next_u64() & ((1u << bits) - 1));
      std::vector<std::uint8_t> ref(packed_bytes(count, bits));
      pack_codes(codes.data(), count, bits, ref.data());
      auto dc = upload(codes);
      g::DeviceBuffer dp, du;
      ok(dp.allocate(ref.size()));
      ok(du.allocate(count));
      ok(g::pack_codes(dc.as<std::uint8_t>(), count, bits, dp.as<std::uint8_t>(), st));
      ok(g::unpack_codes(dp.as<std::uint8_t>(), count, bits, du.as<std::uint8_t>(), st));
      ok(st.synchronize());
      CHECK(download<std::uint8_t>(dp, ref.size(), st) == ref);
      CHECK(download<std::uint8_t>(du, count, st) == codes);
    }
  const auto y = gaussian(1003, 8, 0.2);
  auto dy = upload(y);
  for (int b = 1; b <= 4; ++b) {
    const Codebook& cb = lloyd_max_codebook(128, b);
    g::DeviceBuffer di;
    ok(di.allocate(y.size()));
    ok(g::bucketize(cb, dy.as<float>(), y.size(), di.as<std::uint8_t>(), st));
    ok(st.synchronize());
    const auto got = download<std::uint8_t>(di, y.size(), st);
    for (std::size_t i = 0; i < y.size(); ++i)
      REQUIRE(got[i] == bucketize(cb.boundaries_f.data(), (1 << b) - 1, y[i]));
  }
}

TEST_CASE("GPU rotation is bit-identical to Rotation::apply", "[cuda]") {
  g::Stream st;
  ok(st.create());
  // kHadamard at 48/96/192 is the block kind (the split formats' regular segments).
  for (auto kind : {RotationKind::kHadamard, RotationKind::kDense})
    for (std::uint32_t d : {48u, 64u, 96u, 128u, 192u, 256u}) {
      const Rotation r = Rotation::make(d, kind, 17);
      const std::size_t n = 37;
      const auto x = gaussian(n * d, 3);
      std::vector<float> ref(x.size());
      for (std::size_t i = 0; i < n; ++i) r.apply(&x[i * d], &ref[i * d]);
      auto dx = upload(x);
      g::DeviceBuffer dy;
      ok(dy.allocate(x.size() * sizeof(float)));
      ok(g::rotate(r, dx.as<float>(), n, dy.as<float>(), st));
      const auto got = download<float>(dy, x.size(), st);
      INFO("d=" << d << " kind=" << int(kind));
      CHECK(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("GPU append stores bit-identical pools for every format", "[cuda]") {
  g::Stream st;
  ok(st.create());
  const std::uint32_t kv_heads = 3, page_tokens = 16;
  const std::vector<std::uint32_t> dims =
      reduced() ? std::vector<std::uint32_t>{64, 128} : std::vector<std::uint32_t>{64, 128, 256};
  const std::vector<std::size_t> counts =
      reduced() ? std::vector<std::size_t>{37} : std::vector<std::size_t>{1, 37, 133};
  for (std::uint32_t d : dims)
    for (const auto& name : kFormats)
      for (std::size_t n : counts)
        for (bool bf16_input : {false, true}) {
          const KvFormat f = KvFormat::parse(name);
          const auto calib = heavy_tailed(64 * kv_heads, d, 4);
          const auto codecs = make_head_codecs(f, d, kv_heads, {}, calib.data(), 64);
          const std::uint32_t pages =
              static_cast<std::uint32_t>((n + page_tokens - 1) / page_tokens) + 2;
          HostKvCache host(codecs[0], codecs[0], pages, page_tokens, kv_heads);
          auto k = heavy_tailed(n * kv_heads, d, 100 + n), v = gaussian(n * kv_heads * d, 200 + n);
          std::vector<std::uint16_t> kb(k.size()), vb(v.size());
          if (bf16_input)
            for (std::size_t i = 0; i < k.size(); ++i) {
              kb[i] = float_to_bf16(k[i]);
              vb[i] = float_to_bf16(v[i]);
              k[i] = bf16_to_float(kb[i]);
              v[i] = bf16_to_float(vb[i]);
            }
          std::vector<std::int64_t> slots(n);
          for (std::size_t t = 0; t < n; ++t)
            slots[t] = static_cast<std::int64_t>((t * 5 + 16) % (pages * page_tokens));
          append_ref(codecs, codecs, k.data(), v.data(), n, slots.data(), host);
          g::DeviceCodecSet set;
          ok(g::DeviceCodecSet::create(codecs, &set));
          g::DeviceKvCache dev;
          ok(dev.create(host.k_layout, host.v_layout));
          auto dk = bf16_input ? upload(kb) : upload(k);
          auto dv = bf16_input ? upload(vb) : upload(v);
          auto ds = upload(slots);
          ok(g::append(set, set, dk.data(), dv.data(),
                       bf16_input ? InputType::kBf16 : InputType::kF32, n, ds.as<std::int64_t>(),
                       dev, st));
          ok(st.synchronize());
          INFO(name << " d=" << d << " n=" << n << " bf16=" << bf16_input);
          if (bf16_input && takes_mma(name, d)) {
            // The tensor-core append: bit-exact but for QJL signs within ε of 0.
            CHECK(std::string(g::append_kernel_name(set, host.k_layout, InputType::kBf16)) ==
                  "append_mma");
            SignStats stats;
            check_mma_pool(codecs, host.k_layout, k, n, slots, host.k_pool,
                           download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st), stats);
            check_mma_pool(codecs, host.v_layout, v, n, slots, host.v_pool,
                           download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st), stats);
            // The dequant comparison below reads the twin's bytes.
            ok(dev.k_pool.upload(host.k_pool.data(), host.k_pool.size()));
          } else {
            // The catalog's split formats take append_split_kernel on bf16 input.
            if (name == "tq-3.5" || name == "tq-2.5")
              CHECK(std::string(g::append_kernel_name(
                        set, host.k_layout, bf16_input ? InputType::kBf16 : InputType::kF32)) ==
                    (bf16_input ? "append_split" : "store"));
            REQUIRE(download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st) == host.k_pool);
            REQUIRE(download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st) == host.v_pool);
          }
          // Dequantized values agree with the CPU twin (float rounding of the back-rotation).
          std::vector<float> ref(n * kv_heads * d);
          dequant_ref(codecs, host.k_layout, host.k_pool.data(), slots.data(), n, ref.data());
          g::DeviceBuffer dout;
          ok(dout.allocate(ref.size() * sizeof(float)));
          ok(g::dequant(set, dev.k_layout, dev.k_pool.as<std::uint8_t>(), ds.as<std::int64_t>(), n,
                        dout.as<float>(), st));
          const auto got = download<float>(dout, ref.size(), st);
          for (std::size_t i = 0; i < ref.size(); ++i)
            REQUIRE(got[i] == Approx(ref[i]).margin(1e-4 * (1 + std::fabs(ref[i]))));
        }
}

TEST_CASE("GPU warp-cooperative append (tq-mse) is bit-identical on ragged pools", "[cuda]") {
  // append_tq_kernel strides each warp over many vector groups with two groups' loads in
  // flight, so this runs enough vectors for several strides (3000 tokens × 8 heads), shuffled
  // pages of a non-power-of-two size (48) in a pool with pages no sequence uses, K and V in
  // different widths (two launches) or one of them on store_kernel, and inputs that take the
  // division fallback (a zero vector, a vector with zero channels).
  g::Stream st;
  ok(st.create());
  struct Case {
    const char* k;
    const char* v;
    std::uint32_t d, kv_heads;
    std::size_t n;
  };
  std::vector<Case> cases = {{"tq-mse-4", "tq-mse-4", 128, 8, 3000},
                             {"tq-mse-3", "tq-mse-2", 64, 5, 411},
                             {"tq-mse-1", "tq-prod-3", 256, 1, 97},
                             {"tq-mse-2", "tq-mse-4", 256, 3, 700}};
  if (reduced()) cases.resize(2);
  const std::uint32_t page_tokens = 48;
  for (const Case& c : cases) {
    const auto kc = make_head_codecs(KvFormat::parse(c.k), c.d, c.kv_heads, {});
    const auto vc = make_head_codecs(KvFormat::parse(c.v), c.d, c.kv_heads, {});
    std::uint32_t pages = 0;
    const auto slots = shuffled_page_slots(c.n, page_tokens, c.n * 31 + c.d, &pages);
    HostKvCache host(kc[0], vc[0], pages, page_tokens, c.kv_heads);
    auto k = gaussian(c.n * c.kv_heads * c.d, 7 + c.n), v = heavy_tailed(c.n * c.kv_heads, c.d, 9);
    for (std::uint32_t j = 0; j < c.d; ++j) k[j] = 0.0f;  // token 0, head 0: the zero vector
    for (std::uint32_t j = 0; j < c.d; j += 3) v[c.d + j] = 0.0f;  // zeros inside a vector
    const auto kb = round_to_bf16(k), vb = round_to_bf16(v);
    append_ref(kc, vc, k.data(), v.data(), c.n, slots.data(), host);
    g::DeviceCodecSet ks, vs;
    ok(g::DeviceCodecSet::create(kc, &ks));
    ok(g::DeviceCodecSet::create(vc, &vs));
    g::DeviceKvCache dev;
    ok(dev.create(host.k_layout, host.v_layout));
    INFO(c.k << "/" << c.v << " d=" << c.d << " heads=" << c.kv_heads << " n=" << c.n);
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kBf16)) == "append_tq");
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kF32)) == "store");
    const bool v_fast = std::string(c.v).rfind("tq-mse", 0) == 0;
    CHECK(std::string(g::append_kernel_name(vs, host.v_layout, InputType::kBf16)) ==
          (v_fast ? "append_tq" : "store"));
    auto dk = upload(kb), dv = upload(vb);
    auto ds = upload(slots);
    ok(g::append(ks, vs, dk.data(), dv.data(), InputType::kBf16, c.n, ds.as<std::int64_t>(), dev,
                 st));
    ok(st.synchronize());
    REQUIRE(download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st) == host.k_pool);
    REQUIRE(download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st) == host.v_pool);
  }
}

TEST_CASE("GPU warp-cooperative split append (tq-3.5, tq-2.5) is bit-identical", "[cuda]") {
  // append_split_kernel: per-head permutations from a calibration sample (every head its own
  // outliers), several strides per warp (3000 tokens × 8 heads), shuffled 48-token pages, K and
  // V in the two formats (two launches), on different kernels (append_tq_kernel, append_mma
  // kernel: two launches) or both on this one instance (one launch), and the IEEE path (a zero
  // vector, zero channels, a vector with every other channel scaled by 2^-60: under the vote's
  // 2^-40, so its warp recomputes the norms and divides by __fdiv_rn).
  g::Stream st;
  ok(st.create());
  struct Case {
    const char* k;
    const char* v;
    std::uint32_t d, kv_heads;
    std::size_t n;
  };
  std::vector<Case> cases = {{"tq-3.5", "tq-3.5", 128, 8, 3000}, {"tq-2.5", "tq-mse-3", 64, 5, 411},
                             {"tq-3.5", "tq-2.5", 256, 3, 700},  {"tq-2.5", "tq-2.5", 128, 2, 1500},
                             {"tq-3.5", "tq-prod-3", 64, 1, 97}, {"tq-2.5", "tq-3.5", 256, 4, 333}};
  if (reduced()) cases.resize(3);
  const std::uint32_t page_tokens = 48;
  for (const Case& c : cases) {
    const auto calib = heavy_tailed(64 * c.kv_heads, c.d, 17 + c.d);
    const auto kc = make_head_codecs(KvFormat::parse(c.k), c.d, c.kv_heads, {}, calib.data(), 64);
    const auto vc = make_head_codecs(KvFormat::parse(c.v), c.d, c.kv_heads, {}, calib.data(), 64);
    std::uint32_t pages = 0;
    const auto slots = shuffled_page_slots(c.n, page_tokens, c.n * 37 + c.d, &pages);
    HostKvCache host(kc[0], vc[0], pages, page_tokens, c.kv_heads);
    auto k = heavy_tailed(c.n * c.kv_heads, c.d, 5 + c.n), v = gaussian(c.n * c.kv_heads * c.d, 3);
    for (std::uint32_t j = 0; j < c.d; ++j) k[j] = 0.0f;  // token 0, head 0: the zero vector
    for (std::uint32_t j = 0; j < c.d; j += 3) v[c.d + j] = 0.0f;  // zeros inside a vector
    if (c.n * c.kv_heads > 2)
      for (std::uint32_t j = 0; j < c.d; j += 2) k[2 * c.d + j] *= 0x1p-60f;
    const auto kb = round_to_bf16(k), vb = round_to_bf16(v);
    append_ref(kc, vc, k.data(), v.data(), c.n, slots.data(), host);
    g::DeviceCodecSet ks, vs;
    ok(g::DeviceCodecSet::create(kc, &ks));
    ok(g::DeviceCodecSet::create(vc, &vs));
    g::DeviceKvCache dev;
    ok(dev.create(host.k_layout, host.v_layout));
    INFO(c.k << "/" << c.v << " d=" << c.d << " heads=" << c.kv_heads << " n=" << c.n);
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kBf16)) ==
          "append_split");
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kF32)) == "store");
    const std::string v_name = c.v;
    const bool v_split = v_name == "tq-3.5" || v_name == "tq-2.5";
    CHECK(std::string(g::append_kernel_name(vs, host.v_layout, InputType::kBf16)) ==
          (v_split                 ? "append_split"
           : v_name == "tq-prod-3" ? "append_mma"
                                   : "append_tq"));
    auto dk = upload(kb), dv = upload(vb);
    auto ds = upload(slots);
    ok(g::append(ks, vs, dk.data(), dv.data(), InputType::kBf16, c.n, ds.as<std::int64_t>(), dev,
                 st));
    ok(st.synchronize());
    REQUIRE(download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st) == host.k_pool);
    if (v_name == "tq-prod-3") continue;  // QJL signs within ε of 0: the tensor-core test's
    REQUIRE(download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st) == host.v_pool);
  }
}

TEST_CASE("GPU tensor-core append (tq-prod) matches the twin but for QJL signs within ε of 0",
          "[cuda]") {
  // append_mma_kernel: 32-vector tiles per warp, several strides per warp (3000 tokens × 8
  // heads), partial last tiles, shuffled 48-token pages, K and V in different widths (two
  // launches) or one of them on append_tq_kernel, a zero vector (γ = 0) and zero channels.
  // Codes, ‖x‖ and γ must be bit-exact; a sign bit may differ only where the twin's projection
  // lies within qjl_sign_tolerance of 0 (append/append_mma.h), and such projections must be rare.
  g::Stream st;
  ok(st.create());
  struct Case {
    const char* k;
    const char* v;
    std::uint32_t d, kv_heads;
    std::size_t n;
  };
  std::vector<Case> cases = {
      {"tq-prod-4", "tq-prod-4", 128, 8, 3000}, {"tq-prod-2", "tq-prod-3", 64, 5, 411},
      {"tq-prod-3", "tq-mse-4", 128, 3, 700},   {"tq-prod-3", "tq-prod-3", 128, 1, 1},
      {"tq-prod-2", "tq-prod-2", 128, 4, 37},   {"tq-prod-4", "tq-prod-2", 64, 8, 257}};
  if (reduced()) cases = {cases[1], cases[4]};
  const std::uint32_t page_tokens = 48;
  SignStats stats;
  for (const Case& c : cases) {
    const auto kc = make_head_codecs(KvFormat::parse(c.k), c.d, c.kv_heads, {});
    const auto vc = make_head_codecs(KvFormat::parse(c.v), c.d, c.kv_heads, {});
    std::uint32_t pages = 0;
    const auto slots = shuffled_page_slots(c.n, page_tokens, c.n * 17 + c.d, &pages);
    HostKvCache host(kc[0], vc[0], pages, page_tokens, c.kv_heads);
    auto k = heavy_tailed(c.n * c.kv_heads, c.d, 5 + c.n), v = gaussian(c.n * c.kv_heads * c.d, 3);
    if (c.n > 1)
      for (std::uint32_t j = 0; j < c.d; ++j) k[j] = 0.0f;   // token 0, head 0: the zero vector
    for (std::uint32_t j = 0; j < c.d; j += 3) v[j] = 0.0f;  // zeros inside a vector
    const auto kb = round_to_bf16(k), vb = round_to_bf16(v);
    append_ref(kc, vc, k.data(), v.data(), c.n, slots.data(), host);
    g::DeviceCodecSet ks, vs;
    ok(g::DeviceCodecSet::create(kc, &ks));
    ok(g::DeviceCodecSet::create(vc, &vs));
    g::DeviceKvCache dev;
    ok(dev.create(host.k_layout, host.v_layout));
    INFO(c.k << "/" << c.v << " d=" << c.d << " heads=" << c.kv_heads << " n=" << c.n);
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kBf16)) == "append_mma");
    CHECK(std::string(g::append_kernel_name(ks, host.k_layout, InputType::kF32)) == "store");
    const bool v_prod = std::string(c.v).rfind("tq-prod", 0) == 0;
    CHECK(std::string(g::append_kernel_name(vs, host.v_layout, InputType::kBf16)) ==
          (v_prod ? "append_mma" : "append_tq"));
    auto dk = upload(kb), dv = upload(vb);
    auto ds = upload(slots);
    ok(g::append(ks, vs, dk.data(), dv.data(), InputType::kBf16, c.n, ds.as<std::int64_t>(), dev,
                 st));
    ok(st.synchronize());
    check_mma_pool(kc, host.k_layout, k, c.n, slots, host.k_pool,
                   download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st), stats);
    if (v_prod)
      check_mma_pool(vc, host.v_layout, v, c.n, slots, host.v_pool,
                     download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st), stats);
    else
      REQUIRE(download<std::uint8_t>(dev.v_pool, host.v_pool.size(), st) == host.v_pool);
  }
  // Flagged projections are rare (≈ 1e-3 expected for P ~ N(0, γ²)): ≤ 4e-3 of all signs.
  std::printf("append_mma: %zu sign bits, %zu within ε of 0, %zu differ from the twin\n",
              stats.signs, stats.flagged, stats.differ);
  CHECK(stats.signs > 0);
  CHECK(stats.flagged * 1000 <= stats.signs * 4);
  CHECK(stats.differ <= stats.flagged);
}

TEST_CASE("GPU scores and decode attention agree with the CPU twin and float64", "[cuda]") {
  g::Stream st;
  ok(st.create());
  struct Case {
    std::uint32_t d, q_heads, kv_heads;
  };
  const std::vector<std::string> configs = {"bf16",
                                            "tq-mse-4",
                                            "tq-mse-3",
                                            "tq-mse-2",
                                            "tq-2.5",
                                            "tq-3.5",
                                            "tq-prod-3",
                                            "tq-prod-2",
                                            "tq-prod-4",
                                            "fp8",
                                            "int4-kivi",
                                            "k:tq-prod-4/v:tq-mse-3",
                                            "k:tq-mse-4/v:tq-prod-3"};
  std::vector<Case> cases = {Case{128, 32, 8}, Case{64, 7, 7}, Case{256, 16, 2}, Case{128, 8, 1}};
  std::vector<std::string> names = configs;
  if (reduced()) {
    // One GQA and one odd-group case; the generic path (prod keys), the split path and a fast path.
    cases = {Case{128, 32, 8}, Case{64, 7, 7}};
    names = {"bf16", "tq-3.5", "tq-mse-4", "k:tq-prod-4/v:tq-mse-3"};
  }
  for (const Case c : cases)
    for (const auto& name : names) {
      const KvConfig cfg = KvConfig::parse(name);
      const std::uint32_t batch = 3, page_tokens = 16, d = c.d;
      const std::uint32_t max_len = reduced() ? 133 : 733;
      const std::vector<std::uint32_t> lens = {1, max_len, 100};
      const std::uint32_t max_pages = (max_len + page_tokens - 1) / page_tokens;
      std::vector<std::int32_t> table(batch * max_pages);
      for (std::size_t i = 0; i < table.size(); ++i)
        table[i] = static_cast<std::int32_t>((i * 7 + 1) % table.size());
      const std::size_t kv_n = std::size_t{batch} * max_len * c.kv_heads * d;
      const auto k = heavy_tailed(kv_n / d, d, 41), v = gaussian(kv_n, 42);
      const auto q = gaussian(std::size_t{batch} * c.q_heads * d, 43);
      const auto kc = make_head_codecs(cfg.key, d, c.kv_heads, {}, k.data(), max_len);
      const auto vc = make_head_codecs(cfg.value, d, c.kv_heads, {}, v.data(), max_len);
      HostKvCache host(kc[0], vc[0], batch * max_pages, page_tokens, c.kv_heads);
      std::vector<std::int64_t> all_slots;
      std::vector<float> kk, vv;
      for (std::uint32_t b = 0; b < batch; ++b) {
        std::vector<std::int64_t> slots;
        slots_for_positions(table.data(), max_pages, page_tokens, b, 0, lens[b], slots);
        const std::size_t off = std::size_t{b} * max_len * c.kv_heads * d;
        append_ref(kc, vc, k.data() + off, v.data() + off, slots.size(), slots.data(), host);
        all_slots.insert(all_slots.end(), slots.begin(), slots.end());
        kk.insert(kk.end(), k.begin() + off, k.begin() + off + slots.size() * c.kv_heads * d);
        vv.insert(vv.end(), v.begin() + off, v.begin() + off + slots.size() * c.kv_heads * d);
      }
      g::DeviceCodecSet ks, vs;
      ok(g::DeviceCodecSet::create(kc, &ks));
      ok(g::DeviceCodecSet::create(vc, &vs));
      g::DeviceKvCache dev;
      ok(dev.create(host.k_layout, host.v_layout));
      auto dk = upload(kk), dv = upload(vv), ds = upload(all_slots);
      ok(g::append(ks, vs, dk.data(), dv.data(), InputType::kF32, all_slots.size(),
                   ds.as<std::int64_t>(), dev, st));
      ok(st.synchronize());
      INFO(name << " d=" << d << " H=" << c.q_heads << " HKV=" << c.kv_heads);
      REQUIRE(download<std::uint8_t>(dev.k_pool, host.k_pool.size(), st) == host.k_pool);

      auto dtable = upload(table), dlens = upload(lens), dq = upload(q);
      PagedBatch pb{batch,
                    c.q_heads,
                    c.kv_heads,
                    d,
                    dtable.as<std::int32_t>(),
                    max_pages,
                    dlens.as<std::uint32_t>()};
      PagedBatch hb = pb;
      hb.block_table = table.data();
      hb.seq_lens = lens.data();
      // Scores
      std::vector<float> sref(std::size_t{batch} * c.q_heads * max_len, 0.0f);
      scores_ref(kc, host.k_layout, host.k_pool.data(), hb, q.data(), max_len, sref.data());
      g::DeviceBuffer dsc, dqw;
      ok(dsc.allocate(sref.size() * sizeof(float)));
      ok(dsc.zero(st));  // ordered before the scores kernel on the same stream
      ok(dqw.allocate(std::size_t{batch} * c.q_heads * ks.desc.work_width() * sizeof(float)));
      ok(g::scores(ks, dev.k_layout, dev.k_pool.as<std::uint8_t>(), pb, dq.as<float>(),
                   dqw.as<float>(), max_len, dsc.as<float>(), st));
      const auto sg = download<float>(dsc, sref.size(), st);
      for (std::size_t i = 0; i < sref.size(); ++i)
        REQUIRE(sg[i] == Approx(sref[i]).margin(2e-3 * (1 + std::fabs(sref[i]))));
      // Decode: CPU twin error vs float64 bounds the GPU's (FlashAttention's 2× rule + slack).
      const float scale = 1.0f / std::sqrt(float(d));
      std::vector<double> ref(q.size());
      attention_reference_f64(q.data(), k.data(), v.data(), batch, c.q_heads, c.kv_heads, d,
                              max_len, lens.data(), scale, ref.data());
      std::vector<float> cpu(q.size());
      decode_attention_ref(kc, vc, host, hb, q.data(), scale, 1, cpu.data());
      for (std::uint32_t splits : {0u, 1u, 5u}) {
        g::DeviceBuffer dout, ws;
        ok(dout.allocate(q.size() * sizeof(float)));
        ok(ws.allocate(g::decode_workspace_bytes(ks, vs, pb, splits)));
        ok(g::decode_attention(ks, vs, dev, pb, dq.as<float>(), scale, splits, ws.data(),
                               dout.as<float>(), st));
        const auto out = download<float>(dout, q.size(), st);
        double e_gpu = 0, e_cpu = 0;
        for (std::size_t i = 0; i < out.size(); ++i) {
          REQUIRE_FALSE(std::isnan(out[i]));
          e_gpu = std::max(e_gpu, std::fabs(out[i] - ref[i]));
          e_cpu = std::max(e_cpu, std::fabs(cpu[i] - ref[i]));
          REQUIRE(out[i] == Approx(cpu[i]).margin(1e-3 * (1 + std::fabs(cpu[i]))));
        }
        INFO("splits=" << splits << " gpu err " << e_gpu << " cpu err " << e_cpu);
        CHECK(e_gpu <= 2 * e_cpu + 1e-5);
      }
    }
}

TEST_CASE("GPU pipelined decode matches the CPU twin: ragged pages, GQA 1/4/8, odd lengths",
          "[cuda]") {
  // The pipelined kernel (tq-mse-2/3/4, tq-prod-2/3/4, the outlier-split tq-3.5 and tq-2.5, whose
  // per-head outlier channels come from the data) on what it must not get wrong: pages
  // shuffled across sequences with unused table entries (-1), page sizes that are 1, 3 and 8
  // slices of 16 tokens (48 makes the warp's 64-token stride cross pages mid-page), lengths that
  // are not multiples of the 16-token slice (1, 15, 17, 75, 1003) next to one that is, GQA groups
  // 1, 4 and 8, and pools whose unused slots hold random bytes (NaN / Inf norms included) that
  // the tail masking must never let through.
  g::Stream st;
  ok(st.create());
  Rng rng(2024);
  struct Gqa {
    std::uint32_t q_heads, kv_heads;
  };
  const std::vector<Gqa> gqas = {{4, 4}, {16, 4}, {16, 2}};
  std::vector<std::string> formats = {"tq-mse-4",  "tq-mse-3",  "tq-mse-2", "tq-prod-4",
                                      "tq-prod-3", "tq-prod-2", "tq-3.5",   "tq-2.5"};
  std::vector<std::uint32_t> dims = {128, 64, 256};
  const std::vector<std::uint32_t> page_sizes = {16, 48, 128};
  if (reduced()) {
    formats = {"tq-mse-4", "tq-prod-3", "tq-3.5"};
    dims = {128};
  }
  const std::vector<std::uint32_t> lens = {1, 15, 16, 17, 75, 1003};
  const auto batch = static_cast<std::uint32_t>(lens.size());
  const std::uint32_t max_len = 1003;
  int case_index = 0;
  for (const std::uint32_t d : dims)
    for (const auto& name : formats)
      for (const Gqa gq : gqas) {
        // d = 256: one mse width and tq-3.5 (the pipelined path) and one prod width (the generic
        // fallback) keep the suite inside the GPU session's minute.
        if (d == 256 && name != "tq-mse-4" && name != "tq-prod-4" && name != "tq-3.5") continue;
        const std::uint32_t pt = page_sizes[case_index++ % page_sizes.size()];
        const KvFormat f = KvFormat::parse(name);
        const std::uint32_t max_pages = (max_len + pt - 1) / pt + 2;
        std::uint32_t used = 0;
        for (const std::uint32_t len : lens) used += (len + pt - 1) / pt;
        const std::uint32_t total_pages = used + 3;  // three pages no sequence references
        std::vector<std::int32_t> perm(total_pages);
        for (std::uint32_t i = 0; i < total_pages; ++i) perm[i] = static_cast<std::int32_t>(i);
        for (std::uint32_t i = total_pages - 1; i > 0; --i)
          std::swap(perm[i], perm[rng.next_u64() % (i + 1)]);
        std::vector<std::int32_t> table(std::size_t{batch} * max_pages, -1);
        std::uint32_t next = 0;
        for (std::uint32_t b = 0; b < batch; ++b)
          for (std::uint32_t p = 0; p < (lens[b] + pt - 1) / pt; ++p)
            table[std::size_t{b} * max_pages + p] = perm[next++];
        const std::size_t kv_n = std::size_t{batch} * max_len * gq.kv_heads * d;
        const auto k = heavy_tailed(kv_n / d, d, 51 + case_index);
        const auto v = gaussian(kv_n, 52 + case_index);
        const auto q = gaussian(std::size_t{batch} * gq.q_heads * d, 53 + case_index);
        // Split formats: each head's outliers from its own data (a permutation per head and per
        // K/V stream, which the prologue and combine apply; the kernel sees the codec domain).
        const bool split = f.scheme == KvScheme::kTqSplit;
        const auto kc = make_head_codecs(f, d, gq.kv_heads, {}, split ? k.data() : nullptr,
                                         split ? max_len : 0);
        const auto vc = make_head_codecs(f, d, gq.kv_heads, {}, split ? v.data() : nullptr,
                                         split ? max_len : 0);
        HostKvCache host(kc[0], vc[0], total_pages, pt, gq.kv_heads);
        for (auto* pool : {&host.k_pool, &host.v_pool})
          for (auto& byte : *pool) byte = static_cast<std::uint8_t>(rng.next_u64());
        for (std::uint32_t b = 0; b < batch; ++b) {
          std::vector<std::int64_t> slots;
          slots_for_positions(table.data(), max_pages, pt, b, 0, lens[b], slots);
          const std::size_t off = std::size_t{b} * max_len * gq.kv_heads * d;
          append_ref(kc, vc, k.data() + off, v.data() + off, slots.size(), slots.data(), host);
        }
        g::DeviceCodecSet ks, vs;
        ok(g::DeviceCodecSet::create(kc, &ks));
        ok(g::DeviceCodecSet::create(vc, &vs));
        g::DeviceKvCache dev;
        ok(dev.create(host.k_layout, host.v_layout));
        ok(dev.k_pool.upload(host.k_pool.data(), host.k_pool.size()));
        ok(dev.v_pool.upload(host.v_pool.data(), host.v_pool.size()));
        auto dtable = upload(table), dlens = upload(lens), dq = upload(q);
        PagedBatch pb{batch,
                      gq.q_heads,
                      gq.kv_heads,
                      d,
                      dtable.as<std::int32_t>(),
                      max_pages,
                      dlens.as<std::uint32_t>()};
        PagedBatch hb = pb;
        hb.block_table = table.data();
        hb.seq_lens = lens.data();
        INFO(name << " d=" << d << " H=" << gq.q_heads << " HKV=" << gq.kv_heads
                  << " page_tokens=" << pt);
        // tq-prod at head_dim 256 keeps the generic kernel (register budget); all else, the split
        // formats included, is ours.
        const bool pipelined = !(f.scheme == KvScheme::kTqProd && d == 256);
        REQUIRE(g::decode_kernel_name(ks, vs, dev, pb) ==
                std::string(pipelined ? "pipelined" : "split-generic"));
        const float scale = 1.0f / std::sqrt(float(d));
        std::vector<float> cpu(q.size());
        decode_attention_ref(kc, vc, host, hb, q.data(), scale, 1, cpu.data());
        for (std::uint32_t splits : {0u, 1u, 3u}) {
          g::DeviceBuffer dout, ws;
          ok(dout.allocate(q.size() * sizeof(float)));
          ok(ws.allocate(g::decode_workspace_bytes(ks, vs, pb, splits)));
          ok(g::decode_attention(ks, vs, dev, pb, dq.as<float>(), scale, splits, ws.data(),
                                 dout.as<float>(), st));
          const auto out = download<float>(dout, q.size(), st);
          INFO("splits=" << splits);
          for (std::size_t i = 0; i < out.size(); ++i) {
            REQUIRE(std::isfinite(out[i]));
            REQUIRE(out[i] == Approx(cpu[i]).margin(1e-3 * (1 + std::fabs(cpu[i]))));
          }
        }
      }
}

TEST_CASE("GPU causal softmax and SiLU·mul match their CPU twins") {
  g::Stream st;
  ok(st.create());
  Rng rng(77);
  for (auto [keys, chunk, offset, heads] :
       {std::tuple{37u, 5u, 32u, 3u}, std::tuple{300u, 100u, 200u, 2u},
        std::tuple{1025u, 33u, 992u, 4u}}) {
    const std::uint32_t queries = chunk * heads;
    std::vector<float> s(std::size_t{keys} * queries), p(s.size());
    for (auto& x : s) x = static_cast<float>(3 * rng.normal());
    causal_softmax_ref(s.data(), keys, queries, chunk, offset, 0.3f, p.data());
    auto ds = upload(s);
    g::DeviceBuffer dp;
    ok(dp.allocate(s.size() * 2));
    ok(g::causal_softmax(ds.as<float>(), keys, queries, chunk, offset, 0.3f, dp.data(), st));
    const auto got = download<std::uint16_t>(dp, s.size(), st);
    for (std::size_t i = 0; i < s.size(); ++i)
      REQUIRE(bf16_to_float(got[i]) == Approx(p[i]).margin(2e-3 + 8e-3 * p[i]));
  }
  const std::uint32_t width = 333, tokens = 7;
  std::vector<float> gu(2 * width * tokens), out(width * tokens);
  std::vector<std::uint16_t> gub(gu.size());
  for (std::size_t i = 0; i < gu.size(); ++i) {
    gub[i] = float_to_bf16(static_cast<float>(2 * rng.normal()));
    gu[i] = bf16_to_float(gub[i]);
  }
  silu_mul_ref(gu.data(), width, tokens, out.data());
  auto dgu = upload(gub);
  g::DeviceBuffer dout;
  ok(dout.allocate(out.size() * 2));
  ok(g::silu_mul(dgu.data(), width, tokens, dout.data(), st));
  const auto got = download<std::uint16_t>(dout, out.size(), st);
  for (std::size_t i = 0; i < out.size(); ++i)
    REQUIRE(bf16_to_float(got[i]) == Approx(out[i]).margin(1e-3 + 8e-3 * std::fabs(out[i])));
}

TEST_CASE("GPU synthetic step runs when cuBLAS can be opened") {
  std::string why;
  if (!g::cublas_available(&why)) {
    WARN("cuBLAS not available, synthetic GPU step not run: " << why);
    return;
  }
  LayerDims d;
  d.hidden = 1024;
  d.q_heads = 8;
  d.kv_heads = 2;
  d.head_dim = 128;
  d.intermediate = 2816;
  d.vocab = 4096;
  for (bool prefill : {false, true}) {
    StepRequest r;
    r.prefill = prefill;
    r.batch = prefill ? 2 : 16;
    r.context = 512;
    r.chunk = prefill ? 256 : 1;
    StepTiming t;
    ok(g::measure_step(d, KvConfig::parse("tq-3.5"), r, 2, 64, 3, &t));
    CHECK(t.layers_ns > 0);
    CHECK(t.lm_head_ns > 0);
  }
}
