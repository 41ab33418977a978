// gpu::dequant: stored vectors back to floats (tests and accuracy only).
#include "common/cuda_util.cuh"
#include "dequant/dequant.h"
#include "dequant/dequant_kernel.cuh"

namespace jevons::kernels::gpu {

Status dequant(const DeviceCodecSet& set, const PoolLayout& layout, const std::uint8_t* pool,
               const std::int64_t* slots, std::size_t n_tokens, float* out, const Stream& stream) {
  if (n_tokens == 0) return Status::ok_status();
  dev::DequantArgs a{};
  a.d = set.desc;
  a.layout = layout;
  a.pool = pool;
  a.slots = slots;
  a.n = n_tokens;
  a.identity = set.identity_transform;
  a.transform = set.transform.as<float>();
  a.qjl = set.qjl.as<float>();
  a.out = out;
  auto s = static_cast<cudaStream_t>(stream.handle());
  return JEVONS_DISPATCH_HEAD_DIM(set.desc.dim, HEAD_DIM, [&] {
    dev::dequant_kernel<HEAD_DIM>
        <<<static_cast<unsigned>(n_tokens * layout.kv_heads), HEAD_DIM, 0, s>>>(a);
    JEVONS_CUDA_CHECK_LAUNCH("dequant_kernel");
    return Status::ok_status();
  });
}

}  // namespace jevons::kernels::gpu
