#pragma once
// The future event set: a binary heap ordered by (time, priority, insertion sequence) through one
// comparator. The sequence number makes the order total and independent of addresses, so a run is
// reproducible (OMNeT++'s insertCount, ns-3's m_uid). Cancellation is lazy (ns-3): a cancelled
// event stays in the heap and pop() skips it.

#include <algorithm>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace jevons::sim {

/// Simulated time: integer nanoseconds (converted to seconds only at the output edges).
using TimeNs = std::int64_t;
using EventId = std::uint64_t;

struct Event {
  TimeNs time_ns = 0;
  /// (priority << 56) | seq: lower priority values run first among events at the same time,
  /// then insertion order. Packed so the comparator is two integer compares.
  std::uint64_t order = 0;
  std::uint64_t payload = 0;  ///< event-specific (a request slot, a generation counter, ...)
  std::uint32_t entity = 0;   ///< which replica/class/... the event belongs to
  std::uint16_t type = 0;

  EventId id() const { return order & kSeqMask; }
  std::uint8_t priority() const { return static_cast<std::uint8_t>(order >> 56); }
  static constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << 56) - 1;
};

/// Strict weak order: a precedes b. Irreflexive, since (time, order) is unique per event.
inline bool precedes(const Event& a, const Event& b) {
  return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.order < b.order;
}

class EventQueue {
 public:
  /// Schedules an event; returns its id (for cancel()).
  EventId push(TimeNs time_ns, std::uint16_t type, std::uint32_t entity, std::uint64_t payload,
               std::uint8_t priority = 128) {
    const EventId id = next_seq_++;
    heap_.push_back(Event{time_ns, (std::uint64_t{priority} << 56) | id, payload, entity, type});
    std::push_heap(heap_.begin(), heap_.end(), later);
    return id;
  }
  /// Marks an event cancelled; pop() will skip it. Cancelling an id twice, or one already
  /// popped, is a bug the caller must avoid (it would leave a stale entry in the cancel set).
  void cancel(EventId id) { cancelled_.insert(id); }

  /// Removes and returns the next live event; false when none is left.
  bool pop(Event& out) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      out = heap_.back();
      heap_.pop_back();
      if (!cancelled_.empty() && cancelled_.erase(out.id()) > 0) continue;
      return true;
    }
    return false;
  }
  /// Time of the next event (cancelled ones included); only valid when !empty().
  TimeNs peek_time() const { return heap_.front().time_ns; }
  bool empty() const { return heap_.size() == cancelled_.size(); }
  std::size_t size() const { return heap_.size() - cancelled_.size(); }

 private:
  static bool later(const Event& a, const Event& b) { return precedes(b, a); }
  std::vector<Event> heap_;
  std::unordered_set<EventId> cancelled_;
  EventId next_seq_ = 0;
};

}  // namespace jevons::sim
