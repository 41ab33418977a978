#pragma once
// From a measured profile's synthetic steps to the latency model's rates, and the held-out check
// of docs/validation.md §2 (`jevons calibrate PROFILE`).

#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/profile.h"
#include "jevons/core/roofline.h"
#include "timing/step_calibration.h"

namespace jevons::sim {

/// One sample per usable step point of `profile`: its work as the latency model computes it for
/// that model, format and TP (weights at the point's type: fp32 CPU steps read twice the bf16
/// bytes), and the measured time. Points of models missing from the catalog are skipped.
std::vector<StepSample> step_samples(const Profile& profile, const Catalog& catalog,
                                     const AnalyticalParams& params = {});

/// Fits the device's rates on all of `profile`'s steps; empty when it has fewer than 3.
std::optional<DeviceStepCalibration> calibrate_steps(const Profile& profile, const Catalog& catalog,
                                                     const AnalyticalParams& params = {});

/// Held-out check: fit on the even-numbered samples, predict the odd-numbered ones.
struct HoldoutReport {
  StepFit train;
  std::vector<StepSample> test;
  std::vector<double> predicted_ns;  ///< per test sample
  double mean_abs_rel_error = 0;
  double max_abs_rel_error = 0;
  double p90_abs_rel_error = 0;
};
HoldoutReport holdout_check(const std::vector<StepSample>& samples);

}  // namespace jevons::sim
