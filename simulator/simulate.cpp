// The fleet: wires workload sources, routers, replicas and collectors to the event queue, runs
// the event loop, and assembles the report. The only place that dispatches on event types.
#include "jevons/simulator/simulate.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <ostream>

#include "engine/event_queue.h"
#include "engine/events.h"
#include "engine/random.h"
#include "entities/replica.h"
#include "entities/request.h"
#include "jevons/core/error.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/replica_memory.h"
#include "metrics/collector.h"
#include "routing/router.h"
#include "timing/latency_model.h"
#include "timing/profile_calibration.h"
#include "workload/source.h"
#include "workload/trace.h"

namespace jevons {
namespace {

using namespace jevons::sim;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Pool {
  const PoolSpec* spec = nullptr;
  const GpuSpec* gpu = nullptr;
  const ModelSpec* model = nullptr;
  KvConfig kv;
  std::unique_ptr<KvFootprint> footprint;
  ReplicaMemory memory;
  std::unique_ptr<LatencyModel> latency;
  ReplicaConfig cfg;
  std::uint32_t first_replica = 0;
  std::uint32_t replicas = 0;
  std::uint64_t swa_window = 0;
  double swa_ratio = 0;
};

struct ClassRoute {
  std::uint32_t entry_router = 0;
  std::int32_t decode_router = -1;
};

Diagnostic input_problem(const Scenario& s, int line, const std::string& key,
                         const std::string& value, const std::string& message) {
  Diagnostic d;
  d.file = s.path;
  d.line = line;
  d.key = key;
  d.value = value;
  d.message = message;
  return d;
}

// Reads a trace the scenario names at `line` under `key`. A file that cannot be opened is
// reported at that scenario line (with the path it resolved to); a malformed trace keeps its own
// file:line diagnostics and gains one pointing back at the scenario.
Trace load_named_trace(const Scenario& s, const std::string& written, const std::string& resolved,
                       int line, const std::string& key, const std::string& format,
                       MalformedPolicy policy) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(resolved, ec)) {
    const bool dir = std::filesystem::is_directory(resolved, ec);
    throw InputError(input_problem(
        s, line, key, written,
        fmt::format("{} '{}' (a relative path is resolved against the scenario's folder)",
                    dir ? "expected a trace file, found the folder" : "no trace file at",
                    resolved)));
  }
  try {
    return read_trace(resolved, parse_trace_format(format), policy);
  } catch (const InputError& e) {
    std::vector<Diagnostic> ds = e.diagnostics();
    ds.push_back(
        input_problem(s, line, key, written, "the trace named here cannot be used (above)"));
    throw InputError(std::move(ds));
  }
}

class Fleet final : public ReplicaListener {
 public:
  Fleet(const Scenario& scenario, const Catalog& catalog, const std::optional<Profile>& profile)
      : sc_(scenario), spec_(*scenario.simulation) {
    seed_ = scenario.seed + spec_.seed_offset;
    hash_block_tokens_ = spec_.has_trace ? spec_.trace.hash_block_tokens : 512;
    build_pools(catalog, profile);
    build_workload();
    build_routes();
  }

  SimulationReport run(const SimulationProgressFn& progress);

  // ReplicaListener
  void on_first_token(std::uint32_t slot, TimeNs now) override { reqs_[slot].first_token_ns = now; }
  void on_finished(std::uint32_t slot, TimeNs now) override;
  void on_handoff(std::uint32_t slot, TimeNs now) override;
  void on_preempted(std::uint32_t slot, bool swapped) override {
    const Request& r = reqs_[slot];
    group(r).preempted(r, swapped);
  }
  void on_load_changed(std::uint32_t replica) override {
    for (const auto& [router, pos] : memberships_[replica]) routers_[router]->update(pos);
  }

 private:
  void build_pools(const Catalog& catalog, const std::optional<Profile>& profile);
  void build_workload();
  void build_routes();
  std::uint32_t router_for(std::vector<Replica*> candidates);
  void arrival(std::uint32_t source, TimeNs now);
  void schedule_next_arrival(std::uint32_t source);
  void client_turn(const Request& r, TimeNs now);
  void record_row(const Request& r, RequestRow::Status status, TimeNs finish_ns);
  GroupCollector& group(const Request& r) {
    return *groups_[r.class_index * pools_.size() + r.entry_pool];
  }
  std::uint32_t swa_blocks(const Pool& p, const Request& r) const {
    if (p.swa_ratio <= 0) return 0;
    const std::uint64_t tokens =
        std::min<std::uint64_t>(std::uint64_t{r.input_tokens} + r.output_tokens, p.swa_window);
    const double blocks = std::ceil(
        static_cast<double>((tokens + p.cfg.block_tokens - 1) / p.cfg.block_tokens) * p.swa_ratio);
    return static_cast<std::uint32_t>(blocks);
  }
  void sample(TimeNs now);

  const Scenario& sc_;
  const SimulationSpec& spec_;
  std::uint64_t seed_ = 0;
  std::uint64_t hash_block_tokens_ = 512;

  EventQueue events_;
  RequestTable reqs_;
  std::vector<Pool> pools_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<std::unique_ptr<Router>> routers_;
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> memberships_;
  std::vector<ClassRoute> routes_;  // per class
  std::vector<std::string> class_names_;
  std::vector<SloSpec> slos_;
  std::vector<std::unique_ptr<GroupCollector>> groups_;

  std::vector<std::unique_ptr<Trace>> traces_;
  std::vector<std::unique_ptr<sim::Source>> sources_;
  std::vector<std::uint32_t> source_class_;
  std::vector<Arrival> pending_;
  // Per class: its source when it is a closed loop (a finished or rejected request hands its
  // client's turn back to the source), else -1.
  std::vector<std::int32_t> closed_loop_source_;

  SimulationReport rep_;
  std::uint64_t next_id_ = 0;
  std::uint64_t finished_ = 0;
  std::uint64_t sample_threshold_ = 0;    // sampled rows: keep ids whose hash is below this
  std::vector<std::uint64_t> transfers_;  // per prefill pool
};

