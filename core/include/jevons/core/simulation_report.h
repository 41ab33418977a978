#pragma once
/// \file What a discrete-event simulation produces: plain structs, so the store can write them
/// without linking the simulator (simulator → core ← store).
///
/// Times are integer nanoseconds; byte counts are bytes; rates carry `_per_s`. Percentiles come
/// from a log-bucketed sketch whose relative error is at most `kQuantileRelativeError`.

#include <cstdint>
#include <string>
#include <vector>

namespace jevons {

/// Worst-case relative error of a reported percentile against the exact order statistic: the
/// sketch splits each power of two into 128 equal buckets and reports a bucket's middle, so the
/// error is at most half a bucket over the bucket's lower edge, 1/256 = 0.39 %.
inline constexpr double kQuantileRelativeError = 1.0 / 256;

struct LatencySummary {
  std::uint64_t count = 0;
  double mean_ns = 0;  ///< exact (streaming sum)
  double p50_ns = 0;
  double p90_ns = 0;
  double p99_ns = 0;
  double max_ns = 0;  ///< exact
};

/// Statistics of one (request class, pool) group. The pool is where the request entered the
/// fleet (the prefill pool under disaggregation). Counts cover requests that arrived after the
/// warm-up; `*_all` counters cover the whole run (for conservation checks).
struct GroupMetrics {
  std::string class_name;
  std::string pool_name;
  std::uint64_t arrived = 0;
  std::uint64_t finished = 0;
  std::uint64_t rejected = 0;       ///< could never fit the KV capacity, or no pool serves it
  std::uint64_t unfinished = 0;     ///< still queued or running when the simulation stopped
  std::uint64_t input_tokens = 0;   ///< of finished requests
  std::uint64_t output_tokens = 0;  ///< of finished requests
  std::int64_t last_finish_ns = 0;  ///< when the group's last request finished
  std::uint64_t slo_met = 0;        ///< finished within both SLO targets
  std::uint64_t preemptions = 0;
  std::uint64_t swaps_out = 0;
  std::uint64_t prompt_tokens_prefix_eligible = 0;  ///< prompt tokens in full hash blocks
  std::uint64_t prefix_hit_tokens_gpu = 0;
  std::uint64_t prefix_hit_tokens_host = 0;
  LatencySummary ttft;
  LatencySummary tpot;  ///< mean inter-token time per request, (e2e − ttft) / (output − 1)
  LatencySummary e2e;
  LatencySummary queue;                ///< arrival → first scheduled
  double throughput_tokens_per_s = 0;  ///< output tokens per second of measured window
  double throughput_requests_per_s = 0;
  double goodput_requests_per_s = 0;  ///< finished within SLO per second
  double prefix_hit_rate = 0;         ///< (gpu + host hit tokens) / eligible prompt tokens
};

struct PoolMetrics {
  std::string name;
  std::string gpu_id;
  std::string model_id;
  std::string kv_format;
  std::string role;  ///< "mixed", "prefill" or "decode"
  /// Where the step time's parameters came from (data/latency-model.yaml entry, projection,
  /// profile steps or roofline defaults) and where the KV format's decode-attention speed did.
  std::string latency_source;
  std::string kv_speed_source;
  std::uint32_t replicas = 0;
  std::uint32_t gpus = 0;
  std::uint32_t tensor_parallel = 1;
  std::uint64_t hbm_bytes_per_gpu = 0;
  std::uint64_t weight_bytes_per_gpu = 0;
  std::uint64_t kv_capacity_bytes_per_gpu = 0;
  std::uint64_t host_tier_capacity_bytes_per_gpu = 0;
  std::uint64_t steps = 0;
  std::int64_t busy_ns = 0;  ///< summed over replicas
  double utilization = 0;    ///< busy / (replicas × simulated time)
  std::uint64_t preemptions = 0;
  std::uint64_t swaps_out = 0;
  std::uint64_t swaps_in = 0;
  std::uint64_t swap_bytes = 0;
  std::uint64_t kv_transfers = 0;  ///< disaggregated prefill → decode transfers
  std::uint64_t output_tokens = 0;
  double energy_j = 0;  ///< all GPUs of the pool, busy and idle, over the simulated time
  double mean_batch_sequences = 0;
  double mean_kv_occupancy = 0;  ///< time-average fraction of KV capacity in use
  double peak_kv_occupancy = 0;
  double mean_queue_length = 0;  ///< time-average requests waiting for first scheduling
  double mean_queue_delay_ns = 0;
  double arrival_rate_per_s = 0;  ///< requests entering this pool's queues
};

/// One time-series sample of one pool (sums over its replicas; bytes are per pool, all GPUs).
struct TimeSample {
  std::int64_t time_ns = 0;
  std::uint32_t pool = 0;  ///< index into SimulationReport::pools
  std::uint64_t kv_used_bytes = 0;
  std::uint64_t kv_capacity_bytes = 0;
  std::uint64_t hbm_weight_bytes = 0;
  std::uint64_t hbm_kv_bytes = 0;  ///< KV in use + cached prefix blocks
  std::uint64_t hbm_free_bytes = 0;
  std::uint64_t host_swap_bytes = 0;
  std::uint64_t host_prefix_bytes = 0;
  std::uint32_t running = 0;
  std::uint32_t waiting = 0;
};

struct RequestRow {
  std::uint64_t id = 0;
  std::uint32_t class_index = 0;
  std::uint32_t pool = 0;
  std::uint32_t replica = 0;  ///< index within the pool
  std::int64_t arrival_ns = 0;
  std::int64_t first_scheduled_ns = -1;
  std::int64_t first_token_ns = -1;
  std::int64_t finish_ns = -1;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t prefix_hit_tokens = 0;
  std::uint32_t preemptions = 0;
  enum class Status : std::uint8_t { kFinished, kRejected, kUnfinished };
  Status status = Status::kFinished;
};

struct SimulationReport {
  std::uint64_t seed = 0;
  std::int64_t duration_ns = 0;  ///< arrivals window
  std::int64_t warmup_ns = 0;
  std::int64_t end_ns = 0;  ///< simulated time when the run stopped (after draining)
  std::string router;
  std::string preemption;
  std::string workload;  ///< "classes" or the trace path

