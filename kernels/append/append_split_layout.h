#pragma once
/// \file Index maps of append_split_kernel (the catalog's outlier splits tq-2.5 / tq-3.5 at
/// head_dim D = 64/128/256), host-callable so that the CPU test
/// (tests/kernels/test_append_split.cpp) replays the kernel's data movement with these very maps
/// against VectorCodec::encode, and the launcher builds the permutation table with them.
///
/// The codec vector is four blocks of m = D/4 channels: block 0 is segment 0 (the d/4 outliers,
/// Hadamard of size m), blocks 1-3 are segment 1 (3m channels, kBlockHadamard: a Hadamard of size
/// m per block, then the Q₃ mix across the three blocks). A vector is D/8 lanes, lane ll owning
/// codec channels 8·ll … 8·ll + 7, i.e. block b = ll / L and positions 8·lb … 8·lb + 7 inside it
/// (lb = ll mod L, L = m/8 lanes per block), so every lane runs the same FWHT of size m.

#include <cstdint>
#include <vector>

#include "common/hd.h"

namespace jevons::kernels {

/// Floats of the scatter scratch per codec position: the three regular blocks' channels at that
/// position in slots 0-2 (slot 3 unused), the outlier block's in slot 4, zeros in slots 5 and 6
/// (written once per launch, never overwritten; slot 7 unused). One 16-byte read at a position
/// gives every lane the three values its segment's norm tree combines first (tree_sum over 3m
/// channels: a[i] + a[i + 2m], then + a[i + m]); an outlier lane reads (x, 0, 0), whose "sum" is
/// x² exactly.
constexpr int kSplitSlots = 8;

/// Slot of block b's channel inside its position's 8 floats.
JEVONS_HD constexpr int append_split_slot(int block) {
  return block == 0 ? 4 : block - 1;
}

/// Byte offset, inside one vector's scratch (kSplitSlots·m floats), of codec channel j.
JEVONS_HD constexpr std::uint32_t append_split_scratch_offset(int dim, int j) {
  return 4u * static_cast<std::uint32_t>(kSplitSlots * (j % (dim / 4)) +
                                         append_split_slot(j / (dim / 4)));
}

/// Norm layout: lane lb of a block reads positions lb + L·k, k = 0..7 (the top three position
/// bits are register bits: seven in-lane adds, then log2 L xor shuffles over lb).
JEVONS_HD constexpr int append_split_tree_position(int lb, int k, int lanes) {
  return lb + lanes * k;
}

/// FWHT layout for the stages 8 … m/2 at m ≥ 32 (d = 128/256): after stages 1, 2, 4 on its 8
/// consecutive positions, lane lb of a block reads position append_split_fwht_position(m, lb, r)
/// into register r, so those stages pair registers: for m = 64 the registers index position bits
/// 3..5 and lb bits 0..2; for m = 32 register bit 0 is position bit 0 and register bits 1, 2
/// position bits 3, 4 (lb: bits 1, 2). (At m = 16 the one stage 8 crosses lanes by shuffle.)
JEVONS_HD constexpr int append_split_fwht_position(int m, int lb, int r) {
  return m >= 64 ? lb + 8 * r : (r & 1) + 2 * lb + 8 * (r >> 1);
}

/// Smallest register distance of those stages: 1 (stages 8, 16, 32) at m = 64, 2 (stages 8, 16)
/// at m = 32.
JEVONS_HD constexpr int append_split_fwht_first(int m) {
  return m >= 64 ? 1 : 2;
}

/// The Q₃ mix: lane (b, lb) combines the three regular blocks at positions 8·lb + 2·b and
/// 8·lb + 2·b + 1 (each position of a lane group handled by exactly one of its four lanes).
JEVONS_HD constexpr int append_split_mix_position(int block, int lb) {
  return 8 * lb + 2 * block;
}

/// Byte offset of lane ll's packed codes inside the vector's code block: segment 0's m·b0/8
/// bytes, then segment 1's (blocks 1-3 consecutive), each lane 8 codes = b bytes.
JEVONS_HD constexpr int append_split_code_offset(int dim, int b0, int b1, int ll) {
  return ll < dim / 32 ? ll * b0 : dim / 4 * b0 / 8 + (ll - dim / 32) * b1;
}

/// The permutation table the kernel scatters with: per head h and original channel c, half the
/// byte offset append_split_scratch_offset(dim, j) of the codec channel j that holds it
/// (perm[h·dim + j] = c), so a lane writes its 8 consecutive input channels as floats straight
/// to their codec slots in the warp's scratch (address base + 2·entry, one LEA, modulo 2^32), and
/// bit 31 set where that channel's rotation sign is −1 (signs0: segment 0's d/4, signs1: segment
/// 1's 3d/4), which the doubling drops from the address and the scatter flips into the float's
/// sign bit (s·x/‖x‖ = s·(x/‖x‖) and (s·x)² = x² exactly: the twin's multiply by ±1 after the
/// division). `perm`: [heads][dim], each row a permutation.
inline std::vector<std::uint32_t> append_split_scatter_table(const std::vector<std::uint16_t>& perm,
                                                             std::uint32_t dim,
                                                             const std::vector<float>& signs0,
                                                             const std::vector<float>& signs1) {
  std::vector<std::uint32_t> out(perm.size());
  const std::uint32_t m = dim / 4;
  for (std::size_t h = 0; h < perm.size() / dim; ++h)
    for (std::uint32_t j = 0; j < dim; ++j) {
      const float s = j < m ? signs0[j] : signs1[j - m];
      out[h * dim + perm[h * dim + j]] =
          append_split_scratch_offset(static_cast<int>(dim), static_cast<int>(j)) / 2 |
          (s < 0.0f ? 0x80000000u : 0u);
    }
  return out;
}

}  // namespace jevons::kernels
