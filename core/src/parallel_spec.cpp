// Pipeline, expert and DP-attention parallelism keys, shared by scenario pools and the
// published-results suite's rows (docs/scenarios.md, docs/latency-model.md "Parallelism").

#include <fmt/format.h>

#include "sections.h"

namespace jevons::detail {

ParallelSpec parse_parallel(yaml::MapReader& m) {
  ParallelSpec p;
  p.pipeline_parallel =
      static_cast<std::uint32_t>(m.integer_or("pipeline_parallel", 1, yaml::positive(256)));
  p.microbatches =
      static_cast<std::uint32_t>(m.integer_or("microbatches", 0, yaml::non_negative(1024)));
  p.expert_parallel =
      static_cast<std::uint32_t>(m.integer_or("expert_parallel", 1, yaml::positive(1024)));
  p.dp_attention = m.boolean_or("dp_attention", false);
  p.expert_imbalance = m.number_or("expert_imbalance", 1.0, yaml::between(1.0, 64.0));
  return p;
}

void check_parallel(yaml::Context& ctx, const YAML::Node& at, const std::string& path,
                    const ModelSpec& model, const ParallelSpec& p, std::uint32_t tensor_parallel) {
  if (p.pipeline_parallel > model.layers)
    ctx.error(at["pipeline_parallel"], path + ".pipeline_parallel",
              std::to_string(p.pipeline_parallel),
              fmt::format("expected at most {}'s {} layers (one stage holds at least one layer)",
                          model.id, model.layers));
  if (p.microbatches > 0 && p.pipeline_parallel == 1)
    ctx.error(at["microbatches"], path + ".microbatches", std::to_string(p.microbatches),
              "microbatches apply only with pipeline_parallel > 1");
  if (p.expert_parallel > 1) {
    if (!model.is_moe())
      ctx.error(at["expert_parallel"], path + ".expert_parallel", std::to_string(p.expert_parallel),
                fmt::format("{} has no routed experts; expected 1", model.id));
    else if (tensor_parallel % p.expert_parallel != 0 || model.experts % p.expert_parallel != 0)
      ctx.error(at["expert_parallel"], path + ".expert_parallel", std::to_string(p.expert_parallel),
                fmt::format("expected a divisor of tensor_parallel ({}) and of {}'s {} experts",
                            tensor_parallel, model.id, model.experts));
  }
  if (p.expert_imbalance != 1.0 && p.expert_parallel == 1)
    ctx.error(at["expert_imbalance"], path + ".expert_imbalance",
              fmt::format("{}", p.expert_imbalance),
              "expert_imbalance applies only with expert_parallel > 1");
  if (p.dp_attention && model.is_mla() && model.attention_params_b <= 0)
    ctx.error(at["dp_attention"], path + ".dp_attention", "true",
              fmt::format("{} has MLA attention without attention_params_b in the model catalog: "
                          "DP-attention needs it to size the replicated attention weights",
                          model.id));
}

}  // namespace jevons::detail
