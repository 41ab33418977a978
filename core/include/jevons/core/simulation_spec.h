#pragma once
/// \file The scenario's `simulation:` section (discrete-event simulation settings).
///
/// Owned by the simulator work; parsed by core (core/src/simulation_spec.cpp) so that scenario
/// validation stays in one place. The schema is documented in docs/simulator.md. Times are
/// integer nanoseconds once parsed; the YAML keys carry their unit (`duration_s`, `ttft_ms`).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace jevons {

/// A distribution of token counts (prompt or output length).
struct LengthDistSpec {
  enum class Kind : std::uint8_t { kFixed, kLognormal, kExponential, kUniform, kEmpirical };
  Kind kind = Kind::kFixed;
  double value = 128;                   ///< kFixed: tokens
  double mean = 128;                    ///< kLognormal, kExponential: mean tokens
  double cv = 1.0;                      ///< kLognormal: coefficient of variation (stddev / mean)
  std::uint64_t min_tokens = 1;         ///< every draw is clamped to [min_tokens, max_tokens]
  std::uint64_t max_tokens = 1u << 20;  ///< (kUniform: the range itself)
  std::vector<std::uint64_t> values;    ///< kEmpirical: equally likely values
};

/// One spike of extra load: the rate is multiplied by `multiplier` during [start, start+duration).
struct SpikeSpec {
  std::int64_t start_ns = 0;
  std::int64_t duration_ns = 0;
  double multiplier = 1;
};

/// A synthetic arrival process for one request class.
struct ArrivalSpec {
  enum class Process : std::uint8_t { kPoisson, kGamma };
  Process process = Process::kPoisson;
  double rate_per_s = 1;  ///< mean rate (for a diurnal profile: the mean over a day)
  /// > 0: MLPerf Offline — this many requests all arrive at t = 0 (rate and shape ignored), and
  /// the class's throughput is its output tokens over the time to its last completion.
  std::uint64_t offline_requests = 0;
  /// > 0: closed loop (`benchmark_serving --max-concurrency`): this many clients each issue a
  /// request at t = 0 and a new one the instant their previous one finishes or is rejected, with
  /// no think time (rate and shape ignored). Clients stop issuing after `closed_loop_requests`
  /// requests in all (0 = no limit) or at the end of the arrivals window, whichever comes first.
  /// Throughput is output tokens over the time from the warm-up to the last completion.
  std::uint32_t concurrency = 0;
  std::uint64_t closed_loop_requests = 0;
  double cv = 1;  ///< coefficient of variation of inter-arrival times (kGamma; Poisson = 1)
  bool diurnal = false;
  double peak_hour = 14;       ///< hour of day (0..24) of the daily peak
  double peak_to_trough = 1;   ///< ratio of the peak rate to the trough rate (≥ 1)
  double start_hour = 0;       ///< simulated time 0 is this hour of day
  int start_weekday = 0;       ///< 0 = Monday; indexes `weekly`
  std::vector<double> weekly;  ///< 7 day multipliers (empty = all 1)
  std::vector<SpikeSpec> spikes;
};

/// A service-level objective. A request meets it when both its TTFT and TPOT are at most these.
struct SloSpec {
  std::int64_t ttft_ns = 0;  ///< 0 = no TTFT objective
  std::int64_t tpot_ns = 0;  ///< 0 = no TPOT objective
};

/// A request class (tenant): its own arrivals, lengths and SLO.
struct RequestClassSpec {
  std::string name;
  ArrivalSpec arrival;
  LengthDistSpec input_tokens;
  LengthDistSpec output_tokens;
  /// benchmark_serving's `--ignore-eos`. true: every request generates exactly its drawn
  /// `output_tokens`. false: `output_tokens` is the request's max_tokens, and the model stops at
  /// its end-of-sequence token after `eos_output_tokens` tokens (a second, independent draw: the
  /// length the model's own answer would have) when that comes first, so a request generates
  /// min(output_tokens, eos_output_tokens).
  bool ignore_eos = true;
  LengthDistSpec eos_output_tokens;
  /// When set, (input, output) pairs are drawn jointly from this trace instead of the two
  /// distributions above (keeps the correlation a real workload has).
  std::string lengths_trace_path;  ///< resolved against the scenario's directory
  std::string lengths_trace_format = "azure";
  int lengths_trace_line = 0;  ///< line of `lengths_from_trace.path` in the scenario, for messages
  SloSpec slo;
  std::vector<std::string> pools;  ///< pools that serve the class (empty = every pool)
  /// Synthetic shared prefix: each request starts with one of `prefix_groups` shared prompts of
  /// `prefix_tokens` (a system prompt or few-shot template), so the prefix cache has something
  /// to hit. 0 = no shared prefix.
  std::uint32_t prefix_groups = 0;
  std::uint64_t prefix_tokens = 0;
  int line = 0;
};

enum class MalformedPolicy : std::uint8_t { kError, kSkip };

/// Trace replay.
struct TraceSpec {
  std::string path;              ///< as written in the scenario
  std::string resolved_path;     ///< resolved against the scenario's directory
  int path_line = 0;             ///< line of `path:` in the scenario, for messages
  std::string format = "azure";  ///< "azure", "mooncake" or "csv"
  double time_scale = 1;         ///< multiplies every timestamp (0.5 replays twice as fast)
  double rate_scale = 1;         ///< duplicates (>1) or thins (<1) requests at the same timestamps
  MalformedPolicy malformed = MalformedPolicy::kError;
  std::uint64_t hash_block_tokens = 512;  ///< tokens per Mooncake hash_id block
  std::string class_name = "trace";
  SloSpec slo;
  std::vector<std::string> pools;
};

