// libFuzzer harness: one request-trace reader, chosen at compile time (JEVONS_FUZZ_TRACE_FORMAT
// = kAzure, kMooncake or kCsv), under both malformed-line policies.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jevons/core/error.h"
#include "workload/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jevons;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (auto policy : {MalformedPolicy::kError, MalformedPolicy::kSkip}) {
    try {
      (void)sim::parse_trace(text, "fuzz.trace", sim::TraceFormat::JEVONS_FUZZ_TRACE_FORMAT,
                             policy);
    } catch (const InputError&) {
    }
  }
  return 0;
}
