// The kernels profiler (see profiler.h). CPU path: the CPU twins, single-threaded. GPU path: the
// CUDA kernels with cudaEvent timing. Accuracy is measured on a small fixed problem through the
// same device path that is timed, against a float64 reference.
#include "profiler/profiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "append/append.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "jevons/core/build_info.h"
#include "jevons/core/catalog.h"
#include "jevons/core/kv_format.h"
#include "model_step/model_step.h"
#include "profiler/step_models.h"

#if defined(JEVONS_HAVE_CUDA)
#include "common/device.h"
#include "common/numeric.h"
#endif

namespace jevons::kernels::profiler {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string> kAllFormats = {"bf16",
                                              "fp8",
                                              "int4-kivi",
                                              "tq-mse-1",
                                              "tq-mse-2",
                                              "tq-mse-3",
                                              "tq-mse-4",
                                              "tq-prod-2",
                                              "tq-prod-3",
                                              "tq-prod-4",
                                              "tq-2.5",
                                              "tq-3.5",
                                              "k:tq-prod-4/v:tq-mse-3"};

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

template <class F>
double time_median_ns_host(int iterations, F&& fn) {
  fn();  // warm-up: first-touch pages, caches
  std::vector<double> t;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  return median(std::move(t));
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Catalog::default_dir() without linking the catalog (the kernels-only build has no YAML reader).
std::string data_dir() {
  if (const char* env = std::getenv("JEVONS_DATA_DIR"); env && *env) return env;
  return JEVONS_SOURCE_DATA_DIR;
}

std::string catalog_id_for(const std::string& name) {
  // Only what the device reports unambiguously; anything else stays unmapped ("").
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("H100") && (has("HBM3") || has("SXM"))) return "h100-sxm";
  if (has("H200")) return "h200";
  if (has("A100") && has("80GB")) return "a100-80gb";
  if (has("A100") && has("40GB")) return "a100-40gb";
  if (has("GB200")) return "gb200";
  if (has("B200")) return "b200";
  return "";
}

// One synthetic batch shared by the accuracy measurement: GQA, needles so softmax is peaked.
struct AccuracyProblem {
  std::uint32_t batch = 2, q_heads, kv_heads, d, len = 512, page_tokens;
  std::vector<float> q, k, v;
  std::vector<std::int32_t> table;
  std::vector<std::uint32_t> lens;
  std::vector<double> ref;
  AccuracyProblem(std::uint32_t qh, std::uint32_t kvh, std::uint32_t dim, std::uint32_t pt)
      : q_heads(qh), kv_heads(kvh), d(dim), page_tokens(pt) {
    k = gaussian(std::size_t{batch} * len * kv_heads * d, 71);
    v = gaussian(k.size(), 72);
    q = gaussian(std::size_t{batch} * q_heads * d, 73);
    for (std::uint32_t b = 0; b < batch; ++b)
      for (std::uint32_t t = 3; t < len; t += 41)
        for (std::uint32_t h = 0; h < kv_heads; ++h) {
          float* kk = &k[((std::size_t{b} * len + t) * kv_heads + h) * d];
          const float* qq = &q[(std::size_t{b} * q_heads + h * (q_heads / kv_heads)) * d];
          for (std::uint32_t j = 0; j < d; ++j) kk[j] = 0.5f * kk[j] + 1.5f * qq[j];
        }
    const std::uint32_t pages = len / page_tokens;
    for (std::uint32_t i = 0; i < batch * pages; ++i) table.push_back(static_cast<std::int32_t>(i));
    lens.assign(batch, len);
    ref.resize(q.size());
    attention_reference_f64(q.data(), k.data(), v.data(), batch, q_heads, kv_heads, d, len,
                            lens.data(), 1.0 / std::sqrt(double(d)), ref.data());
  }
  std::uint32_t pages_per_seq() const { return len / page_tokens; }
  void compare(const std::vector<float>& out, AttentionPoint& pt) const {
    double ab = 0, aa = 0, bb = 0, diff = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      ab += out[i] * ref[i];
      aa += double{out[i]} * out[i];
      bb += ref[i] * ref[i];
      diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    }
    pt.attention_cosine = ab / std::sqrt(aa * bb);
    pt.attention_rel_error = std::sqrt(diff / bb);
  }
};

