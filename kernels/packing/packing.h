#pragma once
/// \file Bit packing of b-bit codes (b = 1..8) and of sign bits.
///
/// Layout (turboquant.md §7.14): a little-endian bit stream. Code j occupies stream bits
/// [j·b, j·b + b), least significant bit first; stream bit k is bit (k mod 8) of byte ⌊k/8⌋.
/// So 3-bit codes straddle bytes, and 8 consecutive codes always fill exactly b bytes — the unit
/// the CUDA kernels load per thread. Sign bits are the b = 1 case: bit p set iff value p > 0
/// (so a zero projection counts as −1, as in the QJL kernels).

#include <cstddef>
#include <cstdint>

#include "common/device.h"
#include "common/hd.h"

namespace jevons::kernels {

/// Bytes holding `count` codes of `bits` bits.
constexpr std::size_t packed_bytes(std::size_t count, int bits) {
  return (count * static_cast<std::size_t>(bits) + 7) / 8;
}

/// Packs `count` codes (`codes`: [count], each < 2^bits) into `out` ([packed_bytes] bytes,
/// fully overwritten, unused high bits of the last byte are zero).
void pack_codes(const std::uint8_t* codes, std::size_t count, int bits, std::uint8_t* out);
/// Inverse of pack_codes. `packed`: [packed_bytes]; `codes`: [count].
void unpack_codes(const std::uint8_t* packed, std::size_t count, int bits, std::uint8_t* codes);
/// Sign bits of `values` ([count] floats): bit p = values[p] > 0. `out`: [⌈count/8⌉] bytes.
void pack_signs(const float* values, std::size_t count, std::uint8_t* out);

/// One code from a packed stream (host or device; reads at most 2 bytes).
JEVONS_HD unsigned read_code(const std::uint8_t* packed, std::size_t j, int bits) {
  const std::size_t bit = j * static_cast<std::size_t>(bits);
  const std::size_t byte = bit >> 3;
  const unsigned shift = static_cast<unsigned>(bit & 7u);
  unsigned w = packed[byte];
  if (shift + static_cast<unsigned>(bits) > 8u) w |= static_cast<unsigned>(packed[byte + 1]) << 8;
  return (w >> shift) & ((1u << bits) - 1u);
}

/// Codes 0..7 of a group of 8 from its `bits` bytes assembled little-endian into `word`.
JEVONS_HD unsigned group_code(std::uint32_t word, int i, int bits) {
  return (word >> (i * bits)) & ((1u << bits) - 1u);
}

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {
/// Device pack/unpack of `count` codes (tests). Pointers are device memory, sizes as above.
Status pack_codes(const std::uint8_t* codes, std::size_t count, int bits, std::uint8_t* out,
                  const Stream& stream);
Status unpack_codes(const std::uint8_t* packed, std::size_t count, int bits, std::uint8_t* codes,
                    const Stream& stream);
}  // namespace gpu
#endif

}  // namespace jevons::kernels
