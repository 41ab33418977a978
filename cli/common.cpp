#include "common.h"

#include <fmt/format.h>

#include "jevons/core/error.h"

namespace jevons::cli {

Catalog load_catalog(const std::string& dir) {
  return Catalog::load(dir.empty() ? Catalog::default_dir() : dir);
}

store::Store open_results_db(const std::string& path) {
  Diagnostic d;
  d.key = "--db";
  d.value = path;
  if (path.empty()) {
    d.message = "expected the path of a results database file, got an empty name";
    throw InputError(d);
  }
  try {
    return store::Store(path);
  } catch (const store::StoreError& e) {
    d.message = e.what();
    throw InputError(d);
  }
}

std::string human_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, kUnits[u]);
}

std::string thousands(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace jevons::cli