// MSE (relative, on keys) and d·E[(⟨q,k̃⟩ − ⟨q,k⟩)²] for unit vectors, through the key codec.
void vector_accuracy(const VectorCodec& c, std::size_t n, AttentionPoint& pt) {
  const std::uint32_t d = c.dim();
  auto x = gaussian(n * d, 91), y = gaussian(n * d, 92);
  for (auto* m : {&x, &y})
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::uint32_t j = 0; j < d; ++j) s += double{(*m)[i * d + j]} * (*m)[i * d + j];
      for (std::uint32_t j = 0; j < d; ++j)
        (*m)[i * d + j] = static_cast<float>((*m)[i * d + j] / std::sqrt(s));
    }
  std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes() + 1);
  std::vector<float> xt(d), qw(c.work_width());
  double mse = 0, ip = 0;
  for (std::size_t i = 0; i < n; ++i) {
    c.encode(&x[i * d], code.data(), meta.data());
    c.decode(code.data(), meta.data(), xt.data());
    c.prepare_query(&y[i * d], qw.data());
    double exact = 0;
    for (std::uint32_t j = 0; j < d; ++j) {
      mse += (double{xt[j]} - x[i * d + j]) * (double{xt[j]} - x[i * d + j]);
      exact += double{x[i * d + j]} * y[i * d + j];
    }
    const double e = c.score(qw.data(), code.data(), meta.data()) - exact;
    ip += e * e;
  }
  pt.mse = mse / static_cast<double>(n);
  pt.inner_product_error = d * ip / static_cast<double>(n);
}

struct Shape {
  std::uint32_t d, batch, q_heads, kv_heads, page_tokens;
  std::uint64_t context;
  std::uint32_t pages_per_seq() const {
    return static_cast<std::uint32_t>((context + page_tokens - 1) / page_tokens);
  }
};

PagedBatch make_batch(const Shape& s, const std::int32_t* table, const std::uint32_t* lens) {
  PagedBatch pb;
  pb.batch = s.batch;
  pb.q_heads = s.q_heads;
  pb.kv_heads = s.kv_heads;
  pb.head_dim = s.d;
  pb.block_table = table;
  pb.max_pages_per_seq = s.pages_per_seq();
  pb.seq_lens = lens;
  return pb;
}

std::vector<VectorCodec> codecs_for(const KvFormat& f, const Shape& s, std::uint64_t seed) {
  // Calibration sample for split formats: 256 random tokens (real runs calibrate on prefill).
  const auto calib = gaussian(std::size_t{256} * s.kv_heads * s.d, seed + 7);
  CodecOptions o;
  o.seed = seed;
  return make_head_codecs(f, s.d, s.kv_heads, o, calib.data(), 256);
}

// ---------------------------------------------------------------------------------------------
// CPU path

