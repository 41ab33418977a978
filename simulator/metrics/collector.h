#pragma once
// Streaming statistics of one (class, entry pool) group: counters, exact means and sketched
// percentiles. Memory is constant in the number of requests.

#include <algorithm>
#include <cstdint>

#include "engine/event_queue.h"
#include "entities/request.h"
#include "jevons/core/simulation_report.h"
#include "jevons/core/simulation_spec.h"
#include "metrics/sketch.h"

namespace jevons::sim {

class GroupCollector {
 public:
  GroupCollector(SloSpec slo, TimeNs window_start_ns, TimeNs window_end_ns,
                 std::uint64_t hash_block_tokens)
      : slo_(slo),
        w0_(window_start_ns),
        w1_(window_end_ns),
        hash_block_tokens_(hash_block_tokens) {}

  void arrived(const Request& r) {
    if (r.counted) ++m_.arrived;
  }
  void rejected(const Request& r) {
    if (r.counted) ++m_.rejected;
  }
  void preempted(const Request& r, bool swapped) {
    if (!r.counted) return;
    ++m_.preemptions;
    if (swapped) ++m_.swaps_out;
  }
  /// Offline class: throughput is output tokens over the time to the last completion (every
  /// request arrived at t = 0), not over the [warm-up, duration) window.
  void set_offline(bool offline) { offline_ = offline; }
  /// Closed-loop class: the same, over the time from `start_ns` (the warm-up) to the last
  /// completion (benchmark_serving divides by its whole run, which ends at the last response).
  void set_closed_loop(TimeNs start_ns) {
    offline_ = true;
    span_start_ns_ = start_ns;
  }

  void finished(const Request& r, TimeNs now) {
    last_finish_ns_ = std::max(last_finish_ns_, now);
    const double ttft = static_cast<double>(r.first_token_ns - r.arrival_ns);
    const double tpot = r.output_tokens > 1
                            ? static_cast<double>(now - r.first_token_ns) / (r.output_tokens - 1)
                            : 0.0;
    const bool met =
        (slo_.ttft_ns == 0 || ttft <= static_cast<double>(slo_.ttft_ns)) &&
        (slo_.tpot_ns == 0 || r.output_tokens <= 1 || tpot <= static_cast<double>(slo_.tpot_ns));
    if (now >= w0_ && now < w1_) {  // steady-state throughput window
      ++window_finished_;
      window_output_tokens_ += r.output_tokens;
      if (met) ++window_slo_met_;
    }
    if (!r.counted) return;
    ++m_.finished;
    m_.input_tokens += r.input_tokens;
    m_.output_tokens += r.output_tokens;
    if (met) ++m_.slo_met;
    m_.prompt_tokens_prefix_eligible += std::uint64_t{r.hash_blocks} * hash_block_tokens_;
    m_.prefix_hit_tokens_gpu += r.prefix_hit_tokens - r.prefix_host_hit_tokens;
    m_.prefix_hit_tokens_host += r.prefix_host_hit_tokens;
    ttft_.add(ttft);
    if (r.output_tokens > 1) tpot_.add(tpot);
    e2e_.add(static_cast<double>(now - r.arrival_ns));
    queue_.add(static_cast<double>(r.first_scheduled_ns - r.arrival_ns));
  }
  void unfinished(const Request& r) {
    if (r.counted) ++m_.unfinished;
  }
  bool empty() const { return m_.arrived == 0 && window_finished_ == 0; }

  GroupMetrics report(const std::string& cls, const std::string& pool) const {
    GroupMetrics g = m_;
    g.class_name = cls;
    g.pool_name = pool;
    g.ttft = ttft_.summary();
    g.tpot = tpot_.summary();
    g.e2e = e2e_.summary();
    g.queue = queue_.summary();
    g.last_finish_ns = last_finish_ns_;
    const double window_s = static_cast<double>(w1_ - w0_) * 1e-9;
    if (offline_) {
      if (last_finish_ns_ > span_start_ns_) {
        const double span_s = static_cast<double>(last_finish_ns_ - span_start_ns_) * 1e-9;
        g.throughput_tokens_per_s = static_cast<double>(m_.output_tokens) / span_s;
        g.throughput_requests_per_s = static_cast<double>(m_.finished) / span_s;
        g.goodput_requests_per_s = static_cast<double>(m_.slo_met) / span_s;
      }
    } else if (window_s > 0) {
      g.throughput_tokens_per_s = static_cast<double>(window_output_tokens_) / window_s;
      g.throughput_requests_per_s = static_cast<double>(window_finished_) / window_s;
      g.goodput_requests_per_s = static_cast<double>(window_slo_met_) / window_s;
    }
    if (g.prompt_tokens_prefix_eligible > 0) {
      g.prefix_hit_rate = static_cast<double>(g.prefix_hit_tokens_gpu + g.prefix_hit_tokens_host) /
                          static_cast<double>(g.prompt_tokens_prefix_eligible);
    }
    return g;
  }

 private:
  SloSpec slo_;
  TimeNs w0_, w1_;
  std::uint64_t hash_block_tokens_;
  GroupMetrics m_;
  QuantileSketch ttft_, tpot_, e2e_, queue_;
  std::uint64_t window_finished_ = 0;
  std::uint64_t window_output_tokens_ = 0;
  std::uint64_t window_slo_met_ = 0;
  TimeNs last_finish_ns_ = 0;
  TimeNs span_start_ns_ = 0;
  bool offline_ = false;
};

}  // namespace jevons::sim
