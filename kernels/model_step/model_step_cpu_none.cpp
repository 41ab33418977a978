// measure_step_cpu in the kernels-only build (no Eigen): the CPU synthetic step is a full-build
// feature; the GPU step (model_step_launch.cu) needs no Eigen and stays available.
#include <stdexcept>

#include "model_step/model_step.h"

namespace jevons::kernels {

StepTiming measure_step_cpu(const LayerDims&, const KvConfig&, const StepRequest&, std::uint32_t,
                            std::uint32_t, int) {
  throw std::runtime_error(
      "the CPU synthetic step needs Eigen: build without JEVONS_KERNELS_ONLY for CPU steps");
}

}  // namespace jevons::kernels
