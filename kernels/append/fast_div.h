#pragma once
/// \file Division by a runtime divisor by one multiply-high, one add and one shift: what the
/// append kernel's loop uses for kv_heads and page_tokens (a hardware-less 32-bit division costs
/// ~15 instructions; a branch for d = 1 another 3). Host-callable so a CPU test checks it.

#include <cstdint>

#include "common/hd.h"

namespace jevons::kernels {

/// n / d for n < 2^31 and 1 ≤ d < 2^31 (Granlund–Montgomery 1994, fig. 4.1): with
/// l = ⌈log2 d⌉ and m' = ⌊2^32·(2^l − d)/d⌋ + 1 < 2^32, ⌊n/d⌋ = ⌊(2^32 + m')·n / 2^(32+l)⌋
/// = (mulhi(m', n) + n) >> l for every n < 2^32; for n < 2^31 the sum stays under 2^32, so no
/// 33rd bit is needed. d = 1 (m' = 1, l = 0) and powers of two need no special case.
struct FastDiv {
  std::uint32_t d = 1, mul = 1, shr = 0;
  FastDiv() = default;
  explicit FastDiv(std::uint32_t divisor) : d(divisor) {
    std::uint32_t l = 0;
    while ((1ull << l) < d) ++l;  // ⌈log2 d⌉
    mul = static_cast<std::uint32_t>(((1ull << 32) * ((1ull << l) - d)) / d + 1);
    shr = l;
  }
  JEVONS_HD std::uint32_t div(std::uint32_t n) const {
#if defined(__CUDA_ARCH__)
    // mul.hi as its own asm: nvcc otherwise folds the + n into IMAD.HI's 64-bit addend, which
    // costs two moves to build the (0, n) register pair (4 instructions instead of 3).
    std::uint32_t hi;
    asm("mul.hi.u32 %0, %1, %2;" : "=r"(hi) : "r"(n), "r"(mul));
#else
    const auto hi = static_cast<std::uint32_t>((std::uint64_t{n} * mul) >> 32);
#endif
    return (hi + n) >> shr;
  }
};

}  // namespace jevons::kernels
