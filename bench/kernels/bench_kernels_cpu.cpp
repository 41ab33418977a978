// CPU twins: bytes moved per second against a memcpy of the same bytes (bench/RESULTS.md).
// The twins are references, single-threaded and unvectorised; these figures say how far they are
// from the host's memory bandwidth, not how fast TurboQuant can run on a CPU.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>

#include "append/append.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "jevons/core/kv_format.h"

using namespace jevons;
using namespace jevons::kernels;

namespace {

constexpr std::uint32_t kD = 128, kH = 32, kHkv = 8, kPage = 64;

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

const char* kFormats[] = {"bf16",     "fp8",    "int4-kivi", "tq-mse-4",
                          "tq-mse-3", "tq-2.5", "tq-3.5",    "tq-prod-3"};

struct Fixture {
  std::vector<VectorCodec> kc, vc;
  HostKvCache cache;
  std::vector<std::int32_t> table;
  std::vector<std::uint32_t> lens;
  std::vector<float> q, out;
  std::uint64_t bytes;
  Fixture(const KvFormat& f, std::uint32_t batch, std::uint32_t len)
      : kc(make_head_codecs(f, kD, kHkv, {})),
        vc(make_head_codecs(f, kD, kHkv, {})),
        cache(kc[0], vc[0], batch * (len / kPage), kPage, kHkv) {
    const std::uint32_t pages = batch * (len / kPage);
    const auto k = gaussian(std::size_t{kPage} * kHkv * kD, 1), v = gaussian(k.size(), 2);
    std::vector<std::int64_t> slots(kPage);
    for (std::uint32_t i = 0; i < kPage; ++i) slots[i] = i;
    append_ref(kc, vc, k.data(), v.data(), kPage, slots.data(), cache);
    for (std::uint32_t p = 1; p < pages; ++p) {
      std::memcpy(&cache.k_pool[p * cache.k_layout.page_bytes()], cache.k_pool.data(),
                  cache.k_layout.page_bytes());
      std::memcpy(&cache.v_pool[p * cache.v_layout.page_bytes()], cache.v_pool.data(),
                  cache.v_layout.page_bytes());
    }
    for (std::uint32_t i = 0; i < pages; ++i) table.push_back(static_cast<std::int32_t>(i));
    lens.assign(batch, len);
    q = gaussian(std::size_t{batch} * kH * kD, 3);
    out.resize(q.size());
    bytes = cache.k_pool.size() + cache.v_pool.size();
  }
};

void BM_DecodeRef(benchmark::State& state, const char* name) {
  const std::uint32_t batch = 1, len = static_cast<std::uint32_t>(state.range(0));
  Fixture fx(KvFormat::parse(name), batch, len);
  PagedBatch pb{batch, kH, kHkv, kD, fx.table.data(), len / kPage, fx.lens.data()};
  for (auto _ : state) {
    decode_attention_ref(fx.kc, fx.vc, fx.cache, pb, fx.q.data(), 1.0f / std::sqrt(float(kD)), 1,
                         fx.out.data());
    benchmark::DoNotOptimize(fx.out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * fx.bytes));
  state.counters["cache_bytes"] = static_cast<double>(fx.bytes);
}

void BM_AppendRef(benchmark::State& state, const char* name) {
  const KvFormat f = KvFormat::parse(name);
  const std::uint32_t tokens = 256;
  const auto kc = make_head_codecs(f, kD, kHkv, {}), vc = make_head_codecs(f, kD, kHkv, {});
  HostKvCache cache(kc[0], vc[0], tokens / kPage, kPage, kHkv);
  const auto k = gaussian(std::size_t{tokens} * kHkv * kD, 4), v = gaussian(k.size(), 5);
  std::vector<std::int64_t> slots(tokens);
  for (std::uint32_t i = 0; i < tokens; ++i) slots[i] = i;
  for (auto _ : state) {
    append_ref(kc, vc, k.data(), v.data(), tokens, slots.data(), cache);
    benchmark::DoNotOptimize(cache.k_pool.data());
  }
  // Bytes moved: bf16 K/V in (what a model hands over) plus the compressed bytes out.
  const double per_token = double(kHkv) * (2 * 2 * kD + f.bytes_per_vector(kD) * 2.0);
  state.SetBytesProcessed(
      static_cast<std::int64_t>(double(state.iterations()) * tokens * per_token));
  state.counters["ns_per_token"] = benchmark::Counter(
      double(tokens), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Memcpy(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  std::vector<char> a(bytes, 1), b(bytes, 0);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), bytes);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* f : kFormats) {
    benchmark::RegisterBenchmark((std::string("DecodeRef/") + f).c_str(), BM_DecodeRef, f)
        ->Arg(4096)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("AppendRef/") + f).c_str(), BM_AppendRef, f)
        ->Unit(benchmark::kMillisecond);
  }
  // memcpy of the decode's cache bytes at L=4096: bf16 (16.8 MB) and tq-mse-4 (4.3 MB).
  benchmark::RegisterBenchmark("Memcpy", BM_Memcpy)
      ->Arg(16777216)
      ->Arg(4325376)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