void measure_cpu(const KvConfig& cfg, const Shape& s, int iterations, AttentionPoint& pt) {
  const auto kc = codecs_for(cfg.key, s, 1001), vc = codecs_for(cfg.value, s, 2002);
  const std::uint32_t pps = s.pages_per_seq();
  const std::uint32_t pages = s.batch * pps;
  HostKvCache cache(kc[0], vc[0], pages, s.page_tokens, s.kv_heads);
  const double slots = double(pages) * s.page_tokens * s.kv_heads;
  pt.bytes_per_token_allocated = double(cache.k_pool.size() + cache.v_pool.size()) / slots;

  // Append: quantize a block of pages for real (timed), then replicate its bytes to every page:
  // decode time does not depend on the values, and quantizing millions of tokens on one core
  // would dominate the run.
  const std::uint32_t tpl_pages = std::min<std::uint32_t>(pages, 4);
  const std::size_t tpl_tokens = std::size_t{tpl_pages} * s.page_tokens;
  const auto k = gaussian(tpl_tokens * s.kv_heads * s.d, 11), v = gaussian(k.size(), 12);
  std::vector<std::int64_t> slot_ids(tpl_tokens);
  for (std::size_t i = 0; i < tpl_tokens; ++i) slot_ids[i] = static_cast<std::int64_t>(i);
  const double append_ns = time_median_ns_host(std::max(1, iterations / 2), [&] {
    append_ref(kc, vc, k.data(), v.data(), tpl_tokens, slot_ids.data(), cache);
  });
  pt.append_time_ns_per_token = append_ns / double(tpl_tokens);
  for (std::uint32_t p = tpl_pages; p < pages; ++p) {
    std::memcpy(cache.k_pool.data() + p * cache.k_layout.page_bytes(),
                cache.k_pool.data() + (p % tpl_pages) * cache.k_layout.page_bytes(),
                cache.k_layout.page_bytes());
    std::memcpy(cache.v_pool.data() + p * cache.v_layout.page_bytes(),
                cache.v_pool.data() + (p % tpl_pages) * cache.v_layout.page_bytes(),
                cache.v_layout.page_bytes());
  }
  std::vector<std::int32_t> table(pages);
  for (std::uint32_t i = 0; i < pages; ++i) table[i] = static_cast<std::int32_t>(i);
  std::vector<std::uint32_t> lens(s.batch, static_cast<std::uint32_t>(s.context));
  const PagedBatch pb = make_batch(s, table.data(), lens.data());
  const auto q = gaussian(std::size_t{s.batch} * s.q_heads * s.d, 13);
  std::vector<float> out(q.size());
  const float scale = 1.0f / std::sqrt(float(s.d));
  pt.decode_time_ns = time_median_ns_host(
      iterations, [&] { decode_attention_ref(kc, vc, cache, pb, q.data(), scale, 1, out.data()); });
}

void accuracy_cpu(const KvConfig& cfg, const Shape& s, const Grid& g, AttentionPoint& pt) {
  const auto kc = codecs_for(cfg.key, s, 1001);
  vector_accuracy(kc[0], g.accuracy_vectors, pt);
  AccuracyProblem p(s.q_heads, s.kv_heads, s.d, s.page_tokens);
  CodecOptions o;
  const auto kcc = make_head_codecs(cfg.key, s.d, s.kv_heads, o, p.k.data(), p.len);
  const auto vcc = make_head_codecs(cfg.value, s.d, s.kv_heads, o, p.v.data(), p.len);
  HostKvCache cache(kcc[0], vcc[0], p.batch * p.pages_per_seq(), p.page_tokens, s.kv_heads);
  for (std::uint32_t b = 0; b < p.batch; ++b) {
    std::vector<std::int64_t> slots;
    slots_for_positions(p.table.data(), p.pages_per_seq(), p.page_tokens, b, 0, p.len, slots);
    const std::size_t off = std::size_t{b} * p.len * s.kv_heads * s.d;
    append_ref(kcc, vcc, p.k.data() + off, p.v.data() + off, slots.size(), slots.data(), cache);
  }
  Shape as = s;
  as.batch = p.batch;
  as.context = p.len;
  const PagedBatch pb = make_batch(as, p.table.data(), p.lens.data());
  std::vector<float> out(p.q.size());
  decode_attention_ref(kcc, vcc, cache, pb, p.q.data(), 1.0f / std::sqrt(float(s.d)), 1,
                       out.data());
  p.compare(out, pt);
}

double memcpy_bandwidth() {
  const std::size_t bytes = std::size_t{256} << 20;
  std::vector<char> a(bytes, 1), b(bytes, 0);
  const double ns = time_median_ns_host(5, [&] { std::memcpy(b.data(), a.data(), bytes); });
  return 2.0 * double(bytes) / (ns * 1e-9);  // read + write, like the GPU's d2d figure
}

