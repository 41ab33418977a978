#pragma once
/// \file Fused split-sequence decode attention over compressed paged K/V.
///
/// Split kernel, grid (num_splits, kv_heads, batch), 128 threads: HEAD_DIM/8 lanes form a token
/// group that owns one token at a time (each lane 8 channels); 128/(HEAD_DIM/8) token groups walk
/// the split's tokens with stride. Every token group keeps its own online-softmax state for all
/// G = q_heads/kv_heads query heads of the KV head (GQA: each K/V byte is read once), with the
/// queries and accumulators in registers. Token groups merge in shared memory at the end and the
/// CTA writes one partial (max, sum, acc[G][work]) per split. Scores use exp2: the query
/// prologue folds softmax_scale·log2(e) into the rotated query.
///
/// Combine kernel, grid batch·q_heads, HEAD_DIM threads: merges the splits exactly, divides by
/// the softmax sum, adds Sᵀ·sketch (tq-prod values) and rotates back with Tᵀ.

#include <cstdint>

#include "append/pool_layout.h"
#include "scores/scores_kernel.cuh"

namespace jevons::kernels::gpu::dev {

struct DecodeArgs {
  VectorDesc kd, vd;
  PoolLayout kl, vl;
  const std::uint8_t* kpool;
  const std::uint8_t* vpool;
  const std::int32_t* table;  ///< [batch][max_pages]
  std::uint32_t max_pages;
  const std::uint32_t* lens;  ///< [batch]
  const float* q_work;        ///< [batch][q_heads][kd.work_width()], pre-scaled
  std::uint32_t q_heads, kv_heads, group, num_splits;
  float* ws_acc;  ///< [batch][kv_heads][num_splits][group][vd.work_width()]
  float* ws_ml;   ///< [batch][kv_heads][num_splits][group][2] (max, sum)
};

__device__ __forceinline__ std::uint32_t split_chunk(std::uint32_t len, std::uint32_t splits,
                                                     std::uint32_t page_tokens) {
  const std::uint32_t per = (len + splits - 1) / splits;
  const std::uint32_t pages = (per + page_tokens - 1) / page_tokens;
  return (pages == 0 ? 1 : pages) * page_tokens;
}

/// Dynamic shared memory of the split kernel, in floats.
template <int HEAD_DIM>
__host__ __device__ constexpr std::uint32_t split_smem_floats(std::uint32_t group, bool k_qjl,
                                                              bool v_qjl, std::uint32_t vw) {
  constexpr std::uint32_t NTG = 128 / (HEAD_DIM / 8);
  return (k_qjl ? group * HEAD_DIM : 0) + (v_qjl ? NTG * group * HEAD_DIM : 0) + NTG * group * 2 +
         group * vw;
}

template <int HEAD_DIM, int MODE, int G_MAX>
__global__ void __launch_bounds__(128) decode_split_kernel(DecodeArgs a) {
  constexpr int TG = HEAD_DIM / 8, NTG = 128 / TG;
  extern __shared__ float smem[];
  __shared__ float cent_k[2][16], cent_v[2][16];
  load_centroids(a.kd, cent_k);
  load_centroids(a.vd, cent_v);
  const int tg = static_cast<int>(threadIdx.x) / TG, l = static_cast<int>(threadIdx.x) % TG;
  const std::uint32_t split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int G = static_cast<int>(a.group);
  const std::uint32_t kw = a.kd.work_width(), vw = a.vd.work_width();
  const bool k_qjl = MODE == kModeGeneric && a.kd.has_qjl;
  const bool v_qjl = MODE == kModeGeneric && a.vd.has_qjl;
  float* qsk = smem;                                      // [G][HEAD_DIM]
  float* accsk = qsk + (k_qjl ? G * HEAD_DIM : 0);        // [NTG][G][HEAD_DIM]
  float* red = accsk + (v_qjl ? NTG * G * HEAD_DIM : 0);  // [NTG][G][2]
  float* outacc = red + NTG * G * 2;                      // [G][vw]

  const float* qbase = a.q_work + (static_cast<std::size_t>(b) * a.q_heads + kvh * a.group) * kw;
  float q[G_MAX][8];
#pragma unroll
  for (int g = 0; g < G_MAX; ++g)
#pragma unroll
    for (int i = 0; i < 8; ++i) q[g][i] = g < G ? qbase[g * kw + 8 * l + i] : 0.0f;
  if (k_qjl)
    for (int e = static_cast<int>(threadIdx.x); e < G * HEAD_DIM; e += 128)
      qsk[e] = qbase[(e / HEAD_DIM) * kw + HEAD_DIM + e % HEAD_DIM];
  if (v_qjl)
    for (int e = static_cast<int>(threadIdx.x); e < NTG * G * HEAD_DIM; e += 128) accsk[e] = 0.0f;
  __syncthreads();

  float m[G_MAX], lsum[G_MAX], acc[G_MAX][8];
#pragma unroll
  for (int g = 0; g < G_MAX; ++g) {
    m[g] = -INFINITY;
    lsum[g] = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[g][i] = 0.0f;
  }

  const std::uint32_t len = a.lens[b];
  const std::uint32_t chunk = split_chunk(len, a.num_splits, a.kl.page_tokens);
  const std::uint32_t t0 = min(len, split * chunk);
  const std::uint32_t t1 = min(len, t0 + chunk);
  const std::int32_t* table = a.table + static_cast<std::size_t>(b) * a.max_pages;
  for (std::uint32_t t = t0 + static_cast<std::uint32_t>(tg); t < t1; t += NTG) {
    const auto page = static_cast<std::uint64_t>(table[t / a.kl.page_tokens]);
    const std::uint32_t off = t % a.kl.page_tokens;
    const std::uint8_t* kc = a.kpool + a.kl.code_offset(page, kvh, off);
    const std::uint8_t* km = a.kpool + a.kl.meta_offset(page, kvh, off);
    const std::uint8_t* vc = a.vpool + a.vl.code_offset(page, kvh, off);
    const std::uint8_t* vm = a.vpool + a.vl.meta_offset(page, kvh, off);
    float kv[8], vv[8];
    lane_values<MODE>(a.kd, cent_k, kc, km, l, kv);
    lane_values<MODE>(a.vd, cent_v, vc, vm, l, vv);
    unsigned ksign = 0, vsign = 0;
    float kcoef = 0.0f, vcoef = 0.0f;
    if (k_qjl) lane_signs(a.kd, kc, km, l, &ksign, &kcoef);
    if (v_qjl) lane_signs(a.vd, vc, vm, l, &vsign, &vcoef);
#pragma unroll
    for (int g = 0; g < G_MAX; ++g) {
      if (g >= G) break;
      float dot = 0.0f;
#pragma unroll
      for (int i = 0; i < 8; ++i) dot += q[g][i] * kv[i];
      if (k_qjl) {
        float sd = 0.0f;
        for (int i = 0; i < 8; ++i) {
          const float x = qsk[g * HEAD_DIM + 8 * l + i];
          sd += ((ksign >> i) & 1u) ? x : -x;
        }
        dot += kcoef * sd;
      }
      const float s = group_sum<TG>(dot);
      if (s > m[g]) {  // rescale only when the running max moves (rare after the first tokens)
        const float r = exp2f(m[g] - s);
        lsum[g] *= r;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] *= r;
        if (v_qjl)
          for (int i = 0; i < 8; ++i) accsk[(tg * G + g) * HEAD_DIM + 8 * l + i] *= r;
        m[g] = s;
      }
      const float p = exp2f(s - m[g]);
      lsum[g] += p;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[g][i] += p * vv[i];
      if (v_qjl) {
        const float w = p * vcoef;
        for (int i = 0; i < 8; ++i)
          accsk[(tg * G + g) * HEAD_DIM + 8 * l + i] += ((vsign >> i) & 1u) ? w : -w;
      }
    }
  }

