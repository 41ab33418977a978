// Instances of the tensor-core tq-prod append kernel (head_dim 64/128 × tq-prod-2/3/4) in their
// own translation unit, so they compile in parallel with the other append and store kernels.
#include <algorithm>
#include <cstdint>
#include <string>

#include "append/append_kernel.cuh"
#include "append/append_mma_kernel.cuh"
#include "append/append_tq_bucket.h"
#include "common/cuda_util.cuh"

namespace jevons::kernels::gpu::dev {

namespace {
/// The (b−1)-bit codes' bucketize inputs (as append_tq_launch.cu's): thresholds on the unscaled
/// FWHT and the cell map; false when the table would not be exact.
bool mma_bucket_inputs(const StoreTensor& t, float* thr, float& s, float& o) {
  AppendBucketCell table[kAppendBucketCells];
  return append_bucket_table(t.desc.seg[0].boundaries, (1 << t.desc.seg[0].bits) - 1,
                             t.tables.hadamard_scale[0], thr, s, o, table);
}

template <int D, int BITS>
Status launch_mma_instance(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                           const AppendMmaArgs& a, const std::int64_t* slots, cudaStream_t s) {
  using P = MmaAppendShape<D>;
  const auto kernel = append_mma_kernel<D, BITS>;
  constexpr unsigned kSmem = P::kSmemBytes;
  JEVONS_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
  int device = 0, sms = 0, per_sm = 0;
  JEVONS_CUDA_CHECK(cudaGetDevice(&device));
  JEVONS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  JEVONS_CUDA_CHECK(
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, P::kWarps * 32, kSmem));
  if (per_sm < 1)
    return Status::error("append_mma_kernel: " + std::to_string(kSmem) +
                         " bytes of shared memory per CTA do not fit this device");
  // Persistent CTAs (S is filled once per CTA): as many as are resident, fewer for short appends.
  const std::uint64_t tiles = (a.vectors + kMmaTile - 1) / kMmaTile;
  const std::uint64_t needed = (tiles + P::kWarps - 1) / P::kWarps;
  const std::uint64_t resident = static_cast<std::uint64_t>(sms) * per_sm;
  const dim3 grid(static_cast<unsigned>(std::min(needed, resident)), tensors);
  kernel<<<grid, P::kWarps * 32, kSmem, s>>>(t0, t1, a, slots);
  JEVONS_CUDA_CHECK_LAUNCH("append_mma_kernel");
  return Status::ok_status();
}

template <int D>
Status dispatch_mma_bits(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                         const AppendMmaArgs& a, const std::int64_t* slots, cudaStream_t s) {
  switch (t0.desc.seg[0].bits) {
    case 1:
      return launch_mma_instance<D, 1>(t0, t1, tensors, a, slots, s);
    case 2:
      return launch_mma_instance<D, 2>(t0, t1, tensors, a, slots, s);
    case 3:
      return launch_mma_instance<D, 3>(t0, t1, tensors, a, slots, s);
    default:
      return Status::error("append_mma_kernel: unsupported mse bit width " +
                           std::to_string(t0.desc.seg[0].bits));
  }
}
}  // namespace

bool append_mma_eligible(const StoreTensor& t) {
  const VectorDesc& d = t.desc;
  float thr[15], s = 0, o = 0;
  // d = 256 stays on store_kernel: its 3·d² multiply-adds per vector would need ~1.7× the
  // tensor cores' fp16 rate at the HBM rate (docs/kernels.md), and S alone would take 256 KB.
  return d.kind == CodecKind::kTq && d.num_segments == 1 && d.has_qjl && d.seg[0].bits >= 1 &&
         d.seg[0].bits <= 3 && d.seg[0].dim == d.dim && d.seg[0].norm_index == 0 &&
         d.gamma_index == 1 && d.meta_bytes == 4 && d.sign_offset == d.dim * d.seg[0].bits / 8 &&
         d.code_bytes == d.sign_offset + d.dim / 8 &&
         t.tables.rot_kind[0] == static_cast<std::uint32_t>(RotationKind::kHadamard) &&
         t.tables.identity_perm != 0u && t.tables.qjl_t != nullptr && append_pool_fits(t) &&
         (d.dim == 64 || d.dim == 128) && mma_bucket_inputs(t, thr, s, o);
}

Status launch_append_mma(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                         std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                         const Stream& stream) {
  const std::uint64_t vectors = n * kv_heads;
  if (vectors >= (1ull << 30))
    return Status::error("append_mma_kernel: more than 2^30 vectors in one launch");
  AppendMmaArgs a{};
  a.vectors = static_cast<std::uint32_t>(vectors);
  a.kv_heads = FastDiv(kv_heads);
  a.page_tokens[0] = FastDiv(t0.layout.page_tokens);
  a.page_tokens[1] = FastDiv(t1.layout.page_tokens);
  const StoreTensor* ts[2] = {&t0, &t1};
  for (int i = 0; i < 2; ++i) {
    const StoreTensor& t = *ts[i];
    a.page_bytes[i] = static_cast<std::uint32_t>(t.layout.page_bytes());  // < 2^32: eligible
    a.head_bytes[i] = static_cast<std::uint32_t>(t.layout.head_block_bytes());
    a.meta_base[i] = static_cast<std::uint32_t>(t.layout.page_tokens * t.desc.code_bytes);
    a.scale[i] = t.tables.hadamard_scale[0];
    if (!mma_bucket_inputs(t, a.thr[i], a.cell_s[i], a.cell_o[i]))
      return Status::error("append_mma_kernel: bucketize table not exact for this codebook");
  }
  auto s = static_cast<cudaStream_t>(stream.handle());
  switch (t0.desc.dim) {
    case 64:
      return dispatch_mma_bits<64>(t0, t1, tensors, a, slots, s);
    case 128:
      return dispatch_mma_bits<128>(t0, t1, tensors, a, slots, s);
    default:
      return Status::error("append_mma_kernel: unsupported head_dim " +
                           std::to_string(t0.desc.dim));
  }
}

}  // namespace jevons::kernels::gpu::dev
