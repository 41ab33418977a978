#include "routing/router.h"

#include <algorithm>

namespace jevons::sim {

MinTree::MinTree(std::size_t n) {
  while (size_ < std::max<std::size_t>(n, 1)) size_ *= 2;
  tree_.assign(2 * size_, ~std::uint64_t{0});
}

void MinTree::set(std::size_t pos, std::uint64_t key) {
  std::size_t i = size_ + pos;
  tree_[i] = key;
  for (i /= 2; i >= 1; i /= 2) tree_[i] = std::min(tree_[2 * i], tree_[2 * i + 1]);
}

Router::Router(RouterKind kind, std::vector<Replica*> candidates, std::uint64_t seed,
               std::uint32_t index)
    : kind_(kind),
      candidates_(std::move(candidates)),
      rng_(Rng::stream(seed, StreamKind::kRouter, index)) {
  tree_on_ = kind_ == RouterKind::kLeastOutstanding || kind_ == RouterKind::kLeastKv ||
             kind_ == RouterKind::kPrefixAffinity;
  if (tree_on_) {
    tree_ = MinTree(candidates_.size());
    for (std::uint32_t i = 0; i < candidates_.size(); ++i) tree_.set(i, key_of(i));
  }
}

std::uint64_t Router::key_of(std::uint32_t pos) const {
  const Replica& r = *candidates_[pos];
  std::uint64_t primary = r.outstanding();
  if (kind_ == RouterKind::kLeastKv) {
    // KV in use (parts per million of capacity), then queue length as the tie-breaker.
    const auto ppm = static_cast<std::uint64_t>(std::min(1.0, r.kv_load()) * 1e6);
    primary = (ppm << 16) | std::min<std::uint64_t>(r.waiting(), 0xFFFF);
  }
  return (std::min<std::uint64_t>(primary, (std::uint64_t{1} << 40) - 1) << 24) | pos;
}

void Router::update(std::uint32_t pos) {
  if (!tree_on_) return;
  const std::uint64_t k = key_of(pos);
  if (tree_.key(pos) != k) tree_.set(pos, k);
}

Replica* Router::pick(std::optional<std::uint64_t> first_hash) {
  const std::size_t n = candidates_.size();
  switch (kind_) {
    case RouterKind::kRoundRobin:
      return candidates_[rr_++ % n];
    case RouterKind::kPowerOfTwo: {
      Replica* a = candidates_[rng_.below(n)];
      Replica* b = candidates_[rng_.below(n)];
      return b->outstanding() < a->outstanding() ? b : a;
    }
    case RouterKind::kPrefixAffinity: {
      Replica* best = candidates_[tree_.argmin()];
      if (!first_hash) return best;
      Replica* home = candidates_[mix64(*first_hash) % n];
      return home->outstanding() <= best->outstanding() + kAffinitySlack ? home : best;
    }
    case RouterKind::kLeastOutstanding:
    case RouterKind::kLeastKv:
      return candidates_[tree_.argmin()];
  }
  return candidates_[0];
}

}  // namespace jevons::sim
