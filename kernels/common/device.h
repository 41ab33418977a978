#pragma once
/// \file Host-side CUDA plumbing with no CUDA types in the interface: RAII device buffers and
/// streams, device queries, event timing. Compiled only when JEVONS_HAVE_CUDA is defined
/// (implementation in common/cuda_runtime.cu). Every call returns a Status; nothing exits.

#if defined(JEVONS_HAVE_CUDA)

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace jevons::kernels::gpu {

/// Number of usable CUDA devices; 0 when there is no device or no driver (never an error).
int device_count();

struct DeviceInfo {
  std::string name;
  int sm_count = 0;
  int cc_major = 0;
  int cc_minor = 0;
  std::uint64_t memory_bytes = 0;
  std::string driver_version;   ///< e.g. "13.0" (CUDA driver API version)
  std::string runtime_version;  ///< CUDA runtime the kernels were built against
};
Status device_info(int device, DeviceInfo* info);

/// Owns a cudaStream_t (created once, destroyed in the destructor).
class Stream {
 public:
  Stream() = default;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Status create();
  Status synchronize() const;
  void* handle() const { return handle_; }  ///< cudaStream_t; null is the default stream

 private:
  void* handle_ = nullptr;
};

/// Owns one device allocation (cudaFree in the destructor; move-only).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  Status allocate(std::size_t bytes);  ///< frees any previous allocation first
  /// Synchronous: returns when the bytes are on the device (device-wide wait).
  Status upload(const void* host, std::size_t bytes, std::size_t offset = 0);
  /// Waits for the whole device first, then copies; callers still synchronise their stream.
  Status download(void* host, std::size_t bytes, std::size_t offset = 0) const;
  Status zero();                      ///< synchronous memset (device-wide wait)
  Status zero(const Stream& stream);  ///< memset ordered on `stream` (no host wait)
  void* data() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t bytes() const { return bytes_; }

  /// Allocates and uploads a host vector in one step.
  template <class T>
  Status assign(const std::vector<T>& v) {
    Status s = allocate(v.size() * sizeof(T) + (v.empty() ? 1 : 0));
    return s.ok() ? upload(v.data(), v.size() * sizeof(T)) : s;
  }

 private:
  void release();
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Median time in ns of `iterations` runs of `fn` on `stream` (cudaEvent timing, one warm-up).
/// `flush_l2`: before each timed run (untimed), overwrite 2× the device's L2 so no run starts
/// with the previous run's data cached.
Status time_median_ns(const Stream& stream, int iterations, const std::function<Status()>& fn,
                      double* median_ns, bool flush_l2 = false);

/// Measured device-to-device copy bandwidth (bytes read + written per second) over `bytes`.
Status copy_bandwidth(std::size_t bytes, int iterations, double* bytes_per_s);

/// Status of the last kernel launch on this thread (cudaGetLastError) with `what` as context.
Status last_launch_status(const char* what);

}  // namespace jevons::kernels::gpu

#endif  // JEVONS_HAVE_CUDA