// ---------------------------------------------------------------------------------------------
// GPU path

#if defined(JEVONS_HAVE_CUDA)

void check(const Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.message());
}

struct GpuProblem {
  gpu::DeviceCodecSet kset, vset;
  gpu::DeviceKvCache cache;
  gpu::DeviceBuffer table, lens, q, out, workspace, slots, kin, vin;
};

void build_gpu(const std::vector<VectorCodec>& kc, const std::vector<VectorCodec>& vc,
               const Shape& s, GpuProblem& g) {
  check(gpu::DeviceCodecSet::create(kc, &g.kset), "upload key codecs");
  check(gpu::DeviceCodecSet::create(vc, &g.vset), "upload value codecs");
  const std::uint32_t pages = s.batch * s.pages_per_seq();
  check(g.cache.create(make_pool_layout(kc[0], pages, s.page_tokens, s.kv_heads),
                       make_pool_layout(vc[0], pages, s.page_tokens, s.kv_heads)),
        "allocate KV pools");
}

void measure_gpu(const KvConfig& cfg, const Shape& s, int iterations, AttentionPoint& pt) {
  const auto kc = codecs_for(cfg.key, s, 1001), vc = codecs_for(cfg.value, s, 2002);
  GpuProblem g;
  build_gpu(kc, vc, s, g);
  gpu::Stream stream;
  check(stream.create(), "create stream");
  const std::uint32_t pps = s.pages_per_seq();
  const std::uint32_t pages = s.batch * pps;
  const double slot_count = double(pages) * s.page_tokens * s.kv_heads;
  pt.bytes_per_token_allocated =
      double(g.cache.k_pool.bytes() + g.cache.v_pool.bytes()) / slot_count;

  // Input block of bf16 tokens, appended over and over to fill every page through the kernel.
  const std::size_t total_tokens = std::size_t{pages} * s.page_tokens;
  const std::size_t block = std::min<std::size_t>(total_tokens, 16384);
  {
    const auto kf = gaussian(block * s.kv_heads * s.d, 21), vf = gaussian(kf.size(), 22);
    std::vector<std::uint16_t> kb(kf.size()), vb(vf.size());
    for (std::size_t i = 0; i < kf.size(); ++i)
      kb[i] = float_to_bf16(kf[i]), vb[i] = float_to_bf16(vf[i]);
    check(g.kin.assign(kb), "upload K input");
    check(g.vin.assign(vb), "upload V input");
  }
  std::vector<std::int64_t> slot_ids(total_tokens);
  for (std::size_t i = 0; i < total_tokens; ++i) slot_ids[i] = static_cast<std::int64_t>(i);
  check(g.slots.assign(slot_ids), "upload slots");
  for (std::size_t t0 = 0; t0 < total_tokens; t0 += block) {
    const std::size_t n = std::min(block, total_tokens - t0);
    check(gpu::append(g.kset, g.vset, g.kin.data(), g.vin.data(), InputType::kBf16, n,
                      g.slots.as<std::int64_t>() + t0, g.cache, stream),
          "append");
  }
  double append_ns = 0;
  check(gpu::time_median_ns(
            stream, iterations,
            [&] {
              return gpu::append(g.kset, g.vset, g.kin.data(), g.vin.data(), InputType::kBf16,
                                 block, g.slots.as<std::int64_t>(), g.cache, stream);
            },
            &append_ns, /*flush_l2=*/true),
        "time append");
  pt.append_time_ns_per_token = append_ns / double(block);

  std::vector<std::int32_t> table(pages);
  for (std::uint32_t i = 0; i < pages; ++i) table[i] = static_cast<std::int32_t>(i);
  std::vector<std::uint32_t> lens(s.batch, static_cast<std::uint32_t>(s.context));
  check(g.table.assign(table), "upload block table");
  check(g.lens.assign(lens), "upload lengths");
  const PagedBatch pb = make_batch(s, g.table.as<std::int32_t>(), g.lens.as<std::uint32_t>());
  check(g.q.assign(gaussian(std::size_t{s.batch} * s.q_heads * s.d, 23)), "upload queries");
  check(g.out.allocate(std::size_t{s.batch} * s.q_heads * s.d * sizeof(float)), "allocate out");
  check(g.workspace.allocate(gpu::decode_workspace_bytes(g.kset, g.vset, pb, 0) + 16), "workspace");
  const float scale = 1.0f / std::sqrt(float(s.d));
  double decode_ns = 0;
  check(gpu::time_median_ns(
            stream, iterations,
            [&] {
              return gpu::decode_attention(g.kset, g.vset, g.cache, pb, g.q.as<float>(), scale, 0,
                                           g.workspace.data(), g.out.as<float>(), stream);
            },
            &decode_ns, /*flush_l2=*/true),  // as serving: K/V come from HBM, not L2
        "time decode attention");
  pt.decode_time_ns = decode_ns;
}

