#pragma once
// Every event type of the simulation, in one place, with its priority among events at the same
// instant (lower runs first). The fleet dispatches on the type in one switch (simulate.cpp).

#include <cstdint>

namespace jevons::sim {

enum EventType : std::uint16_t {
  kEvKvTransferDone = 1,  // entity: decode replica; payload: request slot
  kEvStepEnd = 2,         // entity: replica
  kEvArrival = 3,         // entity: workload source
  kEvSample = 4,          // time-series sample
};

// A step ending at t frees its KV before an arrival at t is routed; samples see the state after
// everything else at that instant.
inline constexpr std::uint8_t kPrioTransfer = 10;
inline constexpr std::uint8_t kPrioStepEnd = 20;
inline constexpr std::uint8_t kPrioArrival = 30;
inline constexpr std::uint8_t kPrioSample = 40;

}  // namespace jevons::sim