void Fleet::build_pools(const Catalog& catalog, const std::optional<Profile>& profile) {
  const GpuSpec* profile_gpu = nullptr;
  if (profile && !profile->meta.gpu_catalog_id.empty()) {
    profile_gpu = catalog.find_gpu(profile->meta.gpu_catalog_id);
  }
  // Rates fitted on the profile's synthetic steps (GPU profiles only; see LatencyModel).
  std::optional<DeviceStepCalibration> steps;
  if (profile && !profile->steps.empty())
    steps = calibrate_steps(*profile, catalog, sc_.analytical);
  std::vector<Diagnostic> problems;
  const auto& ds = spec_.disaggregation;
  auto listed = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  for (const PoolSpec& ps : sc_.pools) {
    Pool p;
    p.spec = &ps;
    p.gpu = &catalog.gpu(ps.gpu_id);
    p.model = &catalog.model(ps.model_id);
    // The simulated KV format: the section's kv_format when this pool lists it, else the pool's
    // first format, else the scenario's first, else bf16.
    std::vector<KvConfig> formats = ps.kv_formats.empty() ? sc_.kv_formats : ps.kv_formats;
    p.kv = formats.empty() ? KvConfig::parse("bf16") : formats.front();
    for (const auto& f : formats) {
      if (!spec_.kv_format.empty() && f.name() == spec_.kv_format) p.kv = f;
    }
    p.footprint = std::make_unique<KvFootprint>(*p.model, p.kv, ps.tensor_parallel);
    p.memory = plan_replica_memory(*p.gpu, *p.model, ps.tensor_parallel, ps.weights, ps.memory,
                                   ps.parallel);
    if (!p.memory.fits()) {
      problems.push_back(input_problem(
          sc_, ps.line, "pools." + ps.name, ps.model_id,
          fmt::format("the model does not fit {} × {} for simulation: {:.1f} GiB short per GPU",
                      ps.gpus_per_replica(), ps.gpu_id,
                      static_cast<double>(p.memory.shortfall_bytes_per_gpu()) / kGiB)));
      continue;
    }
    const std::uint32_t B = ps.memory.block_tokens;
    // Full-attention (and MLA) layers grow with the sequence; sliding/chunked layers stop at
    // their window, so they are reserved per request up front (see docs/simulator.md).
    double full = 0, windowed = 0;
    for (LayerAttention k : p.model->layer_attention) {
      const double b = static_cast<double>(p.footprint->bytes_per_token_layer(k));
      (k == LayerAttention::kSliding || k == LayerAttention::kChunked ? windowed : full) += b;
    }
    if (full + windowed <= 0) full = 1;
    // Per GPU of the replica: a pipeline stage holds 1/pp of the layers; a DP-attention rank
    // holds every head of its own sequences (1/tp of them), so an MLA latent is not replicated.
    double per_token_gpu = static_cast<double>(p.footprint->bytes_per_token_per_gpu());
    if (ps.parallel.dp_attention)
      per_token_gpu =
          static_cast<double>(KvFootprint(*p.model, p.kv, 1).bytes_per_token_per_gpu()) /
          ps.tensor_parallel;
    per_token_gpu /= ps.parallel.pipeline_parallel;
    double full_share = full / (full + windowed);
    if (full_share <= 0) full_share = 1, windowed = 0;  // all-window model: charge as full
    p.cfg.block_bytes_per_gpu = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(per_token_gpu * full_share * B)));
    if (windowed > 0 && p.model->window_tokens > 0) {
      p.swa_window = p.model->window_tokens;
      p.swa_ratio = windowed / full;
    }
    ReplicaConfig& c = p.cfg;
    c.gpus = ps.gpus_per_replica();
    c.block_tokens = B;
    c.capacity_blocks =
        static_cast<std::uint64_t>(p.memory.kv_bytes_per_gpu) / c.block_bytes_per_gpu;
    const BatchingSpec& engine = spec_.batching_for(ps.name);
    c.watermark_blocks = static_cast<std::uint64_t>(
        std::floor(engine.watermark * static_cast<double>(c.capacity_blocks)));
    c.max_num_seqs = engine.max_num_seqs;
    c.max_batched_tokens = engine.max_batched_tokens;
    c.chunked_prefill = engine.chunked_prefill;
    c.admission = engine.admission;
    c.preemption = spec_.preemption;
    const double host_gib = p.gpu->host_dram_per_gpu_gib.value.value_or(0.0);
    const double tier_gib = spec_.prefix_cache.enabled
                                ? std::min(spec_.prefix_cache.host_tier_gib_per_gpu, host_gib)
                                : 0.0;
    if (spec_.prefix_cache.enabled && spec_.prefix_cache.host_tier_gib_per_gpu > host_gib) {
      rep_.notes.push_back(fmt::format(
          "pool {}: prefix_cache.host_tier_gib_per_gpu {:g} GiB capped at the {:g} GiB of host "
          "DRAM per GPU of {} (data/gpus.yaml)",
          ps.name, spec_.prefix_cache.host_tier_gib_per_gpu, host_gib, ps.gpu_id));
    }
    c.prefix_cache = spec_.prefix_cache.enabled;
    c.hash_block_tokens = hash_block_tokens_;
    c.host_tier_blocks = static_cast<std::uint64_t>(tier_gib * kGiB) / c.block_bytes_per_gpu;
    if (spec_.preemption == PreemptionMode::kSwap) {
      c.swap_capacity_blocks =
          static_cast<std::uint64_t>((host_gib - tier_gib) * kGiB) / c.block_bytes_per_gpu;
    }
    if (c.prefix_cache && hash_block_tokens_ % B != 0) {
      problems.push_back(input_problem(
          sc_, ps.line, "pools." + ps.name + ".memory.block_tokens", std::to_string(B),
          fmt::format("expected a divisor of the prefix hash block ({} tokens)",
                      hash_block_tokens_)));
    }
    c.swa_window_tokens = p.swa_window;
    c.swa_block_ratio = p.swa_ratio;
    c.role = ds.enabled && listed(ds.prefill_pools, ps.name)  ? ReplicaRole::kPrefill
             : ds.enabled && listed(ds.decode_pools, ps.name) ? ReplicaRole::kDecode
                                                              : ReplicaRole::kMixed;
    p.latency = std::make_unique<LatencyModel>(
        *p.gpu, *p.model, *p.footprint, ps.weights, ps.tensor_parallel, sc_.analytical,
        spec_.timing, spec_.power, profile, profile_gpu, c.max_batched_tokens + c.max_num_seqs,
        steps ? &*steps : nullptr, &catalog.latency(), ps.parallel);
    p.replicas = ps.replicas();
    pools_.push_back(std::move(p));
  }
  if (!problems.empty()) throw InputError(problems);
  for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
    Pool& p = pools_[pi];
    p.first_replica = static_cast<std::uint32_t>(replicas_.size());
    for (std::uint32_t i = 0; i < p.replicas; ++i) {
      const auto id = static_cast<std::uint32_t>(replicas_.size());
      replicas_.push_back(
          std::make_unique<Replica>(id, pi, p.cfg, *p.latency, reqs_, events_, *this));
    }
  }
  memberships_.resize(replicas_.size());
  transfers_.assign(pools_.size(), 0);
}

