// gpu::rotate: the device rotation path on its own (tests bit-identity with Rotation::apply).
#include "common/cuda_util.cuh"
#include "rotation/rotation.h"
#include "rotation/rotation_kernel.cuh"

namespace jevons::kernels::gpu {
namespace {

template <int HEAD_DIM>
__global__ void rotate_kernel(const float* x, float* y, std::uint32_t n_vectors, int dim,
                              std::uint32_t kind, const float* data, float scale) {
  __shared__ float buf[HEAD_DIM];
  const int j = static_cast<int>(threadIdx.x);
  const std::size_t v = blockIdx.x;
  const bool live = j < dim;
  const float u = live ? x[v * dim + j] : 0.0f;
  // Threads ≥ dim act as an idle segment so every thread reaches every barrier.
  const float out =
      dev::rotate_channel<HEAD_DIM>(buf, j, live ? j : 0, live ? dim : 1, 0, kind, data, scale, u);
  if (live && v < n_vectors) y[v * dim + j] = out;
}

}  // namespace

Status rotate(const Rotation& r, const float* x, std::size_t n, float* y, const Stream& stream) {
  if (n == 0) return Status::ok_status();
  const int dim = static_cast<int>(r.dim());
  DeviceBuffer data;
  // Dense: Πᵀ, the layout rotate_channel reads (coalesced columns); the Hadamard kinds: signs.
  const bool dense = r.kind() == RotationKind::kDense;
  std::vector<float> host = dense ? r.matrix() : r.signs();
  if (dense)
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j)
        host[static_cast<std::size_t>(j) * dim + i] =
            r.matrix()[static_cast<std::size_t>(i) * dim + j];
  Status st = data.assign(host);
  if (!st.ok()) return st;
  const int bound = dim <= 64 ? 64 : dim <= 128 ? 128 : dim <= 256 ? 256 : 0;
  if (r.kind() == RotationKind::kHadamard && bound != dim)
    return Status::error("Unsupported head_dim: " + std::to_string(dim));
  auto s = static_cast<cudaStream_t>(stream.handle());
  st = JEVONS_DISPATCH_HEAD_DIM(bound, HEAD_DIM, [&] {
    rotate_kernel<HEAD_DIM><<<static_cast<unsigned>(n), HEAD_DIM, 0, s>>>(
        x, y, static_cast<std::uint32_t>(n), dim, static_cast<std::uint32_t>(r.kind()),
        data.as<float>(), r.hadamard_scale());
    JEVONS_CUDA_CHECK_LAUNCH("rotate_kernel");
    return Status::ok_status();
  });
  if (!st.ok()) return st;
  JEVONS_CUDA_CHECK(cudaStreamSynchronize(s));  // `data` is freed on return
  return Status::ok_status();
}

}  // namespace jevons::kernels::gpu
