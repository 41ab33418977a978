#pragma once
// Streaming quantiles with bounded memory and a stated error: each power of two is split into
// 128 equal buckets (the top 7 mantissa bits of the double), and a quantile is reported at its
// bucket's middle, at most 1/256 = 0.39 % from the exact order statistic
// (jevons::kQuantileRelativeError). Insert is O(1) with no log(); memory grows with the value
// range only (≤ 52 KB for 1 ns … 13 days), never with the count.

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "jevons/core/simulation_report.h"

namespace jevons::sim {

class QuantileSketch {
 public:
  void add(double v) {
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (!(v >= 1.0)) {  // sub-nanosecond (and zero) values: one bucket reported as 0
      ++zeros_;
      return;
    }
    const std::size_t i = static_cast<std::size_t>((std::bit_cast<std::uint64_t>(v) >> 45) - kBase);
    if (i >= counts_.size()) counts_.resize(i + 1, 0);
    ++counts_[i];
  }
  std::uint64_t count() const { return count_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  double max() const { return max_; }
  double sum() const { return sum_; }

  /// The q-quantile (0 ≤ q ≤ 1) by the nearest-rank rule; 0 when empty.
  double quantile(double q) const {
    if (count_ == 0) return 0;
    std::uint64_t rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    if (rank <= zeros_) return 0;
    std::uint64_t seen = zeros_;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const double lo = std::bit_cast<double>((i + kBase) << 45);
        const double hi = std::bit_cast<double>((i + kBase + 1) << 45);
        const double mid = 0.5 * (lo + hi);
        return mid < max_ ? mid : max_;
      }
    }
    return max_;
  }
  LatencySummary summary() const {
    LatencySummary s;
    s.count = count_;
    s.mean_ns = mean();
    s.p50_ns = quantile(0.50);
    s.p90_ns = quantile(0.90);
    s.p99_ns = quantile(0.99);
    s.max_ns = max_;
    return s;
  }

 private:
  static constexpr std::uint64_t kBase = 0x3FF0000000000000ull >> 45;  // bits of 1.0
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t zeros_ = 0;
  double sum_ = 0;
  double max_ = 0;
};

}  // namespace jevons::sim
