// The pipelined decode kernel's reading of the outlier-split formats (tq-3.5, tq-2.5) on the host:
// decode_attention/decode_pipe_map.h is the code the kernel runs to find each thread's codes
// (segments, channel ↔ mma-fragment maps, direct loads or aligned words + funnel shifts, field
// extraction). Here it runs on a 16-token slice the CPU twin encoded, laid out as in the kernel's
// shared-memory ring, and every code, pair field and channel is compared with the twin's reading
// (read_code at the segment's offset); the lookup-dots the maps imply are compared with the
// twin's score and value accumulation. The GPU test checks the kernel's output; this one pins
// down, on every thread of every instance, that it reads the right bits for the right channel.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/numeric.h"
#include "decode_attention/decode_pipe_map.h"
#include "jevons/core/kv_format.h"
#include "packing/packing.h"
#include "quant/quant.h"
#include "test_util.h"

using namespace jevons;
using namespace jevons::kernels;
using namespace jevons::kernels::test;

namespace {

constexpr int kTile = 16;  // tokens per slice (PipeShape::kTile)

/// A slice's code region: 16 rows of `row` bytes from a 16-byte aligned base (as in the ring),
/// padded so the funnel path's word past a run stays inside (the kernel's slice continues).
struct Region {
  std::vector<std::uint32_t> words;
  const std::uint8_t* bytes() const { return reinterpret_cast<const std::uint8_t*>(words.data()); }
};

/// Thread run `idx` of segment s in token `tok`, extracted the way the kernel does for this
/// instance: a direct load where direct_align allows, else aligned words and funnel shifts
/// (with the per-thread (word, shift) of token `tok0` plus whole rows when rows are whole words).
template <class S, int NW>
std::array<std::uint32_t, NW + 1> kernel_run(const Region& r, int row_bytes, int s, bool k_side,
                                             int idx, int tok, int tok0) {
  const int rb = k_side ? S::k_run_bits(s) : S::v_run_bits(s);
  std::array<std::uint32_t, NW + 1> w{};
  const int a = pipe::direct_align(row_bytes, S::code_bit(s), rb);
  if (a > 0) {
    const std::size_t off = std::size_t(tok) * row_bytes + S::code_bit(s) / 8 + idx * (rb / 8);
    REQUIRE(off % a == 0);  // the width the kernel loads at must be aligned there
    REQUIRE(rb / 8 <= 4 * NW);
    std::memcpy(w.data(), r.bytes() + off, rb / 8);
  } else if (row_bytes % 4 == 0) {
    const std::uint32_t b0 = pipe::run_bit<S>(s, k_side, idx, tok0, row_bytes);
    REQUIRE((tok - tok0) * row_bytes % 4 == 0);
    pipe::run_words_at<NW>(r.words.data() + (b0 >> 5) + (tok - tok0) * row_bytes / 4, b0 & 31u,
                           w.data());
  } else {
    pipe::run_words<NW>(r.words.data(), pipe::run_bit<S>(s, k_side, idx, tok, row_bytes), w.data());
  }
  w[NW] = 0;  // as the kernel: fields never read it
  return w;
}

template <int D, int B0, int B1>
void check_split(const std::string& name) {
  using S = pipe::Segs<D, B0, B1>;
  const KvFormat f = KvFormat::parse(name);
  CodecOptions o;
  // Outliers anywhere (the maps live in the codec domain, after the permutation).
  for (std::uint32_t c = 0; c < D / 4; ++c) o.outlier_channels.push_back((c * 7 + 3) % D);
  const VectorCodec codec = VectorCodec::make(f, D, o);
  const VectorDesc& d = codec.desc();
  INFO(name << " d=" << D);
  // The layout the kernel's shape assumes is the codec's.
  REQUIRE(d.num_segments == 2);
  REQUIRE(static_cast<int>(d.code_bytes) == S::kMseBytes);
  REQUIRE(d.meta_bytes == 4u);
  for (int s = 0; s < 2; ++s) {
    REQUIRE(static_cast<int>(d.seg[s].dim) == S::dim(s));
    REQUIRE(static_cast<int>(d.seg[s].bits) == S::bits(s));
    REQUIRE(static_cast<int>(d.seg[s].channel_offset) == S::chan(s));
    REQUIRE(static_cast<int>(d.seg[s].code_offset) * 8 == S::code_bit(s));
    REQUIRE(static_cast<int>(d.seg[s].norm_index) == s);
  }
  const int row = static_cast<int>(d.code_bytes);
  // Heavy-tailed vectors so every code value occurs; the twin encodes them.
  const auto x = heavy_tailed(kTile, D, 97 + D + B1);
  Region reg;
  reg.words.assign((kTile * row + 15) / 16 * 4 + 8, 0u);
  std::vector<std::uint8_t> meta(kTile * 4);
  for (int t = 0; t < kTile; ++t)
    codec.encode(x.data() + std::size_t(t) * D,
                 reinterpret_cast<std::uint8_t*>(reg.words.data()) + std::size_t(t) * row,
                 meta.data() + 4 * t);
  auto twin_code = [&](int tok, int ch) {
    const int s = ch < S::chan(1) ? 0 : 1;
    return read_code(reg.bytes() + std::size_t(tok) * row + d.seg[s].code_offset,
                     static_cast<std::size_t>(ch - S::chan(s)), S::bits(s));
  };
  const auto qv = gaussian(D, 5 + D);
  std::vector<float> q(codec.work_width());
  codec.prepare_query(qv.data(), q.data());
  auto cent = [&](int s, unsigned code) { return d.seg[s].centroids[code]; };
  auto norm = [&](int tok, int s) {
    const std::uint8_t* m = meta.data() + 4 * tok + 2 * s;
    return half_to_float(static_cast<std::uint16_t>(m[0] | (m[1] << 8)));
  };

  // ---- Q·Kᵀ: thread (g, qp) reads token 8j + g.
  for (int t = 0; t < kTile; ++t) {
    const int g = t % 8;  // token 8j + g of thread (g, qp)
    std::vector<int> seen(D, 0);
    double seg_dot[2] = {0, 0};
    for (int qp = 0; qp < 4; ++qp)
      for (int s = 0; s < 2; ++s) {
        constexpr int kMaxNW = S::words_of(S::k_run_bits(1)) > S::words_of(S::k_run_bits(0))
                                   ? S::words_of(S::k_run_bits(1))
                                   : S::words_of(S::k_run_bits(0));
        const auto w = kernel_run<S, kMaxNW>(reg, row, s, true, qp, t, g);
        const int b = S::bits(s);
        for (int kb = 0; kb < S::k_blocks(s); ++kb) {
          for (int h = 0; h < 2; ++h) {
            const int ch = pipe::k_channel<S>(s, qp, kb, h);
            REQUIRE(ch >= S::chan(s));
            REQUIRE(ch < S::chan(s) + S::dim(s));
            ++seen[ch];
            unsigned code = 0;
            if (b == 4)
              code = pipe::field_at<4>(w.data(), (2 * kb + h) * b, 0);
            else if (b == 3)
              code = pipe::field_at<3>(w.data(), (2 * kb + h) * b, 0);
            else
              code = pipe::field_at<2>(w.data(), (2 * kb + h) * b, 0);
            REQUIRE(code == twin_code(t, ch));
            seg_dot[s] += double{q[ch]} * cent(s, code);
          }
          // The pair the kernel looks up: field << 7 = (code 2kb | code 2kb+1 << b) · 128.
          std::uint32_t pair = 0;
          if (b == 4)
            pair = pipe::field_at<8>(w.data(), 2 * kb * b, 7);
          else if (b == 3)
            pair = pipe::field_at<6>(w.data(), 2 * kb * b, 7);
          else
            pair = pipe::field_at<4>(w.data(), 2 * kb * b, 7);
          const int c0 = pipe::k_channel<S>(s, qp, kb, 0), c1 = pipe::k_channel<S>(s, qp, kb, 1);
          REQUIRE(pair == ((twin_code(t, c0) | (twin_code(t, c1) << b)) << 7));
        }
      }
    for (int ch = 0; ch < D; ++ch) REQUIRE(seen[ch] == 1);
    // n0·⟨q0, c0⟩ + n1·⟨q1, c1⟩ from the maps is the twin's score.
    const double score = norm(t, 0) * seg_dot[0] + norm(t, 1) * seg_dot[1];
    const float twin =
        codec.score(q.data(), reg.bytes() + std::size_t(t) * row, meta.data() + 4 * t);
    REQUIRE(score == Approx(twin).margin(1e-4 * (1 + std::fabs(twin))));
  }

  // ---- Vᵀ·P: thread (g, qp) reads tokens u = 0..3 ↔ 8(u >> 1) + 2qp + (u & 1), channels of g.
  for (int qp = 0; qp < 4; ++qp)
    for (int u = 0; u < 4; ++u) {
      const int t = (u >> 1) * 8 + 2 * qp + (u & 1);
      std::vector<int> seen(D, 0);
      std::vector<float> acc(D, 0.0f), twin(D, 0.0f);
      for (int g = 0; g < 8; ++g)
        for (int s = 0; s < 2; ++s) {
          constexpr int kMaxNW = S::words_of(S::v_run_bits(1)) > S::words_of(S::v_run_bits(0))
                                     ? S::words_of(S::v_run_bits(1))
                                     : S::words_of(S::v_run_bits(0));
          const auto w = kernel_run<S, kMaxNW>(reg, row, s, false, g, t, 2 * qp);
          const int b = S::bits(s);
          for (int mt = 0; mt < S::v_tiles(s); ++mt) {
            std::uint32_t pair = 0;
            if (b == 4)
              pair = pipe::field_at<8>(w.data(), 2 * mt * b, 7);
            else if (b == 3)
              pair = pipe::field_at<6>(w.data(), 2 * mt * b, 7);
            else
              pair = pipe::field_at<4>(w.data(), 2 * mt * b, 7);
            for (int r = 0; r < 2; ++r) {
              const int ch = pipe::v_channel<S>(s, g, mt, r);
              REQUIRE(ch >= S::chan(s));
              REQUIRE(ch < S::chan(s) + S::dim(s));
              ++seen[ch];
              const unsigned code = ((pair >> 7) >> (r * b)) & ((1u << b) - 1u);
              REQUIRE(code == twin_code(t, ch));
              // Segment s's m-tiles are the global ones after segment 0's.
              REQUIRE(S::v_tile0(s) + mt < D / 16);
              acc[ch] += 0.5f * norm(t, s) * cent(s, code);
            }
          }
        }
      for (int ch = 0; ch < D; ++ch) REQUIRE(seen[ch] == 1);
      codec.accumulate(0.5f, reg.bytes() + std::size_t(t) * row, meta.data() + 4 * t, twin.data());
      for (int ch = 0; ch < D; ++ch) REQUIRE(acc[ch] == Approx(twin[ch]).margin(1e-6));
    }
  // Query k-blocks: segment 1's follow segment 0's, D/8 in all.
  REQUIRE(S::k_block0(1) == S::k_blocks(0));
  REQUIRE(S::k_blocks(0) + S::k_blocks(1) == D / 8);
  REQUIRE(S::v_tile0(1) == S::v_tiles(0));
}

}  // namespace

