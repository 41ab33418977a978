#pragma once
// One replica: a model on `tensor_parallel` GPUs of one type, batching continuously as vLLM
// does (token budget per step, chunked prefill, paged KV blocks, LIFO preemption by recompute
// or swap, optional prefix cache with a host-DRAM tier), or, with admission: reserve, as
// TensorRT-LLM's GUARANTEED_NO_EVICT (a request's blocks for its whole output are taken at
// admission, so decoders never take a block and nothing is preempted).
//
// Per-step work is independent of the batch size. A decoder is never touched while it decodes:
//   * its KV length at step s is join_len + (s − join_step), so Σ KV lengths over decoders is
//     kv_base_ + D·s with kv_base_ = Σ (join_len − join_step), kept incrementally;
//   * it needs a new block before step s iff its KV length is a multiple of the block size,
//     i.e. iff s ≡ join_step − join_len (mod B): phase_[s mod B] counts the decoders due;
//   * it finishes at step join_step + remaining − 1, kept in a min-heap of completion steps;
//   * sliding-window and chunked layers read min(KV length, W) of it: Σ min over decoders is
//     kept by WindowedKvSum (below).

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <vector>

#include "engine/event_queue.h"
#include "entities/prefix_cache.h"
#include "entities/request.h"
#include "jevons/core/simulation_spec.h"
#include "timing/latency_model.h"

namespace jevons::sim {

/// Σ over decoders of min(K_i(s), W), with K_i(s) = join_len + (s − join_step) + 1 the KV
/// tokens decoder i attends at step s (as in Replica's algebra), in O(1) per step and O(log n)
/// per join or leave.
///
/// A decoder below the window contributes K_i(s); it reaches W at its crossing step
/// c = join_step + W − join_len − 1 and contributes exactly W from then on. Decoders below the
/// window are summed like the replica's KV total (a count and Σ (join_len − join_step)); those
/// past it are counted. A min-heap of crossing steps moves decoders across when at_step(s) is
/// asked for; a decoder that leaves before its crossing cancels one entry of that step in a
/// second heap (lazy deletion by value: entries of one step are interchangeable, so no request
/// identity is kept). A decoder is past the window iff its crossing step is ≤ the last step
/// asked for, which is what join and leave test.
class WindowedKvSum {
 public:
  explicit WindowedKvSum(std::uint64_t window_tokens = 0)
      : window_(static_cast<std::int64_t>(window_tokens)) {}

  std::uint64_t window() const { return static_cast<std::uint64_t>(window_); }
  /// A decoder with `join_len` KV tokens starts decoding at step `join_step`.
  void join(std::uint32_t join_len, std::int64_t join_step) {
    if (window_ == 0) return;
    const std::int64_t c = crossing(join_len, join_step);
    if (c <= asked_through_) {
      ++past_;
    } else {
      ++below_;
      below_base_ += static_cast<std::int64_t>(join_len) - join_step;
      crossings_.push(c);
    }
  }
  /// The decoder that joined with (`join_len`, `join_step`) leaves (finish, preemption, swap).
  void leave(std::uint32_t join_len, std::int64_t join_step) {
    if (window_ == 0) return;
    const std::int64_t c = crossing(join_len, join_step);
    if (c <= asked_through_) {
      --past_;
    } else {
      --below_;
      below_base_ -= static_cast<std::int64_t>(join_len) - join_step;
      cancelled_.push(c);
    }
  }
  /// Σ min(K_i(s), W) over the decoders; `s` never decreases from one call to the next.
  std::uint64_t at_step(std::int64_t s) {
    if (window_ == 0) return 0;
    while (!crossings_.empty() && crossings_.top() <= s) {
      const std::int64_t c = crossings_.top();
      crossings_.pop();
      if (!cancelled_.empty() && cancelled_.top() == c) {
        cancelled_.pop();
        continue;
      }
      --below_;
      below_base_ -= window_ - 1 - c;  // join_len − join_step of a decoder crossing at c
      ++past_;
    }
    asked_through_ = std::max(asked_through_, s);
    return static_cast<std::uint64_t>(below_base_ + below_ * (s + 1) + past_ * window_);
  }
  std::uint32_t below_window() const { return static_cast<std::uint32_t>(below_); }
  std::uint32_t past_window() const { return static_cast<std::uint32_t>(past_); }
  /// Heap entries held (live crossings plus cancelled pairs not yet reached): bounded by the
  /// joins of the last W steps.
  std::size_t heap_entries() const { return crossings_.size() + cancelled_.size(); }

 private:
  std::int64_t crossing(std::uint32_t join_len, std::int64_t join_step) const {
    return join_step + window_ - static_cast<std::int64_t>(join_len) - 1;
  }
  using MinHeap =
      std::priority_queue<std::int64_t, std::vector<std::int64_t>, std::greater<std::int64_t>>;

