// `jevons profile`: measures the kernels on this machine and writes a profile the simulator reads.
// The work is done by kernels/profiler (shared with the standalone jevons-profile executable).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "jevons/core/error.h"
#include "profiler/cli_options.h"
#include "profiler/profiler.h"

namespace jevons::cli {

void add_profile(CLI::App& app, Action& action) {
  namespace prof = jevons::kernels::profiler;
  auto* sub = app.add_subcommand(
      "profile",
      "Measure append and decode-attention kernels and synthetic model steps (GPU if present, else "
      "the CPU twins) and write data/profiles/<device>/profile.json");
  auto device = std::make_shared<std::string>("auto");
  auto out = std::make_shared<std::string>();
  auto quick = std::make_shared<bool>(false);
  auto o = std::make_shared<prof::GridOverrides>();
  sub->add_option("--device", *device, "cpu | gpu | auto (default: auto)")
      ->check(CLI::IsMember({"cpu", "gpu", "auto"}));
  sub->add_option("--out", *out, "Output directory (default: data/profiles/<device-slug>/)");
  sub->add_flag("--quick", *quick, "Small grid for a smoke run");
  sub->add_option("--head-dims", o->head_dims, "Head dims to measure (64, 128, 256)")
      ->delimiter(',');
  sub->add_option("--formats", o->kv_formats,
                  "KV formats, e.g. bf16,tq-mse-4,k:tq-prod-4/v:tq-mse-3")
      ->delimiter(',');
  sub->add_option("--batches", o->batches, "Batch sizes")->delimiter(',');
  sub->add_option("--contexts", o->contexts, "Context lengths in tokens")->delimiter(',');
  sub->add_option("--q-heads", o->q_heads, "Query heads (default 32)");
  sub->add_option("--kv-heads", o->kv_heads, "KV heads (default 8)");
  sub->add_option("--page-tokens", o->page_tokens,
                  "Tokens per KV page, multiple of 16 (default 64)");
  sub->add_option("--iterations", o->iterations, "Timed repetitions per point (median recorded)");
  sub->add_option("--step-models", o->step_models,
                  "Models for synthetic prefill/decode steps (data/models.yaml ids, or none)")
      ->delimiter(',');
  sub->add_option("--step-formats", o->step_formats, "KV formats of the synthetic steps")
      ->delimiter(',');
  sub->add_option("--step-batches", o->step_batches, "Decode batch sizes of the synthetic steps")
      ->delimiter(',');
  sub->add_option("--step-contexts", o->step_contexts, "Decode contexts of the synthetic steps")
      ->delimiter(',');
  sub->add_option("--step-layers", o->step_layers, "Layers timed back to back per step");
  sub->callback([&action, device, out, quick, o] {
    action = [device, out, quick, o] {
      prof::Options options;
      prof::parse_device(*device, options.device);
      if (options.device == prof::DeviceChoice::kGpu && !prof::gpu_available()) {
        Diagnostic d;
        d.key = "--device";
        d.value = "gpu";
        d.message = "no CUDA device is available to this build; use --device cpu or auto";
        throw InputError(d);
      }
      options.quick = *quick;
      options.out_dir = *out;
      prof::apply_overrides(options, *o);
      options.log = [](const std::string& s) {
        std::printf("%s\n", s.c_str());
        std::fflush(stdout);
      };
      prof::run(options);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
