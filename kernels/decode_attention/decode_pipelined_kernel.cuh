#pragma once
/// \file Pipelined split-KV decode attention for the TurboQuant formats tq-mse-b, tq-prod-b and
/// the outlier-split tq-3.5 / tq-2.5 (the same format for K and V), on tensor cores.
///
/// Grid (num_splits, kv_heads, batch), 4 warps. Each warp walks its own 16-token slices of the
/// split (slices warp, warp+4, ...): a slice is the codes and norms of 16 consecutive tokens of
/// one (page, KV head), contiguous and 16-B aligned in the pool for every format (page_tokens is a
/// multiple of 16), so it is copied with 16-B `cp.async.cg` into a warp-private ring of kStages
/// slices (no CTA barrier in the loop; the page-table entry is read once per slice, one slice
/// ahead). Per slice, with all G ≤ 8 query heads of the KV head sharing it:
///  * S = Q·Kᵀ with mma.m16n8k16 (rows: heads, 8..15 zero; columns: 8 tokens per n-tile). The
///    f16 operands are split hi + lo (x = hi + lo to ~2^-22) and three products are summed
///    (hi·hi + lo·hi + hi·lo, f32 accumulate), so scores keep float accuracy (the twin's 1e-3
///    test tolerance holds) while the tensor cores do the FMAs: 1,024 per token at G = 4 would
///    be 32 FFMA warp-instructions alone, 0.24 instr/byte before any unpacking.
///  * Centroids come from a 2^b-entry table in shared memory replicated once per lane (entry
///    (code, lane) at word code·32 + lane: a warp's lookups never conflict), each entry the f16
///    hi and lo of 16·c[code] packed in one word; two PRMTs give the hi and lo half2 of a pair.
///  * tq-prod keys add the QJL term with a second mma of the sketched query (hi only: the term is
///    ~√(share of residual) of the score) against ±1 signs from a 16-entry nibble table.
///  * Per-tile online softmax (one max/rescale per tile and head), P·‖v‖ split hi + lo,
///    O += Vᵀ·P with mma (rows: value channels; columns: heads), tq-prod values add the signs
///    against P·√(π/2)/d·γ.
/// Channel ↔ mma index maps are free permutations (a dot product does not care), chosen so that
/// a thread's codes are one contiguous run of bits: in Q·Kᵀ thread (g, qp) owns channels
/// [qp·D/4, (qp+1)·D/4) of token g, k-block kb's slots (0,1 | 8,9 of the mma) being channels
/// qp·D/4 + 4kb + (0,1 | 2,3); in Vᵀ·P it owns channels [g·D/8, (g+1)·D/8), m-tile mt's rows
/// g and g+8 being channels g·D/8 + 2mt and +1.
/// Outlier-split formats (tq-3.5 = <D, 4, false, 3>, tq-2.5 = <D, 3, false, 2>): two segments,
/// each a tq-mse instance with its own codebook and fp16 norm, so every k-block of Q·Kᵀ and every
/// m-tile of Vᵀ·P lies inside one segment (decode_pipe_map.h has the maps, host-tested against
/// the twin): thread (g, qp) owns a run of each segment, S0 and S1 accumulate apart and
/// S = n0·S0 + n1·S1 per token; Vᵀ·P's m-tiles of segment s take B = P·n_s. Both segments
/// look up code pairs in 16-copy tables (an LDS.64 is served per half-warp), the 4-bit outlier
/// segment included. Runs that are not whole aligned bytes (9-byte runs of 3-bit codes, 12-bit
/// runs) are aligned words of the slice and one funnel shift per word, the per-thread word and
/// shift computed once. Scores stay in table units (×1024) until the softmax's one FFMA, and
/// exp is ex2.approx.ftz: 0.321 instr/byte for tq-3.5 at d = 128 where single-code lookups for
/// the 4-bit segment and exp2f's subnormal path gave 0.385.
/// The four warps merge in shared memory in a fixed order (deterministic) and the CTA writes one
/// partial (max, sum, acc[G][work]) per split, exactly as decode_split_kernel, so the combine
/// kernel is shared.

#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "decode_attention/decode_attention_kernel.cuh"
#include "decode_attention/decode_pipe_map.h"

