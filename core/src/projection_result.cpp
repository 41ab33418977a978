#include "jevons/core/projection_result.h"

namespace jevons {

std::string to_string(Variant v) {
  switch (v) {
    case Variant::kCounterfactual: return "counterfactual";
    case Variant::kEfficiency: return "efficiency";
    case Variant::kFull: return "with-rebound";
  }
  return "?";
}

}  // namespace jevons