  std::int64_t window_ = 0;
  std::int64_t below_ = 0;
  std::int64_t below_base_ = 0;  // Σ (join_len − join_step) below the window
  std::int64_t past_ = 0;
  std::int64_t asked_through_ = std::numeric_limits<std::int64_t>::min();
  MinHeap crossings_;
  MinHeap cancelled_;
};

enum class ReplicaRole : std::uint8_t { kMixed, kPrefill, kDecode };

struct ReplicaConfig {
  ReplicaRole role = ReplicaRole::kMixed;
  std::uint32_t gpus = 1;
  std::uint32_t block_tokens = 16;
  std::uint64_t capacity_blocks = 0;      // KV blocks that fit in the HBM left for KV (per GPU)
  std::uint64_t watermark_blocks = 0;     // kept free when admitting
  std::uint64_t block_bytes_per_gpu = 0;  // one block of the full-attention layers, one GPU
  std::uint32_t max_num_seqs = 256;
  std::uint32_t max_batched_tokens = 8192;
  bool chunked_prefill = true;
  AdmissionPolicy admission = AdmissionPolicy::kOptimistic;
  PreemptionMode preemption = PreemptionMode::kRecompute;
  std::uint64_t swap_capacity_blocks = 0;  // host DRAM for swapped KV, per GPU, in blocks
  bool prefix_cache = false;
  std::uint64_t hash_block_tokens = 512;
  std::uint64_t host_tier_blocks = 0;
  std::uint64_t swa_window_tokens = 0;  // sliding-window layers (0 = none)
  double swa_block_ratio = 0;           // bytes of a sliding-layer block / block_bytes_per_gpu
};

/// What a replica tells the fleet (once per request event or per step, never per token).
class ReplicaListener {
 public:
  virtual ~ReplicaListener() = default;
  virtual void on_first_token(std::uint32_t slot, TimeNs now) = 0;
  virtual void on_finished(std::uint32_t slot, TimeNs now) = 0;
  /// Prefill replica under disaggregation: the prompt is done and the KV must move.
  virtual void on_handoff(std::uint32_t slot, TimeNs now) = 0;
  virtual void on_preempted(std::uint32_t slot, bool swapped) = 0;
  /// Step finished or a request was enqueued: outstanding work or KV load changed.
  virtual void on_load_changed(std::uint32_t replica) = 0;
};

struct ReplicaStats {
  std::uint64_t steps = 0;
  TimeNs busy_ns = 0;
  double busy_energy_j = 0;  // all GPUs of the replica
  std::uint64_t preemptions = 0;
  std::uint64_t swaps_out = 0;
  std::uint64_t swaps_in = 0;
  std::uint64_t swap_bytes = 0;  // per GPU × gpus
  std::uint64_t output_tokens = 0;
  double batch_seq_area = 0;  // Σ sequences × step time (ns)
  double kv_area = 0;         // Σ KV blocks in use × time (ns)
  double peak_kv_fraction = 0;
  double queue_area = 0;  // Σ waiting × time (ns)
  std::uint64_t queue_visits = 0;
  double queue_delay_ns = 0;
};

class Replica {
 public:
  Replica(std::uint32_t id, std::uint32_t pool, const ReplicaConfig& cfg, const LatencyModel& model,
          RequestTable& requests, EventQueue& events, ReplicaListener& listener);

  /// Can this request ever fit this replica's KV, alone? (Otherwise it is rejected.)
  bool fits(const Request& r) const;
  /// A new (or handed-off) request joins the waiting queue; starts a step if idle.
  void enqueue(std::uint32_t slot, TimeNs now);
  /// The step event fired.
  void on_step_end(TimeNs now);
  /// Disaggregated prefill replica: the KV of `slot` has left; free its blocks.
  void release_transferred(std::uint32_t slot, TimeNs now);
  /// Closes time-weighted statistics at the end of the run.
  void finish_stats(TimeNs end_ns);

  std::uint32_t id() const { return id_; }
  std::uint32_t pool() const { return pool_; }
  const ReplicaConfig& config() const { return cfg_; }
  std::uint32_t outstanding() const {
    return static_cast<std::uint32_t>(waiting_.size() + swapped_.size() + prefilling_.size()) +
           decoders_ + transferring_;
  }
  std::uint32_t waiting() const { return static_cast<std::uint32_t>(waiting_.size()); }
  std::uint32_t running() const {
    return static_cast<std::uint32_t>(prefilling_.size()) + decoders_;
  }
  std::uint64_t used_private_blocks() const { return used_private_; }
  std::uint64_t cache_gpu_blocks() const { return cache_ ? cache_->gpu_blocks() : 0; }
  std::uint64_t cache_host_blocks() const { return cache_ ? cache_->host_blocks() : 0; }
  std::uint64_t swap_blocks() const { return swap_used_; }
  /// KV in use as a fraction of capacity (cached prefix blocks count: they occupy HBM).
  double kv_load() const {
    return static_cast<double>(used_private_ + cache_gpu_blocks()) /
           static_cast<double>(cfg_.capacity_blocks);
  }
  const ReplicaStats& stats() const { return stats_; }
  /// For prefix-aware routing: does HBM hold the first hash block of `r`?
  bool has_prefix(std::uint64_t first_hash) const {
    return cache_ && cache_->where(first_hash) == PrefixCache::Where::kGpu;
  }

