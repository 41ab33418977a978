// gpu::decode_attention: prologue (queries into the codec domain), split kernel, combine kernel.
// Split kernels: the pipelined tensor-core kernel for tq-mse-2/3/4 and the outlier-split tq-3.5 /
// tq-2.5 (head_dim 64/128/256) and tq-prod-2/3/4 (head_dim 64/128) with the same format for K
// and V and GQA groups ≤ 8 (21 instances, compiled in decode_pipelined_launch.cu so the two
// translation units build in parallel); everything else takes decode_split_kernel: head_dim
// {64,128,256} × {generic, bf16} for groups ≤ 4 plus generic for groups ≤ 8 (9 instances, here).
#include <cmath>
#include <cstring>

#include "common/cuda_util.cuh"
#include "decode_attention/decode_attention.h"
#include "decode_attention/decode_attention_kernel.cuh"
#include "decode_attention/decode_pipelined_kernel.cuh"

namespace jevons::kernels::gpu {
namespace {

struct Plan {
  std::uint32_t splits, group, kw, vw;
};

int sm_count_cached() {
  static int count = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
      cudaGetLastError();
      return 132;
    }
    return n;
  }();
  return count;
}

// Compile-time mode of decode_split_kernel for a K/V format pair: bf16 → bf16, else generic.
int mode_for(const VectorDesc& k, const VectorDesc& v) {
  if (k.kind == CodecKind::kBf16 && v.kind == CodecKind::kBf16) return dev::kModeBf16;
  return dev::kModeGeneric;
}

using SplitKernel = void (*)(dev::DecodeArgs);

/// The split kernel instance for (mode, group), or null when none exists.
template <int HEAD_DIM>
SplitKernel split_kernel(int mode, std::uint32_t group) {
  if (group > 8) return nullptr;
  if (group > 4) return dev::decode_split_kernel<HEAD_DIM, dev::kModeGeneric, 8>;
  switch (mode) {
    case dev::kModeBf16:
      return dev::decode_split_kernel<HEAD_DIM, dev::kModeBf16, 4>;
    case dev::kModeGeneric:
      return dev::decode_split_kernel<HEAD_DIM, dev::kModeGeneric, 4>;
    default:
      return nullptr;
  }
}

bool same_layout(const PoolLayout& a, const PoolLayout& b) {
  return a.num_pages == b.num_pages && a.page_tokens == b.page_tokens && a.kv_heads == b.kv_heads &&
         a.code_bytes == b.code_bytes && a.meta_bytes == b.meta_bytes;
}

/// The pipelined kernel for this format pair, or null: K and V must be one TurboQuant format —
/// single-segment (same bits, same QJL, same codebook) or the outlier split tq-3.5 / tq-2.5 (D/4
/// outlier channels, same bits and codebooks per segment) — stored with the byte layout the
/// kernel assumes, in pools of one layout, with at most 8 query heads per KV head.
/// `kl`, `vl` null: the format-only answer (the split plan, which the workspace size depends on,
/// must not depend on the pools; pools of different layouts then get the generic kernel with the
/// same split count, which is correct for any count).
SplitKernel pipelined_for(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                          const PoolLayout* kl, const PoolLayout* vl, std::uint32_t group,
                          std::uint32_t* smem) {
  const VectorDesc& k = k_set.desc;
  const VectorDesc& v = v_set.desc;
  if (group == 0 || group > 8 || k.kind != CodecKind::kTq || v.kind != CodecKind::kTq ||
      k.num_segments != v.num_segments || k.dim != v.dim || k.seg[0].bits != v.seg[0].bits ||
      k.has_qjl != v.has_qjl || (kl && vl && (!same_layout(*kl, *vl) || kl->page_tokens % 16 != 0)))
    return nullptr;
  const std::uint32_t bits = k.seg[0].bits, d = k.dim;
  if (k.num_segments == 2) {
    // The outlier split: segment 0 = D/4 channels at `bits`, segment 1 = 3D/4 at `bits1`, codes
    // back to back, norms [‖x_out‖, ‖x_reg‖] (decode_pipe_map.h); the instance checks the pair.
    const std::uint32_t bits1 = k.seg[1].bits, d0 = d / 4;
    if (d % 64 != 0 || k.has_qjl || v.seg[1].bits != bits1) return nullptr;
    const std::uint32_t b0 = d0 * bits / 8, b1 = (d - d0) * bits1 / 8;
    for (const VectorDesc* x : {&k, &v}) {
      const SegmentDesc& s0 = x->seg[0];
      const SegmentDesc& s1 = x->seg[1];
      if (s0.dim != d0 || s0.channel_offset != 0 || s0.code_offset != 0 || s0.norm_index != 0 ||
          s1.dim != d - d0 || s1.channel_offset != d0 || s1.code_offset != b0 ||
          s1.norm_index != 1 || x->code_bytes != b0 + b1 || x->meta_bytes != 4)
        return nullptr;
    }
    if (std::memcmp(k.seg[0].centroids, v.seg[0].centroids, sizeof(float) << bits) != 0 ||
        std::memcmp(k.seg[1].centroids, v.seg[1].centroids, sizeof(float) << bits1) != 0)
      return nullptr;
    return dev::pipelined_instance(d, bits, false, bits1, smem);
  }
  if (k.num_segments != 1) return nullptr;
  const std::uint32_t mse = bits * d / 8;
  for (const VectorDesc* x : {&k, &v}) {
    if (x->seg[0].code_offset != 0 || x->seg[0].norm_index != 0 || x->seg[0].dim != d ||
        x->code_bytes != mse + (x->has_qjl ? d / 8 : 0) || x->meta_bytes != (x->has_qjl ? 4u : 2u))
      return nullptr;
    if (x->has_qjl && (x->sign_offset != mse || x->gamma_index != 1)) return nullptr;
  }
  if (std::memcmp(k.seg[0].centroids, v.seg[0].centroids, sizeof(float) << bits) != 0 ||
      k.qjl_scale != v.qjl_scale)
    return nullptr;
  return dev::pipelined_instance(d, bits, k.has_qjl != 0, 0, smem);
}

