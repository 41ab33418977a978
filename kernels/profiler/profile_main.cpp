// jevons-profile: the profiler alone, for GPU machines that lack the Debian packages the full
// `jevons` CLI needs. Same options and output as `jevons profile`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "jevons/core/error.h"
#include "profiler/cli_options.h"
#include "profiler/profiler.h"

int main(int argc, char** argv) {
  using namespace jevons::kernels::profiler;
  const std::string program = "jevons-profile";
  try {
    Options options;
    std::string error;
    if (!parse_profile_args(std::vector<std::string>(argv + 1, argv + argc), options, error)) {
      if (error == "help") {
        std::printf("%s", profile_usage(program).c_str());
        return 0;
      }
      std::fprintf(stderr, "%s: %s\n%s", program.c_str(), error.c_str(),
                   profile_usage(program).c_str());
      return 2;
    }
    if (options.device == DeviceChoice::kGpu && !gpu_available()) {
      std::fprintf(stderr, "%s: --device gpu: no CUDA device is available to this build\n",
                   program.c_str());
      return 2;
    }
    options.log = [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    };
    run(options);
  } catch (const jevons::InputError& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    return 3;
  }
  return 0;
}
