// The pipelined decode kernel's instances (decode_pipelined_kernel.cuh), in their own
// translation unit: 21 heavily unrolled kernels (15 single-segment, 6 outlier-split) that compile
// in parallel with the rest.
#include <type_traits>

#include "decode_attention/decode_pipelined_kernel.cuh"

namespace jevons::kernels::gpu::dev {
namespace {

template <int D>
PipelinedKernel pipelined_kernel(int bits, bool q, int bits1, std::uint32_t* smem) {
  // Outlier split (D/4 channels at `bits`, 3D/4 at `bits1`): tq-3.5 and tq-2.5.
  if (bits1 != 0) {
    if (q) return nullptr;
    if (bits == 4 && bits1 == 3) {
      *smem = dev::pipe_smem_bytes<D, 4, false, 3>();
      return dev::decode_pipelined_kernel<D, 4, false, 3>;
    }
    if (bits == 3 && bits1 == 2) {
      *smem = dev::pipe_smem_bytes<D, 3, false, 2>();
      return dev::decode_pipelined_kernel<D, 3, false, 2>;
    }
    return nullptr;
  }
  auto pick = [&](auto bits_c, auto qjl_c) -> PipelinedKernel {
    constexpr int B = decltype(bits_c)::value;
    constexpr bool Q = decltype(qjl_c)::value;
    *smem = dev::pipe_smem_bytes<D, B, Q>();
    return dev::decode_pipelined_kernel<D, B, Q>;
  };
  using std::integral_constant;
  if (!q) switch (bits) {
      case 2:
        return pick(integral_constant<int, 2>{}, integral_constant<bool, false>{});
      case 3:
        return pick(integral_constant<int, 3>{}, integral_constant<bool, false>{});
      case 4:
        return pick(integral_constant<int, 4>{}, integral_constant<bool, false>{});
      default:
        return nullptr;
    }
  // tq-prod at head_dim 256 would need ~250 registers (queries, sketch and both accumulators):
  // it keeps the generic kernel.
  if constexpr (D <= 128) switch (bits) {
      case 1:
        return pick(integral_constant<int, 1>{}, integral_constant<bool, true>{});
      case 2:
        return pick(integral_constant<int, 2>{}, integral_constant<bool, true>{});
      case 3:
        return pick(integral_constant<int, 3>{}, integral_constant<bool, true>{});
      default:
        return nullptr;
    }
  return nullptr;
}

}  // namespace

PipelinedKernel pipelined_instance(std::uint32_t dim, std::uint32_t bits, bool qjl,
                                   std::uint32_t bits1, std::uint32_t* smem_bytes) {
  const int b = static_cast<int>(bits), b1 = static_cast<int>(bits1);
  switch (dim) {
    case 64:
      return pipelined_kernel<64>(b, qjl, b1, smem_bytes);
    case 128:
      return pipelined_kernel<128>(b, qjl, b1, smem_bytes);
    case 256:
      return pipelined_kernel<256>(b, qjl, b1, smem_bytes);
    default:
      return nullptr;
  }
}

}  // namespace jevons::kernels::gpu::dev