 private:
  std::uint64_t blocks_for(std::uint64_t tokens) const {
    return (tokens + cfg_.block_tokens - 1) / cfg_.block_tokens;
  }
  std::uint64_t free_blocks() const {
    return cfg_.capacity_blocks - used_private_ - cache_gpu_blocks();
  }
  bool make_room(std::uint64_t blocks, std::uint64_t extra);
  void form_and_start(TimeNs now);
  void join_decoders(std::uint32_t slot, std::uint32_t kv_len, std::int64_t step, bool alloc_now);
  void leave_decoders(Request& r);
  std::uint64_t decoder_private_blocks(const Request& r, std::int64_t allocated_through) const;
  void release_kv(Request& r, std::uint64_t private_blocks);
  void preempt(std::uint32_t slot, TimeNs now);
  bool admit_waiting(std::uint32_t slot, std::uint32_t& budget, TimeNs now, bool batch_empty);
  void finish(std::uint32_t slot, TimeNs now);
  void running_push(std::uint32_t slot);
  void running_remove(std::uint32_t slot);
  void touch_queue(TimeNs now) {
    stats_.queue_area += static_cast<double>(waiting_.size()) * static_cast<double>(now - queue_t_);
    queue_t_ = now;
  }
  void dequeue_stats(Request& r, TimeNs now);
  std::uint64_t hash_at(const Request& r, std::uint32_t i) const;

  std::uint32_t id_;
  std::uint32_t pool_;
  ReplicaConfig cfg_;
  const LatencyModel& model_;
  RequestTable& reqs_;
  EventQueue& events_;
  ReplicaListener& listener_;
  std::optional<PrefixCache> cache_;

  std::deque<std::uint32_t> waiting_;
  std::deque<std::uint32_t> swapped_;
  std::vector<std::uint32_t> prefilling_;
  std::uint32_t run_head_ = kNoSlot, run_tail_ = kNoSlot;

  std::uint32_t decoders_ = 0;
  std::int64_t kv_base_ = 0;
  std::vector<std::uint32_t> phase_;
  struct Completion {
    std::int64_t step;
    std::uint32_t slot;
    std::uint32_t generation;
    bool operator>(const Completion& o) const {
      return step != o.step ? step > o.step : slot > o.slot;
    }
  };
  std::priority_queue<Completion, std::vector<Completion>, std::greater<Completion>> done_;
  WindowedKvSum window_kv_;  // Σ min(KV, W) over decoders, for windowed layers' step time
  // Pipelined replicas: a running request is pinned to one microbatch (the one with the fewest
  // running requests when it starts), and each microbatch keeps the decoders' algebra above.
  struct Microbatch {
    std::uint32_t members = 0;  // running requests (prefilling or decoding)
    std::uint32_t decoders = 0;
    std::int64_t kv_base = 0;
    WindowedKvSum window_kv;
  };
  std::vector<Microbatch> mb_;  // empty when not pipelined
  std::vector<StepShape> mb_shapes_;
  // The step's token budget left per microbatch: engines give each microbatch its own
  // (TensorRT-LLM's max_num_tokens, vLLM's per-virtual-engine scheduler), so
  // max_batched_tokens, the iteration's, is split evenly among them.
  std::vector<std::uint32_t> mb_budget_;
  int mb_next_ = -1;  // the microbatch admit_waiting chose for the request it starts
  /// The microbatch a starting request joins: the fewest running requests (lowest index on a
  /// tie), among those with token budget left when `need_budget`; -1 when none has any.
  int pick_microbatch(bool need_budget) const;

  std::int64_t step_ = 0;  // index of the next (or running) step
  bool busy_ = false;
  TimeNs step_start_ = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> chunks_;  // (slot, tokens) this step
  std::uint32_t step_decoders_ = 0;
  std::uint32_t transferring_ = 0;
  std::uint64_t host_bytes_step_ = 0;

  std::uint64_t used_private_ = 0;
  std::uint64_t swap_used_ = 0;
  TimeNs queue_t_ = 0;
  TimeNs kv_t_ = 0;
  std::uint64_t kv_last_ = 0;
  ReplicaStats stats_;
};

}  // namespace jevons::sim
