#include <cstring>

#include "packing/packing.h"

namespace jevons::kernels {

void pack_codes(const std::uint8_t* codes, std::size_t count, int bits, std::uint8_t* out) {
  std::memset(out, 0, packed_bytes(count, bits));
  const unsigned mask = (1u << bits) - 1u;
  for (std::size_t j = 0; j < count; ++j) {
    const std::size_t bit = j * static_cast<std::size_t>(bits);
    const unsigned v = (codes[j] & mask) << (bit & 7u);
    out[bit >> 3] = static_cast<std::uint8_t>(out[bit >> 3] | (v & 0xffu));
    if ((bit & 7u) + static_cast<unsigned>(bits) > 8u)
      out[(bit >> 3) + 1] = static_cast<std::uint8_t>(out[(bit >> 3) + 1] | (v >> 8));
  }
}

void unpack_codes(const std::uint8_t* packed, std::size_t count, int bits, std::uint8_t* codes) {
  for (std::size_t j = 0; j < count; ++j)
    codes[j] = static_cast<std::uint8_t>(read_code(packed, j, bits));
}

void pack_signs(const float* values, std::size_t count, std::uint8_t* out) {
  std::memset(out, 0, packed_bytes(count, 1));
  for (std::size_t p = 0; p < count; ++p)
    if (values[p] > 0.0f) out[p >> 3] = static_cast<std::uint8_t>(out[p >> 3] | (1u << (p & 7u)));
}

}  // namespace jevons::kernels
