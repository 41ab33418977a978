#include "jevons/store/simulation_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace jevons::store {
namespace {

using I = std::int64_t;

// Per-request rows are the bulk of a run's rows (one per simulated request), so they are
// written kRowsPerInsert at a time through one multi-row INSERT … VALUES (…),(…),… statement,
// prepared once and re-executed (the tail uses a one-row statement). Measured with callgrind
// on the Azure ×10 run (19,366 rows), a one-row statement spent more in per-execution overhead
// (sqlite3_step's statement start and halt, cursor open/close, reset and clear_bindings, the
// status string's allocation and copy) than in the B-tree insert itself. What makes this safe:
//  * same rows and values, in the same transaction as the rest of the run (write_simulation
//    runs inside Store::write_run), so all-or-nothing holds; only the insertion order changes
//    (key order, see write_request_rows), which a table does not record;
//  * NOT NULL, the primary key and the foreign key to runs are still checked for every row;
//  * the status text comes from a CASE on a bound integer, giving the same three strings.
constexpr int kRowsPerInsert = 32;
constexpr int kRequestParams = 13;  // per row, after the shared ?1 = run_id

std::string request_insert_sql(int rows) {
  std::string sql =
      "INSERT INTO sim_requests (run_id, request_id, class_index, pool_index, replica_index, "
      "arrival_ns, first_scheduled_ns, first_token_ns, finish_ns, input_tokens, output_tokens, "
      "prefix_hit_tokens, preemptions, status) VALUES ";
  for (int i = 0; i < rows; ++i) {
    const int b = 2 + i * kRequestParams;  // first parameter of this row
    sql += fmt::format(
        "{}(?1,?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},"
        "CASE ?{} WHEN 0 THEN 'finished' WHEN 1 THEN 'rejected' ELSE 'unfinished' END)",
        i ? "," : "", b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10,
        b + 11, b + 12);
  }
  return sql;
}

std::int64_t status_code(RequestRow::Status s) {
  switch (s) {
    case RequestRow::Status::kFinished:
      return 0;
    case RequestRow::Status::kRejected:
      return 1;
    case RequestRow::Status::kUnfinished:
      return 2;
  }
  return 2;
}

// Binds row `q` as the `slot`-th row of a multi-row statement.
void bind_request(Statement& st, int slot, const RequestRow& q) {
  const int b = 2 + slot * kRequestParams;
  st.bind(b, static_cast<I>(q.id))
      .bind(b + 1, I{q.class_index})
      .bind(b + 2, I{q.pool})
      .bind(b + 3, I{q.replica})
      .bind(b + 4, I{q.arrival_ns})
      .bind(b + 5, I{q.first_scheduled_ns})
      .bind(b + 6, I{q.first_token_ns})
      .bind(b + 7, I{q.finish_ns})
      .bind(b + 8, I{q.input_tokens})
      .bind(b + 9, I{q.output_tokens})
      .bind(b + 10, I{q.prefix_hit_tokens})
      .bind(b + 11, I{q.preemptions})
      .bind(b + 12, status_code(q.status));
}

void write_request_rows(Store& store, std::int64_t run_id,
                        const std::vector<RequestRow>& report_rows) {
  // The report lists rows as requests ended (finish order); the table's key is (run_id,
  // request_id). Inserting in key order appends to the B-tree's right edge instead of splitting
  // pages all over it. The stored rows are the same set (a table has no order of its own).
  // With every row kept the ids are dense (0 … n−1 in arrival order), so each row goes straight
  // to its place; sampled rows are sparse and get sorted.
  std::vector<const RequestRow*> rows(report_rows.size(), nullptr);
  bool dense = true;
  for (const RequestRow& q : report_rows) {
    if (q.id >= rows.size() || rows[q.id] != nullptr) {
      dense = false;
      break;
    }
    rows[q.id] = &q;
  }
  if (!dense) {
    rows.clear();
    for (const RequestRow& q : report_rows) rows.push_back(&q);
    std::sort(rows.begin(), rows.end(),
              [](const RequestRow* a, const RequestRow* b) { return a->id < b->id; });
  }
  const std::size_t n = rows.size();
  std::size_t i = 0;
  if (n >= static_cast<std::size_t>(kRowsPerInsert)) {
    Statement many = store.prepare(request_insert_sql(kRowsPerInsert));
    for (; i + kRowsPerInsert <= n; i += kRowsPerInsert) {
      // Every parameter is rebound each time, so the previous batch's values never leak.
      many.bind(1, run_id);
      for (int k = 0; k < kRowsPerInsert; ++k) bind_request(many, k, *rows[i + k]);
      many.step();
      many.reset();
    }
  }
  if (i < n) {
    Statement one = store.prepare(request_insert_sql(1));
    for (; i < n; ++i) {
      one.bind(1, run_id);
      bind_request(one, 0, *rows[i]);
      one.step();
      one.reset();
    }
  }
}

}  // namespace