void Fleet::build_workload() {
  const TimeNs end = spec_.duration_ns;
  if (spec_.has_trace) {
    const auto& t = spec_.trace;
    traces_.push_back(std::make_unique<Trace>(
        load_named_trace(sc_, t.path, t.resolved_path, t.path_line,
                         "simulation.workload.trace.path", t.format, t.malformed)));
    const Trace& tr = *traces_.back();
    rep_.trace_lines_skipped = tr.skipped_lines;
    if (tr.skipped_lines > 0) {
      rep_.notes.push_back(
          fmt::format("{} malformed trace lines skipped (malformed: skip), the first at line {}",
                      tr.skipped_lines, tr.first_skipped_line));
    }
    if (tr.resorted) {
      rep_.notes.push_back(fmt::format(
          "the trace was not in time order (request {} arrives before the one above it) and was "
          "sorted by arrival time",
          tr.first_unsorted_row + 1));
    }
    // TraceSource stops at the first row at or past the end of the window (scaled as it scales).
    std::uint64_t within = 0;
    for (const auto& row : tr.rows) {
      if (!(static_cast<double>(row.arrival_ns) * t.time_scale <
            static_cast<double>(spec_.duration_ns)))
        break;
      ++within;
    }
    if (within < tr.rows.size()) {
      rep_.notes.push_back(fmt::format(
          "the trace holds {} requests over {:.1f} s; duration_s {:g} replays the first {} "
          "(raise duration_s to replay it all)",
          tr.rows.size(), static_cast<double>(tr.rows.back().arrival_ns) * t.time_scale * 1e-9,
          static_cast<double>(spec_.duration_ns) * 1e-9, within));
    }
    sources_.push_back(std::make_unique<TraceSource>(*traces_.back(), t, seed_, end));
    source_class_.push_back(0);
    class_names_.push_back(t.class_name);
    slos_.push_back(t.slo);
    rep_.workload = t.path;
    return;
  }
  rep_.workload = "classes";
  for (std::uint32_t i = 0; i < spec_.classes.size(); ++i) {
    const auto& c = spec_.classes[i];
    const Trace* lengths = nullptr;
    if (!c.lengths_trace_path.empty()) {
      traces_.push_back(std::make_unique<Trace>(load_named_trace(
          sc_, c.lengths_trace_path, c.lengths_trace_path, c.lengths_trace_line,
          "simulation.workload.classes[" + std::to_string(i) + "].lengths_from_trace.path",
          c.lengths_trace_format, MalformedPolicy::kSkip)));
      lengths = traces_.back().get();
    }
    closed_loop_source_.resize(i + 1, -1);
    if (c.arrival.concurrency > 0) closed_loop_source_[i] = static_cast<std::int32_t>(i);
    sources_.push_back(
        std::make_unique<SyntheticSource>(c, i, seed_, end, hash_block_tokens_, lengths));
    source_class_.push_back(i);
    class_names_.push_back(c.name);
    slos_.push_back(c.slo);
  }
}

std::uint32_t Fleet::router_for(std::vector<Replica*> candidates) {
  for (std::uint32_t i = 0; i < routers_.size(); ++i) {
    if (routers_[i]->candidates() == candidates) return i;
  }
  const auto index = static_cast<std::uint32_t>(routers_.size());
  for (std::uint32_t pos = 0; pos < candidates.size(); ++pos) {
    memberships_[candidates[pos]->id()].emplace_back(index, pos);
  }
  routers_.push_back(std::make_unique<Router>(spec_.router, std::move(candidates), seed_, index));
  return index;
}

void Fleet::build_routes() {
  const auto& ds = spec_.disaggregation;
  for (std::uint32_t ci = 0; ci < class_names_.size(); ++ci) {
    const std::vector<std::string>& names =
        spec_.has_trace ? spec_.trace.pools : spec_.classes[ci].pools;
    std::vector<Replica*> entry, decode;
    for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
      const Pool& p = pools_[pi];
      const bool eligible =
          names.empty() || std::find(names.begin(), names.end(), p.spec->name) != names.end();
      const bool is_decode = p.cfg.role == ReplicaRole::kDecode;
      if (is_decode && (names.empty() || eligible || ds.enabled)) {
        for (std::uint32_t i = 0; i < p.replicas; ++i)
          decode.push_back(replicas_[p.first_replica + i].get());
      } else if (eligible && !is_decode) {
        for (std::uint32_t i = 0; i < p.replicas; ++i)
          entry.push_back(replicas_[p.first_replica + i].get());
      }
    }
    ClassRoute r;
    r.entry_router = entry.empty() ? ~0u : router_for(std::move(entry));
    if (ds.enabled && !decode.empty())
      r.decode_router = static_cast<std::int32_t>(router_for(std::move(decode)));
    routes_.push_back(r);
  }
  const TimeNs w1 = spec_.duration_ns;
  for (std::uint32_t ci = 0; ci < class_names_.size(); ++ci) {
    for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
      groups_.push_back(
          std::make_unique<GroupCollector>(slos_[ci], spec_.warmup_ns, w1, hash_block_tokens_));
      if (!spec_.has_trace && spec_.classes[ci].arrival.offline_requests > 0)
        groups_.back()->set_offline(true);
      if (!spec_.has_trace && spec_.classes[ci].arrival.concurrency > 0)
        groups_.back()->set_closed_loop(spec_.warmup_ns);
    }
  }
  // A class with no pool gets a group on pool 0 to count its rejections.
  if (pools_.empty())
    throw InputError(input_problem(sc_, 0, "pools", "", "expected at least one pool that fits"));
}

void Fleet::schedule_next_arrival(std::uint32_t source) {
  if (sources_[source]->next(pending_[source])) {
    events_.push(pending_[source].time_ns, kEvArrival, source, 0, kPrioArrival);
  }
}

