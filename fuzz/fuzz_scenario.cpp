// libFuzzer harness: the scenario loader (YAML → validated Scenario) with the repo's catalog.
// Any input must either parse or throw InputError; anything else (another exception, a crash, a
// sanitizer report, a hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const jevons::Catalog catalog = jevons::Catalog::load(JEVONS_FUZZ_DATA_DIR);
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)jevons::Scenario::parse(text, "fuzz.yaml", catalog);
  } catch (const jevons::InputError&) {
  }
  return 0;
}