struct Launch {
  SplitKernel kernel = nullptr;
  std::size_t smem_bytes = 0;
  int ctas_per_sm = 1;  ///< resident split CTAs per SM at this kernel's registers and smem
  bool pipelined = false;
};

Launch launch_for(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set, const PoolLayout* kl,
                  const PoolLayout* vl, std::uint32_t group) {
  Launch l;
  const int mode = mode_for(k_set.desc, v_set.desc);
  const bool kq = k_set.desc.has_qjl != 0, vq = v_set.desc.has_qjl != 0;
  const std::uint32_t vw = v_set.desc.work_width();
  std::uint32_t pipe_smem = 0;
  if (SplitKernel pk = pipelined_for(k_set, v_set, kl, vl, group, &pipe_smem)) {
    l.kernel = pk;
    l.smem_bytes = pipe_smem;
    l.pipelined = true;
  } else
    switch (k_set.desc.dim) {
      case 64:
        l.kernel = split_kernel<64>(mode, group);
        l.smem_bytes = sizeof(float) * dev::split_smem_floats<64>(group, kq, vq, vw);
        break;
      case 128:
        l.kernel = split_kernel<128>(mode, group);
        l.smem_bytes = sizeof(float) * dev::split_smem_floats<128>(group, kq, vq, vw);
        break;
      case 256:
        l.kernel = split_kernel<256>(mode, group);
        l.smem_bytes = sizeof(float) * dev::split_smem_floats<256>(group, kq, vq, vw);
        break;
      default:
        break;
    }
  if (!l.kernel) return l;
  // The pipelined kernel's static tables (up to 40 KB for tq-3.5's two pair tables) count
  // against the 48 KB a launch may use without opting in, so it always opts in for its ring.
  if ((l.pipelined || l.smem_bytes > 48 * 1024) &&
      cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(l.smem_bytes)) != cudaSuccess)
    cudaGetLastError();  // the launch reports it
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, l.kernel, 128, l.smem_bytes) !=
      cudaSuccess) {
    cudaGetLastError();
    n = 1;
  }
  l.ctas_per_sm = n > 0 ? n : 1;
  return l;
}

Plan plan_for(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set, const PagedBatch& pb,
              std::uint32_t num_splits, int sm_count) {
  Plan p{};
  p.group = pb.kv_heads ? pb.q_heads / pb.kv_heads : 1;
  p.kw = k_set.desc.work_width();
  p.vw = v_set.desc.work_width();
  // The split count comes from occupancy: enough (sequence, KV head, split) CTAs to fill every
  // resident CTA slot of every SM about twice, so all the loads the SMs can keep in flight are
  // issued (a memory-bound kernel's bandwidth is its bytes in flight / latency). Lengths live on
  // the device; the block-table capacity bounds them, and choose_num_splits only looks at the
  // page count, so any page size gives the same answer here.
  const Launch l = launch_for(k_set, v_set, nullptr, nullptr, p.group);
  p.splits = num_splits ? num_splits
                        : choose_num_splits(pb.batch, pb.kv_heads, pb.max_pages_per_seq * 16u, 16u,
                                            static_cast<std::uint32_t>(sm_count * l.ctas_per_sm));
  return p;
}

Status run_split(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set, std::uint32_t group,
                 const dev::DecodeArgs& a, std::uint32_t batch, cudaStream_t s) {
  if (group > 8)
    return Status::error("Unsupported GQA group size: " + std::to_string(group) + " (max 8)");
  const Launch l = launch_for(k_set, v_set, &a.kl, &a.vl, group);
  if (!l.kernel)
    return Status::error("Unsupported head_dim / bits: " + std::to_string(k_set.desc.dim) +
                         " / mode " + std::to_string(mode_for(k_set.desc, v_set.desc)));
  const dim3 grid(a.num_splits, a.kv_heads, batch);
  l.kernel<<<grid, 128, l.smem_bytes, s>>>(a);
  JEVONS_CUDA_CHECK_LAUNCH(l.pipelined ? "decode_pipelined_kernel" : "decode_split_kernel");
  return Status::ok_status();
}

}  // namespace

