// GPU synthetic steps: cuBLAS (opened at run time) for the GEMMs, the project's fused append and
// decode-attention kernels for the KV format, and the two small kernels below.
#include <cublas_v2.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "append/append.h"
#include "common/cuda_util.cuh"
#include "common/device.h"
#include "decode_attention/decode_attention.h"
#include "model_step/model_step.h"
#include "quant/quant.h"
#include "scores/scores.h"

namespace jevons::kernels::gpu {
namespace dev {

// One block per query column: max, then sum, then normalised write, each a block reduction.
__global__ void causal_softmax_kernel(const float* s, std::uint32_t keys, std::uint32_t chunk,
                                      std::uint32_t offset, float scale, __nv_bfloat16* p) {
  const std::uint32_t q = blockIdx.x;
  const float* col = s + static_cast<std::size_t>(q) * keys;
  __nv_bfloat16* out = p + static_cast<std::size_t>(q) * keys;
  const std::uint32_t visible = min(keys, offset + q % chunk + 1);
  __shared__ float red[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;

  float m = -INFINITY;
  for (std::uint32_t j = threadIdx.x; j < visible; j += blockDim.x) m = fmaxf(m, col[j] * scale);
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if (lane == 0) red[warp] = m;
  __syncthreads();
  m = -INFINITY;
  for (unsigned w = 0; w < warps; ++w) m = fmaxf(m, red[w]);
  __syncthreads();

  float sum = 0.0f;
  for (std::uint32_t j = threadIdx.x; j < visible; j += blockDim.x)
    sum += __expf(col[j] * scale - m);
  for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  if (lane == 0) red[warp] = sum;
  __syncthreads();
  sum = 0.0f;
  for (unsigned w = 0; w < warps; ++w) sum += red[w];
  const float inv = 1.0f / sum;

  for (std::uint32_t j = threadIdx.x; j < keys; j += blockDim.x)
    out[j] = __float2bfloat16(j < visible ? __expf(col[j] * scale - m) * inv : 0.0f);
}

__global__ void silu_mul_kernel(const __nv_bfloat16* gate_up, std::uint32_t width,
                                std::uint64_t total, __nv_bfloat16* out) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::uint64_t{gridDim.x} * blockDim.x) {
    const std::uint64_t t = i / width, k = i % width;
    const float g = __bfloat162float(gate_up[t * 2 * width + k]);
    const float u = __bfloat162float(gate_up[t * 2 * width + width + k]);
    out[i] = __float2bfloat16(g / (1.0f + __expf(-g)) * u);
  }
}

// Uniform values in ±0.02 from a hash of the index: weights only need to be finite.
__global__ void fill_bf16_kernel(__nv_bfloat16* x, std::uint64_t n, std::uint64_t seed) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::uint64_t{gridDim.x} * blockDim.x) {
    std::uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 29;
    x[i] = __float2bfloat16((static_cast<float>(h >> 40) / 16777216.0f - 0.5f) * 0.04f);
  }
}

__global__ void fill_f32_kernel(float* x, std::uint64_t n, std::uint64_t seed) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::uint64_t{gridDim.x} * blockDim.x) {
    std::uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 29;
    x[i] = static_cast<float>(h >> 40) / 16777216.0f - 0.5f;
  }
}

}  // namespace dev

Status causal_softmax(const float* s, std::uint32_t keys, std::uint32_t queries,
                      std::uint32_t chunk, std::uint32_t offset, float scale, void* p_bf16,
                      const Stream& stream) {
  if (queries == 0 || keys == 0) return Status::ok_status();
  if (chunk == 0) return Status::error("causal_softmax: chunk must be positive");
  dev::causal_softmax_kernel<<<queries, 256, 0, static_cast<cudaStream_t>(stream.handle())>>>(
      s, keys, chunk, offset, scale, static_cast<__nv_bfloat16*>(p_bf16));
  JEVONS_CUDA_CHECK_LAUNCH("causal_softmax_kernel");
  return Status::ok_status();
}

Status silu_mul(const void* gate_up_bf16, std::uint32_t width, std::uint32_t tokens, void* out_bf16,
                const Stream& stream) {
  const std::uint64_t total = std::uint64_t{width} * tokens;
  if (total == 0) return Status::ok_status();
  const unsigned blocks =
      static_cast<unsigned>(std::min<std::uint64_t>((total + 255) / 256, 65535));
  dev::silu_mul_kernel<<<blocks, 256, 0, static_cast<cudaStream_t>(stream.handle())>>>(
      static_cast<const __nv_bfloat16*>(gate_up_bf16), width, total,
      static_cast<__nv_bfloat16*>(out_bf16));
  JEVONS_CUDA_CHECK_LAUNCH("silu_mul_kernel");
  return Status::ok_status();
}

