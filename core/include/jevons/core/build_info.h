#pragma once
/// \file What produced a result: recorded with every stored run and profile.

namespace jevons {
const char* version();     ///< semantic version of this build, e.g. "0.1.0"
const char* git_commit();  ///< short commit hash at configure time, or "unknown"
}  // namespace jevons
