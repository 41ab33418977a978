#pragma once
/// \file Option handling shared by `jevons profile` (CLI11 front end) and `jevons-profile`
/// (a dependency-free parser): grid overrides are applied to the device's default grid.

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/profiler.h"

namespace jevons::kernels::profiler {

/// User overrides; empty lists / zero values keep the default grid's entries.
struct GridOverrides {
  std::vector<std::uint32_t> head_dims;
  std::vector<std::string> kv_formats;
  std::vector<std::uint32_t> batches;
  std::vector<std::uint64_t> contexts;
  std::uint32_t q_heads = 0;
  std::uint32_t kv_heads = 0;
  std::uint32_t page_tokens = 0;
  int iterations = 0;
  std::vector<std::string> step_models;  ///< {"none"}: no synthetic steps
  std::vector<std::string> step_formats;
  std::vector<std::uint32_t> step_batches;
  std::vector<std::uint64_t> step_contexts;
  std::uint32_t step_layers = 0;
};

/// Resolves the device, starts from default_grid() and applies `o`. Validates formats (throws
/// jevons::InputError naming the option) and head counts (q_heads a multiple of kv_heads).
void apply_overrides(Options& options, const GridOverrides& o);

/// "cpu" | "gpu" | "auto" → DeviceChoice; false on anything else.
bool parse_device(const std::string& s, DeviceChoice& out);

/// Parses jevons-profile's argv (without argv[0]). Returns false with `error` set ("help" for
/// --help). Options: --device, --out, --quick, --head-dims, --formats, --batches, --contexts,
/// --q-heads, --kv-heads, --page-tokens, --iterations, --step-models, --step-formats,
/// --step-batches, --step-contexts, --step-layers.
bool parse_profile_args(const std::vector<std::string>& args, Options& options, std::string& error);

std::string profile_usage(const std::string& program);

}  // namespace jevons::kernels::profiler