namespace {

// ---- cuBLAS, opened at run time ------------------------------------------------------------
// Linking it would make jevons-profile need libcublas/libcublasLt (~700 MB) beside it on GPU
// machines that only have a CUDA toolkit or PyTorch's wheel; dlopen finds whichever is there.

using CreateFn = cublasStatus_t (*)(cublasHandle_t*);
using DestroyFn = cublasStatus_t (*)(cublasHandle_t);
using SetStreamFn = cublasStatus_t (*)(cublasHandle_t, cudaStream_t);
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                    int, const void*, const void*, cudaDataType, int, const void*,
                                    cudaDataType, int, const void*, void*, cudaDataType, int,
                                    cublasComputeType_t, cublasGemmAlgo_t);
using GemmStridedFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int,
                                         int, int, const void*, const void*, cudaDataType, int,
                                         long long, const void*, cudaDataType, int, long long,
                                         const void*, void*, cudaDataType, int, long long, int,
                                         cublasComputeType_t, cublasGemmAlgo_t);

struct CublasApi {
  void* lib = nullptr;
  CreateFn create = nullptr;
  DestroyFn destroy = nullptr;
  SetStreamFn set_stream = nullptr;
  GemmExFn gemm = nullptr;
  GemmStridedFn gemm_strided = nullptr;
  std::string error;
};

std::vector<std::string> cublas_candidates() {
  std::vector<std::string> c;
  if (const char* env = std::getenv("JEVONS_CUBLAS"); env && *env) c.emplace_back(env);
  c.insert(c.end(),
           {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
            "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12",
            "/usr/local/cuda/lib64/libcublas.so"});
  // NVIDIA's pip wheels (what PyTorch installs): CUDA 12 `nvidia-cublas-cu12` unpacks to
  // <site-packages>/nvidia/cublas/lib/libcublas.so.12; from CUDA 13 the suffix-less
  // `nvidia-cublas` puts every library of the release in <site-packages>/nvidia/cu13/lib.
  namespace fs = std::filesystem;
  std::vector<std::string> roots = {"/usr/local/lib", "/usr/lib", "/opt/conda/lib"};
  for (const char* env : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (const char* v = std::getenv(env); v && *v) roots.push_back(std::string(v) + "/lib");
  if (const char* home = std::getenv("HOME"); home && *home)
    roots.push_back(std::string(home) + "/.local/lib");
  for (const auto& root : roots) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("python3", 0) != 0) continue;
      for (const char* sub : {"dist-packages", "site-packages"})
        for (const char* dir : {"nvidia/cu13/lib", "nvidia/cublas/lib"}) {
          const fs::path lib = e.path() / sub / dir;
          for (const char* so : {"libcublas.so.13", "libcublas.so.12"})
            if (fs::exists(lib / so, ec)) c.push_back((lib / so).string());
        }
    }
  }
  return c;
}

const CublasApi& cublas() {
  static CublasApi api;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& name : cublas_candidates()) {
      api.lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (api.lib) break;
      tried += (tried.empty() ? "" : ", ") + name;
    }
    if (!api.lib) {
      api.error = "cuBLAS not found (tried " + tried + "; set JEVONS_CUBLAS=/path/libcublas.so)";
      return;
    }
    api.create = reinterpret_cast<CreateFn>(dlsym(api.lib, "cublasCreate_v2"));
    api.destroy = reinterpret_cast<DestroyFn>(dlsym(api.lib, "cublasDestroy_v2"));
    api.set_stream = reinterpret_cast<SetStreamFn>(dlsym(api.lib, "cublasSetStream_v2"));
    api.gemm = reinterpret_cast<GemmExFn>(dlsym(api.lib, "cublasGemmEx"));
    api.gemm_strided =
        reinterpret_cast<GemmStridedFn>(dlsym(api.lib, "cublasGemmStridedBatchedEx"));
    if (!api.create || !api.destroy || !api.set_stream || !api.gemm || !api.gemm_strided)
      api.error = "cuBLAS was found but lacks cublasGemmEx / cublasGemmStridedBatchedEx";
  });
  return api;
}

