#include "jevons/session/capacity_estimate.h"

namespace jevons::session {

namespace {
// Answers every query by the closed form and counts them, under the method name of the cache it
// stands in for: the cache keys include the method, so the copied entries must match.
class CountingOracle : public planner::CapacityOracle {
 public:
  explicit CountingOracle(std::string method) : method_(std::move(method)) {}
  ReplicaCapacity capacity(const planner::CapacityQuery& q) override {
    ++count_;
    return closed_form_.capacity(q);
  }
  std::string method() const override { return method_; }
  std::uint64_t count() const { return count_; }

 private:
  std::string method_;
  planner::AnalyticalOracle closed_form_;
  std::uint64_t count_ = 0;
};
}  // namespace

std::uint64_t uncached_searches(const Scenario& scenario, const Catalog& catalog,
                                const planner::CachedOracle& cache,
                                const planner::ProjectionOptions& options) {
  CountingOracle counter(cache.method());
  planner::CachedOracle probe(counter, "");
  probe.merge_from(cache);
  planner::ProjectionOptions quiet = options;
  quiet.progress = nullptr;
  planner::project(scenario, catalog, probe, quiet);
  // The probe memoises like the real cache, so each uncached case is counted once.
  return counter.count();
}

}  // namespace jevons::session
