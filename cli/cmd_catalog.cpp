#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/kv_format.h"

namespace jevons::cli {

namespace {

std::string fig(const Figure& f, const char* fmt_spec = "{:g}") {
  if (!f.known()) return "n/r";
  return fmt::format(fmt::runtime(fmt_spec), *f.value) + "[" + to_string(f.confidence) + "]";
}

void print_gpus(const Catalog& c) {
  fmt::print(
      "{:<12} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>9} {:>10} {:>10} {:>8} {:>9}  {}\n", "id",
      "HBM GiB", "usable", "TB/s", "BF16 TF", "FP8 TF", "FP4 TF", "link GB/s", "host GiB",
      "host GB/s", "TDP W", "price $", "launch");
  for (const auto& g : c.gpus()) {
    fmt::print(
        "{:<12} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>9} {:>10} {:>10} {:>8} {:>9}  {}{}\n",
        g.id, fig(g.hbm_nominal_gib), fig(g.hbm_usable_gib), fig(g.hbm_bandwidth_tbps),
        fig(g.bf16_dense_tflops), fig(g.fp8_dense_tflops), fig(g.fp4_dense_tflops),
        fig(g.scaleup_link_gbps), fig(g.host_dram_per_gpu_gib), fig(g.host_link_gbps), fig(g.tdp_w),
        fig(g.price_usd), g.launch, g.projection ? " (projection)" : "");
  }
  fmt::print("\n[V] vendor  [S] secondary  [U] uncertain/derived; sources in data/gpus.yaml\n");
}

void print_models(const Catalog& c) {
  fmt::print("{:<18} {:>6} {:>7} {:>7} {:>7} {:>8} {:>9} {:>9} {:>10} {:>14}  {}\n", "id", "layers",
             "hidden", "q_heads", "kv_head", "head_dim", "params B", "active B", "max ctx",
             "bf16 B/token", "attention");
  for (const auto& m : c.models()) {
    const KvFootprint kv(m, KvConfig::parse("bf16"));
    fmt::print("{:<18} {:>6} {:>7} {:>7} {:>7} {:>8} {:>9g} {:>9g} {:>10} {:>14}  {}\n", m.id,
               m.layers, m.hidden_size, m.q_heads, m.kv_heads, m.head_dim, m.params_total_b,
               m.params_active_b, thousands(m.max_context_tokens), thousands(kv.bytes_per_token()),
               m.layout_description());
  }
}

void print_formats(const Catalog& c, const std::string& model_filter, std::uint64_t context) {
  const auto& names = KvFormat::names();
  fmt::print("KV bytes per token (whole model, all layers{}), by format:\n\n",
             context ? fmt::format("; effective at {} tokens of context", thousands(context)) : "");
  fmt::print("{:<18}", "model");
  for (const auto& n : names) fmt::print(" {:>10}", n);
  fmt::print("\n");
  for (const auto& m : c.models()) {
    if (!model_filter.empty() && m.id != model_filter) continue;
    fmt::print("{:<18}", m.id);
    for (const auto& n : names) {
      const KvFootprint kv(m, KvConfig::parse(n));
      if (context)
        fmt::print(" {:>10.0f}", kv.effective_bytes_per_token(context));
      else
        fmt::print(" {:>10}", thousands(kv.bytes_per_token()));
    }
    fmt::print("\n");
  }
  fmt::print("\nBits per value at head_dim 128 (incl. norms/scales):");
  for (const auto& n : names) fmt::print(" {}={:.3f}", n, KvFormat::parse(n).bits_per_value(128));
  fmt::print("\n");
}

}  // namespace

void add_catalog(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("catalog", "Show the GPU, model or KV format catalog");
  auto what = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto context = std::make_shared<std::uint64_t>(0);
  sub->add_option("what", *what, "gpus | models | formats")
      ->required()
      ->check(CLI::IsMember({"gpus", "models", "formats"}));
  sub->add_option("--data-dir", *data_dir, "Directory holding gpus.yaml and models.yaml");
  sub->add_option("--model", *model, "formats: show only this model");
  sub->add_option("--context", *context,
                  "formats: effective bytes/token at this context (sliding windows count)");
  sub->callback([&action, what, data_dir, model, context] {
    action = [what, data_dir, model, context] {
      const Catalog c = load_catalog(*data_dir);
      if (*what == "gpus") print_gpus(c);
      if (*what == "models") print_models(c);
      if (*what == "formats") {
        if (!model->empty()) (void)c.model(*model);  // unknown id: a clear error with a hint
        print_formats(c, *model, *context);
      }
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
