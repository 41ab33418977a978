-- Discrete-event simulation results (jevons run on a scenario with a `simulation:` section).
-- Units are in column names: *_ns integer nanoseconds of simulated time, *_bytes bytes,
-- *_per_s per simulated second, *_j joules. Percentiles (p50/p90/p99) come from a sketch and are
-- within quantile_relative_error of the exact order statistic; means and maxima are exact.
-- Written by store/src/simulation_writer.cpp inside the run's transaction.

-- One row per simulation run: the whole-run counters (warm-up included; conservation holds:
-- requests_arrived = requests_finished + requests_rejected + requests_unfinished).
CREATE TABLE IF NOT EXISTS sim_runs (
  run_id                  INTEGER PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
  seed                    INTEGER NOT NULL,  -- scenario seed + simulation.seed_offset
  duration_ns             INTEGER NOT NULL,  -- arrivals window
  warmup_ns               INTEGER NOT NULL,
  end_ns                  INTEGER NOT NULL,  -- simulated time when the run stopped (after draining)
  router                  TEXT    NOT NULL,
  preemption              TEXT    NOT NULL,  -- recompute | swap
  workload                TEXT    NOT NULL,  -- "classes" or the trace path
  requests_arrived        INTEGER NOT NULL,
  requests_finished       INTEGER NOT NULL,
  requests_rejected       INTEGER NOT NULL,  -- never fit the KV capacity, or no pool serves them
  requests_unfinished     INTEGER NOT NULL,  -- queued or running when the run stopped
  trace_lines_skipped     INTEGER NOT NULL,  -- malformed trace lines skipped (malformed: skip)
  input_tokens_arrived    INTEGER NOT NULL,
  output_tokens_arrived   INTEGER NOT NULL,
  events                  INTEGER NOT NULL,
  steps                   INTEGER NOT NULL,  -- batch steps over every replica
  fingerprint             TEXT    NOT NULL,  -- hex hash of every event's (time, type, entity)
  quantile_relative_error REAL    NOT NULL,
  wall_time_ms            INTEGER NOT NULL,  -- excluded from determinism comparisons
  -- Schema version 2: requests longer than the model's max_context_tokens (prompt + output),
  -- rejected (also in requests_rejected) or, with over_context: truncate, shortened.
  requests_over_context   INTEGER NOT NULL DEFAULT 0,
  requests_truncated      INTEGER NOT NULL DEFAULT 0
);

-- Request classes (tenants) of the run, by index.
CREATE TABLE IF NOT EXISTS sim_classes (
  run_id      INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  class_index INTEGER NOT NULL,
  name        TEXT    NOT NULL,
  PRIMARY KEY (run_id, class_index)
);

-- Per pool: capacity, work done, energy and time-averaged occupancy.
CREATE TABLE IF NOT EXISTS sim_pools (
  run_id                           INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  pool_index                       INTEGER NOT NULL,
  pool                             TEXT    NOT NULL,
  gpu                              TEXT    NOT NULL,
  model                            TEXT    NOT NULL,
  kv_format                        TEXT    NOT NULL,
  role                             TEXT    NOT NULL,  -- mixed | prefill | decode
  replicas                         INTEGER NOT NULL,
  gpus                             INTEGER NOT NULL,
  tensor_parallel                  INTEGER NOT NULL,
  hbm_bytes_per_gpu                INTEGER NOT NULL,  -- usable HBM
  weight_bytes_per_gpu             INTEGER NOT NULL,
  kv_capacity_bytes_per_gpu        INTEGER NOT NULL,  -- whole paged blocks
  host_tier_capacity_bytes_per_gpu INTEGER NOT NULL,  -- prefix-cache host-DRAM tier
  steps                            INTEGER NOT NULL,
  busy_ns                          INTEGER NOT NULL,  -- summed over replicas
  utilization                      REAL    NOT NULL,  -- busy / (replicas × end)
  preemptions                      INTEGER NOT NULL,
  swaps_out                        INTEGER NOT NULL,
  swaps_in                         INTEGER NOT NULL,
  swap_bytes                       INTEGER NOT NULL,  -- over the host link, both directions
  kv_transfers                     INTEGER NOT NULL,  -- disaggregated prefill → decode
  output_tokens                    INTEGER NOT NULL,
  energy_j                         REAL    NOT NULL,  -- all GPUs, busy and idle
  mean_batch_sequences             REAL    NOT NULL,  -- time-weighted over busy steps
  mean_kv_occupancy                REAL    NOT NULL,  -- fraction of KV capacity, time average
  peak_kv_occupancy                REAL    NOT NULL,
  mean_queue_length                REAL    NOT NULL,  -- requests waiting, time average
  mean_queue_delay_ns              REAL    NOT NULL,  -- per visit to a waiting queue
  arrival_rate_per_s               REAL    NOT NULL,  -- visits to the waiting queues
  PRIMARY KEY (run_id, pool_index)
);

