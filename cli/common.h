#pragma once
// Helpers shared by the subcommands.

#include <string>

#include "jevons/core/catalog.h"
#include "jevons/store/store.h"

namespace jevons::cli {

/// Loads the catalogs from `dir`, or from Catalog::default_dir() when empty.
Catalog load_catalog(const std::string& dir);

/// Opens the results database named by `--db`. An empty name, or a file SQLite cannot open or
/// Jevons cannot use (a missing folder, no permission, not a Jevons database, a newer schema),
/// is bad input (exit 2) naming the option and the path, not an internal error.
store::Store open_results_db(const std::string& path);

/// "1.23 GiB", "512 B", ... (binary units)
std::string human_bytes(double bytes);
/// "1,234,567"
std::string thousands(std::uint64_t v);

}  // namespace jevons::cli