// A closed-loop client whose request just finished (or was refused) sends its next one now, as
// benchmark_serving's clients do; the arrival is an event so that it lands after the step that
// finished the request has formed the next batch (the response has to reach the client first).
void Fleet::client_turn(const Request& r, TimeNs now) {
  if (r.class_index >= closed_loop_source_.size()) return;
  const std::int32_t source = closed_loop_source_[r.class_index];
  if (source < 0 || now >= spec_.duration_ns) return;
  events_.push(now, kEvArrival, static_cast<std::uint32_t>(source), 0, kPrioArrival);
}

void Fleet::record_row(const Request& r, RequestRow::Status status, TimeNs finish_ns) {
  if (!r.sampled) return;
  RequestRow row;
  row.id = r.id;
  row.class_index = r.class_index;
  row.pool = r.entry_pool;
  row.replica = r.replica - pools_[replicas_[r.replica]->pool()].first_replica;
  row.arrival_ns = r.arrival_ns;
  row.first_scheduled_ns = r.first_scheduled_ns;
  row.first_token_ns = r.first_token_ns;
  row.finish_ns = finish_ns;
  row.input_tokens = r.input_tokens;
  row.output_tokens = r.output_tokens;
  row.prefix_hit_tokens = r.prefix_hit_tokens;
  row.preemptions = r.preemptions;
  row.status = status;
  rep_.requests.push_back(row);
}

void Fleet::arrival(std::uint32_t source, TimeNs now) {
  const bool closed_loop = source_class_[source] < closed_loop_source_.size() &&
                           closed_loop_source_[source_class_[source]] >= 0;
  if (closed_loop) {
    if (!sources_[source]->next(pending_[source])) return;  // the clients' requests are spent
    pending_[source].time_ns = now;
  }
  const Arrival& a = pending_[source];
  const std::uint32_t slot = reqs_.allocate();
  Request& r = reqs_[slot];
  r.id = next_id_++;
  r.arrival_ns = now;
  r.input_tokens = a.input_tokens;
  r.output_tokens = a.output_tokens;
  r.prefill_target = a.input_tokens;
  r.hashes = a.hashes;
  r.hash_blocks = a.hash_blocks;
  r.prefix_key = a.prefix_key;
  r.shared_blocks = a.shared_blocks;
  r.class_index = source_class_[source];
  r.counted = now >= spec_.warmup_ns;
  r.sampled = spec_.metrics.per_request == MetricsSpec::PerRequest::kAll ||
              (spec_.metrics.per_request == MetricsSpec::PerRequest::kSampled &&
               mix64(seed_ ^ (r.id * 0xD1B54A32D192ED03ull)) < sample_threshold_);
  ++rep_.requests_arrived;
  rep_.input_tokens_arrived += a.input_tokens;
  rep_.output_tokens_arrived += a.output_tokens;

  const ClassRoute& route = routes_[r.class_index];
  Replica* target = nullptr;
  if (route.entry_router != ~0u) {
    std::optional<std::uint64_t> first_hash;
    if (r.hash_blocks > 0) first_hash = r.hashes ? r.hashes[0] : mix64(r.prefix_key);
    target = routers_[route.entry_router]->pick(first_hash);
    r.entry_pool = target->pool();
    r.replica = target->id();
  }
  // A request longer than the model's context window (a 200k-token prompt on a 128k model) is
  // something no server would run: refuse it or shorten its prompt, and count either.
  bool over_context = false;
  if (target != nullptr) {
    const std::uint64_t max_ctx = pools_[target->pool()].model->max_context_tokens;
    if (max_ctx > 0 && std::uint64_t{r.input_tokens} + r.output_tokens > max_ctx) {
      ++rep_.requests_over_context;
      if (spec_.over_context == SimulationSpec::OverContext::kTruncate &&
          r.output_tokens < max_ctx) {
        r.input_tokens = static_cast<std::uint32_t>(max_ctx - r.output_tokens);
        r.prefill_target = r.input_tokens;
        const auto blocks = static_cast<std::uint32_t>(r.input_tokens / hash_block_tokens_);
        r.hash_blocks = std::min(r.hash_blocks, blocks);
        r.shared_blocks = std::min(r.shared_blocks, blocks);
        ++rep_.requests_truncated;
      } else {
        over_context = true;
      }
    }
    r.swa_blocks = swa_blocks(pools_[target->pool()], r);
  }
  GroupCollector& g = group(r);
  g.arrived(r);
  if (target == nullptr || over_context || !target->fits(r)) {
    // Longer than the whole KV capacity (or no pool serves the class): a domain outcome,
    // counted, never queued forever.
    g.rejected(r);
    ++rep_.requests_rejected;
    record_row(r, RequestRow::Status::kRejected, -1);
    client_turn(r, now);
    reqs_.release(slot);
  } else {
    target->enqueue(slot, now);
  }
  if (!closed_loop) schedule_next_arrival(source);
}

void Fleet::on_finished(std::uint32_t slot, TimeNs now) {
  Request& r = reqs_[slot];
  group(r).finished(r, now);
  ++rep_.requests_finished;
  ++finished_;
  record_row(r, RequestRow::Status::kFinished, now);
  client_turn(r, now);
  reqs_.release(slot);
}

void Fleet::on_handoff(std::uint32_t slot, TimeNs now) {
  Request& r = reqs_[slot];
  const ClassRoute& route = routes_[r.class_index];
  Replica& from = *replicas_[r.replica];
  const Pool& fp = pools_[from.pool()];
  Replica* to = route.decode_router >= 0
                    ? routers_[static_cast<std::size_t>(route.decode_router)]->pick(std::nullopt)
                    : nullptr;
  if (to != nullptr) r.swa_blocks = swa_blocks(pools_[to->pool()], r);
  if (to == nullptr || !to->fits(r)) {
    group(r).rejected(r);
    ++rep_.requests_rejected;
    from.release_transferred(slot, now);
    record_row(r, RequestRow::Status::kRejected, -1);
    client_turn(r, now);
    reqs_.release(slot);
    return;
  }
  // Each GPU of the prefill replica sends its shard in parallel over its own link.
  const std::uint64_t bytes_per_gpu =
      ((r.prefilled + fp.cfg.block_tokens - 1) / fp.cfg.block_tokens) * fp.cfg.block_bytes_per_gpu;
  const double link_bytes_per_s = spec_.disaggregation.link == DisaggregationSpec::Link::kScaleup
                                      ? fp.gpu->scaleup_link_gbps.value.value_or(64.0) * 1e9 / 2.0
                                      : spec_.disaggregation.network_gbps * 1e9;
  const auto t = static_cast<TimeNs>(static_cast<double>(bytes_per_gpu) / link_bytes_per_s * 1e9);
  events_.push(now + t, kEvKvTransferDone, to->id(), slot, kPrioTransfer);
}

