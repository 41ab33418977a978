// Instances of the warp-cooperative tq-mse append kernel (head_dim 64/128/256 × b = 1..4) in their
// own translation unit, so they compile in parallel with quant_launch.cu's store_kernel.
#include <algorithm>
#include <cstdint>
#include <string>

#include "append/append_kernel.cuh"
#include "append/append_tq_bucket.h"
#include "append/append_tq_kernel.cuh"
#include "common/cuda_util.cuh"

namespace jevons::kernels::gpu::dev {

namespace {
/// The kernel's bucketize inputs for tensor t (thresholds, cell map); false when the table would
/// not be exact (a cell with two thresholds, or a scale the threshold argument does not cover).
bool bucket_inputs(const StoreTensor& t, float* thr, float& s, float& o) {
  AppendBucketCell table[kAppendBucketCells];
  return append_bucket_table(t.desc.seg[0].boundaries, (1 << t.desc.seg[0].bits) - 1,
                             t.tables.hadamard_scale[0], thr, s, o, table);
}

template <int D, int BITS>
Status launch_instance(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                       const AppendTqArgs& a, const std::int64_t* slots, cudaStream_t s) {
  const auto kernel = append_tq_kernel<D, BITS>;
  // Enough CTAs to fill every SM at the kernel's occupancy, no more: each warp then strides over
  // many vector groups, which is what lets it keep the next groups' loads in flight.
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
  JEVONS_CUDA_CHECK_LAUNCH("append_tq_kernel");
  return Status::ok_status();
}

template <int D>
Status dispatch_bits(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                     const AppendTqArgs& a, const std::int64_t* slots, cudaStream_t s) {
  switch (t0.desc.seg[0].bits) {
    case 1:
      return launch_instance<D, 1>(t0, t1, tensors, a, slots, s);
    case 2:
      return launch_instance<D, 2>(t0, t1, tensors, a, slots, s);
    case 3:
      return launch_instance<D, 3>(t0, t1, tensors, a, slots, s);
    case 4:
      return launch_instance<D, 4>(t0, t1, tensors, a, slots, s);
    default:
      return Status::error("append_tq_kernel: unsupported bit width " +
                           std::to_string(t0.desc.seg[0].bits));
  }
}
}  // namespace

namespace {
bool bucket_ok(const StoreTensor& t) {
  float thr[15], s = 0, o = 0;
  return bucket_inputs(t, thr, s, o);
}
}  // namespace

bool append_tq_eligible(const StoreTensor& t) {
  const VectorDesc& d = t.desc;
  return d.kind == CodecKind::kTq && d.num_segments == 1 && !d.has_qjl && d.seg[0].bits >= 1 &&
         d.seg[0].bits <= 4 && d.seg[0].dim == d.dim &&
         t.tables.rot_kind[0] == static_cast<std::uint32_t>(RotationKind::kHadamard) &&
         t.tables.identity_perm != 0u && append_pool_fits(t) &&
         (d.dim == 64 || d.dim == 128 || d.dim == 256) && bucket_ok(t);
}

Status launch_append_tq(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                        std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                        const Stream& stream) {
  const std::uint64_t vectors = n * kv_heads;
  if (vectors >= (1ull << 30))
    return Status::error("append_tq_kernel: more than 2^30 vectors in one launch");
  AppendTqArgs a;
  a.vectors = static_cast<std::uint32_t>(vectors);
  a.kv_heads = FastDiv(kv_heads);
  a.page_tokens[0] = FastDiv(t0.layout.page_tokens);
  a.page_tokens[1] = FastDiv(t1.layout.page_tokens);
  const StoreTensor* ts[2] = {&t0, &t1};
  for (int i = 0; i < 2; ++i) {
    const StoreTensor& t = *ts[i];
    // < 2^32: append_tq_eligible.
    a.page_bytes[i] = static_cast<std::uint32_t>(t.layout.page_bytes());
    a.head_bytes[i] = static_cast<std::uint32_t>(t.layout.head_block_bytes());
    a.meta_base[i] =
        static_cast<std::uint32_t>(t.layout.page_tokens * (t.desc.dim * t.desc.seg[0].bits / 8) +
                                   2 * t.desc.seg[0].norm_index);
  }
  if (!bucket_inputs(t0, a.thr[0], a.cell_s[0], a.cell_o[0]) ||
      !bucket_inputs(t1, a.thr[1], a.cell_s[1], a.cell_o[1]))
    return Status::error("append_tq_kernel: bucketize table not exact for this codebook");
  auto s = static_cast<cudaStream_t>(stream.handle());
  return JEVONS_DISPATCH_HEAD_DIM(
      t0.desc.dim, HEAD_DIM, [&] { return dispatch_bits<HEAD_DIM>(t0, t1, tensors, a, slots, s); });
}

}  // namespace jevons::kernels::gpu::dev
