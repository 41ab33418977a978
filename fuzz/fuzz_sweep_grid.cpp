// libFuzzer harness: the sweep-grid reader. The grid is labelled as a file in fuzz/base/, so a
// relative `scenario:` resolves against the committed base scenarios there. A grid that parses is
// expanded, and its first point is written into the base scenario and described, as `jevons
// sweep` does before validating each point.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/sweep_grid.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto g = jevons::SweepGrid::parse(text, JEVONS_FUZZ_BASE_DIR "/grid.yaml");
    const auto points = g.points();
    if (!points.empty()) {
      (void)g.apply(points.front());
      (void)g.describe(points.front());
    }
  } catch (const jevons::InputError&) {
  }
  return 0;
}
