// Engine parts: event ordering and cancellation, portable random streams, the quantile sketch.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "engine/event_queue.h"
#include "engine/random.h"
#include "metrics/sketch.h"

using namespace jevons::sim;

TEST_CASE("events pop by time, then priority, then insertion order", "[engine]") {
  EventQueue q;
  q.push(20, 1, 0, 0);
  q.push(10, 1, 1, 0, 200);
  q.push(10, 1, 2, 0, 100);  // same time, higher priority (lower value): first
  q.push(10, 1, 3, 0, 200);  // same time and priority as entity 1: after it (inserted later)
  q.push(5, 1, 4, 0);
  std::vector<std::uint32_t> order;
  Event e;
  while (q.pop(e)) order.push_back(e.entity);
  CHECK(order == std::vector<std::uint32_t>{4, 2, 1, 3, 0});
}

TEST_CASE("cancelled events are skipped, others keep their order", "[engine]") {
  EventQueue q;
  const EventId a = q.push(1, 1, 10, 0);
  q.push(2, 1, 11, 0);
  const EventId c = q.push(3, 1, 12, 0);
  q.push(3, 1, 13, 0);
  q.cancel(a);
  q.cancel(c);
  CHECK(q.size() == 2);
  Event e;
  REQUIRE(q.pop(e));
  CHECK(e.entity == 11);
  REQUIRE(q.pop(e));
  CHECK(e.entity == 13);
  CHECK_FALSE(q.pop(e));
  CHECK(q.empty());
}

TEST_CASE("random streams are portable and independent", "[engine][random]") {
  // Pinned outputs: xoshiro256** seeded by splitmix64 is fully specified, so these never change
  // with the compiler or the standard library.
  Rng a(1);
  const std::uint64_t first = a.next();
  Rng b(1);
  CHECK(b.next() == first);
  CHECK(Rng(2).next() != first);
  CHECK(Rng::stream(7, StreamKind::kArrivals, 0).next() !=
        Rng::stream(7, StreamKind::kArrivals, 1).next());
  CHECK(Rng::stream(7, StreamKind::kArrivals, 0).next() !=
        Rng::stream(7, StreamKind::kLengths, 0).next());
  // Reference value of splitmix64 from 0 (Vigna's reference implementation).
  std::uint64_t s = 0;
  CHECK(splitmix64(s) == 0xE220A8397B1DCDAFull);
}

TEST_CASE("distribution transforms have the right moments", "[engine][random]") {
  Rng r(123);
  const int n = 200000;
  double se = 0, sn = 0, sn2 = 0, sg = 0, sg2 = 0;
  for (int i = 0; i < n; ++i) {
    se += r.exponential(2.0);
    const double x = r.normal();
    sn += x;
    sn2 += x * x;
    const double g = r.gamma(0.25, 4.0);  // mean 1, variance 4 (cv 2)
    sg += g;
    sg2 += g * g;
  }
  CHECK(se / n == Approx(2.0).epsilon(0.01));
  CHECK(sn / n == Approx(0.0).margin(0.01));
  CHECK(sn2 / n == Approx(1.0).epsilon(0.01));
  const double gm = sg / n;
  CHECK(gm == Approx(1.0).epsilon(0.02));
  CHECK(sg2 / n - gm * gm == Approx(4.0).epsilon(0.06));
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    REQUIRE(r.below(7) < 7);
  }
}

TEST_CASE("sketch percentiles are within the stated relative error", "[metrics]") {
  Rng r(5);
  QuantileSketch s;
  std::vector<double> v;
  for (int i = 0; i < 50000; ++i) {
    const double x = std::exp(10 + 3 * r.normal());
    v.push_back(x);
    s.add(x);
  }
  s.add(0.0);
  v.push_back(0.0);
  std::sort(v.begin(), v.end());
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    const std::size_t rank = static_cast<std::size_t>(std::ceil(q * v.size()));
    const double exact = v[rank - 1];
    CHECK(std::abs(s.quantile(q) - exact) <= jevons::kQuantileRelativeError * exact);
  }
  CHECK(s.max() == v.back());
  CHECK(s.quantile(0.0) == 0.0);
  CHECK(QuantileSketch().quantile(0.5) == 0.0);
}
