#include "jevons/store/readers.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>

namespace jevons::store {

namespace {

using I = std::int64_t;

Variant variant_from(const std::string& s, const std::string& path) {
  if (s == "counterfactual") return Variant::kCounterfactual;
  if (s == "efficiency") return Variant::kEfficiency;
  if (s == "with-rebound") return Variant::kFull;
  throw StoreError(
      fmt::format("{}: variant '{}' is none of counterfactual, efficiency, "
                  "with-rebound",
                  path, s));
}

// A nullable REAL: NULL reads as NaN (the writers store NaN as NULL, SQLite's own rule).
double real_or_nan(const Statement& q, int col) {
  return q.column_is_null(col) ? std::numeric_limits<double>::quiet_NaN() : q.column_double(col);
}

std::uint64_t u64(const Statement& q, int col) {
  return static_cast<std::uint64_t>(q.column_int(col));
}

}  // namespace

std::vector<StoredRun> list_runs(Store& st) {
  std::vector<StoredRun> runs;
  auto q = st.prepare(
      "SELECT run_id, kind, scenario_name, scenario_path, seed, started_at_utc, "
      "coalesce(wall_time_ms, 0) FROM runs ORDER BY run_id DESC");
  while (q.step()) {
    StoredRun r;
    r.run_id = q.column_int(0);
    r.kind = q.column_text(1);
    r.scenario_name = q.column_text(2);
    r.scenario_path = q.column_text(3);
    r.seed = u64(q, 4);
    r.started_at_utc = q.column_text(5);
    r.wall_time_ms = q.column_int(6);
    runs.push_back(std::move(r));
  }
  return runs;
}

std::optional<StoredRun> read_run(Store& st, std::int64_t run_id) {
  auto q = st.prepare(
      "SELECT run_id, kind, scenario_name, scenario_path, scenario_text, seed, started_at_utc, "
      "coalesce(wall_time_ms, 0) FROM runs WHERE run_id = ?1");
  q.bind(1, run_id);
  if (!q.step()) return std::nullopt;
  StoredRun r;
  r.run_id = q.column_int(0);
  r.kind = q.column_text(1);
  r.scenario_name = q.column_text(2);
  r.scenario_path = q.column_text(3);
  r.scenario_text = q.column_text(4);
  r.seed = u64(q, 5);
  r.started_at_utc = q.column_text(6);
  r.wall_time_ms = q.column_int(7);
  auto n = st.prepare("SELECT note FROM run_notes WHERE run_id = ?1 ORDER BY note_index");
  n.bind(1, run_id);
  while (n.step()) r.notes.push_back(n.column_text(0));
  return r;
}

std::optional<std::int64_t> latest_run(Store& st, const std::string& kind) {
  auto q = st.prepare("SELECT max(run_id) FROM runs WHERE ?1 = '' OR kind = ?1");
  q.bind(1, kind);
  if (!q.step() || q.column_is_null(0)) return std::nullopt;
  return q.column_int(0);
}

Projection read_projection(Store& st, std::int64_t run_id) {
  Projection p;
  {
    auto q = st.prepare(
        "SELECT variant, quarter_index, quarter, demand_tokens_per_s, peak_tokens_per_s, "
        "unserved_peak_tokens_per_s, cost_usd_per_mtok, gpus_installed, gpus_powered, "
        "hbm_installed_bytes, hbm_weight_bytes, hbm_kv_bytes, hbm_idle_bytes, "
        "host_dram_baseline_bytes, host_dram_offload_bytes, host_dram_prefix_bytes, energy_mwh, "
        "power_mw, hbm_shipped_bytes, hbm_demanded_bytes, hbm_supply_bytes, "
        "cost_all_in_usd_per_mtok, cost_marginal_usd_per_mtok, initial_demand_scale "
        "FROM projection_quarters WHERE run_id = ?1 ORDER BY variant, quarter_index");
    q.bind(1, run_id);
    while (q.step()) {
      QuarterTotals t;
      t.variant = variant_from(q.column_text(0), st.path());
      t.quarter = static_cast<int>(q.column_int(1));
      t.label = q.column_text(2);
      double* f[] = {&t.demand_tokens_per_s,
                     &t.peak_tokens_per_s,
                     &t.unserved_peak_tokens_per_s,
                     &t.cost_usd_per_mtok,
                     &t.gpus_installed,
                     &t.gpus_powered,
                     &t.hbm_installed_bytes,
                     &t.hbm_weight_bytes,
                     &t.hbm_kv_bytes,
                     &t.hbm_idle_bytes,
                     &t.host_dram_baseline_bytes,
                     &t.host_dram_offload_bytes,
                     &t.host_dram_prefix_bytes,
                     &t.energy_mwh,
                     &t.power_mw,
                     &t.hbm_shipped_bytes,
                     &t.hbm_demanded_bytes,
                     &t.hbm_supply_bytes,
                     &t.cost_all_in_usd_per_mtok,
                     &t.cost_marginal_usd_per_mtok,
                     &t.initial_demand_scale};
      for (int i = 0; i < static_cast<int>(std::size(f)); ++i) *f[i] = q.column_double(3 + i);
      if (t.variant == Variant::kCounterfactual) {
        const auto qi = static_cast<std::size_t>(t.quarter);
        if (p.quarter_labels.size() <= qi) p.quarter_labels.resize(qi + 1);
        p.quarter_labels[qi] = t.label;
      }
      p.totals.push_back(std::move(t));
    }
  }
  if (p.totals.empty())
    throw StoreError(
        fmt::format("{}: run {} has no projection rows (projection_quarters)", st.path(), run_id));
  {
    auto q = st.prepare(
        "SELECT variant, quarter_index, class, baseline_tokens_per_s, demand_tokens_per_s, "
        "peak_tokens_per_s, unserved_peak_tokens_per_s, price_ratio, prompt_scale, "
        "cost_usd_per_mtok, gpus_serving FROM projection_classes WHERE run_id = ?1 "
        "ORDER BY variant, quarter_index, class");
    q.bind(1, run_id);
    while (q.step()) {
      ClassQuarter c;
      c.variant = variant_from(q.column_text(0), st.path());
      c.quarter = static_cast<int>(q.column_int(1));
      c.class_name = q.column_text(2);
      double* f[] = {&c.baseline_tokens_per_s,      &c.demand_tokens_per_s, &c.peak_tokens_per_s,
                     &c.unserved_peak_tokens_per_s, &c.price_ratio,         &c.prompt_scale,
                     &c.cost_usd_per_mtok,          &c.gpus_serving};
      for (int i = 0; i < static_cast<int>(std::size(f)); ++i) *f[i] = q.column_double(3 + i);
      p.classes.push_back(std::move(c));
    }
  }
  {
    // rowid order is the order the planner wrote them: the scenario's generations, oldest first.
    auto q = st.prepare(
        "SELECT variant, quarter_index, gpu, installed, powered, serving, purchased, retired, "
        "compressed_share, hbm_installed_bytes, hbm_weight_bytes, hbm_kv_bytes, hbm_idle_bytes, "
        "host_dram_baseline_bytes, host_dram_offload_bytes, host_dram_prefix_bytes, energy_mwh, "
        "power_mw, hbm_shipped_bytes FROM projection_generations WHERE run_id = ?1 "
        "ORDER BY rowid");
    q.bind(1, run_id);
    while (q.step()) {
      GenerationQuarter g;
      g.variant = variant_from(q.column_text(0), st.path());
      g.quarter = static_cast<int>(q.column_int(1));
      g.gpu_id = q.column_text(2);
      double* f[] = {&g.installed,
                     &g.powered,
                     &g.serving,
                     &g.purchased,
                     &g.retired,
                     &g.compressed_share,
                     &g.hbm_installed_bytes,
                     &g.hbm_weight_bytes,
                     &g.hbm_kv_bytes,
                     &g.hbm_idle_bytes,
                     &g.host_dram_baseline_bytes,
                     &g.host_dram_offload_bytes,
                     &g.host_dram_prefix_bytes,
                     &g.energy_mwh,
                     &g.power_mw,
                     &g.hbm_shipped_bytes};
      for (int i = 0; i < static_cast<int>(std::size(f)); ++i) *f[i] = q.column_double(3 + i);
      p.generations.push_back(std::move(g));
    }
  }
  {
    auto q = st.prepare(
        "SELECT quarter_index, metric, counterfactual, efficiency_effect, rebound_effect, net, "
        "with_compression FROM memory_decomposition WHERE run_id = ?1 "
        "ORDER BY quarter_index, rowid");
    q.bind(1, run_id);
    while (q.step()) {
      Decomposition d;
      d.quarter = static_cast<int>(q.column_int(0));
      d.metric = q.column_text(1);
      d.counterfactual = q.column_double(2);
      d.efficiency_effect = q.column_double(3);
      d.rebound_effect = q.column_double(4);
      d.net = q.column_double(5);
      d.with_compression = q.column_double(6);
      p.decomposition.push_back(std::move(d));
    }
  }
  {
    auto q = st.prepare(
        "SELECT quarter_index, metric, elasticity, max_elasticity FROM break_even_elasticity "
        "WHERE run_id = ?1 ORDER BY rowid");
    q.bind(1, run_id);
    while (q.step()) {
      BreakEven b;
      b.quarter = static_cast<int>(q.column_int(0));
      b.metric = q.column_text(1);
      b.elasticity = real_or_nan(q, 2);
      p.max_elasticity = q.column_double(3);
      p.break_even.push_back(std::move(b));
    }
  }
  {
    auto q = st.prepare(
        "SELECT parameter, value, hbm_installed_net_bytes, hbm_used_net_bytes, "
        "host_dram_net_bytes FROM elasticity_sensitivity WHERE run_id = ?1 ORDER BY rowid");
    q.bind(1, run_id);
    while (q.step()) {
      SensitivityPoint s;
      s.parameter = q.column_text(0);
      s.value = q.column_double(1);
      s.hbm_installed_net_bytes = q.column_double(2);
      s.hbm_used_net_bytes = q.column_double(3);
      s.host_dram_net_bytes = q.column_double(4);
      p.sensitivity.push_back(std::move(s));
    }
  }
  {
    auto q = st.prepare(
        "SELECT gpu, class, model, kv_format, tensor_parallel, rate_per_s, "
        "tokens_per_s_per_replica, kv_bytes_in_use, weight_bytes, hbm_bytes, host_offload_bytes, "
        "host_prefix_bytes, probes, method FROM capacity_search WHERE run_id = ?1 ORDER BY rowid");
    q.bind(1, run_id);
    while (q.step()) {
      CapacityEntry c;
      c.gpu_id = q.column_text(0);
      c.class_name = q.column_text(1);
      c.model_id = q.column_text(2);
      c.kv_format = q.column_text(3);
      c.capacity.tensor_parallel = static_cast<std::uint32_t>(q.column_int(4));
      c.capacity.rate_per_s = q.column_double(5);
      c.capacity.tokens_per_s = q.column_double(6);
      c.capacity.kv_bytes_in_use = q.column_double(7);
      c.capacity.weight_bytes = q.column_double(8);
      c.capacity.hbm_bytes = q.column_double(9);
      c.capacity.host_offload_bytes = q.column_double(10);
      c.capacity.host_prefix_bytes = q.column_double(11);
      c.capacity.probes = static_cast<int>(q.column_int(12));
      c.capacity.method = q.column_text(13);
      p.capacity.push_back(std::move(c));
    }
  }
  return p;
}

SimulationReport read_simulation(Store& st, std::int64_t run_id, bool with_requests) {
  SimulationReport r;
  {
    auto q = st.prepare(
        "SELECT seed, duration_ns, warmup_ns, end_ns, router, preemption, workload, "
        "requests_arrived, requests_finished, requests_rejected, requests_unfinished, "
        "trace_lines_skipped, input_tokens_arrived, output_tokens_arrived, events, steps, "
        "fingerprint, wall_time_ms, requests_over_context, requests_truncated "
        "FROM sim_runs WHERE run_id = ?1");
    q.bind(1, run_id);
    if (!q.step())
      throw StoreError(
          fmt::format("{}: run {} has no simulation rows (sim_runs)", st.path(), run_id));
    r.seed = u64(q, 0);
    r.duration_ns = q.column_int(1);
    r.warmup_ns = q.column_int(2);
    r.end_ns = q.column_int(3);
    r.router = q.column_text(4);
    r.preemption = q.column_text(5);
    r.workload = q.column_text(6);
    r.requests_arrived = u64(q, 7);
    r.requests_finished = u64(q, 8);
    r.requests_rejected = u64(q, 9);
    r.requests_unfinished = u64(q, 10);
    r.trace_lines_skipped = u64(q, 11);
    r.input_tokens_arrived = u64(q, 12);
    r.output_tokens_arrived = u64(q, 13);
    r.events = u64(q, 14);
    r.steps = u64(q, 15);
    r.fingerprint = std::stoull(q.column_text(16), nullptr, 16);
    r.wall_s = static_cast<double>(q.column_int(17)) / 1e3;
    r.requests_over_context = u64(q, 18);
    r.requests_truncated = u64(q, 19);
  }
  {
    auto q = st.prepare("SELECT name FROM sim_classes WHERE run_id = ?1 ORDER BY class_index");
    q.bind(1, run_id);
    while (q.step()) r.class_names.push_back(q.column_text(0));
  }
  {
    auto q = st.prepare(
        "SELECT pool, gpu, model, kv_format, role, replicas, gpus, tensor_parallel, "
        "hbm_bytes_per_gpu, weight_bytes_per_gpu, kv_capacity_bytes_per_gpu, "
        "host_tier_capacity_bytes_per_gpu, steps, busy_ns, utilization, preemptions, swaps_out, "
        "swaps_in, swap_bytes, kv_transfers, output_tokens, energy_j, mean_batch_sequences, "
        "mean_kv_occupancy, peak_kv_occupancy, mean_queue_length, mean_queue_delay_ns, "
        "arrival_rate_per_s FROM sim_pools WHERE run_id = ?1 ORDER BY pool_index");
    q.bind(1, run_id);
    while (q.step()) {
      PoolMetrics m;
      m.name = q.column_text(0);
      m.gpu_id = q.column_text(1);
      m.model_id = q.column_text(2);
      m.kv_format = q.column_text(3);
      m.role = q.column_text(4);
      m.replicas = static_cast<std::uint32_t>(q.column_int(5));
      m.gpus = static_cast<std::uint32_t>(q.column_int(6));
      m.tensor_parallel = static_cast<std::uint32_t>(q.column_int(7));
      m.hbm_bytes_per_gpu = u64(q, 8);
      m.weight_bytes_per_gpu = u64(q, 9);
      m.kv_capacity_bytes_per_gpu = u64(q, 10);
      m.host_tier_capacity_bytes_per_gpu = u64(q, 11);
      m.steps = u64(q, 12);
      m.busy_ns = q.column_int(13);
      m.utilization = q.column_double(14);
      m.preemptions = u64(q, 15);
      m.swaps_out = u64(q, 16);
      m.swaps_in = u64(q, 17);
      m.swap_bytes = u64(q, 18);
      m.kv_transfers = u64(q, 19);
      m.output_tokens = u64(q, 20);
      m.energy_j = q.column_double(21);
      m.mean_batch_sequences = q.column_double(22);
      m.mean_kv_occupancy = q.column_double(23);
      m.peak_kv_occupancy = q.column_double(24);
      m.mean_queue_length = q.column_double(25);
      m.mean_queue_delay_ns = q.column_double(26);
      m.arrival_rate_per_s = q.column_double(27);
      r.pools.push_back(std::move(m));
    }
  }
  {
    auto q = st.prepare(
        "SELECT class, pool, arrived, finished, rejected, unfinished, input_tokens, "
        "output_tokens, slo_met, preemptions, swaps_out, prompt_tokens_prefix_eligible, "
        "prefix_hit_tokens_gpu, prefix_hit_tokens_host, prefix_hit_rate, "
        "ttft_mean_ns, ttft_p50_ns, ttft_p90_ns, ttft_p99_ns, ttft_max_ns, tpot_count, "
        "tpot_mean_ns, tpot_p50_ns, tpot_p90_ns, tpot_p99_ns, tpot_max_ns, "
        "e2e_mean_ns, e2e_p50_ns, e2e_p90_ns, e2e_p99_ns, e2e_max_ns, "
        "queue_mean_ns, queue_p50_ns, queue_p90_ns, queue_p99_ns, queue_max_ns, "
        "throughput_tokens_per_s, throughput_requests_per_s, goodput_requests_per_s "
        "FROM sim_groups WHERE run_id = ?1 ORDER BY rowid");
    q.bind(1, run_id);
    while (q.step()) {
      GroupMetrics g;
      g.class_name = q.column_text(0);
      g.pool_name = q.column_text(1);
      g.arrived = u64(q, 2);
      g.finished = u64(q, 3);
      g.rejected = u64(q, 4);
      g.unfinished = u64(q, 5);
      g.input_tokens = u64(q, 6);
      g.output_tokens = u64(q, 7);
      g.slo_met = u64(q, 8);
      g.preemptions = u64(q, 9);
      g.swaps_out = u64(q, 10);
      g.prompt_tokens_prefix_eligible = u64(q, 11);
      g.prefix_hit_tokens_gpu = u64(q, 12);
      g.prefix_hit_tokens_host = u64(q, 13);
      g.prefix_hit_rate = q.column_double(14);
      // The table keeps no count for TTFT, E2E and queue: every finished request has them.
      auto latency = [&](LatencySummary& l, int col, std::uint64_t count) {
        l.count = q.column_is_null(col) ? 0 : count;
        l.mean_ns = real_or_nan(q, col);
        l.p50_ns = real_or_nan(q, col + 1);
        l.p90_ns = real_or_nan(q, col + 2);
        l.p99_ns = real_or_nan(q, col + 3);
        l.max_ns = real_or_nan(q, col + 4);
      };
      latency(g.ttft, 15, g.finished);
      latency(g.tpot, 21, u64(q, 20));
      latency(g.e2e, 26, g.finished);
      latency(g.queue, 31, g.finished);
      g.throughput_tokens_per_s = q.column_double(36);
      g.throughput_requests_per_s = q.column_double(37);
      g.goodput_requests_per_s = q.column_double(38);
      r.groups.push_back(std::move(g));
    }
  }
  {
    auto q = st.prepare(
        "SELECT time_ns, pool_index, kv_used_bytes, kv_capacity_bytes, hbm_weight_bytes, "
        "hbm_kv_bytes, hbm_free_bytes, host_swap_bytes, host_prefix_bytes, running, waiting "
        "FROM sim_timeseries WHERE run_id = ?1 ORDER BY time_ns, pool_index");
    q.bind(1, run_id);
    while (q.step()) {
      TimeSample s;
      s.time_ns = q.column_int(0);
      s.pool = static_cast<std::uint32_t>(q.column_int(1));
      s.kv_used_bytes = u64(q, 2);
      s.kv_capacity_bytes = u64(q, 3);
      s.hbm_weight_bytes = u64(q, 4);
      s.hbm_kv_bytes = u64(q, 5);
      s.hbm_free_bytes = u64(q, 6);
      s.host_swap_bytes = u64(q, 7);
      s.host_prefix_bytes = u64(q, 8);
      s.running = static_cast<std::uint32_t>(q.column_int(9));
      s.waiting = static_cast<std::uint32_t>(q.column_int(10));
      r.timeseries.push_back(s);
    }
  }
  if (with_requests) {
    auto q = st.prepare(
        "SELECT request_id, class_index, pool_index, replica_index, arrival_ns, "
        "first_scheduled_ns, first_token_ns, finish_ns, input_tokens, output_tokens, "
        "prefix_hit_tokens, preemptions, status FROM sim_requests WHERE run_id = ?1 "
        "ORDER BY request_id");
    q.bind(1, run_id);
    while (q.step()) {
      RequestRow x;
      x.id = u64(q, 0);
      x.class_index = static_cast<std::uint32_t>(q.column_int(1));
      x.pool = static_cast<std::uint32_t>(q.column_int(2));
      x.replica = static_cast<std::uint32_t>(q.column_int(3));
      x.arrival_ns = q.column_int(4);
      x.first_scheduled_ns = q.column_int(5);
      x.first_token_ns = q.column_int(6);
      x.finish_ns = q.column_int(7);
      x.input_tokens = static_cast<std::uint32_t>(q.column_int(8));
      x.output_tokens = static_cast<std::uint32_t>(q.column_int(9));
      x.prefix_hit_tokens = static_cast<std::uint32_t>(q.column_int(10));
      x.preemptions = static_cast<std::uint32_t>(q.column_int(11));
      const std::string status = q.column_text(12);
      x.status = status == "finished"   ? RequestRow::Status::kFinished
                 : status == "rejected" ? RequestRow::Status::kRejected
                                        : RequestRow::Status::kUnfinished;
      r.requests.push_back(x);
    }
  }
  return r;
}

std::vector<RequestTableSummary> summarize_requests(Store& st, std::int64_t run_id) {
  std::vector<RequestTableSummary> out;
  auto q = st.prepare(
      "SELECT c.name, p.pool, count(*), sum(r.status = 'finished'), sum(r.status = 'rejected'), "
      "sum(r.status = 'unfinished'), avg(r.input_tokens), avg(r.output_tokens), "
      "avg(r.prefix_hit_tokens), sum(r.preemptions > 0) "
      "FROM sim_requests r "
      "JOIN sim_classes c ON c.run_id = r.run_id AND c.class_index = r.class_index "
      "JOIN sim_pools p ON p.run_id = r.run_id AND p.pool_index = r.pool_index "
      "WHERE r.run_id = ?1 GROUP BY r.class_index, r.pool_index "
      "ORDER BY r.class_index, r.pool_index");
  q.bind(1, run_id);
  while (q.step()) {
    RequestTableSummary s;
    s.class_name = q.column_text(0);
    s.pool = q.column_text(1);
    s.rows = u64(q, 2);
    s.finished = u64(q, 3);
    s.rejected = u64(q, 4);
    s.unfinished = u64(q, 5);
    s.mean_input_tokens = q.column_double(6);
    s.mean_output_tokens = q.column_double(7);
    s.mean_prefix_hit_tokens = q.column_double(8);
    s.preempted = u64(q, 9);
    out.push_back(std::move(s));
  }
  return out;
}

std::string csv_field(const Value& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) return "";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  // fmt's default for a double is the shortest text that reads back to the same value.
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  const auto& s = std::get<std::string>(v);
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::vector<CsvFile> export_run_csv(Store& st, std::int64_t run_id,
                                    const std::filesystem::path& dir) {
  if (!read_run(st, run_id)) throw StoreError(fmt::format("{}: no run {}", st.path(), run_id));
  std::filesystem::create_directories(dir);
  // Every table that holds a run_id column, found from the schema itself so a table added by a
  // later layer is exported without a change here; columns named from PRAGMA table_info.
  std::vector<std::string> tables;
  {
    auto q = st.prepare(
        "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND EXISTS "
        "(SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'run_id') ORDER BY m.name");
    while (q.step()) tables.push_back(q.column_text(0));
  }
  std::vector<CsvFile> files;
  for (const auto& table : tables) {
    std::vector<std::string> columns, key;
    {
      auto q = st.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid");
      q.bind(1, table);
      std::map<std::int64_t, std::string> pk;
      while (q.step()) {
        columns.push_back(q.column_text(0));
        if (q.column_int(1) > 0) pk[q.column_int(1)] = q.column_text(0);
      }
      for (const auto& [i, c] : pk) key.push_back(c);
    }
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", \"" : "\"") + columns[i] + "\"";
    sql += " FROM \"" + table + "\" WHERE run_id = ?1";
    if (!key.empty()) {
      sql += " ORDER BY ";
      for (std::size_t i = 0; i < key.size(); ++i) sql += (i ? ", \"" : "\"") + key[i] + "\"";
    }
    auto q = st.prepare(sql);
    q.bind(1, run_id);
    CsvFile f{dir / (table + ".csv"), table, 0};
    std::ofstream out;
    while (q.step()) {
      if (!out.is_open()) {
        out.open(f.path, std::ios::binary);
        if (!out) throw StoreError(fmt::format("cannot write {}", f.path.string()));
        for (std::size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << columns[i];
        out << "\r\n";
      }
      for (int i = 0; i < q.column_count(); ++i)
        out << (i ? "," : "") << csv_field(q.column_value(i));
      out << "\r\n";
      ++f.rows;
    }
    if (out.is_open()) {
      out.close();
      if (!out) throw StoreError(fmt::format("error writing {}", f.path.string()));
      files.push_back(std::move(f));
    }
  }
  return files;
}

}  // namespace jevons::store