void Fleet::sample(TimeNs now) {
  for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
    const Pool& p = pools_[pi];
    TimeSample s;
    s.time_ns = now;
    s.pool = pi;
    const std::uint64_t bb = p.cfg.block_bytes_per_gpu;
    std::uint64_t kv_used = 0, cache = 0, host = 0, swap = 0;
    for (std::uint32_t i = 0; i < p.replicas; ++i) {
      const Replica& r = *replicas_[p.first_replica + i];
      kv_used += r.used_private_blocks();
      cache += r.cache_gpu_blocks();
      host += r.cache_host_blocks();
      swap += r.swap_blocks();
      s.running += r.running();
      s.waiting += r.waiting();
    }
    const std::uint64_t gpus = std::uint64_t{p.replicas} * p.cfg.gpus;
    s.kv_used_bytes = kv_used * bb * p.cfg.gpus;
    s.kv_capacity_bytes = p.cfg.capacity_blocks * bb * gpus;
    s.hbm_weight_bytes = p.memory.weight_bytes_per_gpu * gpus;
    s.hbm_kv_bytes = (kv_used + cache) * bb * p.cfg.gpus;
    const std::uint64_t usable = p.memory.hbm_usable_bytes_per_gpu * gpus;
    const std::uint64_t taken =
        s.hbm_weight_bytes + p.memory.reserve_bytes_per_gpu * gpus + s.hbm_kv_bytes;
    s.hbm_free_bytes = usable > taken ? usable - taken : 0;
    s.host_swap_bytes = swap * bb * p.cfg.gpus;
    s.host_prefix_bytes = host * bb * p.cfg.gpus;
    rep_.timeseries.push_back(s);
  }
}

SimulationReport Fleet::run(const SimulationProgressFn& progress) {
  const auto wall0 = std::chrono::steady_clock::now();
  sample_threshold_ = static_cast<std::uint64_t>(std::min(1.0, spec_.metrics.sample_fraction) *
                                                 18446744073709551615.0);
  pending_.resize(sources_.size());
  for (std::uint32_t s = 0; s < sources_.size(); ++s) {
    const std::uint32_t ci = source_class_[s];
    if (ci < closed_loop_source_.size() && closed_loop_source_[ci] >= 0) {
      // Every client sends its first request at t = 0.
      for (std::uint32_t k = 0; k < spec_.classes[ci].arrival.concurrency; ++k)
        events_.push(0, kEvArrival, s, 0, kPrioArrival);
    } else {
      schedule_next_arrival(s);
    }
  }
  const TimeNs stop = spec_.drain ? spec_.duration_ns + spec_.max_drain_ns : spec_.duration_ns;
  const TimeNs interval = spec_.metrics.interval_ns;
  if (interval > 0) events_.push(0, kEvSample, 0, 0, kPrioSample);

  std::uint64_t fp = 0xcbf29ce484222325ull;
  std::uint64_t count = 0;
  TimeNs now = 0;
  TimeNs last_activity = 0;  // samples do not extend the simulated span
  bool cut_short = false;
  Event ev;
  while (events_.pop(ev)) {
    if (ev.time_ns > stop) {
      cut_short = true;
      break;
    }
    now = ev.time_ns;
    if (ev.type != kEvSample) last_activity = now;
    ++count;
    fp = (fp ^ static_cast<std::uint64_t>(ev.time_ns)) * 0x100000001b3ull;
    fp = (fp ^ ((std::uint64_t{ev.type} << 32) | ev.entity)) * 0x100000001b3ull;
    switch (ev.type) {
      case kEvStepEnd:
        replicas_[ev.entity]->on_step_end(now);
        break;
      case kEvArrival:
        arrival(ev.entity, now);
        break;
      case kEvKvTransferDone: {
        const auto slot = static_cast<std::uint32_t>(ev.payload);
        Request& r = reqs_[slot];
        ++transfers_[replicas_[r.replica]->pool()];
        replicas_[r.replica]->release_transferred(slot, now);
        r.kv_ready = true;
        replicas_[ev.entity]->enqueue(slot, now);
        break;
      }
      case kEvSample:
        sample(now);
        if (!events_.empty() && now + interval <= stop)
          events_.push(now + interval, kEvSample, 0, 0, kPrioSample);
        break;
      default:
        throw std::logic_error("unknown event type");
    }
    if (progress && (count & 0xFFFF) == 0) {
      progress(std::min(1.0, static_cast<double>(now) / static_cast<double>(spec_.duration_ns)),
               finished_);
    }
  }
  // The run spans the arrivals window, plus the drain when there is one (an event past `stop`
  // means the drain was cut short at `stop`). A fleet fed only by closed-loop clients has no
  // window of its own: it ends with its last event (utilization and energy are over that span).
  bool all_closed = !closed_loop_source_.empty();
  for (std::int32_t s : closed_loop_source_) all_closed = all_closed && s >= 0;
  rep_.end_ns = cut_short    ? stop
                : all_closed ? last_activity
                             : std::max(spec_.duration_ns, last_activity);

  // Whatever is still queued or running did not finish in time.
  for (std::uint32_t slot = 0; slot < reqs_.capacity(); ++slot) {
    const Request& r = reqs_[slot];
    if (r.state == RequestState::kFree) continue;
    group(r).unfinished(r);
    ++rep_.requests_unfinished;
    record_row(r, RequestRow::Status::kUnfinished, -1);
  }
  for (auto& r : replicas_) r->finish_stats(rep_.end_ns);
  if (cut_short && spec_.drain && rep_.requests_unfinished > 0) {
    rep_.notes.push_back(fmt::format(
        "the drain stopped at max_drain_s ({:g} s after the arrivals window) with {} requests "
        "unfinished",
        static_cast<double>(spec_.max_drain_ns) * 1e-9, rep_.requests_unfinished));
  }

  if (rep_.requests_over_context > 0) {
    rep_.notes.push_back(fmt::format(
        "{} requests were longer than their model's maximum context (prompt + output); {}",
        rep_.requests_over_context,
        rep_.requests_truncated == rep_.requests_over_context
            ? "their prompts were shortened to fit (over_context: truncate)"
        : rep_.requests_truncated > 0
            ? fmt::format("{} had their prompts shortened to fit, the rest (whose output alone "
                          "does not fit) were rejected",
                          rep_.requests_truncated)
            : std::string("they were rejected (over_context: reject)")));
  }
  rep_.seed = seed_;
  rep_.duration_ns = spec_.duration_ns;
  rep_.warmup_ns = spec_.warmup_ns;
  rep_.router = to_string(spec_.router);
  rep_.preemption = spec_.preemption == PreemptionMode::kSwap ? "swap" : "recompute";
  rep_.events = count;
  rep_.fingerprint = fp;
  rep_.class_names = class_names_;
  const double span_ns = static_cast<double>(rep_.end_ns);
  for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
    const Pool& p = pools_[pi];
    PoolMetrics m;
    m.name = p.spec->name;
    m.gpu_id = p.gpu->id;
    m.model_id = p.model->id;
    m.kv_format = p.kv.name();
    m.latency_source = p.latency->calibration_source();
    m.kv_speed_source = p.latency->kv_calibration().source;
    m.role = p.cfg.role == ReplicaRole::kPrefill  ? "prefill"
             : p.cfg.role == ReplicaRole::kDecode ? "decode"
                                                  : "mixed";
    m.replicas = p.replicas;
    m.gpus = p.replicas * p.cfg.gpus;
    m.tensor_parallel = p.cfg.gpus;
    m.hbm_bytes_per_gpu = p.memory.hbm_usable_bytes_per_gpu;
    m.weight_bytes_per_gpu = p.memory.weight_bytes_per_gpu;
    m.kv_capacity_bytes_per_gpu = p.cfg.capacity_blocks * p.cfg.block_bytes_per_gpu;
    m.host_tier_capacity_bytes_per_gpu = p.cfg.host_tier_blocks * p.cfg.block_bytes_per_gpu;
    m.kv_transfers = transfers_[pi];
    double batch_area = 0, kv_area = 0, q_area = 0, q_delay = 0;
    std::uint64_t visits = 0;
    for (std::uint32_t i = 0; i < p.replicas; ++i) {
      const ReplicaStats& st = replicas_[p.first_replica + i]->stats();
      m.steps += st.steps;
      m.busy_ns += st.busy_ns;
      m.energy_j += st.busy_energy_j + p.latency->idle_power_w_per_gpu() * p.cfg.gpus *
                                           (span_ns - static_cast<double>(st.busy_ns)) * 1e-9;
      m.preemptions += st.preemptions;
      m.swaps_out += st.swaps_out;
      m.swaps_in += st.swaps_in;
      m.swap_bytes += st.swap_bytes;
      m.output_tokens += st.output_tokens;
      m.peak_kv_occupancy = std::max(m.peak_kv_occupancy, st.peak_kv_fraction);
      batch_area += st.batch_seq_area;
      kv_area += st.kv_area;
      q_area += st.queue_area;
      q_delay += st.queue_delay_ns;
      visits += st.queue_visits;
    }
    rep_.steps += m.steps;
    if (p.replicas > 0 && span_ns > 0) {
      m.utilization = static_cast<double>(m.busy_ns) / (span_ns * p.replicas);
      m.mean_kv_occupancy =
          kv_area / (span_ns * p.replicas * static_cast<double>(p.cfg.capacity_blocks));
      m.mean_queue_length = q_area / span_ns;
      m.arrival_rate_per_s = static_cast<double>(visits) / (span_ns * 1e-9);
    }
    if (m.busy_ns > 0) m.mean_batch_sequences = batch_area / static_cast<double>(m.busy_ns);
    if (visits > 0) m.mean_queue_delay_ns = q_delay / static_cast<double>(visits);
    rep_.pools.push_back(m);
  }
  for (std::uint32_t ci = 0; ci < class_names_.size(); ++ci) {
    for (std::uint32_t pi = 0; pi < pools_.size(); ++pi) {
      const auto& g = *groups_[ci * pools_.size() + pi];
      if (!g.empty()) rep_.groups.push_back(g.report(class_names_[ci], pools_[pi].spec->name));
    }
  }
  rep_.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (progress) progress(1.0, finished_);
  return std::move(rep_);
}

}  // namespace