TEST_CASE("Pipelined decode reads the split formats' codes as the CPU twin does") {
  check_split<64, 4, 3>("tq-3.5");
  check_split<128, 4, 3>("tq-3.5");
  check_split<256, 4, 3>("tq-3.5");
  check_split<64, 3, 2>("tq-2.5");
  check_split<128, 3, 2>("tq-2.5");
  check_split<256, 3, 2>("tq-2.5");
}

TEST_CASE("Pipelined decode's run extraction matches the bit stream at every offset") {
  // run_words (aligned words + funnel shift) against read_code, at every start bit of a word.
  std::vector<std::uint32_t> words(12);
  std::uint64_t st = 0x9e3779b97f4a7c15ull;
  for (auto& w : words) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    w = static_cast<std::uint32_t>(st >> 32);
  }
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(words.data());
  for (std::uint32_t pos = 0; pos < 128; ++pos) {
    std::uint32_t w[4];
    pipe::run_words<3>(words.data(), pos, w);
    for (int bit = 0; bit < 96; ++bit)
      REQUIRE(((w[bit >> 5] >> (bit & 31)) & 1u) == read_code(bytes, pos + bit, 1));
  }
  // direct_align: never claims an alignment a row, offset or run does not have.
  REQUIRE(pipe::direct_align(52, 0, 32) == 4);
  REQUIRE(pipe::direct_align(52, 128, 72) == 0);  // 9-byte runs
  REQUIRE(pipe::direct_align(26, 0, 16) == 2);    // one 2-byte load
  REQUIRE(pipe::direct_align(18, 0, 12) == 0);    // mid-byte
  REQUIRE(pipe::direct_align(104, 0, 64) == 8);
  REQUIRE(pipe::direct_align(36, 96, 48) == 0);  // 6 bytes at a 2-byte boundary
}
