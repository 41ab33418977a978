#pragma once
/// \file Capacity search: the largest arrival rate one replica of (GPU × model × KV format)
/// sustains for a demand class within its SLO, and what that replica holds in memory there.
///
/// Three oracles share one interface:
/// - SimulatedOracle — bisection on discrete-event simulation runs (exact to the tolerance at the
///   point searched);
/// - AnalyticalOracle — a closed-form roofline/queueing estimate (also the simulated search's
///   starting bracket);
/// - CachedOracle — memoises another oracle in memory and optionally on disk, and interpolates
///   between prompt-length grid points (docs/planner.md gives the measured interpolation error).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/planner_spec.h"
#include "jevons/core/profile.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/roofline.h"

namespace jevons::planner {

using jevons::ReplicaCapacity;

struct CapacityQuery {
  const GpuSpec* gpu = nullptr;
  const ModelSpec* model = nullptr;
  WeightPrecision weights = WeightPrecision::kFp8;
  KvConfig kv;
  const DemandClassSpec* demand_class = nullptr;
  /// Multiplies the class's prompt lengths (context-length elasticity); 1 = as specified.
  double prompt_scale = 1.0;
  std::uint32_t max_tensor_parallel = 8;
  double slo_attainment = 0.95;
  double duration_s = 120;
  double tolerance = 0.02;
  std::uint64_t seed = 0;
  PreemptionMode preemption = PreemptionMode::kRecompute;
  bool prefix_cache = false;
  double prefix_host_tier_gib_per_gpu = 0;
  /// The scenario's `analytical:` settings: they reach every capacity probe (and the key).
  AnalyticalParams analytical;
  /// The catalog's latency-model parameters the probes use (nullptr: none); part of the key.
  const LatencyCalibration* latency = nullptr;
  /// A related point (the same GPU and class at the baseline format, or at the neighbouring
  /// prompt scale) and its answer: the simulated search starts from that answer, moved by the
  /// closed form's ratio between the two points, in small steps. The start moves the answer
  /// within the tolerance, so CachedOracle derives it from the key alone (the neighbouring
  /// scale toward the specified prompts; the hint's format, which the key then carries).
  const CapacityQuery* hint = nullptr;
  ReplicaCapacity hint_answer;
  /// The search's first step away from the hinted start, relative (0: twice the tolerance).
  /// The closer the related point, the smaller: at the tolerance, a hint that holds costs two
  /// probes.
  double hint_step = 0;
  /// Whether the start is moved by the closed form's ratio between the two points (false: the
  /// related answer as it is; the closed form misjudges what a KV format changes where the
  /// SLO, not memory, binds).
  bool hint_scaled = true;

  /// Canonical text of every input that changes the answer (the cache key).
  std::string key(const std::string& method) const;
  /// The part of the key for the step-time model (analytical settings, calibrated parameters).
  std::string analytical_key() const;
};

class CapacityOracle {
 public:
  virtual ~CapacityOracle() = default;
  virtual ReplicaCapacity capacity(const CapacityQuery& q) = 0;
  virtual std::string method() const = 0;
};

/// Mean of a length distribution, in tokens (before clamping).
double mean_tokens(const LengthDistSpec& d);
/// The distribution with every length multiplied by `scale`, capped at `max_tokens`.
LengthDistSpec scaled(const LengthDistSpec& d, double scale, std::uint64_t max_tokens);
/// Power-of-two tensor parallelism degrees (≤ max, dividing the heads) at which the model fits
/// with room for at least one sequence of twice `sequence_tokens`.
std::vector<std::uint32_t> feasible_tensor_parallel(const GpuSpec& gpu, const ModelSpec& model,
                                                    WeightPrecision weights, const KvConfig& kv,
                                                    double sequence_tokens, std::uint32_t max_tp);
/// The feasible degree with the most tokens/s per GPU by the closed-form estimate; 0 when the
/// model fits at none.
std::uint32_t choose_tensor_parallel(const CapacityQuery& q);
/// How the simulated search deploys a replica of `tensor_parallel` GPUs beyond tensor
/// parallelism. An MLA mixture-of-experts model (DeepSeek-V3/R1) on several GPUs runs with
/// DP-attention and its experts spread over every GPU (expert_parallel = tensor_parallel), the
/// deployment SGLang, vLLM and TensorRT-LLM document for it: under plain TP every rank holds and
/// reads the whole MLA latent of every sequence. Every other model runs plain TP.
ParallelSpec replica_parallel(const ModelSpec& model, std::uint32_t tensor_parallel);

class AnalyticalOracle : public CapacityOracle {
 public:
  ReplicaCapacity capacity(const CapacityQuery& q) override;
  std::string method() const override { return "analytical"; }
};

class SimulatedOracle : public CapacityOracle {
 public:
  SimulatedOracle(const Catalog& catalog, std::optional<Profile> profile)
      : catalog_(catalog), profile_(std::move(profile)) {}
  ReplicaCapacity capacity(const CapacityQuery& q) override;
  std::string method() const override { return "simulated"; }

 private:
  const Catalog& catalog_;
  std::optional<Profile> profile_;
  AnalyticalOracle bracket_;
};

/// The answer at any prompt scale from the answers at the geometric grid points
/// (CachedOracle::kGridRatio): a grid point's own answer; next to a grid point (where the closed
/// form moves capacity by at most half the search tolerance) that point's answer moved by the
/// closed form's ratio; else linear in log(prompt scale) between the two neighbours, per GPU.
/// The one rule CachedOracle and every memo in front of it (the band's) answer by.
ReplicaCapacity capacity_between_grid_points(
    const CapacityQuery& q, const std::function<ReplicaCapacity(const CapacityQuery&)>& at_grid,
    CapacityOracle& closed_form);

class CachedOracle : public CapacityOracle {
 public:
  /// `path` "" keeps the cache in memory only; otherwise it is read now and written by save().
  CachedOracle(CapacityOracle& inner, std::string path);
  ReplicaCapacity capacity(const CapacityQuery& q) override;
  std::string method() const override { return inner_.method(); }
  /// Writes the cache file atomically (no-op without a path).
  void save() const;
  /// Adds another cache's entries (per-thread caches of a sweep, merged before saving).
  void merge_from(const CachedOracle& other) {
    cache_.insert(other.cache_.begin(), other.cache_.end());
  }
  std::size_t size() const { return cache_.size(); }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

  /// Prompt scales are searched on a geometric grid of this ratio; in between they interpolate,
  /// except next to a grid point: where the closed form moves capacity by at most half the
  /// search tolerance, that point's answer moved by the closed form's ratio is used (no search).
  static constexpr double kGridRatio = 1.189207115002721;  // 2^(1/4)

 private:
  ReplicaCapacity lookup(const CapacityQuery& q);

  CapacityOracle& inner_;
  AnalyticalOracle closed_form_;  ///< how far a prompt scale is from its grid point
  std::string path_;
  std::map<std::string, ReplicaCapacity> cache_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace jevons::planner