void accuracy_gpu(const KvConfig& cfg, const Shape& s, const Grid& grid, AttentionPoint& pt) {
  const auto kc0 = codecs_for(cfg.key, s, 1001);
  vector_accuracy(kc0[0], grid.accuracy_vectors, pt);  // arithmetic of the codec itself
  AccuracyProblem p(s.q_heads, s.kv_heads, s.d, s.page_tokens);
  CodecOptions o;
  const auto kc = make_head_codecs(cfg.key, s.d, s.kv_heads, o, p.k.data(), p.len);
  const auto vc = make_head_codecs(cfg.value, s.d, s.kv_heads, o, p.v.data(), p.len);
  Shape as = s;
  as.batch = p.batch;
  as.context = p.len;
  GpuProblem g;
  build_gpu(kc, vc, as, g);
  gpu::Stream stream;
  check(stream.create(), "create stream");
  std::vector<std::int64_t> slots;
  for (std::uint32_t b = 0; b < p.batch; ++b)
    slots_for_positions(p.table.data(), p.pages_per_seq(), p.page_tokens, b, 0, p.len, slots);
  check(g.slots.assign(slots), "upload slots");
  check(g.kin.assign(p.k), "upload K");
  check(g.vin.assign(p.v), "upload V");
  check(gpu::append(g.kset, g.vset, g.kin.data(), g.vin.data(), InputType::kF32, slots.size(),
                    g.slots.as<std::int64_t>(), g.cache, stream),
        "append");
  check(g.table.assign(p.table), "upload table");
  check(g.lens.assign(p.lens), "upload lens");
  const PagedBatch pb = make_batch(as, g.table.as<std::int32_t>(), g.lens.as<std::uint32_t>());
  check(g.q.assign(p.q), "upload q");
  check(g.out.allocate(p.q.size() * sizeof(float)), "allocate out");
  check(g.workspace.allocate(gpu::decode_workspace_bytes(g.kset, g.vset, pb, 0) + 16), "workspace");
  check(gpu::decode_attention(g.kset, g.vset, g.cache, pb, g.q.as<float>(),
                              1.0f / std::sqrt(float(s.d)), 0, g.workspace.data(),
                              g.out.as<float>(), stream),
        "decode attention");
  check(stream.synchronize(), "synchronize");
  std::vector<float> out(p.q.size());
  check(g.out.download(out.data(), out.size() * sizeof(float)), "download");
  p.compare(out, pt);
}

#endif  // JEVONS_HAVE_CUDA

}  // namespace

// ---------------------------------------------------------------------------------------------
// Synthetic model steps