Status blas_status(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::ok_status();
  return Status::error(std::string(what) + ": cuBLAS status " +
                       std::to_string(static_cast<int>(s)));
}

#define JEVONS_CUBLAS_CHECK(call)                         \
  do {                                                    \
    const Status jevons_st_ = blas_status((call), #call); \
    if (!jevons_st_.ok()) return jevons_st_;              \
  } while (0)

#define JEVONS_STATUS_CHECK(call)            \
  do {                                       \
    const Status jevons_st_ = (call);        \
    if (!jevons_st_.ok()) return jevons_st_; \
  } while (0)

class Handle {
 public:
  ~Handle() {
    if (h_) cublas().destroy(h_);
  }
  Status create(const Stream& stream) {
    const auto& api = cublas();
    if (!api.error.empty()) return Status::error(api.error);
    JEVONS_CUBLAS_CHECK(api.create(&h_));
    JEVONS_CUBLAS_CHECK(api.set_stream(h_, static_cast<cudaStream_t>(stream.handle())));
    return Status::ok_status();
  }
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// C (m×n, column-major, bf16) = A (m×k, column-major) · B (k×n), fp32 accumulation.
Status gemm_bf16(const Handle& h, int m, int n, int k, const void* a, const void* b, void* c) {
  const float one = 1.0f, zero = 0.0f;
  JEVONS_CUBLAS_CHECK(cublas().gemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a,
                                    CUDA_R_16BF, m, b, CUDA_R_16BF, k, &zero, c, CUDA_R_16BF, m,
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return Status::ok_status();
}

Status fill_bf16(DeviceBuffer& b, std::uint64_t n, std::uint64_t seed, const Stream& stream) {
  JEVONS_STATUS_CHECK(b.allocate(n * 2 + 16));
  dev::fill_bf16_kernel<<<1024, 256, 0, static_cast<cudaStream_t>(stream.handle())>>>(
      b.as<__nv_bfloat16>(), n, seed);
  JEVONS_CUDA_CHECK_LAUNCH("fill_bf16_kernel");
  return Status::ok_status();
}

Status fill_f32(DeviceBuffer& b, std::uint64_t n, std::uint64_t seed, const Stream& stream) {
  JEVONS_STATUS_CHECK(b.allocate(n * 4 + 16));
  dev::fill_f32_kernel<<<1024, 256, 0, static_cast<cudaStream_t>(stream.handle())>>>(b.as<float>(),
                                                                                     n, seed);
  JEVONS_CUDA_CHECK_LAUNCH("fill_f32_kernel");
  return Status::ok_status();
}

struct GpuLayer {
  DeviceBuffer wqkv, wo, wgu, wd;
  DeviceKvCache cache;
};

}  // namespace

bool cublas_available(std::string* why) {
  const auto& api = cublas();
  if (why) *why = api.error;
  return api.error.empty();
}

Status measure_step(const LayerDims& d, const KvConfig& kv, const StepRequest& r,
                    std::uint32_t layers_measured, std::uint32_t page_tokens, int iterations,
                    StepTiming* out) {
  if (layers_measured == 0 || r.batch == 0 || (r.prefill && r.chunk == 0))
    return Status::error("measure_step: empty step");
  Stream stream;
  JEVONS_STATUS_CHECK(stream.create());
  Handle blas;
  JEVONS_STATUS_CHECK(blas.create(stream));

  const std::uint64_t T = r.new_tokens();
  const std::uint32_t dh = d.head_dim;
  const StepPages sp = step_pages(r, page_tokens);
  const std::uint64_t len = sp.len;
  const std::uint32_t pages = sp.pages;

  CodecOptions opt;
  std::vector<float> calib(std::size_t{256} * d.kv_heads * dh);
  for (std::size_t i = 0; i < calib.size(); ++i)
    calib[i] =
        std::sin(0.37f * static_cast<float>(i)) + 0.1f * std::cos(1.3f * static_cast<float>(i));
  const auto kc = make_head_codecs(kv.key, dh, d.kv_heads, opt, calib.data(), 256);
  const auto vc = make_head_codecs(kv.value, dh, d.kv_heads, opt, calib.data(), 256);
  DeviceCodecSet kset, vset;
  JEVONS_STATUS_CHECK(DeviceCodecSet::create(kc, &kset));
  JEVONS_STATUS_CHECK(DeviceCodecSet::create(vc, &vset));

  std::vector<GpuLayer> layers(layers_measured);
  for (std::uint32_t l = 0; l < layers_measured; ++l) {
    auto& L = layers[l];
    JEVONS_STATUS_CHECK(
        fill_bf16(L.wqkv, std::uint64_t{d.qkv_out()} * d.hidden, 10 * l + 1, stream));
    JEVONS_STATUS_CHECK(
        fill_bf16(L.wo, std::uint64_t{d.hidden} * d.q_heads * dh, 10 * l + 2, stream));
    JEVONS_STATUS_CHECK(
        fill_bf16(L.wgu, std::uint64_t{2} * d.intermediate * d.hidden, 10 * l + 3, stream));
    JEVONS_STATUS_CHECK(
        fill_bf16(L.wd, std::uint64_t{d.hidden} * d.intermediate, 10 * l + 4, stream));
    // Zeroed pools: the kernels' work does not depend on the stored values.
    JEVONS_STATUS_CHECK(L.cache.create(make_pool_layout(kc[0], pages, page_tokens, d.kv_heads),
                                       make_pool_layout(vc[0], pages, page_tokens, d.kv_heads)));
  }
  DeviceBuffer wlm, x, qkv, attn, o, gu, act, down, kin, vin, q, attn_f, last, logits;
  JEVONS_STATUS_CHECK(fill_bf16(wlm, std::uint64_t{d.vocab} * d.hidden, 99, stream));
  JEVONS_STATUS_CHECK(fill_bf16(x, T * d.hidden, 7, stream));
  JEVONS_STATUS_CHECK(qkv.allocate(T * d.qkv_out() * 2));
  JEVONS_STATUS_CHECK(fill_bf16(attn, T * d.q_heads * dh, 8, stream));
  JEVONS_STATUS_CHECK(o.allocate(T * d.hidden * 2));
  JEVONS_STATUS_CHECK(gu.allocate(T * 2 * d.intermediate * 2));
  JEVONS_STATUS_CHECK(act.allocate(T * d.intermediate * 2));
  JEVONS_STATUS_CHECK(down.allocate(T * d.hidden * 2));
  JEVONS_STATUS_CHECK(fill_bf16(kin, T * d.kv_heads * dh, 11, stream));
  JEVONS_STATUS_CHECK(fill_bf16(vin, T * d.kv_heads * dh, 12, stream));
  JEVONS_STATUS_CHECK(fill_f32(q, std::uint64_t{r.batch} * d.q_heads * dh, 13, stream));
  JEVONS_STATUS_CHECK(attn_f.allocate(std::uint64_t{r.batch} * d.q_heads * dh * 4));
  JEVONS_STATUS_CHECK(fill_bf16(last, std::uint64_t{d.hidden} * r.batch, 31, stream));
  JEVONS_STATUS_CHECK(logits.allocate(std::uint64_t{d.vocab} * r.batch * 2));

  DeviceBuffer dtable, dslots, dlens, workspace;
  JEVONS_STATUS_CHECK(dtable.assign(sp.table));
  JEVONS_STATUS_CHECK(dslots.assign(sp.slots));
  JEVONS_STATUS_CHECK(dlens.assign(sp.lens));
  const PagedBatch pb = step_batch(d, r, sp, dtable.as<std::int32_t>(), dlens.as<std::uint32_t>());
  JEVONS_STATUS_CHECK(workspace.allocate(decode_workspace_bytes(kset, vset, pb, 0) + 16));
  const float scale = 1.0f / std::sqrt(float(dh));

  // Prefill attention buffers: per sequence, the stacked queries of each KV head's group against
  // that head's keys (strided-batched over KV heads).
  const std::uint32_t group = d.q_heads / d.kv_heads;
  const std::uint64_t keys = len, cols = std::uint64_t{group} * r.chunk;
  DeviceBuffer pq, pk, pv, ps, pp, po;
  if (r.prefill) {
    JEVONS_STATUS_CHECK(fill_bf16(pq, std::uint64_t{d.kv_heads} * cols * dh, 21, stream));
    JEVONS_STATUS_CHECK(fill_bf16(pk, std::uint64_t{d.kv_heads} * keys * dh, 22, stream));
    JEVONS_STATUS_CHECK(fill_bf16(pv, std::uint64_t{d.kv_heads} * keys * dh, 23, stream));
    JEVONS_STATUS_CHECK(ps.allocate(std::uint64_t{d.kv_heads} * keys * cols * 4));
    JEVONS_STATUS_CHECK(pp.allocate(std::uint64_t{d.kv_heads} * keys * cols * 2));
    JEVONS_STATUS_CHECK(po.allocate(std::uint64_t{d.kv_heads} * cols * dh * 2));
  }
  JEVONS_STATUS_CHECK(stream.synchronize());

  const auto& api = cublas();
  const float one = 1.0f, zero = 0.0f;
  const int Ti = static_cast<int>(T);
  auto layer = [&](GpuLayer& L) -> Status {
    JEVONS_STATUS_CHECK(gemm_bf16(blas, static_cast<int>(d.qkv_out()), Ti,
                                  static_cast<int>(d.hidden), L.wqkv.data(), x.data(), qkv.data()));
    JEVONS_STATUS_CHECK(append(kset, vset, kin.data(), vin.data(), InputType::kBf16, T,
                               dslots.as<std::int64_t>(), L.cache, stream));
    if (r.prefill) {
      const int kk = static_cast<int>(keys), cc = static_cast<int>(cols), di = static_cast<int>(dh);
      for (std::uint32_t b = 0; b < r.batch; ++b) {
        // S (keys × cols) = Kᵀ · Q, fp32 out; then P = causal softmax; O (dh × cols) = V · P.
        JEVONS_CUBLAS_CHECK(api.gemm_strided(
            blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, kk, cc, di, &one, pk.data(), CUDA_R_16BF, di,
            static_cast<long long>(keys) * dh, pq.data(), CUDA_R_16BF, di,
            static_cast<long long>(cols) * dh, &zero, ps.data(), CUDA_R_32F, kk,
            static_cast<long long>(keys) * cols, static_cast<int>(d.kv_heads), CUBLAS_COMPUTE_32F,
            CUBLAS_GEMM_DEFAULT));
        JEVONS_STATUS_CHECK(causal_softmax(ps.as<float>(), static_cast<std::uint32_t>(keys),
                                           static_cast<std::uint32_t>(cols) * d.kv_heads, r.chunk,
                                           static_cast<std::uint32_t>(r.context), scale, pp.data(),
                                           stream));
        JEVONS_CUBLAS_CHECK(api.gemm_strided(
            blas.get(), CUBLAS_OP_N, CUBLAS_OP_N, di, cc, kk, &one, pv.data(), CUDA_R_16BF, di,
            static_cast<long long>(keys) * dh, pp.data(), CUDA_R_16BF, kk,
            static_cast<long long>(keys) * cols, &zero, po.data(), CUDA_R_16BF, di,
            static_cast<long long>(cols) * dh, static_cast<int>(d.kv_heads), CUBLAS_COMPUTE_32F,
            CUBLAS_GEMM_DEFAULT));
      }
    } else {
      JEVONS_STATUS_CHECK(decode_attention(kset, vset, L.cache, pb, q.as<float>(), scale, 0,
                                           workspace.data(), attn_f.as<float>(), stream));
    }
    JEVONS_STATUS_CHECK(gemm_bf16(blas, static_cast<int>(d.hidden), Ti,
                                  static_cast<int>(d.q_heads * dh), L.wo.data(), attn.data(),
                                  o.data()));
    JEVONS_STATUS_CHECK(gemm_bf16(blas, static_cast<int>(2 * d.intermediate), Ti,
                                  static_cast<int>(d.hidden), L.wgu.data(), o.data(), gu.data()));
    JEVONS_STATUS_CHECK(
        silu_mul(gu.data(), d.intermediate, static_cast<std::uint32_t>(T), act.data(), stream));
    JEVONS_STATUS_CHECK(gemm_bf16(blas, static_cast<int>(d.hidden), Ti,
                                  static_cast<int>(d.intermediate), L.wd.data(), act.data(),
                                  down.data()));
    return Status::ok_status();
  };

  StepTiming t;
  t.layers_measured = layers_measured;
  JEVONS_STATUS_CHECK(time_median_ns(
      stream, iterations,
      [&]() -> Status {
        for (auto& L : layers) JEVONS_STATUS_CHECK(layer(L));
        return Status::ok_status();
      },
      &t.layers_ns));
  JEVONS_STATUS_CHECK(time_median_ns(
      stream, iterations,
      [&]() -> Status {
        return gemm_bf16(blas, static_cast<int>(d.vocab), static_cast<int>(r.batch),
                         static_cast<int>(d.hidden), wlm.data(), last.data(), logits.data());
      },
      &t.lm_head_ns));
  *out = t;
  return Status::ok_status();
}

}  // namespace jevons::kernels::gpu
