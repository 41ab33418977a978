// append_split_kernel (the catalog's tq-3.5 and tq-2.5) on the host: its per-lane arithmetic
// (append/append_split_lane.h, the very functions the kernel inlines) and its layout maps
// (append/append_split_layout.h) driven through the kernel's data movement, lane by lane — the
// permutation scatter into the slotted scratch, the norm tree's reads and xor butterfly, the warp
// vote between the exact-square and the IEEE path, the FWHT's cross-lane stages, the Q₃ mix round
// trip, the bucketize tables the launcher builds, the code staging and the meta word — against
// VectorCodec::encode, bit for bit. The GPU test compares real pools; this one pins the operation
// order down without a GPU.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "append/append_split_lane.h"
#include "append/append_split_layout.h"
#include "append/append_tq_bucket.h"
#include "common/numeric.h"
#include "common/rng.h"
#include "jevons/core/kv_format.h"
#include "quant/quant.h"
#include "test_util.h"

using namespace jevons;
using namespace jevons::kernels;
using namespace jevons::kernels::test;

namespace {

/// What the launcher hands the kernel for one codec: per segment the bucketize table (built by
/// the kernel from these thresholds and cell map), and the head's scatter table (slot offsets
/// and rotation signs).
struct SplitInputs {
  AppendBucketCell table[2][kAppendBucketCells];
  float cell_s[2], cell_o[2];
  std::vector<std::uint32_t> scatter;  ///< append_split_scatter_table of this head
};

SplitInputs split_inputs(const VectorCodec& c) {
  SplitInputs in;
  for (int s = 0; s < 2; ++s) {
    const SegmentDesc& g = c.desc().seg[s];
    float thr[15];
    REQUIRE(append_bucket_table(g.boundaries, (1 << g.bits) - 1, c.rotation(s)->hadamard_scale(),
                                thr, in.cell_s[s], in.cell_o[s], in.table[s]));
  }
  REQUIRE(c.rotation(0)->kind() == RotationKind::kHadamard);
  REQUIRE(c.rotation(1)->kind() == RotationKind::kBlockHadamard);
  in.scatter = append_split_scatter_table(c.permutation(), c.dim(), c.rotation(0)->signs(),
                                          c.rotation(1)->signs());
  return in;
}

/// The kernel's encode of one bf16 vector `xb` (original channel order) into code and meta bytes,
/// replayed over its D/8 lanes: every step a lane takes is one of the kernel's functions, and
/// every cross-lane step (shared memory, shuffles, the vote) reads what the kernel's would.
/// `force_ieee`: take the IEEE path even where the vote would pass (another vector of the warp
/// failed it), which must give the same bytes. `seg_norm` receives the two float norms, `pre`
/// the D rotated values before the scale (codec order), for the bit-level checks.
template <int D, int B0, int B1>
void kernel_encode(const SplitInputs& in, const std::uint16_t* xb, bool force_ieee,
                   std::uint8_t* code, std::uint8_t* meta, float* seg_norm, float* pre) {
  constexpr int M = D / 4, L = M / 8, kLanes = D / 8;
  constexpr int kCodeBytes = M * (B0 + 3 * B1) / 8;
  std::vector<float> scratch(kSplitSlots * M, 0.0f);  // zero slots: written once per launch
  // Scatter: lane ll converts its 16 input bytes and writes each float, its sign flipped where
  // the entry's bit 31 says so, at byte 2·entry (mod 2^32) of the vector's scratch.
  std::vector<int> written(kSplitSlots * M, 0);
  for (int ll = 0; ll < kLanes; ++ll)
    for (int k = 0; k < 8; ++k) {
      const std::uint32_t e = in.scatter[8 * ll + k];
      const std::uint32_t off = 2u * e;  // mod 2^32: bit 31 drops out
      REQUIRE(off % 4 == 0);
      REQUIRE(off / 4 < static_cast<std::uint32_t>(kSplitSlots * M));
      const int slot = static_cast<int>(off / 4) % kSplitSlots;
      REQUIRE((slot <= 2 || slot == 4));  // never the zero slots or the unused ones
      ++written[off / 4];
      scratch[off / 4] = bits_float((std::uint32_t{xb[8 * ll + k]} << 16) ^ (e & 0x80000000u));
    }
  for (int p = 0; p < M; ++p)
    for (int s : {0, 1, 2, 4}) REQUIRE(written[kSplitSlots * p + s] == 1);
  auto block_of = [](int ll) { return ll / L; };
  float sumsq[kLanes];
  auto norms = [&](bool exact, float* norm) {
    float q[kLanes];
    for (int ll = 0; ll < kLanes; ++ll) {
      const int blk = block_of(ll), lb = ll % L;
      float qq[8];
      for (int k = 0; k < 8; ++k) {
        const float* v =
            &scratch[kSplitSlots * append_split_tree_position(lb, k, L) + (blk == 0 ? 4 : 0)];
        qq[k] = split_tree_first(v[0], v[1], v[2], exact);
      }
      q[ll] = split_tree_regs(qq);
    }
    for (int s = L / 2; s > 0; s >>= 1) {  // __shfl_xor_sync(q, s): every lane at once
      float nq[kLanes];
      for (int ll = 0; ll < kLanes; ++ll) nq[ll] = q[ll] + q[ll ^ s];
      std::copy(nq, nq + kLanes, q);
    }
    for (int ll = 0; ll < kLanes; ++ll) {
      sumsq[ll] = q[ll];
      norm[ll] = exact ? split_sqrt_fast(q[ll]) : std::sqrt(q[ll]);
    }
  };
  float norm[kLanes], x[kLanes][8];
  norms(true, norm);
  bool fast = !force_ieee;
  for (int ll = 0; ll < kLanes; ++ll) {
    for (int r = 0; r < 8; ++r)
      x[ll][r] = scratch[kSplitSlots * (8 * (ll % L) + r) + append_split_slot(block_of(ll))];
    std::uint32_t w[4];
    for (int k = 0; k < 4; ++k)
      w[k] = std::uint32_t{xb[8 * ll + 2 * k]} | (std::uint32_t{xb[8 * ll + 2 * k + 1]} << 16);
    fast = fast && split_fast_ok(split_input_ok(w[0], w[1], w[2], w[3]), sumsq[ll]);
  }
  if (!fast) norms(false, norm);
  for (int ll = 0; ll < kLanes; ++ll) {
    if (fast)
      split_divide_fast(x[ll], norm[ll]);
    else
      split_divide_ieee(x[ll], norm[ll]);
    split_fwht8(x[ll]);
  }
  // The stages 8 … m/2: at m = 16 one stage across the block's 2 lanes (shuffle); at m ≥ 32 in
  // registers after the transpose through B, whose write-back is the mix's input.
  float buf[D];
  if constexpr (M == 16) {
    float nx[kLanes][8];
    for (int ll = 0; ll < kLanes; ++ll)
      for (int k = 0; k < 8; ++k)
        nx[ll][k] = split_shuffle_bfly(x[ll][k], x[ll ^ 1][k], (ll % L & 1) ? -1.0f : 1.0f);
    std::memcpy(x, nx, sizeof x);
    for (int ll = 0; ll < kLanes; ++ll)
      for (int k = 0; k < 8; ++k) buf[8 * ll + k] = x[ll][k];
  } else {
    for (int ll = 0; ll < kLanes; ++ll)
      for (int k = 0; k < 8; ++k) buf[8 * ll + k] = x[ll][k];
    std::vector<int> owned(D, 0);
    for (int ll = 0; ll < kLanes; ++ll)
      for (int k = 0; k < 8; ++k) {
        const int at = block_of(ll) * M + append_split_fwht_position(M, ll % L, k);
        REQUIRE(at == block_of(ll) * M + append_split_fwht_position(M, 0, k) +
                          append_split_fwht_position(M, ll % L, 0));
        ++owned[at];
        x[ll][k] = buf[at];
      }
    REQUIRE(std::all_of(owned.begin(), owned.end(), [](int n) { return n == 1; }));
    for (int ll = 0; ll < kLanes; ++ll) {
      split_fwht_regs<append_split_fwht_first(M)>(x[ll]);
      for (int k = 0; k < 8; ++k)
        buf[block_of(ll) * M + append_split_fwht_position(M, ll % L, k)] = x[ll][k];
    }
  }
  // The mix round trip: each lane mixes its 2 positions of blocks 1-3, and every lane reads its
  // 8 back.
  std::vector<int> mixed(M, 0);
  for (int ll = 0; ll < kLanes; ++ll) {
    const int pos = append_split_mix_position(block_of(ll), ll % L);
    for (int i = 0; i < 2; ++i) {
      ++mixed[pos + i];
      split_mix(buf[M + pos + i], buf[2 * M + pos + i], buf[3 * M + pos + i]);
    }
  }
  REQUIRE(std::all_of(mixed.begin(), mixed.end(), [](int n) { return n == 1; }));
  std::uint8_t stage[kCodeBytes];
  std::memset(stage, 0xa5, sizeof stage);  // every byte must be written
  std::vector<int> staged(kCodeBytes, 0);
  for (int ll = 0; ll < kLanes; ++ll) {
    const int seg = block_of(ll) == 0 ? 0 : 1;
    const int bits = seg == 0 ? B0 : B1;
    for (int k = 0; k < 8; ++k) x[ll][k] = pre[8 * ll + k] = buf[8 * ll + k];
    const std::uint32_t packed =
        split_pack(x[ll], in.table[seg], in.cell_s[seg], in.cell_o[seg], 1u << bits);
    const int at = append_split_code_offset(D, B0, B1, ll);
    if constexpr (B0 == 3 && B1 == 2) {
      // split_stage32: a 2-byte store of w >> 8 at at + off16 (even) and a 1-byte store of w at
      // at + off8, the same two stores in every lane; a byte the lane writes twice (segment 1)
      // counts once.
      const SplitStage25 st = split_stage25(seg, ll % L);
      const std::uint32_t w = split_stage25_word(packed, st.sel);
      REQUIRE((at + st.off16) % 2 == 0);
      int lane_bytes[kCodeBytes] = {};
      const std::pair<int, std::uint8_t> bytes[3] = {
          {at + st.off16, static_cast<std::uint8_t>(w >> 8)},
          {at + st.off16 + 1, static_cast<std::uint8_t>(w >> 16)},
          {at + st.off8, static_cast<std::uint8_t>(w)}};
      for (const auto& [i, v] : bytes) {
        REQUIRE((i >= at && i < at + bits));  // only the lane's own bytes
        if (lane_bytes[i]++ == 0)
          ++staged[i];
        else
          REQUIRE(stage[i] == v);  // written twice: the same value
        stage[i] = v;
      }
    } else {
      for (int i = 0; i < bits; ++i) {
        ++staged[at + i];
        stage[at + i] = static_cast<std::uint8_t>(packed >> (8 * i));
      }
    }
  }
  REQUIRE(std::all_of(staged.begin(), staged.end(), [](int n) { return n == 1; }));
  std::memcpy(code, stage, kCodeBytes);
  // Every lane of a segment ends with the same root; the store lane pairs its norm with the
  // other segment's (one shuffle).
  for (int ll = 0; ll < kLanes; ++ll)
    REQUIRE(float_bits(norm[ll]) == float_bits(norm[block_of(ll) == 0 ? 0 : L]));
  seg_norm[0] = norm[0], seg_norm[1] = norm[L];
  const std::uint16_t n0 = float_to_half(norm[0]), n1 = float_to_half(norm[L]);
  meta[0] = static_cast<std::uint8_t>(n0), meta[1] = static_cast<std::uint8_t>(n0 >> 8);
  meta[2] = static_cast<std::uint8_t>(n1), meta[3] = static_cast<std::uint8_t>(n1 >> 8);
}

/// bf16 test vectors: heavy-tailed with a few loud channels (the outliers a calibration finds),
/// zeros, a zero vector, tiny channels (the division's IEEE fallback), huge ones (squares that
/// overflow), a lone bf16 subnormal, constant vectors.
std::vector<std::vector<std::uint16_t>> test_vectors(std::uint32_t d, std::uint64_t seed) {
  std::vector<std::vector<std::uint16_t>> out;
  Rng rng(seed);
  auto push = [&](const std::vector<float>& v) {
    std::vector<std::uint16_t> b(d);
    for (std::uint32_t j = 0; j < d; ++j) b[j] = float_to_bf16(v[j]);
    out.push_back(b);
  };
  const auto g = gaussian(std::size_t{d} * 200, seed);
  for (int i = 0; i < 200; ++i) {
    std::vector<float> v(g.begin() + i * d, g.begin() + (i + 1) * d);
    for (std::uint32_t j = 0; j < d; j += 7) v[j] *= 12.0f;  // outlier channels
    const double e = std::ldexp(1.0, static_cast<int>(rng.next_u64() % 61) - 30);
    for (auto& x : v) x = static_cast<float>(x * e);
    if (i % 5 == 0)
      for (std::uint32_t j = 0; j < d; j += 3) v[j] = 0.0f;
    push(v);
  }
  const auto h = heavy_tailed(40, d, seed + 1);
  for (int i = 0; i < 40; ++i) push(std::vector<float>(h.begin() + i * d, h.begin() + (i + 1) * d));
  push(std::vector<float>(d, 0.0f));
  push(std::vector<float>(d, 1.5f));
  push(std::vector<float>(d, -3.0e30f));  // squares overflow: ‖x‖ = inf
  std::vector<float> t(d, 0.25f);
  t[5] = 1e-20f;  // a tiny channel among normal ones: the IEEE fallback
  push(t);
  t[5] = bf16_to_float(0x0001);  // a bf16 subnormal
  push(t);
  std::vector<float> tiny(d);
  for (std::uint32_t j = 0; j < d; ++j)
    tiny[j] = std::ldexp(1.0f + static_cast<float>(j) / 64.0f, -60);
  push(tiny);  // ‖x‖ < 2^-40
  return out;
}

template <int D, int B0, int B1>
void check_dim(const char* name, std::size_t* compared) {
  const KvFormat f = KvFormat::parse(name);
  const std::uint32_t heads = 3;
  // Per-head outliers from a calibration sample, so every head has its own permutation.
  const auto calib = heavy_tailed(64 * heads, D, 11 + D);
  const auto codecs = make_head_codecs(f, D, heads, {}, calib.data(), 64);
  for (std::uint32_t h = 0; h < heads; ++h) {
    const VectorCodec& c = codecs[h];
    REQUIRE(c.desc().num_segments == 2);
    REQUIRE(c.desc().seg[0].dim == D / 4);
    REQUIRE(c.desc().seg[1].dim == 3 * D / 4);
    REQUIRE(c.desc().seg[0].bits == B0);
    REQUIRE(c.desc().seg[1].bits == B1);
    bool identity = true;
    for (int j = 0; j < D; ++j) identity = identity && c.permutation()[j] == j;
    REQUIRE(!identity);
    const SplitInputs in = split_inputs(c);
    for (const auto& xb : test_vectors(D, 1000 * D + h)) {
      std::vector<float> xf(D);
      for (int j = 0; j < D; ++j) xf[j] = bf16_to_float(xb[j]);
      std::vector<std::uint8_t> code(c.code_bytes()), meta(c.meta_bytes());
      c.encode(xf.data(), code.data(), meta.data());
      // The twin's float norms and rotated values (encode's own steps: tree_sum of the permuted
      // squares, the division, Rotation::apply), to check the replay below the codes' resolution.
      float norm[2], y[D];
      for (int sg = 0; sg < 2; ++sg) {
        const SegmentDesc& gd = c.desc().seg[sg];
        std::vector<float> xs(gd.dim), sq(gd.dim), u(gd.dim);
        for (std::uint32_t j = 0; j < gd.dim; ++j) {
          xs[j] = xf[c.permutation()[gd.channel_offset + j]];
          sq[j] = xs[j] * xs[j];
        }
        norm[sg] = std::sqrt(tree_sum(sq.data(), gd.dim));
        for (std::uint32_t j = 0; j < gd.dim; ++j) u[j] = norm[sg] > 0.0f ? xs[j] / norm[sg] : 0.0f;
        c.rotation(sg)->apply(u.data(), y + gd.channel_offset);
      }
      for (bool force_ieee : {false, true}) {
        std::vector<std::uint8_t> kcode(c.code_bytes()), kmeta(c.meta_bytes());
        float knorm[2], pre[D];
        kernel_encode<D, B0, B1>(in, xb.data(), force_ieee, kcode.data(), kmeta.data(), knorm, pre);
        INFO(name << " d=" << D << " head=" << h << " vector #" << *compared
                  << " ieee=" << force_ieee);
        REQUIRE(kcode == code);
        REQUIRE(kmeta == meta);
        REQUIRE(float_bits(knorm[0]) == float_bits(norm[0]));
        REQUIRE(float_bits(knorm[1]) == float_bits(norm[1]));
        for (int j = 0; j < D; ++j) {
          const float scaled = pre[j] * c.rotation(j < D / 4 ? 0 : 1)->hadamard_scale();
          INFO("channel " << j);
          REQUIRE((scaled == y[j] || (std::isnan(scaled) && std::isnan(y[j]))));
        }
      }
      ++*compared;
    }
  }
}

}  // namespace