static void measure_steps(const Grid& grid, bool use_gpu,
                          const std::function<void(const std::string&)>& log, Profile& profile) {
  if (grid.step_models.empty()) return;
#if defined(JEVONS_HAVE_CUDA)
  if (use_gpu) {
    std::string why;
    if (!gpu::cublas_available(&why)) {
      log("steps skipped: " + why);
      return;
    }
  }
  std::uint64_t budget = std::uint64_t{6} << 30;
  if (use_gpu) {
    gpu::DeviceInfo info;
    check(gpu::device_info(0, &info), "query device");
    budget = info.memory_bytes * 3 / 5;
  }
#else
  const std::uint64_t budget = std::uint64_t{6} << 30;
#endif
  const std::size_t weight_bytes = use_gpu ? 2 : 4;
  for (const auto& model_id : grid.step_models) {
    LayerDims dims;
    ModelSpec model;
    try {
      model = step_model(model_id);
      dims = LayerDims::of(model, grid.step_tensor_parallel);
    } catch (const std::invalid_argument& e) {
      log(std::string("  steps skipped: ") + e.what());
      continue;
    }
    if (dims.head_dim != 64 && dims.head_dim != 128 && dims.head_dim != 256) {
      log("  steps skipped: " + model_id + " head_dim " + std::to_string(dims.head_dim) +
          " has no kernels");
      continue;
    }
    std::vector<StepRequest> requests;
    for (std::uint32_t b : grid.step_batches)
      for (std::uint64_t ctx : grid.step_contexts) requests.push_back({false, b, ctx, 1});
    for (const auto& [c, o] : grid.step_prefill) requests.push_back({true, 1, o, c});
    for (const auto& fname : grid.step_formats) {
      const KvConfig cfg = KvConfig::parse(fname);
      for (const auto& req : requests) {
        if (req.context + req.chunk > model.max_context_tokens) continue;
        const std::uint64_t need =
            step_device_bytes(dims, cfg, req, grid.step_layers, grid.page_tokens, weight_bytes);
        char line[256];
        std::snprintf(line, sizeof line, "  step %-14s %-8s %-7s B=%-4u ctx=%-6llu chunk=%-5u",
                      model_id.c_str(), cfg.name().c_str(), req.prefill ? "prefill" : "decode",
                      req.batch, static_cast<unsigned long long>(req.context),
                      req.prefill ? req.chunk : 1u);
        if (need > budget) {
          log(std::string(line) + " skipped (needs " + std::to_string(need >> 20) + " MiB)");
          continue;
        }
        StepTiming t;
#if defined(JEVONS_HAVE_CUDA)
        if (use_gpu)
          check(gpu::measure_step(dims, cfg, req, grid.step_layers, grid.page_tokens,
                                  grid.step_iterations, &t),
                "synthetic step");
#endif
        if (!use_gpu)
          t = measure_step_cpu(dims, cfg, req, grid.step_layers, grid.page_tokens,
                               grid.step_iterations);
        StepPoint p;
        p.model_id = model_id;
        p.phase = req.prefill ? "prefill" : "decode";
        p.kv_format = cfg.name();
        p.weights = use_gpu ? "bf16" : "fp32";
        p.tensor_parallel = grid.step_tensor_parallel;
        p.batch = req.batch;
        p.tokens = req.new_tokens();
        p.context_tokens = req.prefill ? req.context + req.chunk : req.context;
        p.layers_measured = t.layers_measured;
        p.time_ns = t.step_ns(model.layers);
        std::snprintf(line + std::strlen(line), sizeof line - std::strlen(line), "  %10.3f ms",
                      p.time_ns * 1e-6);
        log(line);
        profile.steps.push_back(p);
      }
    }
  }
}

