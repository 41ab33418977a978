// Instances of the warp-cooperative split append (the catalog's tq-3.5 and tq-2.5: d/4 outliers
// at 4 / 3 bits with a Hadamard rotation, 3d/4 at 3 / 2 bits with kBlockHadamard; head_dim
// 64/128/256) in their own translation unit, so they compile in parallel with the other append
// kernels.
#include <algorithm>
#include <cstdint>
#include <string>

#include "append/append_kernel.cuh"
#include "append/append_split_kernel.cuh"
#include "append/append_tq_bucket.h"
#include "common/cuda_util.cuh"

namespace jevons::kernels::gpu::dev {

namespace {
/// Segment s's bucketize inputs (thresholds, cell map); false when its table would not be exact.
bool split_bucket_inputs(const StoreTensor& t, int s, float* thr, float& cs, float& co) {
  AppendBucketCell table[kAppendBucketCells];
  return append_bucket_table(t.desc.seg[s].boundaries, (1 << t.desc.seg[s].bits) - 1,
                             t.tables.hadamard_scale[s], thr, cs, co, table);
}

bool split_bucket_ok(const StoreTensor& t) {
  float thr[15], cs = 0, co = 0;
  return split_bucket_inputs(t, 0, thr, cs, co) && split_bucket_inputs(t, 1, thr, cs, co);
}

template <int D, int B0, int B1>
Status launch_instance(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                       const AppendSplitArgs& a, const std::int64_t* slots, cudaStream_t s) {
  const auto kernel = append_split_kernel<D, B0, B1>;
  // As append_tq_kernel: enough CTAs to fill every SM at the kernel's occupancy, no more.
  int device = 0, sms = 0, per_sm = 0;
  JEVONS_CUDA_CHECK(cudaGetDevice(&device));
  JEVONS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  JEVONS_CUDA_CHECK(
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kAppendWarps * 32, 0));
  constexpr std::uint32_t kVpw = 256 / D;
  const std::uint64_t groups = (a.vectors + kVpw - 1) / kVpw;
  const std::uint64_t needed = (groups + kAppendWarps - 1) / kAppendWarps;
  const std::uint64_t resident = static_cast<std::uint64_t>(sms) * std::max(per_sm, 1);
  const dim3 grid(static_cast<unsigned>(std::min(needed, resident)), tensors);
  kernel<<<grid, kAppendWarps * 32, 0, s>>>(t0, t1, a, slots);
  JEVONS_CUDA_CHECK_LAUNCH("append_split_kernel");
  return Status::ok_status();
}
}  // namespace

bool append_split_eligible(const StoreTensor& t) {
  const VectorDesc& d = t.desc;
  const std::uint32_t m = d.dim / 4;
  const bool widths = (d.seg[0].bits == 4 && d.seg[1].bits == 3) ||  // tq-3.5
                      (d.seg[0].bits == 3 && d.seg[1].bits == 2);    // tq-2.5
  return d.kind == CodecKind::kTq && d.num_segments == 2 && !d.has_qjl && d.seg[0].dim == m &&
         d.seg[1].dim == 3 * m && widths && d.seg[1].channel_offset == m &&
         d.seg[1].code_offset == m * d.seg[0].bits / 8 && d.seg[0].norm_index == 0 &&
         d.seg[1].norm_index == 1 && d.meta_bytes == 4 &&
         t.tables.rot_kind[0] == static_cast<std::uint32_t>(RotationKind::kHadamard) &&
         t.tables.rot_kind[1] == static_cast<std::uint32_t>(RotationKind::kBlockHadamard) &&
         t.tables.perm_scatter != nullptr && append_pool_fits(t) &&
         (d.dim == 64 || d.dim == 128 || d.dim == 256) && split_bucket_ok(t);
}

Status launch_append_split(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                           std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                           const Stream& stream) {
  const std::uint64_t vectors = n * kv_heads;
  if (vectors >= (1ull << 30))
    return Status::error("append_split_kernel: more than 2^30 vectors in one launch");
  AppendSplitArgs a;
  a.vectors = static_cast<std::uint32_t>(vectors);
  a.kv_heads = FastDiv(kv_heads);
  a.page_tokens[0] = FastDiv(t0.layout.page_tokens);
  a.page_tokens[1] = FastDiv(t1.layout.page_tokens);
  a.neg_kv_heads = 0u - kv_heads;
  a.neg_page_tokens[0] = 0u - t0.layout.page_tokens;
  a.neg_page_tokens[1] = 0u - t1.layout.page_tokens;
  const StoreTensor* ts[2] = {&t0, &t1};
  for (int i = 0; i < 2; ++i) {
    const StoreTensor& t = *ts[i];
    a.page_bytes[i] = static_cast<std::uint32_t>(t.layout.page_bytes());
    a.head_bytes[i] = static_cast<std::uint32_t>(t.layout.head_block_bytes());
    a.meta_base[i] = static_cast<std::uint32_t>(t.layout.page_tokens * t.desc.code_bytes);
    for (int s = 0; s < 2; ++s)
      if (!split_bucket_inputs(t, s, a.thr[i][s], a.cell_s[i][s], a.cell_o[i][s]))
        return Status::error("append_split_kernel: bucketize table not exact for this codebook");
  }
  auto s = static_cast<cudaStream_t>(stream.handle());
  const bool tq35 = t0.desc.seg[0].bits == 4;
  return JEVONS_DISPATCH_HEAD_DIM(t0.desc.dim, HEAD_DIM, [&] {
    return tq35 ? launch_instance<HEAD_DIM, 4, 3>(t0, t1, tensors, a, slots, s)
                : launch_instance<HEAD_DIM, 3, 2>(t0, t1, tensors, a, slots, s);
  });
}

}  // namespace jevons::kernels::gpu::dev
