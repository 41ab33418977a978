#pragma once
// From a measured profile's synthetic steps to the latency model's rates, and the held-out check
// of docs/validation.md §2 (`jevons calibrate PROFILE`).

#include <optional>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"
#include "jevons/core/measured_ops.h"
#include "jevons/core/profile.h"
#include "jevons/core/roofline.h"
#include "timing/step_calibration.h"

namespace jevons::sim {

/// One sample per usable step point of `profile`: its work as the latency model computes it for
/// that model, format and TP (weights at the point's type: fp32 CPU steps read twice the bf16
/// bytes), and the measured time. Points of models missing from the catalog are skipped.
std::vector<StepSample> step_samples(const Profile& profile, const Catalog& catalog,
                                     const AnalyticalParams& params = {});

/// One sample per measured layer of `ds` (data/measured/, a third party's per-operator times): the
/// work of one layer's projections on one GPU of its tensor-parallel group (FLOPs 2·T·P/TP,
/// weight bytes P/TP at `weights`, T tokens, no attention) against the measured time of its four
/// projection GEMMs, plus its unfused element-wise operators when `with_elementwise`. The latency
/// model's GEMM term, checked on its own: attention and all-reduce are measured by other means,
/// and our synthetic steps (like fused serving engines) leave the element-wise operators out.
std::vector<StepSample> ops_samples(const MeasuredOpsDataset& ds, const std::string& weights,
                                    bool with_elementwise = false);

/// latency + 2(n − 1)/n · bytes / bus bandwidth, fitted to measured all-reduces of one worker
/// count n on relative error (weighted least squares): the form of ring_allreduce_ns.
struct AllReduceFit {
  std::uint32_t workers = 0;
  double latency_ns = 0;
  double bus_bytes_per_ns = 0;  ///< GB/s through each GPU's link per direction
  std::size_t points = 0;
  double mean_abs_rel_error = 0, max_abs_rel_error = 0;
};
/// Throws std::invalid_argument with fewer than 2 rows of `workers`.
AllReduceFit fit_all_reduce(const std::vector<MeasuredAllReduce>& rows, std::uint32_t workers);

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
/// The same with the split given: fit on `train`, predict `test`.
HoldoutReport holdout_check(const std::vector<StepSample>& train, std::vector<StepSample> test);

}  // namespace jevons::sim