Grid default_grid(bool gpu, bool quick) {
  Grid g;
  if (gpu) {
    g.head_dims =
        quick ? std::vector<std::uint32_t>{128} : std::vector<std::uint32_t>{64, 128, 256};
    g.kv_formats =
        quick ? std::vector<std::string>{"bf16", "tq-mse-4", "tq-mse-3", "tq-2.5", "tq-3.5"}
              : kAllFormats;
    g.batches = quick ? std::vector<std::uint32_t>{1, 32} : std::vector<std::uint32_t>{1, 8, 32};
    g.contexts = quick ? std::vector<std::uint64_t>{4096, 16384}
                       : std::vector<std::uint64_t>{4096, 16384, 32768, 131072};
    g.iterations = quick ? 5 : 20;
    g.step_models = quick
                        ? std::vector<std::string>{"llama-3.1-8b"}
                        : std::vector<std::string>{"llama-3.1-8b", "llama-3.1-70b", "llama-2-70b"};
    g.step_formats = quick
                         ? std::vector<std::string>{"bf16", "tq-3.5"}
                         : std::vector<std::string>{"bf16", "fp8", "tq-mse-4", "tq-3.5", "tq-2.5"};
    g.step_batches =
        quick ? std::vector<std::uint32_t>{1, 32} : std::vector<std::uint32_t>{1, 8, 32, 128, 256};
    g.step_contexts =
        quick ? std::vector<std::uint64_t>{4096} : std::vector<std::uint64_t>{1024, 4096, 16384};
    g.step_prefill = {{256, 0}, {1024, 0}, {4096, 0}, {1024, 4096}};
    if (quick) g.step_prefill.resize(2);
    g.step_layers = 2;
    g.step_iterations = quick ? 3 : 10;
  } else {
    g.head_dims =
        quick ? std::vector<std::uint32_t>{128} : std::vector<std::uint32_t>{64, 128, 256};
    g.kv_formats = quick ? std::vector<std::string>{"bf16",   "tq-mse-4", "tq-mse-3",
                                                    "tq-2.5", "tq-3.5",   "tq-prod-3"}
                         : kAllFormats;
    g.batches = quick ? std::vector<std::uint32_t>{1} : std::vector<std::uint32_t>{1, 4};
    g.contexts = quick ? std::vector<std::uint64_t>{1024} : std::vector<std::uint64_t>{1024, 4096};
    g.iterations = quick ? 2 : 3;
    g.accuracy_vectors = quick ? 500 : 2000;
    // One layer of Llama 3.1 8B in float32 is 0.87 GB: single-threaded CPU steps take seconds,
    // so the CPU grid is small and --quick skips steps.
    if (!quick) {
      g.step_models = {"llama-3.1-8b"};
      g.step_formats = {"bf16", "tq-3.5"};
      g.step_batches = {1, 4, 16};
      g.step_contexts = {256, 1024};
      g.step_prefill = {{32, 0}, {128, 0}, {128, 256}};
      g.step_layers = 1;
      g.step_iterations = 3;
    }
  }
  return g;
}

