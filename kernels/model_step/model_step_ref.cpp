// CPU twins of the synthetic-step kernels and the CPU measurement of a whole synthetic step.
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "append/append.h"
#include "common/rng.h"
#include "decode_attention/decode_attention.h"
#include "model_step/model_step.h"
#include "quant/quant.h"
#include "scores/scores.h"

namespace jevons::kernels {

LayerDims LayerDims::of(const ModelSpec& model, std::uint32_t tp) {
  if (model.is_moe() || model.is_mla())
    throw std::invalid_argument(model.id +
                                ": synthetic steps cover dense GQA models only (MoE routing and "
                                "MLA absorption are not modelled by the step profiler)");
  if (model.intermediate_size == 0 || model.vocab_size == 0)
    throw std::invalid_argument(model.id +
                                ": data/models.yaml gives no intermediate_size / vocab_size");
  if (tp == 0 || model.q_heads % tp || model.intermediate_size % tp)
    throw std::invalid_argument(model.id + ": tensor parallelism " + std::to_string(tp) +
                                " does not divide the query heads and MLP width");
  LayerDims d;
  d.hidden = model.hidden_size;
  d.q_heads = model.q_heads / tp;
  d.kv_heads = std::max<std::uint32_t>(1, model.kv_heads / tp);
  d.head_dim = model.head_dim;
  d.intermediate = model.intermediate_size / tp;
  d.vocab = (model.vocab_size + tp - 1) / tp;
  if (d.q_heads % d.kv_heads)
    throw std::invalid_argument(model.id +
                                ": query heads per shard are not a multiple of KV heads");
  return d;
}

std::uint64_t LayerDims::layer_weights() const {
  return std::uint64_t{hidden} * qkv_out() + std::uint64_t{q_heads} * head_dim * hidden +
         std::uint64_t{3} * hidden * intermediate;
}

namespace {

std::uint64_t kv_cache_bytes(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                             std::uint32_t page_tokens) {
  const std::uint64_t len = r.context + (r.prefill ? r.chunk : 1);
  const std::uint64_t pages = (len + page_tokens - 1) / page_tokens;
  return std::uint64_t{r.batch} * pages * page_tokens * d.kv_heads *
         (kv.key.bytes_per_vector(d.head_dim) + kv.value.bytes_per_vector(d.head_dim));
}

}  // namespace

StepPages step_pages(const StepRequest& r, std::uint32_t page_tokens) {
  StepPages p;
  p.len = r.context + (r.prefill ? r.chunk : 1);
  p.pages_per_seq = static_cast<std::uint32_t>((p.len + page_tokens - 1) / page_tokens);
  p.pages = r.batch * p.pages_per_seq;
  p.table.resize(p.pages);
  for (std::uint32_t i = 0; i < p.pages; ++i) p.table[i] = static_cast<std::int32_t>(i);
  for (std::uint32_t b = 0; b < r.batch; ++b)
    slots_for_positions(p.table.data(), p.pages_per_seq, page_tokens, b, r.context,
                        r.prefill ? r.chunk : 1, p.slots);
  p.lens.assign(r.batch, static_cast<std::uint32_t>(p.len));
  return p;
}

PagedBatch step_batch(const LayerDims& d, const StepRequest& r, const StepPages& p,
                      const std::int32_t* table, const std::uint32_t* lens) {
  PagedBatch pb;
  pb.batch = r.batch;
  pb.q_heads = d.q_heads;
  pb.kv_heads = d.kv_heads;
  pb.head_dim = d.head_dim;
  pb.block_table = table;
  pb.max_pages_per_seq = p.pages_per_seq;
  pb.seq_lens = lens;
  return pb;
}

std::uint64_t step_device_bytes(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                                std::uint32_t layers_measured, std::uint32_t page_tokens,
                                std::size_t weight_bytes_per_element) {
  const std::uint64_t t = r.new_tokens();
  std::uint64_t bytes = (d.layer_weights() * layers_measured + std::uint64_t{d.vocab} * d.hidden) *
                        weight_bytes_per_element;
  bytes += kv_cache_bytes(d, kv, r, page_tokens) * layers_measured;
  // Activations: x, qkv, attention out, gate/up, act, down, logits (generous: 4 B/element).
  bytes += 4 * t * (2ull * d.hidden + d.qkv_out() + d.q_heads * d.head_dim + 3ull * d.intermediate);
  bytes += 4ull * r.batch * d.vocab;
  if (r.prefill) {
    const std::uint64_t keys = r.context + r.chunk;
    const std::uint64_t group = d.q_heads / d.kv_heads;
    bytes += 6 * keys * group * r.chunk * d.kv_heads;  // fp32 scores + bf16 probabilities
    bytes += 4 * keys * (d.q_heads + 2ull * d.kv_heads) * d.head_dim;
  }
  return bytes;
}

void causal_softmax_ref(const float* s, std::uint32_t keys, std::uint32_t queries,
                        std::uint32_t chunk, std::uint32_t offset, float scale, float* p) {
  for (std::uint32_t q = 0; q < queries; ++q) {
    const float* col = s + std::size_t{q} * keys;
    float* out = p + std::size_t{q} * keys;
    const std::uint32_t visible = std::min<std::uint32_t>(keys, offset + q % chunk + 1);
    float m = -INFINITY;
    for (std::uint32_t j = 0; j < visible; ++j) m = std::max(m, col[j] * scale);
    double sum = 0;
    for (std::uint32_t j = 0; j < visible; ++j) sum += std::exp(double{col[j] * scale - m});
    for (std::uint32_t j = 0; j < visible; ++j)
      out[j] = static_cast<float>(std::exp(double{col[j] * scale - m}) / sum);
    for (std::uint32_t j = visible; j < keys; ++j) out[j] = 0.0f;
  }
}

void silu_mul_ref(const float* gate_up, std::uint32_t width, std::uint32_t tokens, float* out) {
  for (std::uint32_t t = 0; t < tokens; ++t) {
    const float* g = gate_up + std::size_t{t} * 2 * width;
    const float* u = g + width;
    float* o = out + std::size_t{t} * width;
    for (std::uint32_t i = 0; i < width; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

namespace {

using Clock = std::chrono::steady_clock;
using Mat = Eigen::MatrixXf;
// Weights are row-major [out][in] so a block of output rows is one contiguous slab.
using WeightMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Values do not change GEMM timing; a cheap generator keeps setting up 1 GB of weights quick.
void fill(float* x, std::size_t n, std::uint64_t seed) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x[i] = static_cast<float>(static_cast<std::int64_t>(s >> 40) - (1 << 23)) * (0.02f / (1 << 23));
  }
}

template <class M = Mat>
M random_mat(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  M m(rows, cols);
  fill(m.data(), static_cast<std::size_t>(m.size()), seed);
  return m;
}

// y = W·x streamed over blocks of W's rows, as a GPU GEMM streams its weights: each block
// (256 rows, ≤ 4 MiB) is read once and multiplied against the whole of x, which stays in cache.
// One Eigen GEMM over all of W instead re-packs W per call and, at the few columns of a decode
// step, runs several times slower than reading W once.
void gemm(const WeightMat& w, const Mat& x, Mat& y) {
  constexpr Eigen::Index kRows = 256;
  for (Eigen::Index r = 0; r < w.rows(); r += kRows) {
    const Eigen::Index n = std::min(kRows, w.rows() - r);
    y.middleRows(r, n).noalias() = w.middleRows(r, n) * x;
  }
}

template <class F>
double median_ns(int iterations, F&& fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < std::max(1, iterations); ++i) {
    const auto a = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct CpuLayer {
  WeightMat wqkv, wo, wgu, wd;  // [out][in]
  std::unique_ptr<HostKvCache> cache;
};

}  // namespace

StepTiming measure_step_cpu(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                            std::uint32_t layers_measured, std::uint32_t page_tokens,
                            int iterations) {
  if (layers_measured == 0 || r.batch == 0 || (r.prefill && r.chunk == 0))
    throw std::invalid_argument("measure_step_cpu: empty step");
  const auto T = static_cast<Eigen::Index>(r.new_tokens());
  const std::uint32_t dh = d.head_dim;
  const StepPages sp = step_pages(r, page_tokens);
  const std::uint64_t len = sp.len;
  const std::uint32_t pages = sp.pages;

  CodecOptions opt;
  std::vector<float> calib(std::size_t{256} * d.kv_heads * dh);
  fill(calib.data(), calib.size(), 5);
  const auto kc = make_head_codecs(kv.key, dh, d.kv_heads, opt, calib.data(), 256);
  const auto vc = make_head_codecs(kv.value, dh, d.kv_heads, opt, calib.data(), 256);

  std::vector<CpuLayer> layers(layers_measured);
  for (std::uint32_t l = 0; l < layers_measured; ++l) {
    auto& L = layers[l];
    L.wqkv = random_mat<WeightMat>(d.qkv_out(), d.hidden, 10 * l + 1);
    L.wo = random_mat<WeightMat>(d.hidden, Eigen::Index{d.q_heads} * dh, 10 * l + 2);
    L.wgu = random_mat<WeightMat>(2 * Eigen::Index{d.intermediate}, d.hidden, 10 * l + 3);
    L.wd = random_mat<WeightMat>(d.hidden, d.intermediate, 10 * l + 4);
    // The cache's contents do not change the kernels' work (table lookups, no data-dependent
    // branches), so it is left zeroed apart from what the timed appends write.
    L.cache = std::make_unique<HostKvCache>(kc[0], vc[0], pages, page_tokens, d.kv_heads);
  }
  const WeightMat wlm = random_mat<WeightMat>(d.vocab, d.hidden, 99);

  Mat x = random_mat(d.hidden, T, 7), qkv(d.qkv_out(), T), attn(Eigen::Index{d.q_heads} * dh, T),
      o(d.hidden, T), gu(2 * Eigen::Index{d.intermediate}, T), act(d.intermediate, T),
      down(d.hidden, T);
  fill(attn.data(), static_cast<std::size_t>(attn.size()), 8);
  std::vector<float> kin(static_cast<std::size_t>(T) * d.kv_heads * dh), vin(kin.size());
  fill(kin.data(), kin.size(), 11);
  fill(vin.data(), vin.size(), 12);

  const PagedBatch pb = step_batch(d, r, sp, sp.table.data(), sp.lens.data());
  std::vector<float> q(std::size_t{r.batch} * d.q_heads * dh);
  fill(q.data(), q.size(), 13);
  const float scale = 1.0f / std::sqrt(float(dh));

  // Prefill attention over bf16-precision K/V of the whole sequence (real engines attend the
  // chunk against the cached prefix and itself); one sequence at a time, each KV-head group's
  // stacked queries against its keys.
  const std::uint32_t group = d.q_heads / d.kv_heads;
  const auto keys = static_cast<Eigen::Index>(len);
  Mat pq, pk, pv, ps, pp, po;
  if (r.prefill) {
    pq = random_mat(dh, Eigen::Index{group} * r.chunk, 21);
    pk = random_mat(dh, keys, 22);
    pv = random_mat(dh, keys, 23);
    ps.resize(keys, Eigen::Index{group} * r.chunk);
    pp.resize(keys, Eigen::Index{group} * r.chunk);
    po.resize(dh, Eigen::Index{group} * r.chunk);
  }

  auto layer = [&](CpuLayer& L) {
    gemm(L.wqkv, x, qkv);
    append_ref(kc, vc, kin.data(), vin.data(), static_cast<std::size_t>(T), sp.slots.data(),
               *L.cache);
    if (r.prefill) {
      for (std::uint32_t b = 0; b < r.batch; ++b)
        for (std::uint32_t g = 0; g < d.kv_heads; ++g) {
          ps.noalias() = pk.transpose() * pq;
          causal_softmax_ref(ps.data(), static_cast<std::uint32_t>(keys), group * r.chunk, r.chunk,
                             static_cast<std::uint32_t>(r.context), scale, pp.data());
          po.noalias() = pv * pp;
        }
    } else {
      decode_attention_ref(kc, vc, *L.cache, pb, q.data(), scale, 1, attn.data());
    }
    gemm(L.wo, attn, o);
    gemm(L.wgu, o, gu);
    silu_mul_ref(gu.data(), d.intermediate, static_cast<std::uint32_t>(T), act.data());
    gemm(L.wd, act, down);
  };

  StepTiming t;
  t.layers_measured = layers_measured;
  t.layers_ns = median_ns(iterations, [&] {
    for (auto& L : layers) layer(L);
  });
  // The LM head runs on one row per sequence: the new token (decode) or the chunk's last.
  Mat last = random_mat(d.hidden, r.batch, 31), logits(d.vocab, r.batch);
  t.lm_head_ns = median_ns(iterations, [&] { gemm(wlm, last, logits); });
  return t;
}

}  // namespace jevons::kernels
