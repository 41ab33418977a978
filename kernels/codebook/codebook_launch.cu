#include "codebook/codebook.h"
#include "codebook/codebook_kernel.cuh"
#include "common/cuda_util.cuh"

namespace jevons::kernels::gpu {

Status bucketize(const Codebook& cb, const float* y, std::size_t n, std::uint8_t* idx,
                 const Stream& stream) {
  if (cb.bits < 1 || cb.bits > 4)
    return Status::error("Unsupported bits: " + std::to_string(cb.bits));
  if (n == 0) return Status::ok_status();
  dev::Boundaries bd{};
  bd.n = static_cast<int>(cb.boundaries_f.size());
  for (int i = 0; i < bd.n; ++i) bd.b[i] = cb.boundaries_f[i];
  dev::bucketize_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0,
                          static_cast<cudaStream_t>(stream.handle())>>>(bd, y, n, idx);
  JEVONS_CUDA_CHECK_LAUNCH("bucketize_kernel");
  return Status::ok_status();
}

}  // namespace jevons::kernels::gpu
