#pragma once
/// \file Byte layout of a paged KV pool (see append/append.h for the full description).

#include <cstdint>

#include "common/hd.h"

namespace jevons::kernels {

struct PoolLayout {
  std::uint32_t num_pages = 0;
  std::uint32_t page_tokens = 0;  ///< multiple of 16
  std::uint32_t kv_heads = 0;
  std::uint32_t code_bytes = 0;  ///< per vector
  std::uint32_t meta_bytes = 0;  ///< per vector

  JEVONS_HD std::uint64_t vector_bytes() const { return std::uint64_t{code_bytes} + meta_bytes; }
  JEVONS_HD std::uint64_t head_block_bytes() const { return vector_bytes() * page_tokens; }
  JEVONS_HD std::uint64_t page_bytes() const { return head_block_bytes() * kv_heads; }
  JEVONS_HD std::uint64_t total_bytes() const { return page_bytes() * num_pages; }
  /// Byte offset of the codes of (page, head, offset-in-page).
  JEVONS_HD std::uint64_t code_offset(std::uint64_t page, std::uint32_t head,
                                      std::uint32_t offset) const {
    return page * page_bytes() + head * head_block_bytes() + std::uint64_t{offset} * code_bytes;
  }
  /// Byte offset of the metadata of (page, head, offset-in-page).
  JEVONS_HD std::uint64_t meta_offset(std::uint64_t page, std::uint32_t head,
                                      std::uint32_t offset) const {
    return page * page_bytes() + head * head_block_bytes() +
           std::uint64_t{page_tokens} * code_bytes + std::uint64_t{offset} * meta_bytes;
  }
};

}  // namespace jevons::kernels