TEST_CASE(
    "append_split layout maps cover every position once and the scatter inverts the permutation",
    "[append][split]") {
  for (int d : {64, 128, 256}) {
    const int m = d / 4, lanes = m / 8;
    std::vector<int> seen_t(m, 0), seen_x(m, 0), seen_slot(kSplitSlots * m, 0);
    for (int lb = 0; lb < lanes; ++lb) {
      for (int k = 0; k < 8; ++k) ++seen_t[append_split_tree_position(lb, k, lanes)];
      for (int b = 0; b < 4; ++b)
        for (int i = 0; i < 2; ++i) ++seen_x[append_split_mix_position(b, lb) + i];
    }
    for (int j = 0; j < d; ++j) ++seen_slot[append_split_scratch_offset(d, j) / 4];
    CHECK(std::all_of(seen_t.begin(), seen_t.end(), [](int n) { return n == 1; }));
    CHECK(std::all_of(seen_x.begin(), seen_x.end(), [](int n) { return n == 1; }));
    for (int p = 0; p < m; ++p)
      for (int s = 0; s < kSplitSlots; ++s)
        CHECK(seen_slot[kSplitSlots * p + s] == (s <= 2 || s == 4 ? 1 : 0));
    // Codes: lane after lane, segment 0's b0 bytes each then segment 1's b1 bytes each.
    for (auto [b0, b1] : {std::pair{4, 3}, std::pair{3, 2}}) {
      int at = 0;
      for (int ll = 0; ll < d / 8; ++ll) {
        CHECK(append_split_code_offset(d, b0, b1, ll) == at);
        at += ll < lanes ? b0 : b1;
      }
      CHECK(at == m * (b0 + 3 * b1) / 8);
    }
  }
  const auto calib = heavy_tailed(64 * 2, 128, 3);
  const auto codecs = make_head_codecs(KvFormat::parse("tq-3.5"), 128, 2, {}, calib.data(), 64);
  std::vector<std::uint16_t> perm;
  for (const auto& c : codecs)
    perm.insert(perm.end(), c.permutation().begin(), c.permutation().end());
  const auto& s0 = codecs[0].rotation(0)->signs();
  const auto& s1 = codecs[0].rotation(1)->signs();
  const auto tab = append_split_scatter_table(perm, 128, s0, s1);
  for (std::uint32_t h = 0; h < 2; ++h)
    for (int j = 0; j < 128; ++j) {
      const std::uint32_t e = tab[h * 128 + perm[h * 128 + j]];
      CHECK(2 * (e & 0x7fffffffu) == append_split_scratch_offset(128, j));
      CHECK((e >> 31) == ((j < 32 ? s0[j] : s1[j - 32]) < 0.0f ? 1u : 0u));
    }
}

TEST_CASE(
    "append_split_kernel's lane arithmetic encodes tq-3.5 and tq-2.5 bit for bit like the twin",
    "[append][split]") {
  std::size_t compared = 0;
  check_dim<64, 4, 3>("tq-3.5", &compared);
  check_dim<128, 4, 3>("tq-3.5", &compared);
  check_dim<256, 4, 3>("tq-3.5", &compared);
  check_dim<64, 3, 2>("tq-2.5", &compared);
  check_dim<128, 3, 2>("tq-2.5", &compared);
  check_dim<256, 3, 2>("tq-2.5", &compared);
  INFO("vectors compared: " << compared);
  CHECK(compared == 6 * 3 * 246);
}