std::string decode_kernel_name(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                               const DeviceKvCache& cache, const PagedBatch& pb) {
  const std::uint32_t group = pb.kv_heads ? pb.q_heads / pb.kv_heads : 0;
  std::uint32_t smem = 0;
  if (pipelined_for(k_set, v_set, &cache.k_layout, &cache.v_layout, group, &smem))
    return "pipelined";
  return mode_for(k_set.desc, v_set.desc) == dev::kModeBf16 && group <= 4 ? "split-bf16"
                                                                          : "split-generic";
}

std::size_t decode_workspace_bytes(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                                   const PagedBatch& pb, std::uint32_t num_splits) {
  const Plan p = plan_for(k_set, v_set, pb, num_splits, sm_count_cached());
  const std::size_t rows = std::size_t{pb.batch} * pb.q_heads;
  return sizeof(float) * (rows * p.kw               // prepared queries
                          + rows * p.splits * p.vw  // split accumulators
                          + rows * p.splits * 2);   // (max, sum) per split
}

Status decode_attention(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set,
                        const DeviceKvCache& cache, const PagedBatch& pb, const float* q,
                        float softmax_scale, std::uint32_t num_splits, void* workspace, float* out,
                        const Stream& stream) {
  if (pb.batch == 0) return Status::ok_status();
  if (pb.kv_heads == 0 || pb.q_heads % pb.kv_heads != 0)
    return Status::error("decode_attention: q_heads must be a positive multiple of kv_heads");
  if (k_set.desc.dim != pb.head_dim || v_set.desc.dim != pb.head_dim)
    return Status::error("decode_attention: head_dim " + std::to_string(pb.head_dim) +
                         " disagrees with the codecs (" + std::to_string(k_set.desc.dim) + ")");
  if (k_set.kv_heads != pb.kv_heads || v_set.kv_heads != pb.kv_heads)
    return Status::error("decode_attention: kv_heads disagrees with the codec sets");
  if (cache.k_layout.page_tokens != cache.v_layout.page_tokens)
    return Status::error("decode_attention: K and V pools must share page_tokens");
  const Plan p = plan_for(k_set, v_set, pb, num_splits, sm_count_cached());
  auto s = static_cast<cudaStream_t>(stream.handle());
  const std::size_t rows = std::size_t{pb.batch} * pb.q_heads;
  float* q_work = static_cast<float*>(workspace);
  float* ws_acc = q_work + rows * p.kw;
  float* ws_ml = ws_acc + rows * p.splits * p.vw;

  // exp2 in the kernels: fold log2(e) into the query scale once.
  const float scale = softmax_scale * 1.4426950408889634f;
  Status st = prepare_queries(k_set, q, pb.batch, pb.q_heads, scale, q_work, stream);
  if (!st.ok()) return st;

  dev::DecodeArgs a{};
  a.kd = k_set.desc;
  a.vd = v_set.desc;
  a.kl = cache.k_layout;
  a.vl = cache.v_layout;
  a.kpool = cache.k_pool.as<std::uint8_t>();
  a.vpool = cache.v_pool.as<std::uint8_t>();
  a.table = pb.block_table;
  a.max_pages = pb.max_pages_per_seq;
  a.lens = pb.seq_lens;
  a.q_work = q_work;
  a.q_heads = pb.q_heads;
  a.kv_heads = pb.kv_heads;
  a.group = p.group;
  a.num_splits = p.splits;
  a.ws_acc = ws_acc;
  a.ws_ml = ws_ml;
  st = JEVONS_DISPATCH_HEAD_DIM(pb.head_dim, HEAD_DIM, [&] {
    Status r = run_split(k_set, v_set, p.group, a, pb.batch, s);
    if (!r.ok()) return r;
    dev::CombineArgs c{};
    c.ws_acc = ws_acc;
    c.ws_ml = ws_ml;
    c.q_heads = pb.q_heads;
    c.kv_heads = pb.kv_heads;
    c.group = p.group;
    c.num_splits = p.splits;
    c.vw = p.vw;
    c.identity = v_set.identity_transform;
    c.has_qjl = v_set.desc.has_qjl != 0;
    c.transform = v_set.transform.as<float>();
    c.qjl = v_set.qjl.as<float>();
    c.out = out;
    dev::decode_combine_kernel<HEAD_DIM><<<static_cast<unsigned>(rows), HEAD_DIM, 0, s>>>(c);
    JEVONS_CUDA_CHECK_LAUNCH("decode_combine_kernel");
    return Status::ok_status();
  });
  return st;
}

}  // namespace jevons::kernels::gpu
