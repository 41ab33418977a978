#pragma once
// Prefix cache of one replica, in two tiers: HBM (the replica's own KV blocks, shared by every
// request whose prompt starts with the same hash chain) and an optional host-DRAM tier that
// receives blocks evicted from HBM (LMCache/vLLM-offload style). A hash block is
// `hash_block_tokens` tokens (Mooncake: 512), i.e. `blocks_per_hash` paged KV blocks.
//
// Only unreferenced HBM blocks are evictable, in LRU order; the host tier is LRU with a byte
// capacity. The host tier is inclusive: a block loaded back into HBM keeps its host copy.

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace jevons::sim {

class PrefixCache {
 public:
  PrefixCache(std::uint64_t blocks_per_hash, std::uint64_t host_capacity_blocks)
      : blocks_per_hash_(blocks_per_hash), host_capacity_blocks_(host_capacity_blocks) {}

  enum class Where : std::uint8_t { kNone, kGpu, kHost };
  Where where(std::uint64_t hash) const {
    auto it = map_.find(hash);
    if (it == map_.end()) return Where::kNone;
    const Entry& e = entries_[it->second];
    return e.gpu ? Where::kGpu : (e.host ? Where::kHost : Where::kNone);
  }

  /// Takes a reference on a block resident in HBM.
  void ref_gpu(std::uint64_t hash) {
    const std::uint32_t i = map_.at(hash);
    if (entries_[i].refs++ == 0) take_from_lru(i);
  }
  /// Loads a host-tier block into HBM and references it. Returns the paged blocks it now uses.
  std::uint64_t promote_and_ref(std::uint64_t hash) {
    const std::uint32_t i = map_.at(hash);
    Entry& e = entries_[i];
    touch_host(i);
    e.gpu = true;
    ++e.refs;
    gpu_blocks_ += blocks_per_hash_;
    ++host_hits_;
    return blocks_per_hash_;
  }
  /// A request finished computing this block: the cache takes it over, referenced by the
  /// request. Returns true when the block is new in HBM (the request's private copy becomes the
  /// cache's), false when an identical block was already there (the private copy is freed).
  bool insert_ref(std::uint64_t hash) {
    auto it = map_.find(hash);
    if (it != map_.end()) {
      Entry& e = entries_[it->second];
      if (e.gpu) {
        if (e.refs++ == 0) take_from_lru(it->second);
        return false;
      }
      e.gpu = true;
      ++e.refs;
      gpu_blocks_ += blocks_per_hash_;
      return true;
    }
    const std::uint32_t i = new_entry(hash);
    entries_[i].gpu = true;
    entries_[i].refs = 1;
    gpu_blocks_ += blocks_per_hash_;
    return true;
  }
  void unref(std::uint64_t hash) {
    const std::uint32_t i = map_.at(hash);
    Entry& e = entries_[i];
    if (--e.refs == 0) {
      push_back(gpu_lru_, i, &Entry::gprev, &Entry::gnext);
      unref_gpu_blocks_ += blocks_per_hash_;
    }
  }
  /// Evicts the least recently used unreferenced HBM block (to the host tier when there is one).
  /// Returns the paged blocks freed in HBM (0 when nothing is evictable).
  std::uint64_t evict_one() {
    const std::uint32_t i = gpu_lru_.head;
    if (i == kNil) return 0;
    unlink(gpu_lru_, i, &Entry::gprev, &Entry::gnext);
    Entry& e = entries_[i];
    e.gpu = false;
    gpu_blocks_ -= blocks_per_hash_;
    unref_gpu_blocks_ -= blocks_per_hash_;
    if (host_capacity_blocks_ >= blocks_per_hash_) {
      if (!e.host) {
        e.host = true;
        host_blocks_ += blocks_per_hash_;
        demoted_blocks_ += blocks_per_hash_;
        push_back(host_lru_, i, &Entry::hprev, &Entry::hnext);
        while (host_blocks_ > host_capacity_blocks_) drop_host_lru();
      } else {
        touch_host(i);
      }
    } else {
      erase(i);
    }
    return blocks_per_hash_;
  }

  std::uint64_t gpu_blocks() const { return gpu_blocks_; }
  std::uint64_t evictable_blocks() const { return unref_gpu_blocks_; }
  std::uint64_t host_blocks() const { return host_blocks_; }
  std::uint64_t blocks_per_hash() const { return blocks_per_hash_; }
  std::uint64_t demoted_blocks() const { return demoted_blocks_; }
  std::uint64_t host_hits() const { return host_hits_; }
  bool unreferenced(std::uint64_t hash) const { return entries_[map_.at(hash)].refs == 0; }

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;
  struct Entry {
    std::uint64_t hash = 0;
    std::uint32_t refs = 0;
    std::uint32_t gprev = kNil, gnext = kNil, hprev = kNil, hnext = kNil;
    bool gpu = false, host = false;
  };
  struct List {
    std::uint32_t head = kNil, tail = kNil;
  };
  using Link = std::uint32_t Entry::*;

  void unlink(List& l, std::uint32_t i, Link prev, Link next) {
    Entry& e = entries_[i];
    if (e.*prev != kNil)
      entries_[e.*prev].*next = e.*next;
    else
      l.head = e.*next;
    if (e.*next != kNil)
      entries_[e.*next].*prev = e.*prev;
    else
      l.tail = e.*prev;
    e.*prev = e.*next = kNil;
  }
  void push_back(List& l, std::uint32_t i, Link prev, Link next) {
    Entry& e = entries_[i];
    e.*prev = l.tail;
    e.*next = kNil;
    if (l.tail != kNil)
      entries_[l.tail].*next = i;
    else
      l.head = i;
    l.tail = i;
  }
  void take_from_lru(std::uint32_t i) {
    unlink(gpu_lru_, i, &Entry::gprev, &Entry::gnext);
    unref_gpu_blocks_ -= blocks_per_hash_;
  }
  void touch_host(std::uint32_t i) {
    unlink(host_lru_, i, &Entry::hprev, &Entry::hnext);
    push_back(host_lru_, i, &Entry::hprev, &Entry::hnext);
  }
  void drop_host_lru() {
    const std::uint32_t i = host_lru_.head;
    unlink(host_lru_, i, &Entry::hprev, &Entry::hnext);
    entries_[i].host = false;
    host_blocks_ -= blocks_per_hash_;
    if (!entries_[i].gpu) erase(i);
  }
  std::uint32_t new_entry(std::uint64_t hash) {
    std::uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
      entries_[i] = Entry{};
    } else {
      i = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    entries_[i].hash = hash;
    map_.emplace(hash, i);
    return i;
  }
  void erase(std::uint32_t i) {
    map_.erase(entries_[i].hash);
    free_.push_back(i);
  }

  std::uint64_t blocks_per_hash_;
  std::uint64_t host_capacity_blocks_;
  std::uint64_t gpu_blocks_ = 0;
  std::uint64_t unref_gpu_blocks_ = 0;
  std::uint64_t host_blocks_ = 0;
  std::uint64_t demoted_blocks_ = 0;
  std::uint64_t host_hits_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<std::uint64_t, std::uint32_t> map_;
  List gpu_lru_, host_lru_;
};

}  // namespace jevons::sim