/// How a replica decides whether a waiting request may start.
enum class AdmissionPolicy : std::uint8_t {
  /// vLLM: admit when the prompt's blocks fit (above the watermark); decoders take a block as
  /// they need one, and the newest request is preempted when none is left.
  kOptimistic,
  /// TensorRT-LLM GUARANTEED_NO_EVICT: admit only when the blocks for the prompt and the whole
  /// output fit, and reserve them at admission, so a running request never waits for a block and
  /// nothing is ever preempted; fewer requests run at once under KV pressure.
  kReserve,
};
std::string to_string(AdmissionPolicy a);

/// Engine settings of a replica (the scenario's `simulation.batching`, overridden per pool by
/// `simulation.pool_engines`).
struct BatchingSpec {
  std::uint32_t max_num_seqs = 256;         ///< vLLM max_num_seqs
  std::uint32_t max_batched_tokens = 8192;  ///< vLLM max_num_batched_tokens (token budget/step)
  bool chunked_prefill = true;
  double watermark = 0.01;  ///< fraction of KV blocks kept free when admitting (vLLM: 1 %)
  AdmissionPolicy admission = AdmissionPolicy::kOptimistic;
};

enum class PreemptionMode : std::uint8_t { kRecompute, kSwap };

struct PrefixCacheSpec {
  bool enabled = false;
  /// Host-DRAM second tier per GPU of the replica, GiB (0 = no host tier). Capped by the
  /// catalog's host DRAM per GPU.
  double host_tier_gib_per_gpu = 0;
};

struct DisaggregationSpec {
  bool enabled = false;
  std::vector<std::string> prefill_pools;
  std::vector<std::string> decode_pools;
  enum class Link : std::uint8_t { kScaleup, kNetwork };
  Link link = Link::kNetwork;
  double network_gbps = 50;  ///< GB/s per GPU for link = network (400 Gb/s NIC ≈ 50 GB/s)
};

enum class RouterKind : std::uint8_t {
  kRoundRobin,
  kLeastOutstanding,
  kLeastKv,
  kPowerOfTwo,
  kPrefixAffinity
};
std::string to_string(RouterKind k);

struct TimingSpec {
  enum class Model : std::uint8_t { kRoofline, kConstant };
  Model model = Model::kRoofline;
  /// kConstant: every step takes this long whatever its batch (queueing-theory checks).
  std::int64_t constant_step_ns = 10'000'000;
};

struct PowerSpec {
  /// Idle power as a fraction of TDP. Splitwise-sim's H100 model: 75 W idle of 700 W.
  double idle_fraction = 0.107;
  /// Power of a memory-bound step relative to a compute-bound one. Splitwise-sim's H100:
  /// 380 W decode vs 700 W prompt, (380 − 75)/(700 − 75) = 0.49.
  double memory_bound_weight = 0.49;
};

struct MetricsSpec {
  std::int64_t interval_ns = 10'000'000'000;  ///< time-series sampling interval
  enum class PerRequest : std::uint8_t { kOff, kAll, kSampled };
  PerRequest per_request = PerRequest::kOff;
  double sample_fraction = 0.01;  ///< kSampled: fraction of requests kept (seeded)
};

struct SimulationSpec {
  /// Simulated duration in nanoseconds: arrivals stop at this time.
  std::int64_t duration_ns = 0;
  /// Requests arriving before this time are simulated but not counted in the statistics.
  std::int64_t warmup_ns = 0;
  /// After duration, keep simulating until every admitted request finishes (up to max_drain).
  bool drain = true;
  std::int64_t max_drain_ns = 3600'000'000'000;
  std::uint64_t seed_offset = 0;  ///< added to the scenario seed (independent repetitions)

  std::vector<RequestClassSpec> classes;  ///< synthetic workload (empty when `trace` is set)
  bool has_trace = false;
  TraceSpec trace;

  BatchingSpec batching;
  /// Per-pool engine settings (pool name → settings); a pool not listed uses `batching`.
  std::vector<std::pair<std::string, BatchingSpec>> pool_engines;
  /// The engine settings of the pool named `pool`.
  const BatchingSpec& batching_for(const std::string& pool) const {
    for (const auto& [name, b] : pool_engines)
      if (name == pool) return b;
    return batching;
  }
  PreemptionMode preemption = PreemptionMode::kRecompute;
  /// A request whose prompt plus output exceeds its pool's model's max_context_tokens: refused
  /// (kReject, counted as rejected and as over-context) or its prompt shortened to fit
  /// (kTruncate: output kept, prefix blocks past the new length dropped, counted as truncated;
  /// rejected still when the output alone does not fit). A real server does one or the other.
  enum class OverContext : std::uint8_t { kReject, kTruncate };
  OverContext over_context = OverContext::kReject;
  PrefixCacheSpec prefix_cache;
  DisaggregationSpec disaggregation;
  RouterKind router = RouterKind::kLeastOutstanding;
  TimingSpec timing;
  PowerSpec power;
  MetricsSpec metrics;
  /// The KV format simulated on each pool (pools may list several for static capacity; the
  /// simulation uses the first unless this names one).
  std::string kv_format;
};

}  // namespace jevons