std::vector<TraceSummary> check_simulation_traces(const Scenario& scenario) {
  std::vector<TraceSummary> out;
  if (!scenario.simulation) return out;
  const SimulationSpec& spec = *scenario.simulation;
  auto add = [&out](const std::string& path, const Trace& t) {
    TraceSummary x;
    x.path = path;
    x.requests = t.rows.size();
    x.skipped_lines = t.skipped_lines;
    x.resorted = t.resorted;
    x.span_ns = t.rows.back().arrival_ns;
    out.push_back(x);
  };
  if (spec.has_trace) {
    const auto& t = spec.trace;
    add(t.resolved_path, load_named_trace(scenario, t.path, t.resolved_path, t.path_line,
                                          "simulation.workload.trace.path", t.format, t.malformed));
  }
  for (std::size_t i = 0; i < spec.classes.size(); ++i) {
    const auto& c = spec.classes[i];
    if (c.lengths_trace_path.empty()) continue;
    add(c.lengths_trace_path,
        load_named_trace(
            scenario, c.lengths_trace_path, c.lengths_trace_path, c.lengths_trace_line,
            "simulation.workload.classes[" + std::to_string(i) + "].lengths_from_trace.path",
            c.lengths_trace_format, MalformedPolicy::kSkip));
  }
  return out;
}

