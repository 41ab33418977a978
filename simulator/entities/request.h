#pragma once
// A request in flight, and the slot table that recycles their storage (memory stays bounded by
// the requests in flight, not by the requests simulated).

#include <cstdint>
#include <vector>

#include "engine/event_queue.h"

namespace jevons::sim {

inline constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;

enum class RequestState : std::uint8_t {
  kFree,
  kWaiting,     // in a replica's waiting queue (never scheduled, or preempted for recompute)
  kPrefilling,  // admitted, prompt (or recompute) tokens still being processed
  kDecoding,
  kSwapped,       // preempted with its KV in host DRAM
  kTransferring,  // disaggregated: KV on its way from the prefill to the decode replica
};

struct Request {
  TimeNs arrival_ns = 0;
  TimeNs first_scheduled_ns = -1;
  TimeNs first_token_ns = -1;
  TimeNs enqueue_ns = 0;  // when it last entered a waiting queue (Little's law bookkeeping)
  std::uint64_t id = 0;
  const std::uint64_t* hashes = nullptr;  // trace prefix hashes (nullptr: synthetic key below)
  std::uint64_t prefix_key = 0;           // synthetic prefix: hash i = mix(prefix_key + i)
  std::int64_t join_step = 0;             // decode: first decode step (see Replica for the algebra)
  std::uint32_t join_len = 0;             // decode: KV tokens before the first decode step
  std::uint32_t hash_blocks = 0;          // full prefix-hash blocks of the prompt
  std::uint32_t shared_blocks = 0;        // synthetic: leading blocks shared with the prefix group
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t generated = 0;          // output tokens produced (at join time, while decoding)
  std::uint32_t prefill_target = 0;     // KV tokens the current prefill must reach
  std::uint32_t prefilled = 0;          // KV tokens present (computed or cache hits) so far
  std::uint32_t cached_tokens = 0;      // tokens held in referenced prefix-cache blocks
  std::uint32_t ref_blocks = 0;         // prefix-cache hash blocks referenced
  std::uint32_t swa_blocks = 0;         // blocks reserved for sliding-window layers
  std::uint32_t reserved_blocks = 0;    // admission: reserve — private blocks held for its life
  std::uint32_t prefix_hit_tokens = 0;  // tokens served by the cache (both tiers)
  std::uint32_t prefix_host_hit_tokens = 0;  // of which from the host-DRAM tier
  std::uint32_t class_index = 0;
  std::uint32_t entry_pool = 0;
  std::uint32_t replica = 0;     // global replica index currently holding it
  std::uint32_t prev = kNoSlot;  // running list (admission order) for LIFO preemption
  std::uint32_t next = kNoSlot;
  std::uint32_t generation = 0;  // invalidates stale completion-heap entries
  std::uint16_t preemptions = 0;
  std::uint16_t microbatch = 0;  // pipelined replica: the microbatch it runs in while running
  RequestState state = RequestState::kFree;
  bool counted = false;   // arrived after the warm-up
  bool kv_ready = false;  // disaggregated decode: KV already computed elsewhere
  bool sampled = false;   // per-request row kept
  bool first_token_done = false;
  bool kv_reserved = false;  // admitted under admission: reserve (takes no block as it decodes)
};

class RequestTable {
 public:
  std::uint32_t allocate() {
    if (!free_.empty()) {
      const std::uint32_t s = free_.back();
      free_.pop_back();
      slots_[s] = Request{};
      return s;
    }
    slots_.emplace_back();
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  void release(std::uint32_t slot) {
    slots_[slot].state = RequestState::kFree;
    free_.push_back(slot);
  }
  Request& operator[](std::uint32_t slot) { return slots_[slot]; }
  const Request& operator[](std::uint32_t slot) const { return slots_[slot]; }
  std::size_t capacity() const { return slots_.size(); }
  std::size_t in_use() const { return slots_.size() - free_.size(); }

 private:
  std::vector<Request> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace jevons::sim
