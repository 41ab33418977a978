#pragma once
// Helpers shared by the subcommands.

#include <string>

#include "jevons/core/catalog.h"

namespace jevons::cli {

/// Loads the catalogs from `dir`, or from Catalog::default_dir() when empty.
Catalog load_catalog(const std::string& dir);

/// "1.23 GiB", "512 B", ... (binary units)
std::string human_bytes(double bytes);
/// "1,234,567"
std::string thousands(std::uint64_t v);

}  // namespace jevons::cli