SimulationMemoryEstimate estimate_simulation_memory(const Scenario& scenario,
                                                    const Catalog* catalog) {
  SimulationMemoryEstimate e;
  if (!scenario.simulation) return e;
  const SimulationSpec& spec = *scenario.simulation;
  const double duration_s = static_cast<double>(spec.duration_ns) / 1e9;
  double replicas = 0;
  for (const auto& p : scenario.pools) replicas += p.replicas();

  // Expected arrivals: the mean rate over the window (diurnal profiles keep the daily mean; the
  // busiest weekday and every spike count in full), or, for a trace, the most rows its file can
  // hold (its size over the shortest line of its format), duplicated by rate_scale.
  double requests = 0, trace_bytes = 0;
  auto trace_bound = [&](const std::string& path, const std::string& format, double copies) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return;
    // Shortest lines: "0,1,1\n" (csv, 6 bytes), a 19-byte timestamp and two digits (azure, 24),
    // {"timestamp":0,"input_length":1,"output_length":1} (mooncake, 48). Each row is held as a
    // TraceRow, each Mooncake hash id (2 bytes of text at least) as 8 bytes, in vectors that may
    // have doubled past their size.
    const double min_line = format == "csv" ? 6 : format == "mooncake" ? 48 : 24;
    const double rows = static_cast<double>(size) / min_line;
    const double hashes = format == "mooncake" ? static_cast<double>(size) / 2 : 0;
    trace_bytes += 2 * (rows * sizeof(TraceRow) + hashes * sizeof(std::uint64_t)) + (1 << 20);
    requests += rows * std::ceil(copies);
  };
  if (spec.has_trace)
    trace_bound(spec.trace.resolved_path, spec.trace.format, std::max(1.0, spec.trace.rate_scale));
  for (const auto& c : spec.classes) {
    const auto& a = c.arrival;
    double weekly = 1;
    for (double w : a.weekly) weekly = std::max(weekly, w);
    // A diurnal profile keeps the daily mean, but a window shorter than a day can sit at the
    // peak: count the peak rate (peak_to_trough ≥ 1 makes the peak at most twice the mean).
    const double diurnal = a.diurnal && a.peak_to_trough > 1 ? 2 : 1;
    double n = a.offline_requests > 0 ? static_cast<double>(a.offline_requests)
               : a.concurrency > 0    ? static_cast<double>(a.closed_loop_requests)
                                      : a.rate_per_s * weekly * diurnal * duration_s;
    for (const auto& sp : a.spikes) {
      const double end =
          std::min(static_cast<double>(sp.start_ns) + static_cast<double>(sp.duration_ns),
                   static_cast<double>(spec.duration_ns));
      const double overlap = std::max(0.0, end - static_cast<double>(sp.start_ns));
      if (sp.multiplier > 1)
        n += a.rate_per_s * weekly * diurnal * (sp.multiplier - 1) * overlap / 1e9;
    }
    // Poisson and gamma counts scatter around the mean: allow 5 % and 6 standard deviations.
    requests += n * 1.05 + 6 * std::sqrt(n) * std::max(1.0, a.cv) + 16;
    if (!c.lengths_trace_path.empty()) {
      const double before = requests;
      trace_bound(c.lengths_trace_path, c.lengths_trace_format, 1);
      requests = before;  // a lengths trace adds memory, not arrivals
    }
  }
  e.expected_requests = requests;

  using MP = MetricsSpec::PerRequest;
  const double kept = spec.metrics.per_request == MP::kAll       ? 1.0
                      : spec.metrics.per_request == MP::kSampled ? spec.metrics.sample_fraction
                                                                 : 0.0;
  // Rows, samples and request slots live in vectors that double as they grow: up to twice
  // their size is allocated, and the old buffer is still held while the new one fills.
  const double rows = requests * kept;
  const double samples = spec.metrics.interval_ns > 0
                             ? static_cast<double>(scenario.pools.size()) *
                                   (static_cast<double>(spec.duration_ns + spec.max_drain_ns) /
                                        static_cast<double>(spec.metrics.interval_ns) +
                                    2)
                             : 0;
  // Every request may be in flight at once: an overloaded fleet queues whatever it cannot serve
  // (a run was killed when queues it did not count reached 1.2 GiB). A request holds its slot,
  // its place in a waiting queue, its running-batch entries and its events.
  constexpr double kPerRequestExtraBytes = 64;
  const double in_flight = requests;
  // A replica's own allocations beyond sizeof: two deques (a 512-byte node and a map each),
  // router and membership entries, its step event.
  constexpr double kReplicaExtraBytes = 4096;
  double replica_bytes = replicas * (sizeof(Replica) + kReplicaExtraBytes);
  // The prefix cache holds an entry and a hash-map node per cached hash block, at most the
  // replica's KV blocks plus its host tier.
  double cache_bytes = 0;
  if (catalog && spec.prefix_cache.enabled) {
    const std::uint64_t hash_tokens = spec.has_trace ? spec.trace.hash_block_tokens : 512;
    for (const auto& ps : scenario.pools) {
      const GpuSpec* gpu = catalog->find_gpu(ps.gpu_id);
      const ModelSpec* model = catalog->find_model(ps.model_id);
      if (!gpu || !model) continue;
      const ReplicaMemory m =
          plan_replica_memory(*gpu, *model, ps.tensor_parallel, ps.weights, ps.memory, ps.parallel);
      if (!m.fits()) continue;
      const KvConfig kv = ps.kv_formats.empty()
                              ? (scenario.kv_formats.empty() ? KvConfig::parse("bf16")
                                                             : scenario.kv_formats.front())
                              : ps.kv_formats.front();
      const KvFootprint fp(*model, kv, ps.tensor_parallel);
      // The smallest format gives the most tokens, hence the most cache entries.
      double per_token = static_cast<double>(fp.bytes_per_token_per_gpu());
      for (const auto& f : ps.kv_formats.empty() ? scenario.kv_formats : ps.kv_formats)
        per_token = std::min(
            per_token, static_cast<double>(
                           KvFootprint(*model, f, ps.tensor_parallel).bytes_per_token_per_gpu()));
      per_token = std::max(per_token, 1.0);
      const double host_gib = gpu->host_dram_per_gpu_gib.value.value_or(0.0);
      const double tier_gib = std::min(spec.prefix_cache.host_tier_gib_per_gpu, host_gib);
      const double tokens = (static_cast<double>(m.kv_bytes_per_gpu) + tier_gib * kGiB) / per_token;
      constexpr double kEntryBytes = 160;
      cache_bytes += ps.replicas() * tokens / static_cast<double>(hash_tokens) * kEntryBytes;
    }
  }
  // The executable, its libraries, the catalogs and SQLite's page cache before any of the above.
  constexpr double kProcessBytes = 96.0 * 1024 * 1024;
  const double row_bytes = 2 * rows * sizeof(RequestRow);
  const double sample_bytes = 2 * samples * sizeof(TimeSample);
  const double in_flight_bytes =
      2 * in_flight * (sizeof(Request) + sizeof(std::uint32_t)) + in_flight * kPerRequestExtraBytes;
  replica_bytes += cache_bytes;
  e.bytes =
      kProcessBytes + replica_bytes + row_bytes + sample_bytes + in_flight_bytes + trace_bytes;
  auto gib = [](double b) { return fmt::format("{:.2f} GiB", b / kGiB); };
  e.breakdown = fmt::format(
      "{:.3g} replicas{}: {}; up to {:.3g} requests in flight (an overloaded fleet queues them "
      "all): {}; {:.3g} per-request rows: {}; {:.3g} time-series samples: {}; traces: {}; the "
      "process itself: {}",
      replicas, cache_bytes > 0 ? " with their prefix caches" : "", gib(replica_bytes), in_flight,
      gib(in_flight_bytes), rows, gib(row_bytes), samples, gib(sample_bytes), gib(trace_bytes),
      gib(kProcessBytes));
  return e;
}

