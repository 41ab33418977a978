// Bit packing round trips bit-exactly for b = 1..8 and sign bits (§7.14), at awkward counts.
#include <catch2/catch.hpp>

#include "common/rng.h"
#include "packing/packing.h"

using namespace jevons::kernels;

TEST_CASE("Packed codes round-trip bit-exactly", "[packing]") {
  Rng rng(123);
  for (int bits = 1; bits <= 8; ++bits)
    for (std::size_t count : {1u, 7u, 8u, 37u, 128u, 733u, 1002u}) {
      std::vector<std::uint8_t> codes(count), back(count);
      for (auto& c : codes) c = static_cast<std::uint8_t>(rng.next_u64() & ((1u << bits) - 1));
      std::vector<std::uint8_t> packed(packed_bytes(count, bits), 0xAA);
      pack_codes(codes.data(), count, bits, packed.data());
      unpack_codes(packed.data(), count, bits, back.data());
      INFO("bits=" << bits << " count=" << count);
      CHECK(back == codes);
      // Padding bits in the last byte are zero, so identical code streams are identical bytes.
      const std::size_t used = count * bits % 8;
      if (used) CHECK((packed.back() >> used) == 0);
      // Groups of 8 codes fill exactly `bits` bytes, read little-endian (the kernels' unit, b ≤ 4).
      for (std::size_t g = 0; bits <= 4 && g + 8 <= count; g += 8) {
        std::uint32_t w = 0;
        for (int i = 0; i < bits; ++i) w |= std::uint32_t{packed[g * bits / 8 + i]} << (8 * i);
        for (int i = 0; i < 8; ++i) CHECK(group_code(w, i, bits) == codes[g + i]);
      }
    }
}

TEST_CASE("3-bit codes straddle bytes little-endian", "[packing]") {
  const std::uint8_t codes[8] = {1, 2, 3, 4, 5, 6, 7, 0};
  std::uint8_t packed[3];
  pack_codes(codes, 8, 3, packed);
  // bits: 001 010 011 100 101 110 111 000, LSB first.
  const std::uint32_t w = 1u | 2u << 3 | 3u << 6 | 4u << 9 | 5u << 12 | 6u << 15 | 7u << 18;
  CHECK(packed[0] == (w & 0xff));
  CHECK(packed[1] == ((w >> 8) & 0xff));
  CHECK(packed[2] == ((w >> 16) & 0xff));
}

TEST_CASE("Sign bits: set iff the value is positive (zero counts as negative)", "[packing]") {
  const float v[11] = {1.0f, -1.0f, 0.0f, -0.0f, 3.0f, 1e-30f, -1e-30f, 2.0f, 0.5f, -7.0f, 9.0f};
  std::uint8_t out[2] = {0xff, 0xff};
  pack_signs(v, 11, out);
  CHECK(out[0] == 0b10110001);
  CHECK(out[1] == 0b00000101);
}
