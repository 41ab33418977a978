// Query prologue (rotate + sketch into the codec domain) and scores from compressed keys.
#include "common/cuda_util.cuh"
#include "scores/scores.h"
#include "scores/scores_kernel.cuh"

namespace jevons::kernels::gpu {
namespace {

// grid: batch·q_heads; block: HEAD_DIM. q_work = scale·T·q, then (tq-prod) scale·S·T·q.
template <int HEAD_DIM>
__global__ void prepare_queries_kernel(const float* q, std::uint32_t q_heads, std::uint32_t group,
                                       bool identity, const float* transform_t, bool has_qjl,
                                       const float* qjl_t, float scale, float* q_work,
                                       std::uint32_t work_width) {
  __shared__ float sq[HEAD_DIM], sr[HEAD_DIM];
  const int j = static_cast<int>(threadIdx.x);
  const std::size_t row = blockIdx.x;
  const std::uint32_t kvh = static_cast<std::uint32_t>(row % q_heads) / group;
  sq[j] = q[row * HEAD_DIM + j];
  __syncthreads();
  float r = sq[j];
  if (!identity) {
    const float* tt = transform_t + static_cast<std::size_t>(kvh) * HEAD_DIM * HEAD_DIM;
    r = 0.0f;
    for (int i = 0; i < HEAD_DIM; ++i) r += tt[static_cast<std::size_t>(i) * HEAD_DIM + j] * sq[i];
  }
  r *= scale;
  q_work[row * work_width + j] = r;
  if (!has_qjl) return;
  sr[j] = r;
  __syncthreads();
  float s = 0.0f;
  for (int i = 0; i < HEAD_DIM; ++i) s += qjl_t[static_cast<std::size_t>(i) * HEAD_DIM + j] * sr[i];
  q_work[row * work_width + HEAD_DIM + j] = s;
}

// grid: (⌈max_len / NTG⌉, q_heads, batch); block 128 = NTG token groups of HEAD_DIM/8 lanes.
template <int HEAD_DIM>
__global__ void __launch_bounds__(128)
    scores_kernel(VectorDesc d, PoolLayout layout, const std::uint8_t* pool,
                  const std::int32_t* table, std::uint32_t max_pages, const std::uint32_t* lens,
                  std::uint32_t q_heads, std::uint32_t group, const float* q_work,
                  std::uint32_t max_len, float* scores) {
  constexpr int TG = HEAD_DIM / 8, NTG = 128 / TG;
  __shared__ float cent[2][16];
  dev::load_centroids(d, cent);
  __syncthreads();
  const int tg = static_cast<int>(threadIdx.x) / TG, l = static_cast<int>(threadIdx.x) % TG;
  const std::uint32_t b = blockIdx.z, h = blockIdx.y, kvh = h / group;
  const std::uint32_t t = blockIdx.x * NTG + static_cast<std::uint32_t>(tg);
  if (t >= lens[b]) return;
  const float* qw = q_work + (static_cast<std::size_t>(b) * q_heads + h) * d.work_width();
  const auto page = static_cast<std::uint64_t>(
      table[static_cast<std::size_t>(b) * max_pages + t / layout.page_tokens]);
  const std::uint32_t off = t % layout.page_tokens;
  const std::uint8_t* code = pool + layout.code_offset(page, kvh, off);
  const std::uint8_t* meta = pool + layout.meta_offset(page, kvh, off);
  float v[8];
  dev::lane_values<dev::kModeGeneric>(d, cent, code, meta, l, v);
  float dot = 0.0f;
  for (int i = 0; i < 8; ++i) dot += qw[8 * l + i] * v[i];
  if (d.has_qjl) {
    unsigned bits;
    float coef;
    dev::lane_signs(d, code, meta, l, &bits, &coef);
    float sd = 0.0f;
    for (int i = 0; i < 8; ++i)
      sd += ((bits >> i) & 1u) ? qw[HEAD_DIM + 8 * l + i] : -qw[HEAD_DIM + 8 * l + i];
    dot += coef * sd;
  }
  dot = dev::group_sum<TG>(dot);
  if (l == 0) scores[(static_cast<std::size_t>(b) * q_heads + h) * max_len + t] = dot;
}

}  // namespace

Status prepare_queries(const DeviceCodecSet& set, const float* q, std::uint32_t batch,
                       std::uint32_t q_heads, float scale, float* q_work, const Stream& stream) {
  if (batch == 0 || q_heads == 0) return Status::ok_status();
  if (q_heads % set.kv_heads != 0) return Status::error("q_heads must be a multiple of kv_heads");
  auto s = static_cast<cudaStream_t>(stream.handle());
  return JEVONS_DISPATCH_HEAD_DIM(set.desc.dim, HEAD_DIM, [&] {
    prepare_queries_kernel<HEAD_DIM><<<batch * q_heads, HEAD_DIM, 0, s>>>(
        q, q_heads, q_heads / set.kv_heads, set.identity_transform, set.transform_t.as<float>(),
        set.desc.has_qjl != 0, set.qjl_t.as<float>(), scale, q_work, set.desc.work_width());
    JEVONS_CUDA_CHECK_LAUNCH("prepare_queries_kernel");
    return Status::ok_status();
  });
}

Status scores(const DeviceCodecSet& k_set, const PoolLayout& layout, const std::uint8_t* k_pool,
              const PagedBatch& pb, const float* q, float* q_work, std::uint32_t max_len,
              float* out, const Stream& stream) {
  if (pb.head_dim != k_set.desc.dim)
    return Status::error("scores: head_dim disagrees with the codec");
  Status st = prepare_queries(k_set, q, pb.batch, pb.q_heads, 1.0f, q_work, stream);
  if (!st.ok() || max_len == 0) return st;
  auto s = static_cast<cudaStream_t>(stream.handle());
  return JEVONS_DISPATCH_HEAD_DIM(pb.head_dim, HEAD_DIM, [&] {
    constexpr int NTG = 128 / (HEAD_DIM / 8);
    const dim3 grid((max_len + NTG - 1) / NTG, pb.q_heads, pb.batch);
    scores_kernel<HEAD_DIM><<<grid, 128, 0, s>>>(k_set.desc, layout, k_pool, pb.block_table,
                                                 pb.max_pages_per_seq, pb.seq_lens, pb.q_heads,
                                                 pb.q_heads / pb.kv_heads, q_work, max_len, out);
    JEVONS_CUDA_CHECK_LAUNCH("scores_kernel");
    return Status::ok_status();
  });
}

}  // namespace jevons::kernels::gpu
