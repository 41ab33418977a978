#include "workload/source.h"

#include <algorithm>
#include <cmath>

namespace jevons::sim {

std::uint64_t draw_length(const LengthDistSpec& d, Rng& rng) {
  double x = d.value;
  switch (d.kind) {
    case LengthDistSpec::Kind::kFixed:
      x = d.value;
      break;
    case LengthDistSpec::Kind::kLognormal: {
      const double s2 = std::log1p(d.cv * d.cv);
      x = std::exp(std::log(d.mean) - 0.5 * s2 + std::sqrt(s2) * rng.normal());
      break;
    }
    case LengthDistSpec::Kind::kExponential:
      x = rng.exponential(d.mean);
      break;
    case LengthDistSpec::Kind::kUniform:
      return d.min_tokens + rng.below(d.max_tokens - d.min_tokens + 1);
    case LengthDistSpec::Kind::kEmpirical:
      return std::clamp<std::uint64_t>(d.values[rng.below(d.values.size())], d.min_tokens,
                                       d.max_tokens);
  }
  const double r = std::max(1.0, std::round(x));
  return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::min(r, 1e12)), d.min_tokens,
                                   d.max_tokens);
}

double rate_multiplier(const ArrivalSpec& a, TimeNs t) {
  double m = 1.0;
  const double t_s = static_cast<double>(t) * 1e-9;
  const double abs_s = a.start_hour * 3600.0 + t_s;
  if (a.diurnal) {
    // Cosine day with the peak at peak_hour; amplitude chosen so peak/trough = the ratio and the
    // mean over a day is 1 (rate_per_s stays the daily mean).
    const double amp = (a.peak_to_trough - 1.0) / (a.peak_to_trough + 1.0);
    const double hour = std::fmod(abs_s / 3600.0, 24.0);
    m *= 1.0 + amp * std::cos(6.283185307179586 * (hour - a.peak_hour) / 24.0);
  }
  if (!a.weekly.empty()) {
    const auto day = static_cast<std::int64_t>(std::floor(abs_s / 86400.0));
    m *= a.weekly[static_cast<std::size_t>((a.start_weekday + day) % 7)];
  }
  for (const auto& s : a.spikes) {
    if (t >= s.start_ns && t < s.start_ns + s.duration_ns) m *= s.multiplier;
  }
  return m;
}

SyntheticSource::SyntheticSource(const RequestClassSpec& spec, std::uint32_t class_index,
                                 std::uint64_t seed, TimeNs end_ns, std::uint64_t hash_block_tokens,
                                 const Trace* lengths_trace)
    : spec_(spec),
      class_index_(class_index),
      end_ns_(end_ns),
      hash_block_tokens_(hash_block_tokens),
      lengths_trace_(lengths_trace),
      arrivals_(Rng::stream(seed, StreamKind::kArrivals, class_index)),
      lengths_(Rng::stream(seed, StreamKind::kLengths, class_index)) {
  const auto& a = spec.arrival;
  constant_rate_ = !a.diurnal && a.weekly.empty() && a.spikes.empty();
  if (a.process == ArrivalSpec::Process::kGamma) shape_ = 1.0 / (a.cv * a.cv);
}

bool SyntheticSource::advance(double operational) {
  const double base = spec_.arrival.rate_per_s * 1e-9;  // per ns
  if (constant_rate_) {
    t_ns_ += operational / base;
    return t_ns_ < static_cast<double>(end_ns_);
  }
  // Piecewise-constant rate on segments that end at each minute and at each spike edge.
  constexpr double kSegmentNs = 60e9;
  while (t_ns_ < static_cast<double>(end_ns_)) {
    double seg_end = (std::floor(t_ns_ / kSegmentNs) + 1.0) * kSegmentNs;
    for (const auto& s : spec_.arrival.spikes) {
      const double a = static_cast<double>(s.start_ns), b = a + static_cast<double>(s.duration_ns);
      if (a > t_ns_ && a < seg_end) seg_end = a;
      if (b > t_ns_ && b < seg_end) seg_end = b;
    }
    const double mid = 0.5 * (t_ns_ + seg_end);
    const double rate = base * rate_multiplier(spec_.arrival, static_cast<TimeNs>(mid));
    const double capacity = rate * (seg_end - t_ns_);
    if (rate > 0 && operational <= capacity) {
      t_ns_ += operational / rate;
      return t_ns_ < static_cast<double>(end_ns_);
    }
    operational -= capacity;
    t_ns_ = seg_end;
  }
  return false;
}

