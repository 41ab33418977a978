#pragma once
/// \file The kernels profiler: runs append and decode attention for every (head_dim, KV format,
/// batch, context) of a grid on the present device, measures bytes, times, bandwidth and
/// accuracy, and writes a jevons::Profile (data/profiles/<device-slug>/profile.json).
///
/// Used by `jevons profile` (cli/cmd_profile.cpp) and by the standalone `jevons-profile`
/// executable, which links only core + kernels for GPU machines without the Debian packages.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "jevons/core/profile.h"

namespace jevons::kernels::profiler {

enum class DeviceChoice { kAuto, kCpu, kGpu };

struct Grid {
  std::vector<std::uint32_t> head_dims;
  std::vector<std::string> kv_formats;  ///< KvConfig names ("tq-mse-4", "k:tq-prod-4/v:tq-mse-3")
  std::vector<std::uint32_t> batches;
  std::vector<std::uint64_t> contexts;  ///< tokens per sequence
  std::uint32_t q_heads = 32;
  std::uint32_t kv_heads = 8;
  std::uint32_t page_tokens = 64;
  int iterations = 5;                   ///< timed repetitions per point; the median is recorded
  std::uint64_t max_cache_bytes = 0;    ///< skip points whose K+V cache exceeds this (0 = auto)
  std::size_t accuracy_vectors = 2000;  ///< random vectors for MSE / inner-product error

  // Synthetic model steps (Profile::steps, kernels/model_step/): each model's real layer shapes
  // timed on the device. Decode points are step_batches × step_contexts; prefill points are one
  // sequence computing a chunk of c tokens after o cached ones, for each (c, o) of step_prefill.
  std::vector<std::string> step_models;  ///< data/models.yaml ids; empty: no steps
  std::vector<std::string> step_formats;
  std::vector<std::uint32_t> step_batches;
  std::vector<std::uint64_t> step_contexts;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> step_prefill;  ///< (chunk c, cached o)
  std::uint32_t step_tensor_parallel = 1;
  std::uint32_t step_layers = 2;  ///< distinct layers timed back to back (weights beyond caches)
  int step_iterations = 10;
};

/// The default grid for a device kind; `quick` is a small grid for smoke runs.
Grid default_grid(bool gpu, bool quick);

struct Options {
  DeviceChoice device = DeviceChoice::kAuto;
  Grid grid;
  bool grid_set = false;  ///< false: use default_grid() for the chosen device
  bool quick = false;
  std::string out_dir;                          ///< "" → <data dir>/profiles/<device slug>/
  std::function<void(const std::string&)> log;  ///< progress lines (may be empty)
};

struct Result {
  Profile profile;
  std::string path;  ///< where profile.json was written
};

/// Runs the grid and writes the profile. Throws std::runtime_error when the requested device is
/// unavailable (e.g. --device gpu on a machine without CUDA) or a kernel launch fails.
Result run(const Options& options);

/// "nvidia-h100-80gb-hbm3", "cpu-intel-xeon-platinum-8481c": lowercase, [a-z0-9-] only.
std::string slugify(const std::string& device_name);

/// True when this build has CUDA kernels and a CUDA device is present.
bool gpu_available();

/// Host description for ProfileMeta::host ("N cores, <compiler>") and the CPU model name.
std::string cpu_model_name();
std::string host_description();

}  // namespace jevons::kernels::profiler