-- Per (class, entry pool): latency percentiles, throughput, goodput, prefix hits. Counts cover
-- requests arriving after the warm-up; throughput covers requests finishing in
-- [warmup, duration). Latencies are NULL when no request measured them (no finished request, or
-- for TPOT none with two output tokens), never 0 (schema version 2).
CREATE TABLE IF NOT EXISTS sim_groups (
  run_id                        INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  class                         TEXT    NOT NULL,
  pool                          TEXT    NOT NULL,
  arrived                       INTEGER NOT NULL,
  finished                      INTEGER NOT NULL,
  rejected                      INTEGER NOT NULL,
  unfinished                    INTEGER NOT NULL,
  input_tokens                  INTEGER NOT NULL,
  output_tokens                 INTEGER NOT NULL,
  slo_met                       INTEGER NOT NULL,
  preemptions                   INTEGER NOT NULL,
  swaps_out                     INTEGER NOT NULL,
  prompt_tokens_prefix_eligible INTEGER NOT NULL,  -- prompt tokens in full hash blocks
  prefix_hit_tokens_gpu         INTEGER NOT NULL,
  prefix_hit_tokens_host        INTEGER NOT NULL,
  prefix_hit_rate               REAL    NOT NULL,
  ttft_mean_ns REAL, ttft_p50_ns REAL, ttft_p90_ns REAL, ttft_p99_ns REAL, ttft_max_ns REAL,
  tpot_count   INTEGER NOT NULL,  -- requests with more than one output token
  tpot_mean_ns REAL, tpot_p50_ns REAL, tpot_p90_ns REAL, tpot_p99_ns REAL, tpot_max_ns REAL,
  e2e_mean_ns  REAL, e2e_p50_ns  REAL, e2e_p90_ns  REAL, e2e_p99_ns  REAL, e2e_max_ns  REAL,
  queue_mean_ns REAL, queue_p50_ns REAL, queue_p90_ns REAL, queue_p99_ns REAL, queue_max_ns REAL,
  throughput_tokens_per_s       REAL    NOT NULL,  -- output tokens
  throughput_requests_per_s     REAL    NOT NULL,
  goodput_requests_per_s        REAL    NOT NULL,  -- within both SLO targets
  PRIMARY KEY (run_id, class, pool)
);

-- Memory time series per pool at simulation.metrics.interval_s (bytes summed over the pool).
CREATE TABLE IF NOT EXISTS sim_timeseries (
  run_id            INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  time_ns           INTEGER NOT NULL,
  pool_index        INTEGER NOT NULL,
  kv_used_bytes     INTEGER NOT NULL,  -- blocks private to running requests
  kv_capacity_bytes INTEGER NOT NULL,
  hbm_weight_bytes  INTEGER NOT NULL,
  hbm_kv_bytes      INTEGER NOT NULL,  -- private blocks + cached prefix blocks
  hbm_free_bytes    INTEGER NOT NULL,  -- usable − weights − reserve − KV
  host_swap_bytes   INTEGER NOT NULL,  -- preempted KV swapped to host DRAM
  host_prefix_bytes INTEGER NOT NULL,  -- prefix-cache host tier
  running           INTEGER NOT NULL,
  waiting           INTEGER NOT NULL,
  PRIMARY KEY (run_id, pool_index, time_ns)
);

-- Per-request rows (simulation.metrics.per_request: all | sampled). -1 = never happened.
CREATE TABLE IF NOT EXISTS sim_requests (
  run_id             INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  request_id         INTEGER NOT NULL,  -- arrival order, from 0
  class_index        INTEGER NOT NULL,  -- sim_classes
  pool_index         INTEGER NOT NULL,  -- entry pool, sim_pools
  replica_index      INTEGER NOT NULL,  -- within the pool
  arrival_ns         INTEGER NOT NULL,
  first_scheduled_ns INTEGER NOT NULL,
  first_token_ns     INTEGER NOT NULL,
  finish_ns          INTEGER NOT NULL,
  input_tokens       INTEGER NOT NULL,
  output_tokens      INTEGER NOT NULL,
  prefix_hit_tokens  INTEGER NOT NULL,
  preemptions        INTEGER NOT NULL,
  status             TEXT    NOT NULL,  -- finished | rejected | unfinished
  PRIMARY KEY (run_id, request_id)
) WITHOUT ROWID;
