// Host and device descriptions recorded in profiles (no hostnames, no paths).
#include <fstream>
#include <string>
#include <thread>

#include "profiler/profiler.h"

#if defined(JEVONS_HAVE_CUDA)
#include "common/device.h"
#endif

namespace jevons::kernels::profiler {

std::string slugify(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        // "(R)" and "(TM)" and "@ 2.10GHz" add nothing to a directory name.
        for (const char* junk : {"(R)", "(TM)", "(tm)", " CPU"}) {
          for (auto p = v.find(junk); p != std::string::npos; p = v.find(junk))
            v.erase(p, std::char_traits<char>::length(junk));
        }
        if (auto at = v.find(" @"); at != std::string::npos) v.erase(at);
        return v;
      }
    }
  return "unknown cpu";
}

std::string host_description() {
  std::string compiler;
#if defined(__clang__)
  compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  compiler = "gcc " __VERSION__;
#endif
  return std::to_string(std::thread::hardware_concurrency()) + " hardware threads, " + compiler;
}

bool gpu_available() {
#if defined(JEVONS_HAVE_CUDA)
  return gpu::device_count() > 0;
#else
  return false;
#endif
}

}  // namespace jevons::kernels::profiler
