// GPU kernel benchmark (issue targets; results in bench/RESULTS.md):
//  1. B=32 L=16384 H=32 HKV=8 D=128: fused decode for tq-mse-4 / tq-mse-3 / tq-3.5 / tq-2.5 /
//     tq-prod-4 (all on the pipelined tensor-core kernel) vs the project's bf16 split-KV kernel
//     (the bf16 SDPA stand-in: the lent machine has no PyTorch) and vs each format's byte floor
//     (compressed bytes / measured copy BW); every line names the split kernel that ran;
//  2. B=1, L = 4k..128k: the same formats against bf16 (small-batch latency);
//  3. append bandwidth (bf16 K/V in + compressed bytes out, per second) vs copy bandwidth.
// Every timed run starts with L2 flushed (time_median_ns), so short contexts are not flattered.
// Usage: bench_kernels_gpu [--json PATH] [--iterations N] [--quick] [--dry-run]
//   --quick    only point 1 (the B=32 / L=16k comparison), for a GPU session of a few minutes;
//   --dry-run  print the points and their compressed bytes, touch no device (CI runs this).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "append/append.h"
#include "common/device.h"
#include "common/numeric.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "jevons/core/kv_format.h"

using namespace jevons;
using namespace jevons::kernels;
namespace g = jevons::kernels::gpu;

namespace {

constexpr std::uint32_t kH = 32, kHkv = 8, kD = 128, kPage = 64;

bool check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
  return s.ok();
}

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

struct Result {
  std::string format, kernel;
  std::uint32_t batch;
  std::uint64_t len;
  double decode_ms, bytes, floor_ms, append_ns_per_token, append_bw;
};

