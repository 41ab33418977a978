// gpu::append: quantize and store new K and V tokens in one launch; DeviceKvCache allocation.
#include "append/append.h"
#include "append/append_kernel.cuh"
#include "common/cuda_util.cuh"

namespace jevons::kernels::gpu {

Status DeviceKvCache::create(const PoolLayout& k, const PoolLayout& v) {
  k_layout = k;
  v_layout = v;
  Status st = k_pool.allocate(k.total_bytes());
  if (st.ok()) st = v_pool.allocate(v.total_bytes());
  if (st.ok()) st = k_pool.zero();
  if (st.ok()) st = v_pool.zero();
  return st;
}

Status append(const DeviceCodecSet& k_set, const DeviceCodecSet& v_set, const void* k,
              const void* v, InputType input, std::size_t n_tokens, const std::int64_t* slots,
              DeviceKvCache& cache, const Stream& stream) {
  if (n_tokens == 0) return Status::ok_status();
  if (k_set.desc.dim != v_set.desc.dim || k_set.kv_heads != v_set.kv_heads)
    return Status::error("append: K and V codec sets disagree on head_dim or kv_heads");
  const dev::StoreTensor tk =
      dev::make_store_tensor(k_set, cache.k_layout, cache.k_pool.as<std::uint8_t>(), k, input);
  const dev::StoreTensor tv =
      dev::make_store_tensor(v_set, cache.v_layout, cache.v_pool.as<std::uint8_t>(), v, input);
  return dev::launch_store(tk, tv, 2, n_tokens, k_set.kv_heads, slots, stream);
}

const char* append_kernel_name(const DeviceCodecSet& set, const PoolLayout& layout,
                               InputType input) {
  const dev::StoreTensor t = dev::make_store_tensor(set, layout, nullptr, nullptr, input);
  if (dev::append_tq_eligible(t)) return "append_tq";
  if (dev::append_split_eligible(t)) return "append_split";
  return dev::append_mma_eligible(t) ? "append_mma" : "store";
}

}  // namespace jevons::kernels::gpu
