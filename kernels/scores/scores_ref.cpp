#include "scores/scores.h"

namespace jevons::kernels {

void scores_ref(const std::vector<VectorCodec>& k_codecs, const PoolLayout& layout,
                const std::uint8_t* k_pool, const PagedBatch& pb, const float* q,
                std::uint32_t max_len, float* scores) {
  const std::uint32_t d = pb.head_dim;
  const std::uint32_t group = pb.q_heads / pb.kv_heads;
  std::vector<float> qw(2 * d);
  for (std::uint32_t b = 0; b < pb.batch; ++b)
    for (std::uint32_t h = 0; h < pb.q_heads; ++h) {
      const std::uint32_t kvh = h / group;
      const VectorCodec& codec = k_codecs[kvh];
      codec.prepare_query(q + (std::size_t{b} * pb.q_heads + h) * d, qw.data());
      float* out = scores + (std::size_t{b} * pb.q_heads + h) * max_len;
      for (std::uint32_t t = 0; t < pb.seq_lens[b]; ++t) {
        const auto page = static_cast<std::uint64_t>(
            pb.block_table[std::size_t{b} * pb.max_pages_per_seq + t / layout.page_tokens]);
        const std::uint32_t off = t % layout.page_tokens;
        out[t] = codec.score(qw.data(), k_pool + layout.code_offset(page, kvh, off),
                             k_pool + layout.meta_offset(page, kvh, off));
      }
    }
}

}  // namespace jevons::kernels
