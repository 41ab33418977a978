// DeviceCodecSet upload and gpu::quantize_vectors (single-tensor store).
#include "append/append_kernel.cuh"
#include "append/append_split_layout.h"
#include "common/cuda_util.cuh"
#include "quant/quant.h"
#include "quant/quant_kernel.cuh"

namespace jevons::kernels::gpu {

namespace {
std::vector<float> transposed(const std::vector<float>& m, std::uint32_t n) {
  std::vector<float> t(m.size());
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < n; ++j) t[std::size_t{j} * n + i] = m[std::size_t{i} * n + j];
  return t;
}
}  // namespace

Status DeviceCodecSet::create(const std::vector<VectorCodec>& codecs, DeviceCodecSet* out) {
  if (codecs.empty()) return Status::error("DeviceCodecSet::create: no codecs");
  const VectorCodec& c0 = codecs[0];
  const std::uint32_t d = c0.dim();
  if (d != 64 && d != 128 && d != 256)
    return Status::error("Unsupported head_dim: " + std::to_string(d));
  for (const auto& c : codecs)
    if (!(c.format() == c0.format()) || c.dim() != d)
      return Status::error("DeviceCodecSet::create: heads disagree on format or dim");
  if (c0.desc().kind == CodecKind::kTq && c0.desc().seg[0].bits == 0)
    return Status::error(
        "b = 1 TurboQuant_prod (QJL only) is a CPU reference, not a device format");
  DeviceCodecSet& s = *out;
  s.desc = c0.desc();
  s.kv_heads = static_cast<std::uint32_t>(codecs.size());
  s.identity_transform = c0.desc().kind != CodecKind::kTq;
  std::vector<std::uint16_t> perm;
  std::vector<float> t, tt;
  s.identity_perm = true;
  for (const auto& c : codecs) {
    perm.insert(perm.end(), c.permutation().begin(), c.permutation().end());
    for (std::uint32_t j = 0; j < d; ++j)
      if (c.permutation()[j] != j) s.identity_perm = false;
    const auto m = c.transform_matrix();
    t.insert(t.end(), m.begin(), m.end());
    for (std::uint32_t i = 0; i < d; ++i)
      for (std::uint32_t j = 0; j < d; ++j) tt.push_back(m[std::size_t{j} * d + i]);
  }
  Status st = s.perm.assign(perm);
  // append_split_kernel's permutation table, for the splits it encodes: a Hadamard segment of
  // d/4 and a kBlockHadamard one of 3d/4 (the catalog's tq-2.5/3.5 at d = 64/128/256).
  if (st.ok() && c0.desc().kind == CodecKind::kTq && c0.desc().num_segments == 2 &&
      (d == 64 || d == 128 || d == 256) && c0.desc().seg[0].dim == d / 4 &&
      c0.rotation(0)->kind() == RotationKind::kHadamard &&
      c0.rotation(1)->kind() == RotationKind::kBlockHadamard)
    st = s.perm_scatter.assign(
        append_split_scatter_table(perm, d, c0.rotation(0)->signs(), c0.rotation(1)->signs()));
  if (st.ok()) st = s.transform.assign(t);
  if (st.ok()) st = s.transform_t.assign(tt);
  for (int seg = 0; st.ok() && seg < 2; ++seg) {
    const Rotation* r = c0.rotation(seg);
    if (!r) continue;
    s.rot_kind[seg] = static_cast<std::uint32_t>(r->kind());
    s.hadamard_scale[seg] = r->hadamard_scale();
    // Dense rotations go up transposed: thread j of the append kernel reads column j, so a warp's
    // 32 loads of one matrix element i are consecutive floats (coalesced), not 32 rows apart. The
    // Hadamard kinds need only their signs.
    st = s.rot[seg].assign(r->kind() == RotationKind::kDense ? transposed(r->matrix(), r->dim())
                                                             : r->signs());
  }
  if (st.ok() && !c0.qjl_matrix().empty()) {
    const auto& m = c0.qjl_matrix();
    std::vector<float> mt(m.size());
    for (std::uint32_t i = 0; i < d; ++i)
      for (std::uint32_t j = 0; j < d; ++j) mt[std::size_t{j} * d + i] = m[std::size_t{i} * d + j];
    st = s.qjl.assign(m);
    if (st.ok()) st = s.qjl_t.assign(mt);
  }
  return st;
}

