#pragma once
// Calibration of the latency model's rates on measured synthetic steps (`Profile::steps`,
// written by `jevons profile`). See docs/latency-model.md, "Calibration".
//
// A step's time is modelled as
//     overhead + max(GEMM flops · ns_per_flop · (1 + T½ / T), weight_bytes · ns_per_weight_byte)
//              + max(kv_ns, attention flops · ns_per_flop)
// The GEMMs and the attention kernels run one after the other, each bound by its own roof: a
// GEMM by its FLOPs or its weight reads, attention by its KV reads (decode) or its FLOPs
// (prefill). The work (FLOPs, weight bytes, T tokens) comes from the latency model's own
// accounting and kv_ns from the KV format's measured decode-attention cost. (1 + T½/T) is the GEMM
// efficiency ramp: a GEMM over T token columns reaches T / (T + T½) of its large-T rate (0 by
// default, i.e. no ramp). The four parameters are fitted by
// Levenberg–Marquardt (Eigen, unsupported/NonLinearOptimization) on the log of
// predicted / measured, so every point weighs by its relative error.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "jevons/core/catalog.h"

namespace jevons::sim {

/// Work of one step per GPU.
struct StepWork {
  double flops = 0;            ///< GEMM FLOPs (weights × tokens)
  double weight_bytes = 0;     ///< weight bytes read
  double kv_ns = 0;            ///< KV read time at the format's measured cost
  double tokens = 0;           ///< tokens through the GEMMs (0: no efficiency ramp applied)
  double attention_flops = 0;  ///< QKᵀ and PV FLOPs
};

struct StepRates {
  double overhead_ns = 0;
  double ns_per_flop = 0;
  double ns_per_weight_byte = 0;
  double gemm_half_tokens = 0;  ///< T½ of the GEMM efficiency ramp (0: none)
};

/// The step's parts under `r` (overhead excluded).
struct StepParts {
  double gemm_compute_ns = 0, weight_ns = 0, attention_compute_ns = 0, kv_ns = 0;
  double body_ns() const {
    return std::max(gemm_compute_ns, weight_ns) + std::max(kv_ns, attention_compute_ns);
  }
};
StepParts step_parts(const StepWork& w, const StepRates& r);

double predict_step_ns(const StepWork& w, const StepRates& r);

struct StepSample {
  StepWork work;
  double measured_ns = 0;
  std::string label;  ///< "llama-3.1-8b decode B=8 ctx=4096 bf16", for reports
};

struct StepFit {
  StepRates rates;
  std::size_t points = 0;
  double mean_abs_rel_error = 0;  ///< mean |predicted − measured| / measured over the points
  double max_abs_rel_error = 0;
};

/// Fits the rates to `samples` (at least 3, measured times positive). Throws
/// std::invalid_argument otherwise. Deterministic: same samples, same rates.
StepFit fit_step_rates(const std::vector<StepSample>& samples);

/// Rates fitted on every synthetic step of one profile (all its models and formats): a property
/// of the device, which the latency model applies to any model (profile_calibration.h).
struct DeviceStepCalibration {
  StepFit fit;
  std::string weights;           ///< weight type of the measured GEMMs ("bf16", "fp32")
  std::string device_kind;       ///< "gpu" or "cpu" (CPU steps are never applied to a GPU)
  const GpuSpec* gpu = nullptr;  ///< catalog entry of the profiled GPU; nullptr when unknown
};

/// Rates measured on `from` with `from_weights` GEMMs, carried to `to` running `to_weights`: ns per
/// FLOP scaled by the catalog's dense TFLOPS ratio, ns per weight byte by the HBM bandwidth
/// ratio, overhead and T½ unchanged. The projection the latency model labels as such.
StepRates project_rates(const StepRates& r, const GpuSpec& from, const std::string& from_weights,
                        const GpuSpec& to, const std::string& to_weights);

/// |predicted − measured| / measured of each sample under `rates`.
std::vector<double> relative_errors(const std::vector<StepSample>& samples, const StepRates& rates);

}  // namespace jevons::sim