bool SyntheticSource::next(Arrival& out) {
  if (spec_.arrival.offline_requests > 0) {
    // MLPerf Offline: every query is issued at t = 0.
    if (offline_issued_ >= spec_.arrival.offline_requests) return false;
    ++offline_issued_;
    t_ns_ = 0;
  } else if (spec_.arrival.concurrency > 0) {
    // Closed loop: the fleet asks when a client is free and stamps the time itself.
    if (offline_issued_ >= spec_.arrival.closed_loop_requests) return false;
    ++offline_issued_;
    t_ns_ = 0;
  } else {
    if (!(spec_.arrival.rate_per_s > 0)) return false;
    const double gap = spec_.arrival.process == ArrivalSpec::Process::kGamma
                           ? arrivals_.gamma(shape_, 1.0 / shape_)
                           : arrivals_.exponential(1.0);
    if (!advance(gap)) return false;
  }
  out = Arrival{};
  out.time_ns = static_cast<TimeNs>(t_ns_);
  if (lengths_trace_ != nullptr && !lengths_trace_->rows.empty()) {
    const TraceRow& r = lengths_trace_->rows[lengths_.below(lengths_trace_->rows.size())];
    out.input_tokens = r.input_tokens;
    out.output_tokens = r.output_tokens;
  } else {
    out.input_tokens = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(draw_length(spec_.input_tokens, lengths_), 0xFFFFFFF0u));
    out.output_tokens = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(draw_length(spec_.output_tokens, lengths_), 0xFFFFFFF0u));
  }
  if (!spec_.ignore_eos) {
    // output_tokens is max_tokens; the model's own answer ends at its EOS when that is sooner.
    const std::uint64_t eos = draw_length(spec_.eos_output_tokens, lengths_);
    out.output_tokens = static_cast<std::uint32_t>(std::min<std::uint64_t>(out.output_tokens, eos));
  }
  if (spec_.prefix_groups > 0 && spec_.prefix_tokens > 0) {
    const std::uint64_t group = lengths_.below(spec_.prefix_groups);
    out.input_tokens += static_cast<std::uint32_t>(spec_.prefix_tokens);
    out.prefix_key = mix64((std::uint64_t{class_index_} << 40) ^ (group * 0x10001ull) ^ 0xC1A55ull);
    out.shared_blocks = static_cast<std::uint32_t>(spec_.prefix_tokens / hash_block_tokens_);
  }
  out.hash_blocks = static_cast<std::uint32_t>(out.input_tokens / hash_block_tokens_);
  return true;
}

TraceSource::TraceSource(const Trace& trace, const TraceSpec& spec, std::uint64_t seed,
                         TimeNs end_ns)
    : trace_(trace),
      time_scale_(spec.time_scale),
      rate_scale_(spec.rate_scale),
      hash_block_tokens_(spec.hash_block_tokens),
      end_ns_(end_ns),
      rng_(Rng::stream(seed, StreamKind::kTraceScale, 0)) {}

bool TraceSource::next(Arrival& out) {
  while (copies_left_ == 0) {
    if (index_ >= trace_.rows.size()) return false;
    // rate_scale r: each row appears ⌊r⌋ times, plus once more with probability r − ⌊r⌋, so
    // r < 1 thins the trace and r > 1 replicates it at the same instants.
    const double whole = std::floor(rate_scale_);
    copies_left_ =
        static_cast<std::uint32_t>(whole) + (rng_.uniform() < rate_scale_ - whole ? 1 : 0);
    if (copies_left_ == 0) ++index_;
  }
  const TraceRow& r = trace_.rows[index_];
  // Compared in double first: a late row times a large time_scale may not fit TimeNs at all
  // (llround's result is then unspecified, in practice a negative time).
  const double scaled = static_cast<double>(r.arrival_ns) * time_scale_;
  if (!(scaled < static_cast<double>(end_ns_))) return false;
  const TimeNs t = static_cast<TimeNs>(std::llround(scaled));
  if (t >= end_ns_) return false;
  if (--copies_left_ == 0) ++index_;
  out = Arrival{};
  out.time_ns = t;
  out.input_tokens = r.input_tokens;
  out.output_tokens = r.output_tokens;
  if (r.hash_count > 0) {
    out.hashes = trace_.hashes.data() + r.hash_offset;
    out.hash_blocks = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(r.hash_count, r.input_tokens / hash_block_tokens_));
  }
  return true;
}

}  // namespace jevons::sim
