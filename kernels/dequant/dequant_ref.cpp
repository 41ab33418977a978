#include "dequant/dequant.h"

namespace jevons::kernels {

void dequant_ref(const std::vector<VectorCodec>& codecs, const PoolLayout& layout,
                 const std::uint8_t* pool, const std::int64_t* slots, std::size_t n_tokens,
                 float* out) {
  const std::uint32_t dim = codecs.at(0).dim();
  for (std::size_t t = 0; t < n_tokens; ++t) {
    const auto page = static_cast<std::uint64_t>(slots[t] / layout.page_tokens);
    const auto off = static_cast<std::uint32_t>(slots[t] % layout.page_tokens);
    for (std::uint32_t h = 0; h < layout.kv_heads; ++h)
      codecs[h].decode(pool + layout.code_offset(page, h, off),
                       pool + layout.meta_offset(page, h, off),
                       out + (t * layout.kv_heads + h) * dim);
  }
}

}  // namespace jevons::kernels