namespace dev {
StoreTensor make_store_tensor(const DeviceCodecSet& set, const PoolLayout& layout,
                              std::uint8_t* pool, const void* input, InputType type) {
  StoreTensor t{};
  t.desc = set.desc;
  t.tables.perm = set.perm.as<std::uint16_t>();
  for (int s = 0; s < 2; ++s) {
    t.tables.rot[s] = set.rot[s].as<float>();
    t.tables.rot_kind[s] = set.rot_kind[s];
    t.tables.hadamard_scale[s] = set.hadamard_scale[s];
  }
  t.tables.qjl_t = set.qjl_t.as<float>();  // Sᵀ: coalesced column reads, as the rotations
  t.tables.identity_perm = set.identity_perm ? 1u : 0u;
  t.tables.perm_scatter = set.perm_scatter.as<std::uint32_t>();
  t.layout = layout;
  t.pool = pool;
  t.input = input;
  t.input_bf16 = type == InputType::kBf16 ? 1u : 0u;
  return t;
}

namespace {
Status launch_store_kernel(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                           std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                           const Stream& stream) {
  auto s = static_cast<cudaStream_t>(stream.handle());
  return JEVONS_DISPATCH_HEAD_DIM(t0.desc.dim, HEAD_DIM, [&] {
    constexpr int kVpb = kStoreThreads / HEAD_DIM;
    const std::uint64_t vectors = n * kv_heads;
    const dim3 grid(static_cast<unsigned>((vectors + kVpb - 1) / kVpb), tensors);
    store_kernel<HEAD_DIM><<<grid, kStoreThreads, 0, s>>>(t0, t1, n, kv_heads, slots);
    JEVONS_CUDA_CHECK_LAUNCH("store_kernel");
    return Status::ok_status();
  });
}

/// Which kernel takes a tensor (bf16 tq-mse: append_tq_kernel, bf16 tq-2.5/3.5:
/// append_split_kernel, bf16 tq-prod at d = 64/128: append_mma_kernel, anything else:
/// store_kernel).
enum class Route { kStore, kTq, kSplit, kMma };
Route route(const StoreTensor& t) {
  if (append_tq_eligible(t)) return Route::kTq;
  if (append_split_eligible(t)) return Route::kSplit;
  if (append_mma_eligible(t)) return Route::kMma;
  return Route::kStore;
}

Status launch_route(Route r, const StoreTensor& t0, const StoreTensor& t1, unsigned tensors,
                    std::uint64_t n, std::uint32_t kv_heads, const std::int64_t* slots,
                    const Stream& stream) {
  switch (r) {
    case Route::kTq:
      return launch_append_tq(t0, t1, tensors, n, kv_heads, slots, stream);
    case Route::kSplit:
      return launch_append_split(t0, t1, tensors, n, kv_heads, slots, stream);
    case Route::kMma:
      return launch_append_mma(t0, t1, tensors, n, kv_heads, slots, stream);
    case Route::kStore:
      break;
  }
  return launch_store_kernel(t0, t1, tensors, n, kv_heads, slots, stream);
}
}  // namespace

Status launch_store(const StoreTensor& t0, const StoreTensor& t1, unsigned tensors, std::uint64_t n,
                    std::uint32_t kv_heads, const std::int64_t* slots, const Stream& stream) {
  if (n == 0) return Status::ok_status();
  const Route r0 = route(t0);
  if (tensors == 1) return launch_route(r0, t0, t0, 1, n, kv_heads, slots, stream);
  const Route r1 = route(t1);
  // One launch for both tensors when they take the same kernel instance; otherwise one each.
  if (r0 == r1 && (r0 == Route::kStore || t0.desc.seg[0].bits == t1.desc.seg[0].bits))
    return launch_route(r0, t0, t1, 2, n, kv_heads, slots, stream);
  Status st = launch_route(r0, t0, t0, 1, n, kv_heads, slots, stream);
  if (st.ok()) st = launch_route(r1, t1, t1, 1, n, kv_heads, slots, stream);
  return st;
}
}  // namespace dev

Status quantize_vectors(const DeviceCodecSet& set, const PoolLayout& layout, const void* x,
                        InputType input, std::size_t n, const std::int64_t* slots,
                        std::uint8_t* pool, const Stream& stream) {
  const dev::StoreTensor t = dev::make_store_tensor(set, layout, pool, x, input);
  return dev::launch_store(t, t, 1, n, set.kv_heads, slots, stream);
}

}  // namespace jevons::kernels::gpu