bool run_point(const std::string& name, std::uint32_t batch, std::uint32_t len, double copy_bw,
               int iterations, Result& r) {
  const KvFormat f = KvFormat::parse(name);
  const auto kc = make_head_codecs(f, kD, kHkv, {}), vc = make_head_codecs(f, kD, kHkv, {});
  g::DeviceCodecSet ks, vs;
  if (!check(g::DeviceCodecSet::create(kc, &ks), "codecs") ||
      !check(g::DeviceCodecSet::create(vc, &vs), "codecs"))
    return false;
  const std::uint32_t pps = (len + kPage - 1) / kPage, pages = batch * pps;
  g::DeviceKvCache cache;
  if (!check(cache.create(make_pool_layout(kc[0], pages, kPage, kHkv),
                          make_pool_layout(vc[0], pages, kPage, kHkv)),
             "pools"))
    return false;
  g::Stream st;
  if (!check(st.create(), "stream")) return false;
  const std::size_t total = std::size_t{pages} * kPage, block = std::min<std::size_t>(total, 32768);
  std::vector<std::uint16_t> kb(block * kHkv * kD), vb(kb.size());
  {
    const auto kf = gaussian(kb.size(), 1), vf = gaussian(kb.size(), 2);
    for (std::size_t i = 0; i < kb.size(); ++i)
      kb[i] = float_to_bf16(kf[i]), vb[i] = float_to_bf16(vf[i]);
  }
  std::vector<std::int64_t> slots(total);
  for (std::size_t i = 0; i < total; ++i) slots[i] = static_cast<std::int64_t>(i);
  g::DeviceBuffer dk, dv, ds, dt, dl, dq, dout, ws;
  if (!check(dk.assign(kb), "upload") || !check(dv.assign(vb), "upload") ||
      !check(ds.assign(slots), "upload"))
    return false;
  for (std::size_t t0 = 0; t0 < total; t0 += block)
    if (!check(g::append(ks, vs, dk.data(), dv.data(), InputType::kBf16,
                         std::min(block, total - t0), ds.as<std::int64_t>() + t0, cache, st),
               "append"))
      return false;
  double append_ns = 0;
  if (!check(g::time_median_ns(
                 st, iterations,
                 [&] {
                   return g::append(ks, vs, dk.data(), dv.data(), InputType::kBf16, block,
                                    ds.as<std::int64_t>(), cache, st);
                 },
                 &append_ns, /*flush_l2=*/true),
             "time append"))
    return false;
  std::vector<std::int32_t> table(pages);
  for (std::uint32_t i = 0; i < pages; ++i) table[i] = static_cast<std::int32_t>(i);
  std::vector<std::uint32_t> lens(batch, len);
  if (!check(dt.assign(table), "upload") || !check(dl.assign(lens), "upload") ||
      !check(dq.assign(gaussian(std::size_t{batch} * kH * kD, 3)), "upload") ||
      !check(dout.allocate(std::size_t{batch} * kH * kD * 4), "alloc"))
    return false;
  PagedBatch pb{batch, kH, kHkv, kD, dt.as<std::int32_t>(), pps, dl.as<std::uint32_t>()};
  if (!check(ws.allocate(g::decode_workspace_bytes(ks, vs, pb, 0)), "workspace")) return false;
  double decode_ns = 0;
  if (!check(g::time_median_ns(
                 st, iterations,
                 [&] {
                   return g::decode_attention(ks, vs, cache, pb, dq.as<float>(),
                                              1.0f / std::sqrt(float(kD)), 0, ws.data(),
                                              dout.as<float>(), st);
                 },
                 &decode_ns, /*flush_l2=*/true),
             "time decode"))
    return false;
  r.format = name;
  r.kernel = g::decode_kernel_name(ks, vs, cache, pb);
  r.batch = batch;
  r.len = len;
  r.decode_ms = decode_ns * 1e-6;
  r.bytes = double(batch) * len * kHkv * 2.0 * double(f.bytes_per_vector(kD));
  r.floor_ms = r.bytes / copy_bw * 1e3;
  r.append_ns_per_token = append_ns / double(block);
  r.append_bw =
      double(block) * kHkv * 2.0 * (2.0 * kD + double(f.bytes_per_vector(kD))) / (append_ns * 1e-9);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  int iterations = 20;
  bool quick = false, dry_run = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
      json_path = argv[++i];
    else if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc)
      iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else if (!std::strcmp(argv[i], "--dry-run"))
      dry_run = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_kernels_gpu [--json PATH] [--iterations N] [--quick] "
                   "[--dry-run]\n");
      return 2;
    }
  }
  // tq-prod-4 in the quick run too: its append is the tensor-core kernel (append_mma) and its
  // decode the pipelined kernel's QJL path, neither yet timed on a GPU.
  std::vector<const char*> formats = {"bf16",   "tq-mse-4", "tq-mse-3",
                                      "tq-3.5", "tq-2.5",   "tq-prod-4"};
  std::vector<std::pair<std::uint32_t, std::uint32_t>> points = {{32, 16384}};
  if (!quick) {
    for (std::uint32_t len : {4096u, 16384u, 32768u, 65536u, 131072u}) points.push_back({1, len});
  }
  if (dry_run) {
    for (const auto& [batch, len] : points)
      for (const char* f : formats)
        std::printf("plan: B=%-3u L=%-7u %-9s K+V bytes read per step %.1f MB\n", batch, len, f,
                    double(batch) * len * kHkv * 2.0 *
                        double(KvFormat::parse(f).bytes_per_vector(kD)) * 1e-6);
    std::printf("dry run: no device calls (%zu points, %d iterations each, L2 flushed per run)\n",
                points.size() * formats.size(), iterations);
    return 0;
  }
  if (g::device_count() == 0) {
    std::printf("SKIPPED: no CUDA device present\n");
    return 77;
  }
  g::DeviceInfo info;
  double copy_bw = 0;
  if (!check(g::device_info(0, &info), "device") ||
      !check(g::copy_bandwidth(std::size_t{1} << 30, 20, &copy_bw), "copy"))
    return 3;
  std::printf("# %s, driver %s, runtime %s, d2d copy %.3f TB/s (read+write)\n", info.name.c_str(),
              info.driver_version.c_str(), info.runtime_version.c_str(), copy_bw * 1e-12);
  std::vector<Result> results;
  auto report = [&](std::uint32_t batch, std::uint32_t len) {
    double bf16_ms = 0;
    for (const char* f : formats) {
      Result r{};
      if (!run_point(f, batch, len, copy_bw, iterations, r)) continue;
      if (r.format == "bf16") bf16_ms = r.decode_ms;
      std::printf(
          "B=%-3u L=%-7u %-9s %-13s decode %8.4f ms  floor %8.4f ms  %5.1f%% of copy BW  "
          "%5.2fx vs bf16  append %7.2f ns/tok %6.3f TB/s (%4.1f%% of copy)\n",
          batch, len, r.format.c_str(), r.kernel.c_str(), r.decode_ms, r.floor_ms,
          100.0 * r.floor_ms / r.decode_ms, bf16_ms > 0 ? bf16_ms / r.decode_ms : 0.0,
          r.append_ns_per_token, r.append_bw * 1e-12, 100.0 * r.append_bw / copy_bw);
      results.push_back(r);
    }
  };
  for (const auto& [batch, len] : points) report(batch, len);
  if (!json_path.empty()) {
    if (FILE* f = std::fopen(json_path.c_str(), "w")) {
      std::fprintf(f, "{\"device\":\"%s\",\"copy_bytes_per_s\":%.6e,\"points\":[\n",
                   info.name.c_str(), copy_bw);
      for (std::size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        std::fprintf(
            f,
            "%s{\"format\":\"%s\",\"kernel\":\"%s\",\"B\":%u,\"L\":%llu,\"decode_ms\":%.6f,"
            "\"bytes\":%.0f,"
            "\"floor_ms\":%.6f,\"append_ns_per_token\":%.4f,\"append_bytes_per_s\":%.6e}\n",
            i ? "," : "", r.format.c_str(), r.kernel.c_str(), r.batch,
            static_cast<unsigned long long>(r.len), r.decode_ms, r.bytes, r.floor_ms,
            r.append_ns_per_token, r.append_bw);
      }
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
  }
  return 0;
}
