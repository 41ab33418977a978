#include "jevons/core/capacity.h"

#include <algorithm>

#include "jevons/core/kv_accounting.h"

namespace jevons {

StaticCapacity compute_static_capacity(const Scenario& scenario, const Catalog& catalog) {
  StaticCapacity out;
  for (const auto& pool : scenario.pools) {
    const GpuSpec& gpu = catalog.gpu(pool.gpu_id);
    const ModelSpec& model = catalog.model(pool.model_id);
    PoolMemoryRow pm;
    pm.pool = pool.name;
    pm.gpu_id = gpu.id;
    pm.model_id = model.id;
    pm.gpus = pool.gpus;
    pm.replicas = pool.replicas();
    pm.weights = pool.weights;
    pm.memory = plan_replica_memory(gpu, model, pool.tensor_parallel, pool.weights, pool.memory);
    out.pools.push_back(pm);

    const KvFootprint bf16(model, KvConfig::parse("bf16"), pool.tensor_parallel);
    for (const auto& kv : pool.kv_formats) {
      const KvFootprint fp(model, kv, pool.tensor_parallel);
      for (std::uint64_t ctx : scenario.workload.context_tokens) {
        CapacityRow r;
        r.pool = pool.name;
        r.gpu_id = gpu.id;
        r.model_id = model.id;
        r.tensor_parallel = pool.tensor_parallel;
        r.replicas = pool.replicas();
        r.kv = kv;
        r.context_tokens = ctx;
        r.kv_bytes_per_token = fp.bytes_per_token();
        r.kv_bytes_per_sequence = fp.bytes_for_sequence(ctx, pool.memory.block_tokens);
        r.effective_kv_bytes_per_token = fp.effective_bytes_per_token(ctx);
        const KvCapacity cap = kv_capacity(pm.memory, fp, ctx, pool.memory.block_tokens);
        r.kv_capacity_tokens = cap.tokens;
        r.kv_capacity_sequences = cap.sequences;
        r.batch_sequences = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(cap.sequences, scenario.workload.max_batch_sequences));
        if (r.batch_sequences > 0)
          r.decode = estimate_decode_step(gpu, model, fp, pool.weights, r.batch_sequences, ctx,
                                          scenario.analytical);
        r.compression_vs_bf16 = static_cast<double>(bf16.bytes_for_sequence(ctx)) /
                                static_cast<double>(fp.bytes_for_sequence(ctx));
        out.rows.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace jevons
