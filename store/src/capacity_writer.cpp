#include "jevons/store/capacity_writer.h"

namespace jevons::store {

void write_static_capacity(Store& store, std::int64_t run_id, const StaticCapacity& capacity) {
  using I = std::int64_t;
  Statement mem = store.prepare(
      "INSERT INTO replica_memory (run_id, pool, gpu, model, gpus, tensor_parallel, replicas, "
      "weight_precision, hbm_usable_bytes_per_gpu, budget_bytes_per_gpu, weight_bytes_per_gpu, "
      "reserve_bytes_per_gpu, kv_bytes_per_gpu) VALUES "
      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  for (const auto& p : capacity.pools) {
    mem.insert({run_id, p.pool, p.gpu_id, p.model_id, I{p.gpus}, I{p.memory.tensor_parallel},
                I{p.replicas}, to_string(p.weights),
                static_cast<I>(p.memory.hbm_usable_bytes_per_gpu),
                static_cast<I>(p.memory.budget_bytes_per_gpu),
                static_cast<I>(p.memory.weight_bytes_per_gpu),
                static_cast<I>(p.memory.reserve_bytes_per_gpu), I{p.memory.kv_bytes_per_gpu}});
  }
  Statement cap = store.prepare(
      "INSERT INTO capacity_estimates (run_id, pool, kv_format, key_format, value_format, "
      "context_tokens, kv_bytes_per_token, kv_bytes_per_sequence, effective_kv_bytes_per_token, "
      "compression_vs_bf16, kv_capacity_tokens, kv_capacity_sequences, pool_capacity_sequences, "
      "batch_sequences, decode_step_time_ns, decode_tokens_per_s_per_gpu, "
      "decode_tokens_per_s_pool, bound, estimate_kind) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)");
  for (const auto& r : capacity.rows) {
    const bool ran = r.batch_sequences > 0;
    cap.insert({run_id, r.pool, r.kv.name(), r.kv.key.name(), r.kv.value.name(),
                static_cast<I>(r.context_tokens), static_cast<I>(r.kv_bytes_per_token),
                static_cast<I>(r.kv_bytes_per_sequence), r.effective_kv_bytes_per_token,
                r.compression_vs_bf16, static_cast<I>(r.kv_capacity_tokens),
                static_cast<I>(r.kv_capacity_sequences),
                static_cast<I>(r.kv_capacity_sequences * r.replicas), I{r.batch_sequences},
                I{r.decode.step_time_ns}, r.decode.tokens_per_s_per_gpu,
                r.decode.tokens_per_s_per_gpu * r.tensor_parallel * r.replicas,
                ran ? r.decode.bound : std::string("none"), std::string("analytical-roofline")});
  }
}

}  // namespace jevons::store
