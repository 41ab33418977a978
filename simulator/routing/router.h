#pragma once
// Global routers: pick the replica a new request joins. Policies: round-robin, least outstanding
// requests, least KV load, power-of-two choices, and prefix affinity. Least-* policies keep a
// tournament tree over their replicas, so a pick is O(1) and a load change O(log n): a
// 1,000-replica fleet never scans every replica per request.

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/random.h"
#include "entities/replica.h"
#include "jevons/core/simulation_spec.h"

namespace jevons::sim {

/// Minimum over positions of a 64-bit key; ties go to the lower position (keys embed it).
class MinTree {
 public:
  explicit MinTree(std::size_t n = 0);
  void set(std::size_t pos, std::uint64_t key);
  std::uint64_t key(std::size_t pos) const { return tree_[size_ + pos]; }
  std::size_t argmin() const { return static_cast<std::size_t>(tree_[1] & 0xFFFFFF); }
  std::uint64_t min_key() const { return tree_[1]; }

 private:
  std::size_t size_ = 1;
  std::vector<std::uint64_t> tree_;
};

class Router {
 public:
  /// Number of requests a prefix-affinity pick may exceed the least-loaded replica by before
  /// the router gives up affinity (keeps hot prefixes from overloading one replica).
  static constexpr std::uint32_t kAffinitySlack = 16;

  Router(RouterKind kind, std::vector<Replica*> candidates, std::uint64_t seed,
         std::uint32_t index);
  /// The replica for a request whose first prefix-hash block is `first_hash`, or which has no
  /// full prefix block (nullopt). Every value is a real hash: Mooncake numbers blocks from 0,
  /// and most of its prompts start with block 0.
  Replica* pick(std::optional<std::uint64_t> first_hash);
  /// The replica at `pos` changed its load.
  void update(std::uint32_t pos);
  const std::vector<Replica*>& candidates() const { return candidates_; }

 private:
  std::uint64_t key_of(std::uint32_t pos) const;

  RouterKind kind_;
  std::vector<Replica*> candidates_;
  Rng rng_;
  std::uint64_t rr_ = 0;
  bool tree_on_ = false;
  MinTree tree_;
};

}  // namespace jevons::sim