  // Merge the token groups: common max per head, then a fixed-order sum (deterministic).
  if (l == 0)
    for (int g = 0; g < G; ++g) {
      red[(tg * G + g) * 2] = m[g];
      red[(tg * G + g) * 2 + 1] = lsum[g];
    }
  for (int e = static_cast<int>(threadIdx.x); e < G * static_cast<int>(vw); e += 128)
    outacc[e] = 0.0f;
  __syncthreads();
  float factor[G_MAX];
#pragma unroll
  for (int g = 0; g < G_MAX; ++g) {
    float mx = -INFINITY;
    if (g < G)
      for (int k = 0; k < NTG; ++k) mx = fmaxf(mx, red[(k * G + g) * 2]);
    factor[g] = (g < G && m[g] != -INFINITY) ? exp2f(m[g] - mx) : 0.0f;
  }
  for (int k = 0; k < NTG; ++k) {
    if (tg == k) {
#pragma unroll
      for (int g = 0; g < G_MAX; ++g) {
        if (g >= G) break;
#pragma unroll
        for (int i = 0; i < 8; ++i) outacc[g * vw + 8 * l + i] += acc[g][i] * factor[g];
        if (v_qjl)
          for (int i = 0; i < 8; ++i)
            outacc[g * vw + HEAD_DIM + 8 * l + i] +=
                accsk[(tg * G + g) * HEAD_DIM + 8 * l + i] * factor[g];
      }
    }
    __syncthreads();
  }
  const std::size_t base =
      ((static_cast<std::size_t>(b) * a.kv_heads + kvh) * a.num_splits + split) * a.group;
  for (int e = static_cast<int>(threadIdx.x); e < G * static_cast<int>(vw); e += 128)
    a.ws_acc[base * vw + e] = outacc[e];
  if (static_cast<int>(threadIdx.x) < G) {
    const int g = static_cast<int>(threadIdx.x);
    float mx = -INFINITY, sum = 0.0f;
    for (int k = 0; k < NTG; ++k) mx = fmaxf(mx, red[(k * G + g) * 2]);
    if (mx != -INFINITY)
      for (int k = 0; k < NTG; ++k)
        sum += red[(k * G + g) * 2 + 1] * exp2f(red[(k * G + g) * 2] - mx);
    a.ws_ml[(base + g) * 2] = mx;
    a.ws_ml[(base + g) * 2 + 1] = sum;
  }
}

