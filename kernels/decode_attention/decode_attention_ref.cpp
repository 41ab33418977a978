#include <algorithm>
#include <cmath>
#include <limits>

#include "decode_attention/decode_attention.h"

namespace jevons::kernels {

void decode_attention_ref(const std::vector<VectorCodec>& k_codecs,
                          const std::vector<VectorCodec>& v_codecs, const HostKvCache& cache,
                          const PagedBatch& pb, const float* q, float softmax_scale,
                          std::uint32_t num_splits, float* out) {
  const std::uint32_t d = pb.head_dim;
  const std::uint32_t group = pb.q_heads / pb.kv_heads;
  const PoolLayout& kl = cache.k_layout;
  const PoolLayout& vl = cache.v_layout;
  const std::uint32_t vw = v_codecs.at(0).work_width();
  std::vector<float> qw(2 * d);
  std::vector<float> acc(vw), total(vw);
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (std::uint32_t b = 0; b < pb.batch; ++b) {
    const std::uint32_t len = pb.seq_lens[b];
    const std::uint32_t chunk = split_chunk_tokens(len, num_splits, kl.page_tokens);
    for (std::uint32_t h = 0; h < pb.q_heads; ++h) {
      const std::uint32_t kvh = h / group;
      k_codecs[kvh].prepare_query(q + (std::size_t{b} * pb.q_heads + h) * d, qw.data());
      float m_all = kNegInf, l_all = 0;
      std::fill(total.begin(), total.end(), 0.0f);
      for (std::uint32_t s = 0; s < num_splits; ++s) {
        const std::uint32_t t0 = std::min(len, s * chunk);
        const std::uint32_t t1 = std::min(len, t0 + chunk);
        float m = kNegInf, l = 0;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (std::uint32_t t = t0; t < t1; ++t) {
          const auto page = static_cast<std::uint64_t>(
              pb.block_table[std::size_t{b} * pb.max_pages_per_seq + t / kl.page_tokens]);
          const std::uint32_t off = t % kl.page_tokens;
          const float sc =
              softmax_scale *
              k_codecs[kvh].score(qw.data(), cache.k_pool.data() + kl.code_offset(page, kvh, off),
                                  cache.k_pool.data() + kl.meta_offset(page, kvh, off));
          if (sc > m) {
            const float r = std::exp(m - sc);  // 0 on the first token (m = −inf)
            for (auto& a : acc) a *= r;
            l *= r;
            m = sc;
          }
          const float p = std::exp(sc - m);
          l += p;
          v_codecs[kvh].accumulate(p, cache.v_pool.data() + vl.code_offset(page, kvh, off),
                                   cache.v_pool.data() + vl.meta_offset(page, kvh, off),
                                   acc.data());
        }
        if (l == 0) continue;
        // Merge this split's (m, l, acc) into the running total exactly (log-sum-exp algebra).
        const float m_new = std::max(m_all, m);
        const float a_old = std::exp(m_all - m_new), a_new = std::exp(m - m_new);
        for (std::uint32_t j = 0; j < vw; ++j) total[j] = total[j] * a_old + acc[j] * a_new;
        l_all = l_all * a_old + l * a_new;
        m_all = m_new;
      }
      float* o = out + (std::size_t{b} * pb.q_heads + h) * d;
      if (l_all == 0) {
        std::fill(o, o + d, 0.0f);
        continue;
      }
      for (auto& t : total) t /= l_all;
      v_codecs[kvh].finish(total.data(), o);
    }
  }
}

void attention_reference_f64(const float* q, const float* k, const float* v, std::uint32_t batch,
                             std::uint32_t q_heads, std::uint32_t kv_heads, std::uint32_t d,
                             std::uint32_t max_len, const std::uint32_t* seq_lens,
                             double softmax_scale, double* out) {
  const std::uint32_t group = q_heads / kv_heads;
  std::vector<double> s(max_len);
  for (std::uint32_t b = 0; b < batch; ++b)
    for (std::uint32_t h = 0; h < q_heads; ++h) {
      const std::uint32_t kvh = h / group;
      const float* qq = q + (std::size_t{b} * q_heads + h) * d;
      double* o = out + (std::size_t{b} * q_heads + h) * d;
      std::fill(o, o + d, 0.0);
      const std::uint32_t len = seq_lens[b];
      if (len == 0) continue;
      double m = -std::numeric_limits<double>::infinity();
      for (std::uint32_t t = 0; t < len; ++t) {
        const float* kk = k + ((std::size_t{b} * max_len + t) * kv_heads + kvh) * d;
        double dot = 0;
        for (std::uint32_t j = 0; j < d; ++j) dot += double{qq[j]} * kk[j];
        s[t] = dot * softmax_scale;
        m = std::max(m, s[t]);
      }
      double l = 0;
      for (std::uint32_t t = 0; t < len; ++t) {
        const double p = std::exp(s[t] - m);
        l += p;
        const float* vv = v + ((std::size_t{b} * max_len + t) * kv_heads + kvh) * d;
        for (std::uint32_t j = 0; j < d; ++j) o[j] += p * vv[j];
      }
      for (std::uint32_t j = 0; j < d; ++j) o[j] /= l;
    }
}

}  // namespace jevons::kernels