namespace jevons::kernels::gpu::dev {

/// Compile-time shape of the pipelined kernel for (head_dim, bits, QJL signs, second segment's
/// bits): BITS1 = 0 for the single-segment formats (BITS = tq-mse bits or tq-prod's mse bits),
/// else the outlier split (decode_pipe_map.h: tq-3.5 = <D, 4, false, 3>, tq-2.5 = <D, 3, false,
/// 2>).
template <int D, int BITS, bool QJL, int BITS1 = 0>
struct PipeShape {
  using Seg = pipe::Segs<D, BITS, BITS1>;
  static constexpr int kWarps = 4, kThreads = 32 * kWarps;
  static constexpr int kTile = 16;   ///< tokens per slice (= per mma k-block of P·V)
  static constexpr int kStages = 4;  ///< ring depth: kStages − 1 slices in flight per warp
  static constexpr int kMseBytes = Seg::kMseBytes;
  static constexpr int kCodeBytes = kMseBytes + (QJL ? D / 8 : 0);
  /// fp16 [‖x‖], [‖x‖, γ] (prod) or [‖x_out‖, ‖x_reg‖] (split)
  static constexpr int kMetaBytes = QJL || Seg::kSplit ? 4 : 2;
  // Slice layout in shared memory: K codes [16][code] | V codes | K meta [16][meta] | V meta.
  static constexpr int kKCode = 0, kVCode = kTile * kCodeBytes, kKMeta = 2 * kTile * kCodeBytes,
                       kVMeta = kKMeta + kTile * kMetaBytes;
  static constexpr int kSliceBytes = 2 * kTile * (kCodeBytes + kMetaBytes);
  static constexpr int kChunks = kSliceBytes / 16;
  static constexpr int kKB = D / 16;  ///< mma k-blocks of Q·Kᵀ, m-tiles of Vᵀ·P
  static_assert(kSliceBytes % 16 == 0 && (kTile * kCodeBytes) % 16 == 0);
  static_assert(!(QJL && Seg::kSplit), "no format has both QJL signs and an outlier split");
};

/// Host and device: dynamic shared memory of one CTA (the ring; the final merge reuses it).
template <int D, int BITS, bool QJL, int BITS1 = 0>
__host__ __device__ constexpr std::uint32_t pipe_smem_bytes() {
  using P = PipeShape<D, BITS, QJL, BITS1>;
  constexpr std::uint32_t ring = P::kWarps * P::kStages * P::kSliceBytes;
  // merge: [warps][8 heads][2] (max, sum) + [8 heads][2·D] accumulators
  constexpr std::uint32_t merge = 4 * (P::kWarps * 8 * 2 + 8 * 2 * D);
  return ring > merge ? ring : merge;
}

/// Centroids are stored ×16 so the f16 lo parts stay normal (|c| ≤ 0.35 at d ≥ 64); queries
/// ×64 for the same reason. Both powers of two: the scaling is exact.
constexpr float kCentScale = 16.0f, kQueryScale = 64.0f;

__device__ __forceinline__ void mma_f16(float (&d)[4], std::uint32_t a0, std::uint32_t a1,
                                        std::uint32_t a2, std::uint32_t a3, std::uint32_t b0,
                                        std::uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void cp_async16(std::uint32_t smem, const void* gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ std::uint32_t prmt(std::uint32_t a, std::uint32_t b, std::uint32_t s) {
  std::uint32_t r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(s));
  return r;
}

/// x as f16 hi and f16 lo = x − hi (together ~22 bits of x): hi in the low 16 bits, lo high.
__device__ __forceinline__ std::uint32_t split_half(float x) {
  const __half hi = __float2half_rn(x);
  const __half lo = __float2half_rn(x - __half2float(hi));
  return std::uint32_t{__half_as_ushort(hi)} | (std::uint32_t{__half_as_ushort(lo)} << 16);
}

/// Two floats' hi parts as a half2 (x0 low) and their lo parts.
__device__ __forceinline__ void split_pair(float x0, float x1, std::uint32_t* hi,
                                           std::uint32_t* lo) {
  const std::uint32_t e0 = split_half(x0), e1 = split_half(x1);
  *hi = prmt(e0, e1, 0x5410);
  *lo = prmt(e0, e1, 0x7632);
}

/// Loads `NB` bytes (a multiple of 2) starting at a 2-aligned shared address into words.
template <int NB>
__device__ __forceinline__ void load_run(const std::uint8_t* p, std::uint32_t* w) {
  static_assert(NB % 2 == 0);
  if constexpr (NB % 16 == 0) {
#pragma unroll
    for (int i = 0; i < NB / 16; ++i) {
      const uint4 v = reinterpret_cast<const uint4*>(p)[i];
      w[4 * i] = v.x, w[4 * i + 1] = v.y, w[4 * i + 2] = v.z, w[4 * i + 3] = v.w;
    }
  } else if constexpr (NB % 8 == 0) {
#pragma unroll
    for (int i = 0; i < NB / 8; ++i) {
      const uint2 v = reinterpret_cast<const uint2*>(p)[i];
      w[2 * i] = v.x, w[2 * i + 1] = v.y;
    }
  } else if constexpr (NB % 4 == 0) {
#pragma unroll
    for (int i = 0; i < NB / 4; ++i) w[i] = reinterpret_cast<const std::uint32_t*>(p)[i];
  } else {
    const auto* h = reinterpret_cast<const std::uint16_t*>(p);
#pragma unroll
    for (int i = 0; i < (NB + 3) / 4; ++i) {
      const std::uint32_t lo = h[2 * i];
      const std::uint32_t hi = 2 * i + 1 < NB / 2 ? h[2 * i + 1] : 0u;
      w[i] = lo | (hi << 16);
    }
  }
}

/// Loads `NB` bytes from a shared address aligned to `W` (≥ 4, or W = NB = 2) with W-byte loads.
template <int NB, int W>
__device__ __forceinline__ void load_aligned(const std::uint8_t* p, std::uint32_t* w) {
  static_assert(NB % W == 0 && (W >= 4 || NB == 2));
  if constexpr (W >= 16) {
#pragma unroll
    for (int i = 0; i < NB / 16; ++i) {
      const uint4 v = reinterpret_cast<const uint4*>(p)[i];
      w[4 * i] = v.x, w[4 * i + 1] = v.y, w[4 * i + 2] = v.z, w[4 * i + 3] = v.w;
    }
  } else if constexpr (W == 8) {
#pragma unroll
    for (int i = 0; i < NB / 8; ++i) {
      const uint2 v = reinterpret_cast<const uint2*>(p)[i];
      w[2 * i] = v.x, w[2 * i + 1] = v.y;
    }
  } else if constexpr (W == 4) {
#pragma unroll
    for (int i = 0; i < NB / 4; ++i) w[i] = reinterpret_cast<const std::uint32_t*>(p)[i];
  } else {
    w[0] = *reinterpret_cast<const std::uint16_t*>(p);
  }
}

/// f(integral_constant<int, 0>), …, f(integral_constant<int, N − 1>): a loop whose index can be
/// a template argument (a segment's bits and run lengths).
template <int N, int I = 0, class F>
__device__ __forceinline__ void static_for(F&& f) {
  if constexpr (I < N) {
    f(std::integral_constant<int, I>{});
    static_for<N, I + 1>(f);
  }
}

/// (x, x) as f16 hi and lo half2s (hi = RN(x), lo = RN(x − hi)): split_pair(x, x, …) in four
/// instructions instead of seven (two conversions packed by F2FP directly).
__device__ __forceinline__ void split_dup(float x, std::uint32_t* hi, std::uint32_t* lo) {
  const __half2 h = __floats2half2_rn(x, x);
  const __half2 l = __float2half2_rn(x - __low2float(h));
  *hi = *reinterpret_cast<const std::uint32_t*>(&h);
  *lo = *reinterpret_cast<const std::uint32_t*>(&l);
}

/// 2^x, MUFU.EX2 with subnormal results flushed to zero.
__device__ __forceinline__ float ex2_ftz(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

/// Bit-interleave two 16-bit words: bit 2i = a bit i, bit 2i+1 = b bit i.
__device__ __forceinline__ std::uint32_t zip16(std::uint32_t a, std::uint32_t b) {
  std::uint32_t x = (a & 0xffffu) | (b << 16);
  std::uint32_t t;
  t = (x ^ (x >> 8)) & 0x0000ff00u, x ^= t ^ (t << 8);
  t = (x ^ (x >> 4)) & 0x00f000f0u, x ^= t ^ (t << 4);
  t = (x ^ (x >> 2)) & 0x0c0c0c0cu, x ^= t ^ (t << 2);
  t = (x ^ (x >> 1)) & 0x22222222u, x ^= t ^ (t << 1);
  return x;
}

template <int D, int BITS, bool QJL, int BITS1 = 0>
__global__ void __launch_bounds__(128) decode_pipelined_kernel(DecodeArgs a) {
  using P = PipeShape<D, BITS, QJL, BITS1>;
  using Sg = typename P::Seg;
  constexpr bool kSplit = Sg::kSplit;
  constexpr int NC = 1 << BITS;
  constexpr int NC1 = kSplit ? 1 << BITS1 : 1;
  constexpr int KRUN = D / 4 * BITS / 8;  // bytes of one token's codes a Q·Kᵀ thread owns
  constexpr int KW = (KRUN + 3) / 4 + 1;  // words (+1 so funnel shifts may read past the end)
  constexpr int VBITS = D / 8 * BITS;     // bits of one token's codes a Vᵀ·P thread owns
  constexpr int VW = (VBITS + 31) / 32 + 1;
  extern __shared__ __align__(16) std::uint8_t ring[];
  // Centroid table, one copy per lane (a warp's lookups never conflict). b ≤ 3: pairs of codes,
  // uint2 (pair·32 + lane) = the entries of its low and high code, one LDS.64 per two channels
  // (2^2b·256 B: 16 KB at b = 3); b = 4 (a pair table would be 64 KB): single codes, word
  // (code·32 + lane) = f16 hi | f16 lo << 16 of 16·c[code].
  constexpr bool kPairs = BITS <= 3;
  __shared__ std::uint32_t ctab[kPairs || kSplit ? 1 : NC * 32];
  __shared__ uint2 ptab[kPairs && !kSplit ? NC * NC * 32 : 1];
  // Split formats: a pair table per segment, each from its own codebook, with 16 copies (entry
  // (pair, lane mod 16) at uint2 pair·16 + lane mod 16): an LDS.64 is served per half-warp, whose
  // 16 lanes then read 16 distinct copies, so 16 copies are as conflict-free as 32 and the 4-bit
  // outlier segment gets a pair table too (256 pairs: 32 KB; 3 bits: 8 KB; 2 bits: 2 KB). Its
  // D/4 channels then cost a lookup per two codes like the rest, which the instruction budget
  // needs (single-code lookups for them: 0.385 instr/byte at d = 128).
  // (Declared only in the split instances: the single-segment ones keep their exact layout.)
  uint2 *sptab0 = nullptr, *sptab1 = nullptr;
  if constexpr (kSplit) {
    __shared__ __align__(16) uint2 sp0[NC * NC * 16], sp1[NC1 * NC1 * 16];
    sptab0 = sp0, sptab1 = sp1;
  }
  // Sign table (tq-prod): uint2 (nibble·32 + lane) = ±1 half2 of nibble bits (0,1) and (2,3).
  __shared__ uint2 stab[QJL ? 16 * 32 : 1];

  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, qp = lane & 3;
  const std::uint32_t split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int G = static_cast<int>(a.group);
  if constexpr (kSplit) {
    // A thread per pair writes its 16 copies as 8 16-byte stores, starting at chunk tid mod 8 so
    // that the 8 threads of a store wavefront hit 8 different bank groups: ~60 instructions per
    // thread for the 40 KB instead of ~800 entry by entry (a B = 1 split has few slices to
    // amortize them over).
    auto fill = [&](uint2* tab, const float* c, int bits, int pairs) {
      for (int pr = tid; pr < pairs; pr += P::kThreads) {
        const std::uint32_t x = split_half(kCentScale * c[pr & ((1 << bits) - 1)]);
        const std::uint32_t y = split_half(kCentScale * c[pr >> bits]);
        uint4* dst = reinterpret_cast<uint4*>(tab + pr * 16);
#pragma unroll
        for (int k = 0; k < 8; ++k) dst[(k + tid) & 7] = make_uint4(x, y, x, y);
      }
    };
    fill(sptab0, a.kd.seg[0].centroids, BITS, NC * NC);
    fill(sptab1, a.kd.seg[1].centroids, BITS1, NC1 * NC1);
  } else if constexpr (kPairs)
    for (int e = tid; e < NC * NC * 32; e += P::kThreads) {
      const int pair = e >> 5;
      ptab[e] = make_uint2(split_half(kCentScale * a.kd.seg[0].centroids[pair & (NC - 1)]),
                           split_half(kCentScale * a.kd.seg[0].centroids[pair >> BITS]));
    }
  else
    for (int e = tid; e < NC * 32; e += P::kThreads)
      ctab[e] = split_half(kCentScale * a.kd.seg[0].centroids[e >> 5]);
  if constexpr (QJL)
    for (int e = tid; e < 16 * 32; e += P::kThreads) {
      const int n = e >> 5;
      auto pm = [&](int bit) { return std::uint32_t{(n >> bit) & 1 ? 0x3c00u : 0xbc00u}; };
      stab[e] = make_uint2(pm(0) | (pm(1) << 16), pm(2) | (pm(3) << 16));
    }

  // Queries as mma A fragments. Q·Kᵀ pairs the mma's k indices (2qp, 2qp+1) as the (hi, lo)
  // halves of one centroid, so a table word is a B register as is (no unpacking) and
  // A = (q, q); rows g and g+8 carry q's hi and lo, so S = row g + row g+8 is q·c to ~2^-22.
  // Channel of k-block kb (8 channels), half h (k 2qp.. or 2qp+8..): qp·D/4 + 2kb + h.
  const std::uint32_t kw = a.kd.work_width(), vw = a.vd.work_width();
  const float* qrow = a.q_work + (static_cast<std::size_t>(b) * a.q_heads + kvh * a.group +
                                  static_cast<std::uint32_t>(g < G ? g : 0)) *
                                     kw;
  // Split formats: segment s's k-blocks follow segment 0's (decode_pipe_map.h, k_channel).
  std::uint32_t qa[D / 8][4];
  static_for<Sg::kCount>([&](auto sc) {
    constexpr int s = decltype(sc)::value;
#pragma unroll
    for (int kb = 0; kb < Sg::k_blocks(s); ++kb)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float x = g < G ? kQueryScale * qrow[pipe::k_channel<Sg>(s, qp, kb, h)] : 0.0f;
        std::uint32_t hi, lo;
        split_pair(x, x, &hi, &lo);
        qa[Sg::k_block0(s) + kb][2 * h] = hi, qa[Sg::k_block0(s) + kb][2 * h + 1] = lo;
      }
  });
  // tq-prod: the sketched query against ±1 signs, k = 16 ordinary channels per block
  // qp·D/4 + 4kb + (0,1 | 2,3); rows g / g+8: hi / lo.
  std::uint32_t sa[QJL ? D / 16 : 1][4];
  if constexpr (QJL)
#pragma unroll
    for (int kb = 0; kb < D / 16; ++kb)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = D + qp * (D / 4) + 4 * kb + 2 * h;
        const float x0 = g < G ? kQueryScale * qrow[c] : 0.0f;
        const float x1 = g < G ? kQueryScale * qrow[c + 1] : 0.0f;
        split_pair(x0, x1, &sa[kb][2 * h], &sa[kb][2 * h + 1]);
      }

  // This warp's slices of the split: tokens t0 + 16·(warp + 4i).
  const std::uint32_t len = a.lens[b];
  const std::uint32_t chunk = split_chunk(len, a.num_splits, a.kl.page_tokens);
  const std::uint32_t t0 = min(len, split * chunk);
  const std::uint32_t t1 = min(len, t0 + chunk);
  const int nslices = static_cast<int>((t1 - t0 + P::kTile - 1) / P::kTile);
  const int nw = nslices > warp ? (nslices - warp + P::kWarps - 1) / P::kWarps : 0;
  const std::int32_t* table = a.table + static_cast<std::size_t>(b) * a.max_pages;
  const std::uint32_t pt = a.kl.page_tokens;
  const std::uint64_t head_off = std::uint64_t{kvh} * a.kl.head_block_bytes();
  const std::uint64_t page_bytes = a.kl.page_bytes();
  const std::uint32_t ring_base = static_cast<std::uint32_t>(__cvta_generic_to_shared(ring)) +
                                  static_cast<std::uint32_t>(warp * P::kStages * P::kSliceBytes);
  const std::uint8_t* my_ring = ring + warp * P::kStages * P::kSliceBytes;
  // Page addressing once per slice, without divisions: (table index, offset) advanced by the
  // warp's stride; the table entry is read one slice before its copies are issued.
  std::uint32_t pf_idx, pf_off;
  {
    const std::uint32_t tok = t0 + P::kTile * static_cast<std::uint32_t>(warp);
    pf_idx = tok / pt;
    pf_off = tok % pt;
  }
  int pf_next = 0;  // next slice to prefetch
  std::int32_t nx_page = 0;
  std::uint32_t nx_off = 0;
  auto prefetch = [&]() {  // (page, offset) of slice pf_next into nx_*
    if (pf_next < nw) {
      nx_page = table[pf_idx];
      nx_off = pf_off;
      pf_off += P::kTile * P::kWarps;
      while (pf_off >= pt) pf_off -= pt, ++pf_idx;
    }
    ++pf_next;
  };
  // Issues slice i (whose page and offset are in nx_*) into its stage: kChunks 16-B copies
  // spread over the 32 lanes.
  auto issue = [&](int i) {
    if (i < nw) {
      const std::uint64_t base = static_cast<std::uint64_t>(nx_page) * page_bytes + head_off;
      // K and V pools share one layout (checked by the launcher): the same offsets serve both.
      const std::uint64_t code_off = base + std::uint64_t{nx_off} * P::kCodeBytes;
      const std::uint64_t meta_off =
          base + std::uint64_t{pt} * P::kCodeBytes + std::uint64_t{nx_off} * P::kMetaBytes;
      const std::uint32_t dst =
          ring_base + static_cast<std::uint32_t>((i % P::kStages) * P::kSliceBytes);
#pragma unroll
      for (int r = 0; r < (P::kChunks + 31) / 32; ++r) {
        const int c = lane + 32 * r;
        if (c < P::kChunks) {
          const int byte = 16 * c;
          const std::uint8_t* src;
          if (byte < P::kVCode)
            src = a.kpool + code_off + byte;
          else if (byte < P::kKMeta)
            src = a.vpool + code_off + (byte - P::kVCode);
          else if (byte < P::kVMeta)
            src = a.kpool + meta_off + (byte - P::kKMeta);
          else
            src = a.vpool + meta_off + (byte - P::kVMeta);
          cp_async16(dst + static_cast<std::uint32_t>(byte), src);
        }
      }
    }
    cp_async_commit();  // always: keeps the group count in step with the slice index
  };

  float m = -INFINITY, lsum = 0.0f;  // head g; l: this thread's tokens only (quad-summed at end)
  float acc[P::kKB][4], sacc[QJL ? P::kKB : 1][4];
#pragma unroll
  for (int mt = 0; mt < P::kKB; ++mt)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      acc[mt][i] = 0.0f;
      if constexpr (QJL) sacc[mt][i] = 0.0f;
    }
  const float inv_scale = 1.0f / (kCentScale * kQueryScale);
  const float qjl_k = a.kd.qjl_scale / kQueryScale, qjl_v = a.vd.qjl_scale;
  // Opaque to the compiler, so (field & mask) | lane·4 stays one LOP3.
  std::uint32_t lane4, lane8;
  asm("mov.u32 %0, %1;" : "=r"(lane4) : "r"(static_cast<std::uint32_t>(lane) << 2));
  asm("mov.u32 %0, %1;" : "=r"(lane8) : "r"(static_cast<std::uint32_t>(lane) << 3));
  const std::uint8_t* ctab_b = reinterpret_cast<const std::uint8_t*>(ctab);
  const std::uint8_t* stab_b = reinterpret_cast<const std::uint8_t*>(stab);
  auto cent = [&](std::uint32_t field) {
    return *reinterpret_cast<const std::uint32_t*>(ctab_b + (field | lane4));
  };
  const std::uint8_t* ptab_b = reinterpret_cast<const std::uint8_t*>(ptab);
  auto cent2 = [&](std::uint32_t field) {
    return *reinterpret_cast<const uint2*>(ptab_b + (field | lane8));
  };
  // Split formats: segment s's pair table; `field` = pair·128 (pipe::field_at<2b>(…, 7)).
  std::uint32_t lane16x8 = 0;
  if constexpr (kSplit)
    asm("mov.u32 %0, %1;" : "=r"(lane16x8) : "r"(static_cast<std::uint32_t>(lane & 15) << 3));
  const std::uint8_t* sptab0_b = reinterpret_cast<const std::uint8_t*>(sptab0);
  const std::uint8_t* sptab1_b = reinterpret_cast<const std::uint8_t*>(sptab1);
  auto pair_of = [&](auto sc, std::uint32_t field) {
    return *reinterpret_cast<const uint2*>((decltype(sc)::value == 0 ? sptab0_b : sptab1_b) +
                                           (field | lane16x8));
  };
  // Split formats whose token rows are whole words (d ≥ 128): a thread's runs start at the same
  // bit of a word in every slice and row, so the (byte offset, shift) of its run of token g
  // (Q·Kᵀ) or 2qp (Vᵀ·P) in each segment is computed once here (opaque, so nvcc keeps it instead
  // of recomputing it per slice) and other tokens add a compile-time number of rows.
  constexpr bool kRowWords = kSplit && P::kCodeBytes % 4 == 0;
  std::uint32_t krun_off[2] = {0, 0}, krun_sh[2] = {0, 0}, vrun_off[2] = {0, 0},
                vrun_sh[2] = {0, 0};
  if constexpr (kRowWords)
#pragma unroll
    for (int s = 0; s < 2; ++s) {
      const std::uint32_t kb = pipe::run_bit<Sg>(s, true, qp, g, P::kCodeBytes);
      const std::uint32_t vb = pipe::run_bit<Sg>(s, false, g, 2 * qp, P::kCodeBytes);
      asm("mov.u32 %0, %1;" : "=r"(krun_off[s]) : "r"((kb >> 5) * 4));
      asm("mov.u32 %0, %1;" : "=r"(krun_sh[s]) : "r"(kb & 31));
      asm("mov.u32 %0, %1;" : "=r"(vrun_off[s]) : "r"((vb >> 5) * 4));
      asm("mov.u32 %0, %1;" : "=r"(vrun_sh[s]) : "r"(vb & 31));
    }
  __syncthreads();  // tables