struct CombineArgs {
  const float* ws_acc;
  const float* ws_ml;
  std::uint32_t q_heads, kv_heads, group, num_splits, vw;
  bool identity, has_qjl;
  const float* transform;  ///< [kv_heads][HEAD_DIM][HEAD_DIM] T of the value codec
  const float* qjl;        ///< [HEAD_DIM][HEAD_DIM] S of the value codec
  float* out;              ///< [batch][q_heads][HEAD_DIM]
};

template <int HEAD_DIM>
__global__ void decode_combine_kernel(CombineArgs a) {
  __shared__ float sm[2 * HEAD_DIM];
  const int j = static_cast<int>(threadIdx.x);
  const std::uint32_t row = blockIdx.x;  // b·q_heads + h
  const std::uint32_t b = row / a.q_heads, h = row % a.q_heads;
  const std::uint32_t kvh = h / a.group, g = h % a.group;
  const std::size_t base = (static_cast<std::size_t>(b) * a.kv_heads + kvh) * a.num_splits;
  float mx = -INFINITY;
  for (std::uint32_t s = 0; s < a.num_splits; ++s)
    mx = fmaxf(mx, a.ws_ml[((base + s) * a.group + g) * 2]);
  float total = 0.0f;
  if (mx != -INFINITY)
    for (std::uint32_t s = 0; s < a.num_splits; ++s) {
      const std::size_t k = ((base + s) * a.group + g) * 2;
      total += a.ws_ml[k + 1] * exp2f(a.ws_ml[k] - mx);
    }
  for (std::uint32_t e = static_cast<std::uint32_t>(j); e < a.vw; e += HEAD_DIM) {
    float v = 0.0f;
    if (total > 0.0f)
      for (std::uint32_t s = 0; s < a.num_splits; ++s) {
        const std::size_t k = (base + s) * a.group + g;
        const float w = exp2f(a.ws_ml[k * 2] - mx);
        if (w > 0.0f) v += a.ws_acc[k * a.vw + e] * w;
      }
    sm[e] = total > 0.0f ? v / total : 0.0f;
  }
  __syncthreads();
  const float o = finish_row<HEAD_DIM>(
      sm, j, a.identity, a.transform + static_cast<std::size_t>(kvh) * HEAD_DIM * HEAD_DIM,
      a.has_qjl, a.qjl);
  a.out[static_cast<std::size_t>(row) * HEAD_DIM + j] = o;
}

}  // namespace jevons::kernels::gpu::dev
