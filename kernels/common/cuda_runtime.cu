// Implementation of common/device.h: RAII buffers and streams, device queries, timing.
#include <algorithm>
#include <vector>

#include "common/cuda_util.cuh"
#include "common/device.h"

namespace jevons::kernels::gpu {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return n;
}

Status device_info(int device, DeviceInfo* info) {
  cudaDeviceProp p{};
  JEVONS_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  int driver = 0, runtime = 0;
  JEVONS_CUDA_CHECK(cudaDriverGetVersion(&driver));
  JEVONS_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  info->name = p.name;
  info->sm_count = p.multiProcessorCount;
  info->cc_major = p.major;
  info->cc_minor = p.minor;
  info->memory_bytes = p.totalGlobalMem;
  info->driver_version = std::to_string(driver / 1000) + "." + std::to_string((driver % 1000) / 10);
  info->runtime_version =
      std::to_string(runtime / 1000) + "." + std::to_string((runtime % 1000) / 10);
  return Status::ok_status();
}

Stream::~Stream() {
  if (handle_) cudaStreamDestroy(static_cast<cudaStream_t>(handle_));
}

Status Stream::create() {
  if (handle_) return Status::ok_status();
  cudaStream_t s = nullptr;
  JEVONS_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  handle_ = s;
  return Status::ok_status();
}

Status Stream::synchronize() const {
  JEVONS_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_)));
  return Status::ok_status();
}

DeviceBuffer::~DeviceBuffer() {
  release();
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
  o.ptr_ = nullptr;
  o.bytes_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release();
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::release() {
  if (ptr_) cudaFree(ptr_);  // a destructor never throws; a failed free has nowhere to go
  ptr_ = nullptr;
  bytes_ = 0;
}

Status DeviceBuffer::allocate(std::size_t bytes) {
  release();
  if (bytes == 0) return Status::ok_status();
  JEVONS_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  bytes_ = bytes;
  return Status::ok_status();
}

Status DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset) {
  if (offset + bytes > bytes_) return Status::error("DeviceBuffer::upload out of range");
  if (bytes == 0) return Status::ok_status();
  JEVONS_CUDA_CHECK(
      cudaMemcpy(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice));
  // A pageable cudaMemcpy may return before its DMA lands, and the kernels run on non-blocking
  // streams that do not order against the legacy stream: wait, so no launch can read stale bytes.
  JEVONS_CUDA_CHECK(cudaDeviceSynchronize());
  return Status::ok_status();
}

Status DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  if (offset + bytes > bytes_) return Status::error("DeviceBuffer::download out of range");
  if (bytes == 0) return Status::ok_status();
  // The legacy-stream cudaMemcpy does not wait for kernels on non-blocking streams; callers
  // synchronise the stream they launched on, and this device-wide wait backs them up.
  JEVONS_CUDA_CHECK(cudaDeviceSynchronize());
  JEVONS_CUDA_CHECK(
      cudaMemcpy(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost));
  return Status::ok_status();
}

Status DeviceBuffer::zero() {
  if (bytes_) {
    JEVONS_CUDA_CHECK(cudaMemset(ptr_, 0, bytes_));
    JEVONS_CUDA_CHECK(cudaDeviceSynchronize());  // legacy stream: finish before any other stream
  }
  return Status::ok_status();
}

Status DeviceBuffer::zero(const Stream& stream) {
  if (bytes_)
    JEVONS_CUDA_CHECK(cudaMemsetAsync(ptr_, 0, bytes_, static_cast<cudaStream_t>(stream.handle())));
  return Status::ok_status();
}

namespace {
struct Event {
  cudaEvent_t e = nullptr;
  ~Event() {
    if (e) cudaEventDestroy(e);
  }
};
}  // namespace

Status time_median_ns(const Stream& stream, int iterations, const std::function<Status()>& fn,
                      double* median_ns, bool flush_l2) {
  auto s = static_cast<cudaStream_t>(stream.handle());
  Event start, stop;
  JEVONS_CUDA_CHECK(cudaEventCreate(&start.e));
  JEVONS_CUDA_CHECK(cudaEventCreate(&stop.e));
  // Writing twice the L2 size evicts whatever the previous run left there, so a run whose
  // working set fits in L2 (small batch, short context) is timed from HBM, as in serving.
  DeviceBuffer flush;
  if (flush_l2) {
    int dev = 0, l2_bytes = 0;
    JEVONS_CUDA_CHECK(cudaGetDevice(&dev));
    JEVONS_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, dev));
    Status fs = flush.allocate(std::max<std::size_t>(2 * std::size_t(l2_bytes), 8u << 20));
    if (!fs.ok()) return fs;
  }
  auto evict = [&]() -> Status {
    if (flush_l2) JEVONS_CUDA_CHECK(cudaMemsetAsync(flush.data(), 0, flush.bytes(), s));
    return Status::ok_status();
  };
  Status st = fn();  // warm-up (first-launch module loading, caches)
  if (!st.ok()) return st;
  JEVONS_CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<double> t;
  for (int i = 0; i < std::max(1, iterations); ++i) {
    st = evict();  // outside the events: the flush is not timed
    if (!st.ok()) return st;
    JEVONS_CUDA_CHECK(cudaEventRecord(start.e, s));
    st = fn();
    if (!st.ok()) return st;
    JEVONS_CUDA_CHECK(cudaEventRecord(stop.e, s));
    JEVONS_CUDA_CHECK(cudaEventSynchronize(stop.e));
    float ms = 0;
    JEVONS_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
    t.push_back(double(ms) * 1e6);
  }
  std::sort(t.begin(), t.end());
  *median_ns = t[t.size() / 2];
  return Status::ok_status();
}

Status copy_bandwidth(std::size_t bytes, int iterations, double* bytes_per_s) {
  DeviceBuffer a, b;
  Status st = a.allocate(bytes);
  if (!st.ok()) return st;
  st = b.allocate(bytes);
  if (!st.ok()) return st;
  JEVONS_CUDA_CHECK(cudaMemset(a.data(), 1, bytes));
  Stream stream;
  st = stream.create();
  if (!st.ok()) return st;
  double ns = 0;
  st = time_median_ns(
      stream, iterations,
      [&]() -> Status {
        JEVONS_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice,
                                          static_cast<cudaStream_t>(stream.handle())));
        return Status::ok_status();
      },
      &ns);
  if (!st.ok()) return st;
  *bytes_per_s = 2.0 * double(bytes) / (ns * 1e-9);  // read + write, as the anchor script counts
  return Status::ok_status();
}

Status last_launch_status(const char* what) {
  return cuda_status(cudaGetLastError(), what);
}

}  // namespace jevons::kernels::gpu
