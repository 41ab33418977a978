#include "common/cuda_util.cuh"
#include "packing/packing.h"
#include "packing/packing_kernel.cuh"

namespace jevons::kernels::gpu {

Status pack_codes(const std::uint8_t* codes, std::size_t count, int bits, std::uint8_t* out,
                  const Stream& stream) {
  if (bits < 1 || bits > 8) return Status::error("Unsupported bits: " + std::to_string(bits));
  const std::size_t bytes = packed_bytes(count, bits);
  if (bytes == 0) return Status::ok_status();
  dev::pack_kernel<<<static_cast<unsigned>((bytes + 255) / 256), 256, 0,
                     static_cast<cudaStream_t>(stream.handle())>>>(codes, count, bits, out, bytes);
  JEVONS_CUDA_CHECK_LAUNCH("pack_kernel");
  return Status::ok_status();
}

Status unpack_codes(const std::uint8_t* packed, std::size_t count, int bits, std::uint8_t* codes,
                    const Stream& stream) {
  if (bits < 1 || bits > 8) return Status::error("Unsupported bits: " + std::to_string(bits));
  if (count == 0) return Status::ok_status();
  dev::unpack_kernel<<<static_cast<unsigned>((count + 255) / 256), 256, 0,
                       static_cast<cudaStream_t>(stream.handle())>>>(packed, count, bits, codes);
  JEVONS_CUDA_CHECK_LAUNCH("unpack_kernel");
  return Status::ok_status();
}

}  // namespace jevons::kernels::gpu