Result run(const Options& options) {
  bool use_gpu = false;
  switch (options.device) {
    case DeviceChoice::kGpu:
      if (!gpu_available())
        throw std::runtime_error(
#if defined(JEVONS_HAVE_CUDA)
            "--device gpu: no CUDA device is present"
#else
            "--device gpu: this build has no CUDA kernels (configure with nvcc available)"
#endif
        );
      use_gpu = true;
      break;
    case DeviceChoice::kAuto:
      use_gpu = gpu_available();
      break;
    case DeviceChoice::kCpu:
      use_gpu = false;
      break;
  }
  const Grid grid = options.grid_set ? options.grid : default_grid(use_gpu, options.quick);
  auto log = [&](const std::string& s) {
    if (options.log) options.log(s);
  };

  Result r;
  ProfileMeta& m = r.profile.meta;
  m.device_kind = use_gpu ? "gpu" : "cpu";
  m.date_utc = utc_now();
  m.git_commit = jevons::git_commit();
  m.jevons_version = jevons::version();
  m.host = host_description();
  m.iterations = grid.iterations;
  std::uint64_t budget = grid.max_cache_bytes;
  if (use_gpu) {
#if defined(JEVONS_HAVE_CUDA)
    gpu::DeviceInfo info;
    check(gpu::device_info(0, &info), "query device");
    m.device_name = info.name;
    m.gpu_catalog_id = catalog_id_for(info.name);
    m.driver_version = info.driver_version;
    m.cuda_version = info.runtime_version;
    check(gpu::copy_bandwidth(std::size_t{1} << 30, 10, &m.copy_bandwidth_bytes_per_s),
          "copy bandwidth");
    if (!budget) budget = info.memory_bytes * 2 / 5;
#endif
  } else {
    m.device_name = cpu_model_name() + " (CPU twins, single-threaded; cpu-only profile)";
    m.copy_bandwidth_bytes_per_s = memcpy_bandwidth();
    if (!budget) budget = std::uint64_t{2} << 30;
  }
  const std::string slug = use_gpu ? slugify(m.device_name) : "cpu-" + slugify(cpu_model_name());
  log("profiling on " + m.device_name + " -> slug " + slug);

  for (std::uint32_t d : grid.head_dims)
    for (const auto& fname : grid.kv_formats) {
      const KvConfig cfg = KvConfig::parse(fname);
      AttentionPoint acc;
      bool have_acc = false;
      for (std::uint32_t b : grid.batches)
        for (std::uint64_t ctx : grid.contexts) {
          const Shape s{d, b, grid.q_heads, grid.kv_heads, grid.page_tokens, ctx};
          AttentionPoint pt;
          pt.kv_format = cfg.name();
          pt.head_dim = d;
          pt.batch = b;
          pt.context_tokens = ctx;
          pt.q_heads = grid.q_heads;
          pt.kv_heads = grid.kv_heads;
          pt.bytes_per_token_format =
              double(cfg.key.bytes_per_vector(d) + cfg.value.bytes_per_vector(d));
          const double cache_bytes =
              pt.bytes_per_token_format * double(b) * double(ctx) * grid.kv_heads;
          if (cache_bytes > double(budget)) {
            log("  skip " + pt.kv_format + " d=" + std::to_string(d) + " B=" + std::to_string(b) +
                " L=" + std::to_string(ctx) + " (cache over budget)");
            continue;
          }
          if (!have_acc) {
#if defined(JEVONS_HAVE_CUDA)
            if (use_gpu) accuracy_gpu(cfg, s, grid, acc);
#endif
            if (!use_gpu) accuracy_cpu(cfg, s, grid, acc);
            have_acc = true;
          }
#if defined(JEVONS_HAVE_CUDA)
          if (use_gpu) measure_gpu(cfg, s, grid.iterations, pt);
#endif
          if (!use_gpu) measure_cpu(cfg, s, grid.iterations, pt);
          if (pt.bytes_per_token_allocated != pt.bytes_per_token_format)
            throw std::logic_error("allocated bytes per token disagree with KvFormat for " +
                                   pt.kv_format);
          pt.decode_bandwidth_bytes_per_s = cache_bytes / (pt.decode_time_ns * 1e-9);
          pt.mse = acc.mse;
          pt.inner_product_error = acc.inner_product_error;
          pt.attention_cosine = acc.attention_cosine;
          pt.attention_rel_error = acc.attention_rel_error;
          char line[256];
          std::snprintf(line, sizeof line,
                        "  %-24s d=%-3u B=%-3u L=%-7llu  %7.1f B/tok  append %9.1f ns/tok  decode "
                        "%11.1f us  %8.2f GB/s  cos %.5f",
                        pt.kv_format.c_str(), d, b, static_cast<unsigned long long>(ctx),
                        pt.bytes_per_token_allocated, pt.append_time_ns_per_token,
                        pt.decode_time_ns * 1e-3, pt.decode_bandwidth_bytes_per_s * 1e-9,
                        pt.attention_cosine);
          log(line);
          r.profile.attention.push_back(pt);
        }
    }

  measure_steps(grid, use_gpu, log, r.profile);

  const std::string dir =
      options.out_dir.empty() ? data_dir() + "/profiles/" + slug : options.out_dir;
  r.path = dir + "/profile.json";
  r.profile.save(r.path);
  log("wrote " + r.path);
  return r;
}

}  // namespace jevons::kernels::profiler