double available_memory_bytes() {
  if (const char* v = std::getenv("JEVONS_MEMORY_AVAILABLE_BYTES"); v && *v) return std::atof(v);
  double avail = -1;
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
        avail = static_cast<double>(kb) * 1024;
    std::fclose(f);
  }
  if (avail < 0) {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) avail = static_cast<double>(pages) * static_cast<double>(page);
  }
  // A container's cgroup (v2) limit binds before the machine's memory does.
  auto read_number = [](const char* path) -> double {
    std::FILE* f = std::fopen(path, "r");
    if (!f) return -1;
    unsigned long long v = 0;
    const bool ok = std::fscanf(f, "%llu", &v) == 1;  // "max" (no limit) fails to scan
    std::fclose(f);
    return ok ? static_cast<double>(v) : -1;
  };
  const double limit = read_number("/sys/fs/cgroup/memory.max");
  const double used = read_number("/sys/fs/cgroup/memory.current");
  if (limit > 0 && used >= 0) {
    const double left = std::max(0.0, limit - used);
    avail = avail < 0 ? left : std::min(avail, left);
  }
  return avail < 0 ? std::numeric_limits<double>::infinity() : avail;
}

SimulationReport simulate(const Scenario& scenario, const Catalog& catalog,
                          const std::optional<Profile>& profile,
                          const SimulationProgressFn& progress) {
  if (!scenario.simulation) {
    throw std::logic_error("simulate() called on a scenario without a simulation section");
  }
  const SimulationMemoryEstimate need = estimate_simulation_memory(scenario, &catalog);
  const double avail = available_memory_bytes();
  if (need.bytes > avail) {
    Diagnostic d;
    d.file = scenario.path;
    d.key = "simulation";
    d.message = fmt::format(
        "this simulation would need about {:.1f} GiB of memory ({}), more than the {:.1f} GiB "
        "available; shorten duration_s, lower the arrival rate (or the trace's rate_scale), use "
        "fewer replicas, raise metrics.interval_s or set metrics.per_request to sampled or off",
        need.bytes / kGiB, need.breakdown, avail / kGiB);
    throw InputError(d);
  }
  Fleet fleet(scenario, catalog, profile);
  return fleet.run(progress);
}

void print_summary(std::ostream& out, const SimulationReport& r) {
  out << fmt::format(
      "Simulation: {:.1f} s simulated ({:.1f} s arrivals) in {:.2f} s wall, {} events, {} steps\n",
      static_cast<double>(r.end_ns) * 1e-9, static_cast<double>(r.duration_ns) * 1e-9, r.wall_s,
      r.events, r.steps);
  out << fmt::format(
      "Requests: {} arrived, {} finished, {} rejected, {} unfinished{}{}\n", r.requests_arrived,
      r.requests_finished, r.requests_rejected, r.requests_unfinished,
      r.requests_over_context ? fmt::format(" ({} over the model's context, {} truncated)",
                                            r.requests_over_context, r.requests_truncated)
                              : "",
      r.trace_lines_skipped
          ? fmt::format(" ({} malformed trace lines skipped)", r.trace_lines_skipped)
          : "");
  for (const auto& n : r.notes) out << "Note: " << n << "\n";
  out << fmt::format(
      "{:<14} {:<12} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>10} {:>9} {:>7} {:>6}\n", "class",
      "pool", "finished", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "E2E p99", "queue p99",
      "tok/s", "goodput/s", "preempt", "prefix");
  // A latency no request measured is "-", never "0 ms" (which reads as instant service).
  const auto ms = [](const LatencySummary& l, double v, int width, int decimals) {
    return l.count == 0 ? fmt::format("{:>{}}", "-", width + 2)
                        : fmt::format("{:>{}.{}f}ms", v * 1e-6, width, decimals);
  };
  for (const auto& g : r.groups) {
    out << fmt::format("{:<14} {:<12} {:>8} {} {} {} {} {} {} {:>10.0f} {:>9.2f} {:>7} {:>5.1f}%\n",
                       g.class_name, g.pool_name, g.finished, ms(g.ttft, g.ttft.p50_ns, 7, 0),
                       ms(g.ttft, g.ttft.p99_ns, 7, 0), ms(g.tpot, g.tpot.p50_ns, 7, 1),
                       ms(g.tpot, g.tpot.p99_ns, 6, 1),
                       g.e2e.count == 0 ? fmt::format("{:>8}", "-")
                                        : fmt::format("{:>7.1f}s", g.e2e.p99_ns * 1e-9),
                       ms(g.queue, g.queue.p99_ns, 8, 0), g.throughput_tokens_per_s,
                       g.goodput_requests_per_s, g.preemptions, 100 * g.prefix_hit_rate);
  }
  out << fmt::format(
      "{:<12} {:<10} {:<16} {:<8} {:>5} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10}\n", "pool",
      "gpu", "model", "kv", "GPUs", "util", "batch", "KV mean", "KV peak", "preempt", "swaps",
      "energy kWh");
  for (const auto& p : r.pools) {
    out << fmt::format(
        "{:<12} {:<10} {:<16} {:<8} {:>5} {:>5.1f}% {:>8.1f} {:>7.1f}% {:>7.1f}% {:>8} {:>9} "
        "{:>10.2f}\n",
        p.name, p.gpu_id, p.model_id, p.kv_format, p.gpus, 100 * p.utilization,
        p.mean_batch_sequences, 100 * p.mean_kv_occupancy, 100 * p.peak_kv_occupancy, p.preemptions,
        p.swaps_out, p.energy_j / 3.6e6);
  }
  for (const auto& p : r.pools)
    out << fmt::format("{:<12} step time: {}; {} decode attention: {}\n", p.name, p.latency_source,
                       p.kv_format, p.kv_speed_source);
  out << fmt::format("Percentiles from a sketch: within {:.2f} % of the exact order statistic.\n",
                     100 * kQuantileRelativeError);
}

}  // namespace jevons
