#include <stdexcept>
#include <string>

#include "append/append.h"

namespace jevons::kernels {

PoolLayout make_pool_layout(const VectorCodec& codec, std::uint32_t num_pages,
                            std::uint32_t page_tokens, std::uint32_t kv_heads) {
  if (page_tokens == 0 || page_tokens % 16 != 0)
    throw std::invalid_argument("page_tokens must be a positive multiple of 16, got " +
                                std::to_string(page_tokens));
  PoolLayout l;
  l.num_pages = num_pages;
  l.page_tokens = page_tokens;
  l.kv_heads = kv_heads;
  l.code_bytes = codec.code_bytes();
  l.meta_bytes = codec.meta_bytes();
  return l;
}

HostKvCache::HostKvCache(const VectorCodec& k_codec, const VectorCodec& v_codec,
                         std::uint32_t num_pages, std::uint32_t page_tokens, std::uint32_t kv_heads)
    : k_layout(make_pool_layout(k_codec, num_pages, page_tokens, kv_heads)),
      v_layout(make_pool_layout(v_codec, num_pages, page_tokens, kv_heads)),
      k_pool(k_layout.total_bytes(), 0),
      v_pool(v_layout.total_bytes(), 0) {}

void store_vectors_ref(const std::vector<VectorCodec>& codecs, const PoolLayout& layout,
                       const float* x, std::size_t n_tokens, const std::int64_t* slots,
                       std::uint8_t* pool) {
  const std::uint32_t dim = codecs.at(0).dim();
  for (std::size_t t = 0; t < n_tokens; ++t) {
    const auto page = static_cast<std::uint64_t>(slots[t] / layout.page_tokens);
    const auto off = static_cast<std::uint32_t>(slots[t] % layout.page_tokens);
    for (std::uint32_t h = 0; h < layout.kv_heads; ++h) {
      const float* src = x + (t * layout.kv_heads + h) * dim;
      codecs[h].encode(src, pool + layout.code_offset(page, h, off),
                       pool + layout.meta_offset(page, h, off));
    }
  }
}

void append_ref(const std::vector<VectorCodec>& k_codecs, const std::vector<VectorCodec>& v_codecs,
                const float* k, const float* v, std::size_t n_tokens, const std::int64_t* slots,
                HostKvCache& cache) {
  store_vectors_ref(k_codecs, cache.k_layout, k, n_tokens, slots, cache.k_pool.data());
  store_vectors_ref(v_codecs, cache.v_layout, v, n_tokens, slots, cache.v_pool.data());
}

void slots_for_positions(const std::int32_t* block_table, std::uint32_t max_pages_per_seq,
                         std::uint32_t page_tokens, std::uint32_t b, std::uint64_t start,
                         std::uint64_t count, std::vector<std::int64_t>& slots) {
  for (std::uint64_t p = start; p < start + count; ++p) {
    const std::int32_t page = block_table[std::size_t{b} * max_pages_per_seq + p / page_tokens];
    slots.push_back(std::int64_t{page} * page_tokens + static_cast<std::int64_t>(p % page_tokens));
  }
}

}  // namespace jevons::kernels