  prefetch();
#pragma unroll
  for (int s = 0; s < P::kStages - 1; ++s) {
    issue(s);
    prefetch();
  }
  std::uint32_t tile0 = t0 + P::kTile * static_cast<std::uint32_t>(warp);
  for (int i = 0; i < nw; ++i, tile0 += P::kTile * P::kWarps) {
    issue(i + P::kStages - 1);
    prefetch();
    cp_async_wait<P::kStages - 1>();
    __syncwarp();
    const std::uint8_t* st = my_ring + (i % P::kStages) * P::kSliceBytes;
    const int valid = static_cast<int>(min(t1 - tile0, std::uint32_t{P::kTile}));

    // ---- S = Q·Kᵀ: n-tile j holds tokens 8j..8j+7; this thread loads token 8j + g.
    // Split formats: segment 0 accumulates into sc[j], segment 1 into sc1 (one norm each).
    float sc[2][4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const std::uint8_t* row = st + P::kKCode + (8 * j + g) * P::kCodeBytes;
#pragma unroll
      for (int i4 = 0; i4 < 4; ++i4) sc[j][i4] = 0.0f;
      float sc1[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      if constexpr (!kSplit) {
        std::uint32_t w[KW];
        load_run<(KRUN + 1) / 2 * 2>(row + qp * KRUN, w);
        w[KW - 1] = 0;
#pragma unroll
        for (int kb = 0; kb < D / 8; ++kb) {
          if constexpr (kPairs) {
            const uint2 e2 = cent2(pipe::field_at<2 * BITS>(w, (2 * kb) * BITS, 8));
            mma_f16(sc[j], qa[kb][0], qa[kb][1], qa[kb][2], qa[kb][3], e2.x, e2.y);
          } else {
            mma_f16(sc[j], qa[kb][0], qa[kb][1], qa[kb][2], qa[kb][3],
                    cent(pipe::field_at<BITS>(w, (2 * kb) * BITS, 7)),
                    cent(pipe::field_at<BITS>(w, (2 * kb + 1) * BITS, 7)));
          }
        }
      } else {
        static_for<2>([&](auto sgc) {
          constexpr int s = decltype(sgc)::value, SB = Sg::bits(s);
          constexpr int RB = Sg::k_run_bits(s), NW = Sg::words_of(RB);
          constexpr int A = pipe::direct_align(P::kCodeBytes, Sg::code_bit(s), RB);
          std::uint32_t w[NW + 1];
          if constexpr (A > 0)
            load_aligned<RB / 8, A>(row + Sg::code_bit(s) / 8 + qp * (RB / 8), w);
          else if constexpr (kRowWords)  // mid-byte or odd-byte runs: aligned words, shifted
            pipe::run_words_at<NW>(reinterpret_cast<const std::uint32_t*>(
                                       st + P::kKCode + krun_off[s] + 8 * j * P::kCodeBytes),
                                   krun_sh[s], w);
          else
            pipe::run_words<NW>(reinterpret_cast<const std::uint32_t*>(st + P::kKCode),
                                pipe::run_bit<Sg>(s, true, qp, 8 * j + g, P::kCodeBytes), w);
          w[NW] = 0;
          auto kblocks = [&](float(&d)[4]) {
#pragma unroll
            for (int kb = 0; kb < Sg::k_blocks(s); ++kb) {
              const std::uint32_t* q4 = qa[Sg::k_block0(s) + kb];
              const uint2 e2 = pair_of(sgc, pipe::field_at<2 * SB>(w, (2 * kb) * SB, 7));
              mma_f16(d, q4[0], q4[1], q4[2], q4[3], e2.x, e2.y);
            }
          };
          if constexpr (s == 0)
            kblocks(sc[j]);
          else
            kblocks(sc1);
        });
      }
      float ssk[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      if constexpr (QJL) {
        std::uint32_t sg[1];
        load_run<D / 32>(row + P::kMseBytes + qp * (D / 32), sg);
#pragma unroll
        for (int kb = 0; kb < D / 16; ++kb) {
          const uint2 sb =
              *reinterpret_cast<const uint2*>(stab_b + (pipe::field_at<4>(sg, 4 * kb, 8) | lane8));
          mma_f16(ssk, sa[kb][0], sa[kb][1], sa[kb][2], sa[kb][3], sb.x, sb.y);
        }
      }
      // Rows g (q hi) + g+8 (q lo) = head g; columns 2qp, 2qp+1 = tokens 8j + 2qp + {0,1}.
      const std::uint8_t* km = st + P::kKMeta + (8 * j + 2 * qp) * P::kMetaBytes;
#pragma unroll
      for (int u = 0; u < 2; ++u) {
        const int tok = 8 * j + 2 * qp + u;
        const float kn = __half2float(
            __ushort_as_half(*reinterpret_cast<const std::uint16_t*>(km + u * P::kMetaBytes)));
        float s;
        if constexpr (kSplit) {
          // Split formats keep scores in the ×1024 table units (inv_scale = 2^-10, so scaling
          // later is exact): n0·S0 + n1·S1 is one FMUL and one FFMA.
          const float kn1 = __half2float(__ushort_as_half(
              *reinterpret_cast<const std::uint16_t*>(km + u * P::kMetaBytes + 2)));
          s = fmaf(sc1[u] + sc1[u + 2], kn1, (sc[j][u] + sc[j][u + 2]) * kn);
        } else {
          s = (sc[j][u] + sc[j][u + 2]) * (kn * inv_scale);
        }
        if constexpr (QJL) {
          const float gam = __half2float(__ushort_as_half(
              *reinterpret_cast<const std::uint16_t*>(km + u * P::kMetaBytes + 2)));
          s += (ssk[u] + ssk[u + 2]) * (qjl_k * gam);
        }
        sc[j][u] = tok < valid ? s : -INFINITY;
      }
    }

    // ---- Online softmax, once per tile and head (quad g holds head g's 4 tokens).
    float mx = fmaxf(fmaxf(sc[0][0], sc[0][1]), fmaxf(sc[1][0], sc[1][1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m, mx);  // finite: token 0 of a tile is always valid
    // Rescale only when some head's max moved (warp-uniform branch; rare after the first tiles).
    if (__any_sync(0xffffffffu, m_new > m)) {
      // 0 on the first tile (m = −inf); split formats: m in table units
      const float r = exp2f(kSplit ? (m - m_new) * inv_scale : m - m_new);
      lsum *= r;
      // The accumulators hold heads 2qp, 2qp+1: their factors live in quads 2qp and 2qp+1.
      const float ra = __shfl_sync(0xffffffffu, r, 8 * qp);
      const float rb = __shfl_sync(0xffffffffu, r, 8 * qp + 4);
#pragma unroll
      for (int mt = 0; mt < P::kKB; ++mt) {
        acc[mt][0] *= ra, acc[mt][1] *= rb, acc[mt][2] *= ra, acc[mt][3] *= rb;
        if constexpr (QJL)
          sacc[mt][0] *= ra, sacc[mt][1] *= rb, sacc[mt][2] *= ra, sacc[mt][3] *= rb;
      }
      m = m_new;
    }
    float p[2][2];
    if constexpr (kSplit) {
      // (s − m)·2^-10 as one FFMA, and ex2.approx.ftz (one MUFU; exp2f adds four instructions
      // per call to keep results under 2^-126, weights that no sum can see).
      const float mneg = -m * inv_scale;
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int u = 0; u < 2; ++u) p[j][u] = ex2_ftz(fmaf(sc[j][u], inv_scale, mneg));
    } else {
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int u = 0; u < 2; ++u) p[j][u] = exp2f(sc[j][u] - m);
    }
    lsum += (p[0][0] + p[0][1]) + (p[1][0] + p[1][1]);

    // ---- Vᵀ·P. k-block j pairs k (2qp, 2qp+1) as the (hi, lo) of token 8j + 2qp and
    // (2qp+8, 2qp+9) as those of token 8j + 2qp + 1, so B = (p·‖v‖, p·‖v‖) per token (hi, and
    // a second product for lo) and A is table words as they are. tq-prod adds the signs over a
    // 16-token block, k = (2qp, 2qp+1 | 2qp+8, 2qp+9) = tokens 2qp + (0, 1 | 8, 9).
    // Split formats: bh, bl carry P·‖v_out‖ for segment 0's m-tiles, bh1, bl1 P·‖v_reg‖.
    std::uint32_t bh[2][2], bl[2][2], ps[2], bh1[2][2], bl1[2][2];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const std::uint8_t* vm = st + P::kVMeta + (8 * j + 2 * qp) * P::kMetaBytes;
      float pq[2];
#pragma unroll
      for (int u = 0; u < 2; ++u) {
        const bool ok = 8 * j + 2 * qp + u < valid;
        const float vn = __half2float(
            __ushort_as_half(*reinterpret_cast<const std::uint16_t*>(vm + u * P::kMetaBytes)));
        const float pv =
            ok ? p[j][u] * vn : 0.0f;  // select: a padding token's norm may be anything
        if constexpr (kSplit) {
          split_dup(pv, &bh[j][u], &bl[j][u]);
          const float vn1 = __half2float(__ushort_as_half(
              *reinterpret_cast<const std::uint16_t*>(vm + u * P::kMetaBytes + 2)));
          const float pv1 = ok ? p[j][u] * vn1 : 0.0f;
          split_dup(pv1, &bh1[j][u], &bl1[j][u]);
        } else {
          split_pair(pv, pv, &bh[j][u], &bl[j][u]);
        }
        if constexpr (QJL) {
          const float gam = __half2float(__ushort_as_half(
              *reinterpret_cast<const std::uint16_t*>(vm + u * P::kMetaBytes + 2)));
          pq[u] = ok ? p[j][u] * (qjl_v * gam) : 0.0f;
        }
      }
      if constexpr (QJL) {
        std::uint32_t lo;
        split_pair(pq[0], pq[1], &ps[j], &lo);
      }
    }
    if constexpr (!kSplit) {
      // This thread's channels [g·D/8, (g+1)·D/8) of tokens u = 0..3 ↔ 2qp, 2qp+1, 8+2qp, 9+2qp.
      std::uint32_t vwd[4][VW], vsg[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const int tok = (u >> 1) * 8 + 2 * qp + (u & 1);
        const std::uint8_t* row = st + P::kVCode + tok * P::kCodeBytes;
        if constexpr (VBITS % 32 == 0) {  // word-aligned run: one vector load
          load_run<VBITS / 8>(row + g * (VBITS / 8), vwd[u]);
          vwd[u][VW - 1] = 0;
        } else {  // g·VBITS may sit mid-word: the aligned words around it, shifted
          const int bit0 = g * VBITS;
          const auto* wrow = reinterpret_cast<const std::uint32_t*>(row);
          const int w0 = bit0 >> 5, sh0 = bit0 & 31;
#pragma unroll
          for (int k = 0; k < VW; ++k) {
            const int wi = w0 + k;
            const std::uint32_t lo = wi * 4 < P::kMseBytes ? wrow[wi] : 0u;
            const std::uint32_t hi = (wi + 1) * 4 < P::kMseBytes ? wrow[wi + 1] : 0u;
            vwd[u][k] = __funnelshift_r(lo, hi, sh0);
          }
        }
        if constexpr (QJL) {
          // D/8 sign bits at bit g·D/8 of the sign run (byte-aligned: D/8 ≥ 8).
          const std::uint8_t* srow = row + P::kMseBytes + g * (D / 64);
          if constexpr (D / 64 >= 2)
            vsg[u] = *reinterpret_cast<const std::uint16_t*>(srow);
          else
            vsg[u] = *srow;
        }
      }
      std::uint32_t z01 = 0, z23 = 0;
      if constexpr (QJL) z01 = zip16(vsg[0], vsg[1]), z23 = zip16(vsg[2], vsg[3]);
#pragma unroll
      for (int mt = 0; mt < P::kKB; ++mt) {
        // Rows g, g+8 = channels g·D/8 + 2mt, + 1 (local codes 2mt, 2mt+1).
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          std::uint32_t a0, a1, a2, a3;
          if constexpr (kPairs) {
            const uint2 e0 = cent2(pipe::field_at<2 * BITS>(vwd[2 * j], 2 * mt * BITS, 8));
            const uint2 e1 = cent2(pipe::field_at<2 * BITS>(vwd[2 * j + 1], 2 * mt * BITS, 8));
            a0 = e0.x, a1 = e0.y, a2 = e1.x, a3 = e1.y;
          } else {
            a0 = cent(pipe::field_at<BITS>(vwd[2 * j], 2 * mt * BITS, 7));
            a1 = cent(pipe::field_at<BITS>(vwd[2 * j], (2 * mt + 1) * BITS, 7));
            a2 = cent(pipe::field_at<BITS>(vwd[2 * j + 1], 2 * mt * BITS, 7));
            a3 = cent(pipe::field_at<BITS>(vwd[2 * j + 1], (2 * mt + 1) * BITS, 7));
          }
          mma_f16(acc[mt], a0, a1, a2, a3, bh[j][0], bh[j][1]);
          mma_f16(acc[mt], a0, a1, a2, a3, bl[j][0], bl[j][1]);
        }
        if constexpr (QJL) {
          // zip nibble mt = (t0 chA, t1 chA, t0 chB, t1 chB) → (a0, a1); same for tokens 2, 3.
          const uint2 s01 = *reinterpret_cast<const uint2*>(
              stab_b + (pipe::field_at<4>(&z01, 4 * mt, 8) | lane8));
          const uint2 s23 = *reinterpret_cast<const uint2*>(
              stab_b + (pipe::field_at<4>(&z23, 4 * mt, 8) | lane8));
          mma_f16(sacc[mt], s01.x, s01.y, s23.x, s23.y, ps[0], ps[1]);
        }
      }
    } else {
      // Segment s: channels [g·Ds/8, (g+1)·Ds/8) of tokens u = 0..3 ↔ 2qp, 2qp+1, 8+2qp, 9+2qp;
      // its m-tiles follow segment 0's and take B = P·n_s (decode_pipe_map.h, v_channel).
      static_for<2>([&](auto sgc) {
        constexpr int s = decltype(sgc)::value, SB = Sg::bits(s);
        constexpr int RB = Sg::v_run_bits(s), NW = Sg::words_of(RB);
        constexpr int A = pipe::direct_align(P::kCodeBytes, Sg::code_bit(s), RB);
        std::uint32_t vw4[4][NW + 1];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          const int tok = (u >> 1) * 8 + 2 * qp + (u & 1);
          if constexpr (A > 0)
            load_aligned<RB / 8, A>(
                st + P::kVCode + tok * P::kCodeBytes + Sg::code_bit(s) / 8 + g * (RB / 8), vw4[u]);
          else if constexpr (kRowWords)  // mid-byte or odd-byte runs: aligned words, shifted
            pipe::run_words_at<NW>(
                reinterpret_cast<const std::uint32_t*>(st + P::kVCode + vrun_off[s] +
                                                       ((u >> 1) * 8 + (u & 1)) * P::kCodeBytes),
                vrun_sh[s], vw4[u]);
          else
            pipe::run_words<NW>(reinterpret_cast<const std::uint32_t*>(st + P::kVCode),
                                pipe::run_bit<Sg>(s, false, g, tok, P::kCodeBytes), vw4[u]);
          vw4[u][NW] = 0;
        }
#pragma unroll
        for (int mt = 0; mt < Sg::v_tiles(s); ++mt)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const uint2 e0 = pair_of(sgc, pipe::field_at<2 * SB>(vw4[2 * j], 2 * mt * SB, 7));
            const uint2 e1 = pair_of(sgc, pipe::field_at<2 * SB>(vw4[2 * j + 1], 2 * mt * SB, 7));
            const std::uint32_t a0 = e0.x, a1 = e0.y, a2 = e1.x, a3 = e1.y;
            float(&d)[4] = acc[Sg::v_tile0(s) + mt];
            if constexpr (s == 0) {
              mma_f16(d, a0, a1, a2, a3, bh[j][0], bh[j][1]);
              mma_f16(d, a0, a1, a2, a3, bl[j][0], bl[j][1]);
            } else {
              mma_f16(d, a0, a1, a2, a3, bh1[j][0], bh1[j][1]);
              mma_f16(d, a0, a1, a2, a3, bl1[j][0], bl1[j][1]);
            }
          }
      });
    }
    __syncwarp();  // every lane is done with this stage before it is refilled
  }
  cp_async_wait<0>();

  // ---- Merge the 4 warps: common max per head, then a fixed-order sum (deterministic).
  lsum += __shfl_xor_sync(0xffffffffu, lsum, 1);
  lsum += __shfl_xor_sync(0xffffffffu, lsum, 2);
  __syncthreads();                              // the ring becomes merge scratch
  float* red = reinterpret_cast<float*>(ring);  // [warps][8][2]
  float* outacc = red + P::kWarps * 16;         // [G][vw]
  if (qp == 0) {
    red[(warp * 8 + g) * 2] = kSplit ? m * inv_scale : m;  // exact: inv_scale = 2^-10
    red[(warp * 8 + g) * 2 + 1] = lsum;
  }
  for (int e = tid; e < G * static_cast<int>(vw); e += P::kThreads) outacc[e] = 0.0f;
  __syncthreads();
  float factor[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int head = 2 * qp + h;
    float mx = -INFINITY;
    for (int w = 0; w < P::kWarps; ++w) mx = fmaxf(mx, red[(w * 8 + head) * 2]);
    const float mw = red[(warp * 8 + head) * 2];
    factor[h] = (head < G && mw != -INFINITY) ? exp2f(mw - mx) / kCentScale : 0.0f;
  }
  for (int w = 0; w < P::kWarps; ++w) {
    if (warp == w)
#pragma unroll
      for (int mt = 0; mt < P::kKB; ++mt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int head = 2 * qp + (i & 1);
          const int sm = mt < Sg::v_tiles(0) ? 0 : 1;  // the m-tile's segment
          const int ch = pipe::v_channel<Sg>(sm, g, mt - Sg::v_tile0(sm), i >> 1);
          if (head < G) {
            outacc[head * vw + ch] += acc[mt][i] * factor[i & 1];
            if constexpr (QJL)
              outacc[head * vw + D + ch] += sacc[mt][i] * factor[i & 1] * kCentScale;
          }
        }
    __syncthreads();
  }
  const std::size_t base =
      ((static_cast<std::size_t>(b) * a.kv_heads + kvh) * a.num_splits + split) * a.group;
  for (int e = tid; e < G * static_cast<int>(vw); e += P::kThreads)
    a.ws_acc[base * vw + e] = outacc[e];
  if (tid < G) {
    float mx = -INFINITY, sum = 0.0f;
    for (int w = 0; w < P::kWarps; ++w) mx = fmaxf(mx, red[(w * 8 + tid) * 2]);
    if (mx != -INFINITY)
      for (int w = 0; w < P::kWarps; ++w)
        sum += red[(w * 8 + tid) * 2 + 1] * exp2f(red[(w * 8 + tid) * 2] - mx);
    a.ws_ml[(base + tid) * 2] = mx;
    a.ws_ml[(base + tid) * 2 + 1] = sum;
  }
}

using PipelinedKernel = void (*)(DecodeArgs);

/// The instance for (head_dim, mse bits, QJL, second segment's bits: 0 = single segment) and its
/// dynamic shared memory, or null when none is compiled (decode_pipelined_launch.cu: tq-mse bits
/// 2..4 at head_dim 64/128/256, tq-prod mse bits 1..3 at 64/128, tq-3.5 = (4, 3) and tq-2.5 =
/// (3, 2) at 64/128/256).
PipelinedKernel pipelined_instance(std::uint32_t dim, std::uint32_t bits, bool qjl,
                                   std::uint32_t bits1, std::uint32_t* smem_bytes);

}  // namespace jevons::kernels::gpu::dev