// A latency no request measured is stored as NULL (a NaN binds as NULL), never as 0.0, which a
// query would average in as instant service.
namespace {
double measured(const LatencySummary& l, double v) {
  return l.count > 0 ? v : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

void write_simulation(Store& store, std::int64_t run_id, const SimulationReport& r) {
  store
      .prepare(
          "INSERT INTO sim_runs (run_id, seed, duration_ns, warmup_ns, end_ns, router, preemption, "
          "workload, requests_arrived, requests_finished, requests_rejected, requests_unfinished, "
          "trace_lines_skipped, input_tokens_arrived, output_tokens_arrived, events, steps, "
          "fingerprint, quantile_relative_error, wall_time_ms, requests_over_context, "
          "requests_truncated) VALUES "
          "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)")
      .insert({run_id,
               static_cast<I>(r.seed),
               I{r.duration_ns},
               I{r.warmup_ns},
               I{r.end_ns},
               r.router,
               r.preemption,
               r.workload,
               static_cast<I>(r.requests_arrived),
               static_cast<I>(r.requests_finished),
               static_cast<I>(r.requests_rejected),
               static_cast<I>(r.requests_unfinished),
               static_cast<I>(r.trace_lines_skipped),
               static_cast<I>(r.input_tokens_arrived),
               static_cast<I>(r.output_tokens_arrived),
               static_cast<I>(r.events),
               static_cast<I>(r.steps),
               fmt::format("{:016x}", r.fingerprint),
               kQuantileRelativeError,
               static_cast<I>(r.wall_s * 1e3),
               static_cast<I>(r.requests_over_context),
               static_cast<I>(r.requests_truncated)});

  Statement cls =
      store.prepare("INSERT INTO sim_classes (run_id, class_index, name) VALUES (?1,?2,?3)");
  for (std::size_t i = 0; i < r.class_names.size(); ++i)
    cls.insert({run_id, static_cast<I>(i), r.class_names[i]});

  Statement pool = store.prepare(
      "INSERT INTO sim_pools (run_id, pool_index, pool, gpu, model, kv_format, role, replicas, "
      "gpus, "
      "tensor_parallel, hbm_bytes_per_gpu, weight_bytes_per_gpu, kv_capacity_bytes_per_gpu, "
      "host_tier_capacity_bytes_per_gpu, steps, busy_ns, utilization, preemptions, swaps_out, "
      "swaps_in, swap_bytes, kv_transfers, output_tokens, energy_j, mean_batch_sequences, "
      "mean_kv_occupancy, peak_kv_occupancy, mean_queue_length, mean_queue_delay_ns, "
      "arrival_rate_per_s) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
      "?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)");
  for (std::size_t i = 0; i < r.pools.size(); ++i) {
    const PoolMetrics& p = r.pools[i];
    pool.insert({run_id,
                 static_cast<I>(i),
                 p.name,
                 p.gpu_id,
                 p.model_id,
                 p.kv_format,
                 p.role,
                 I{p.replicas},
                 I{p.gpus},
                 I{p.tensor_parallel},
                 static_cast<I>(p.hbm_bytes_per_gpu),
                 static_cast<I>(p.weight_bytes_per_gpu),
                 static_cast<I>(p.kv_capacity_bytes_per_gpu),
                 static_cast<I>(p.host_tier_capacity_bytes_per_gpu),
                 static_cast<I>(p.steps),
                 I{p.busy_ns},
                 p.utilization,
                 static_cast<I>(p.preemptions),
                 static_cast<I>(p.swaps_out),
                 static_cast<I>(p.swaps_in),
                 static_cast<I>(p.swap_bytes),
                 static_cast<I>(p.kv_transfers),
                 static_cast<I>(p.output_tokens),
                 p.energy_j,
                 p.mean_batch_sequences,
                 p.mean_kv_occupancy,
                 p.peak_kv_occupancy,
                 p.mean_queue_length,
                 p.mean_queue_delay_ns,
                 p.arrival_rate_per_s});
  }

  Statement grp = store.prepare(
      "INSERT INTO sim_groups (run_id, class, pool, arrived, finished, rejected, unfinished, "
      "input_tokens, output_tokens, slo_met, preemptions, swaps_out, "
      "prompt_tokens_prefix_eligible, "
      "prefix_hit_tokens_gpu, prefix_hit_tokens_host, prefix_hit_rate, "
      "ttft_mean_ns, ttft_p50_ns, ttft_p90_ns, ttft_p99_ns, ttft_max_ns, tpot_count, "
      "tpot_mean_ns, tpot_p50_ns, tpot_p90_ns, tpot_p99_ns, tpot_max_ns, "
      "e2e_mean_ns, e2e_p50_ns, e2e_p90_ns, e2e_p99_ns, e2e_max_ns, "
      "queue_mean_ns, queue_p50_ns, queue_p90_ns, queue_p99_ns, queue_max_ns, "
      "throughput_tokens_per_s, throughput_requests_per_s, goodput_requests_per_s) VALUES "
      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,"
      "?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40)");
  for (const GroupMetrics& g : r.groups) {
    grp.insert({run_id,
                g.class_name,
                g.pool_name,
                static_cast<I>(g.arrived),
                static_cast<I>(g.finished),
                static_cast<I>(g.rejected),
                static_cast<I>(g.unfinished),
                static_cast<I>(g.input_tokens),
                static_cast<I>(g.output_tokens),
                static_cast<I>(g.slo_met),
                static_cast<I>(g.preemptions),
                static_cast<I>(g.swaps_out),
                static_cast<I>(g.prompt_tokens_prefix_eligible),
                static_cast<I>(g.prefix_hit_tokens_gpu),
                static_cast<I>(g.prefix_hit_tokens_host),
                g.prefix_hit_rate,
                measured(g.ttft, g.ttft.mean_ns),
                measured(g.ttft, g.ttft.p50_ns),
                measured(g.ttft, g.ttft.p90_ns),
                measured(g.ttft, g.ttft.p99_ns),
                measured(g.ttft, g.ttft.max_ns),
                static_cast<I>(g.tpot.count),
                measured(g.tpot, g.tpot.mean_ns),
                measured(g.tpot, g.tpot.p50_ns),
                measured(g.tpot, g.tpot.p90_ns),
                measured(g.tpot, g.tpot.p99_ns),
                measured(g.tpot, g.tpot.max_ns),
                measured(g.e2e, g.e2e.mean_ns),
                measured(g.e2e, g.e2e.p50_ns),
                measured(g.e2e, g.e2e.p90_ns),
                measured(g.e2e, g.e2e.p99_ns),
                measured(g.e2e, g.e2e.max_ns),
                measured(g.queue, g.queue.mean_ns),
                measured(g.queue, g.queue.p50_ns),
                measured(g.queue, g.queue.p90_ns),
                measured(g.queue, g.queue.p99_ns),
                measured(g.queue, g.queue.max_ns),
                g.throughput_tokens_per_s,
                g.throughput_requests_per_s,
                g.goodput_requests_per_s});
  }

  // Bulk rows bind by index and reuse one statement: no per-row allocation.
  Statement ts = store.prepare(
      "INSERT INTO sim_timeseries (run_id, time_ns, pool_index, kv_used_bytes, kv_capacity_bytes, "
      "hbm_weight_bytes, hbm_kv_bytes, hbm_free_bytes, host_swap_bytes, host_prefix_bytes, "
      "running, "
      "waiting) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  for (const TimeSample& s : r.timeseries) {
    ts.bind(1, run_id)
        .bind(2, I{s.time_ns})
        .bind(3, I{s.pool})
        .bind(4, static_cast<I>(s.kv_used_bytes))
        .bind(5, static_cast<I>(s.kv_capacity_bytes))
        .bind(6, static_cast<I>(s.hbm_weight_bytes))
        .bind(7, static_cast<I>(s.hbm_kv_bytes))
        .bind(8, static_cast<I>(s.hbm_free_bytes))
        .bind(9, static_cast<I>(s.host_swap_bytes))
        .bind(10, static_cast<I>(s.host_prefix_bytes))
        .bind(11, I{s.running})
        .bind(12, I{s.waiting});
    ts.step();
    ts.reset();
  }
  write_request_rows(store, run_id, r.requests);
}

}  // namespace jevons::store
