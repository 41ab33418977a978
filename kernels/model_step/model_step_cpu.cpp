// The CPU measurement of a whole synthetic step (Eigen float32 GEMMs). Full builds only: the
// kernels-only build has no Eigen and links model_step_cpu_none.cpp instead.
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