  // Whole-run counters (warm-up included), for conservation checks.
  std::uint64_t requests_arrived = 0;
  std::uint64_t requests_finished = 0;
  std::uint64_t requests_rejected = 0;
  std::uint64_t requests_unfinished = 0;
  std::uint64_t trace_lines_skipped = 0;  ///< malformed lines skipped (malformed: skip)
  /// Longer than the model's max_context_tokens (prompt + output): refused (over_context:
  /// reject; also counted in requests_rejected) or their prompts truncated (truncate).
  std::uint64_t requests_over_context = 0;
  std::uint64_t requests_truncated = 0;
  /// Inputs or settings the run changed or left out, one sentence each ("the trace was not in
  /// time order and was sorted", "12,031 trace requests, 1,750 used within duration_s"): printed
  /// and stored (run_notes), never silent.
  std::vector<std::string> notes;
  std::uint64_t input_tokens_arrived = 0;
  std::uint64_t output_tokens_arrived = 0;
  std::uint64_t events = 0;
  std::uint64_t steps = 0;
  std::uint64_t fingerprint = 0;  ///< hash of (time, type, entity) over every event
  double wall_s = 0;

  std::vector<std::string> class_names;
  std::vector<PoolMetrics> pools;
  std::vector<GroupMetrics> groups;  ///< one per (class, entry pool) that saw a request
  std::vector<TimeSample> timeseries;
  std::vector<RequestRow> requests;  ///< per-request rows when enabled (all or sampled)
};

}  // namespace jevons
