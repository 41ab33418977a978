// Step-model table (see step_models.h); figures and their sources are in data/models.yaml.
#include "profiler/step_models.h"

#include <cstdint>
#include <stdexcept>

namespace jevons::kernels::profiler {
namespace {

struct Row {
  const char* id;
  std::uint32_t layers, hidden_size, q_heads, kv_heads, head_dim;
  std::uint64_t max_context_tokens;
  std::uint32_t intermediate_size, vocab_size;
};

constexpr Row kRows[] = {
    {"llama-3.1-8b", 32, 4096, 32, 8, 128, 131072, 14336, 128256},
    {"llama-3.1-70b", 80, 8192, 64, 8, 128, 131072, 28672, 128256},
    {"llama-2-70b", 80, 8192, 64, 8, 128, 4096, 28672, 32000},
    {"llama-3.1-405b", 126, 16384, 128, 8, 128, 131072, 53248, 128256},
    {"mistral-7b", 32, 4096, 32, 8, 128, 32768, 14336, 32768},
};

}  // namespace

ModelSpec step_model(const std::string& id) {
  for (const Row& r : kRows) {
    if (id != r.id) continue;
    ModelSpec m;
    m.id = r.id;
    m.layers = r.layers;
    m.hidden_size = r.hidden_size;
    m.q_heads = r.q_heads;
    m.kv_heads = r.kv_heads;
    m.head_dim = r.head_dim;
    m.max_context_tokens = r.max_context_tokens;
    m.intermediate_size = r.intermediate_size;
    m.vocab_size = r.vocab_size;
    return m;
  }
  std::string known;
  for (const Row& r : kRows) known += (known.empty() ? "" : ", ") + std::string(r.id);
  throw std::invalid_argument("no synthetic-step shapes for model '" + id + "' (known: " + known +
                              "; kernels/profiler/step_models.cpp)");
}

std::vector<std::string> step_model_ids() {
  std::vector<std::string> ids;
  for (const Row& r : kRows) ids.emplace_back(r.id);
  return ids;
}

}  // namespace jevons::kernels::profiler
