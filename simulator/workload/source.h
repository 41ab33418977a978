#pragma once
// Request sources: pull-based streams of arrivals, one per request class (or one for a trace).
// The fleet keeps exactly one pending arrival per source in the event queue, so the queue stays
// small and the workload is generated lazily (memory does not grow with the requests simulated).

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/event_queue.h"
#include "engine/random.h"
#include "jevons/core/simulation_spec.h"
#include "workload/trace.h"

namespace jevons::sim {

struct Arrival {
  TimeNs time_ns = 0;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  const std::uint64_t* hashes = nullptr;  // trace prefix hashes (nullptr for synthetic)
  std::uint32_t hash_blocks = 0;          // full prefix-hash blocks in the prompt
  std::uint64_t prefix_key = 0;           // synthetic shared prefix (group key)
  std::uint32_t shared_blocks = 0;        // synthetic: hash blocks shared with the group
};

class Source {
 public:
  virtual ~Source() = default;
  /// The next arrival, in non-decreasing time; false when the source is exhausted.
  virtual bool next(Arrival& out) = 0;
};

/// Draws a token count from a length distribution (portable transforms only).
std::uint64_t draw_length(const LengthDistSpec& d, Rng& rng);

/// Rate multiplier of an arrival profile at simulated time t: diurnal × weekly × spikes.
double rate_multiplier(const ArrivalSpec& a, TimeNs t);

/// Synthetic class: Poisson or Gamma renewal arrivals through a time-varying rate (time
/// rescaling: unit-mean inter-arrivals in operational time, mapped through ∫ rate dt).
class SyntheticSource final : public Source {
 public:
  SyntheticSource(const RequestClassSpec& spec, std::uint32_t class_index, std::uint64_t seed,
                  TimeNs end_ns, std::uint64_t hash_block_tokens, const Trace* lengths_trace);
  // `spec` is held by reference: a temporary would dangle (ASan: stack-use-after-scope).
  SyntheticSource(RequestClassSpec&&, std::uint32_t, std::uint64_t, TimeNs, std::uint64_t,
                  const Trace*) = delete;
  bool next(Arrival& out) override;

 private:
  bool advance(double operational);  // moves t_ forward; false when past end_ns_

  const RequestClassSpec& spec_;
  std::uint32_t class_index_;
  TimeNs end_ns_;
  std::uint64_t hash_block_tokens_;
  const Trace* lengths_trace_;
  Rng arrivals_;
  Rng lengths_;
  double t_ns_ = 0;
  bool constant_rate_ = true;
  double shape_ = 1;                  // gamma shape 1/cv²
  std::uint64_t offline_issued_ = 0;  // offline or closed-loop class: requests issued so far
};

/// Trace replay with time and rate scaling.
class TraceSource final : public Source {
 public:
  TraceSource(const Trace& trace, const TraceSpec& spec, std::uint64_t seed, TimeNs end_ns);
  // `trace` is held by reference: a temporary would dangle.
  TraceSource(Trace&&, const TraceSpec&, std::uint64_t, TimeNs) = delete;
  bool next(Arrival& out) override;

 private:
  const Trace& trace_;
  double time_scale_;
  double rate_scale_;
  std::uint64_t hash_block_tokens_;
  TimeNs end_ns_;
  Rng rng_;
  std::size_t index_ = 0;
  std::uint32_t copies_left_ = 0;
};

}  // namespace jevons::sim
