// libFuzzer harness: the measured-profile reader (profile.json), plus the two queries the latency
// model makes of a loaded profile.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto p = jevons::Profile::parse(text, "fuzz.json");
    for (const auto& a : p.attention) {
      (void)p.decode_bandwidth(a.kv_format, a.head_dim);
      (void)p.decode_time_ratio_vs_bf16(a.kv_format, a.head_dim);
    }
  } catch (const jevons::InputError&) {
  }
  return 0;
}
