#pragma once
/// \file The layer shapes of the models the profiler's synthetic steps can run, copied from
/// data/models.yaml so the profiler needs no YAML reader (the kernels-only build has none). The
/// test "step-model table matches the catalog" compares every field with the catalog; add a model
/// here and to the catalog together.

#include <string>
#include <vector>

#include "jevons/core/catalog.h"

namespace jevons::kernels::profiler {

/// The catalog entry's fields the synthetic step reads (dense full-attention models only).
/// Throws std::invalid_argument naming the known ids for an id that is not in the table.
ModelSpec step_model(const std::string& id);

/// Every id of the table, in table order.
std::vector<std::string> step_model_ids();

}  // namespace jevons::kernels::profiler
