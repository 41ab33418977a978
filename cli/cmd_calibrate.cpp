// `jevons calibrate PROFILE`: fits the latency model's rates on a profile's synthetic steps and
// checks them on held-out steps (docs/validation.md §2): fit on the even-numbered points, predict
// the odd-numbered ones, print each and the error summary.
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/profile.h"
#include "timing/profile_calibration.h"

namespace jevons::cli {

void add_calibrate(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "calibrate",
      "Fit the latency model to a profile's measured synthetic steps and report its error on "
      "held-out steps");
  auto path = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  sub->add_option("profile", *path, "profile.json written by jevons profile")->required();
  sub->add_flag("--summary", *quiet, "Print only the fitted rates and the error summary");
  sub->callback([&action, path, quiet] {
    action = [path, quiet] {
      const Profile profile = Profile::load(*path);
      const Catalog catalog = Catalog::load(Catalog::default_dir());
      const auto samples = sim::step_samples(profile, catalog);
      if (samples.size() < 6) {
        Diagnostic d;
        d.file = *path;
        d.key = "steps";
        d.value = std::to_string(samples.size()) + " usable points";
        d.message = "expected at least 6 synthetic steps (run jevons profile with --step-models)";
        throw InputError(d);
      }
      const auto all = sim::fit_step_rates(samples);
      const auto h = sim::holdout_check(samples);
      std::printf("%s\n",
                  fmt::format("Profile {} ({}, {}), {} steps", *path, profile.meta.device_name,
                              profile.meta.device_kind, samples.size())
                      .c_str());
      auto rates = [](const sim::StepRates& r) {
        return fmt::format(
            "overhead {:.1f} us, {:.3g} TFLOP/s (half of it at {:.1f} tokens), weights {:.3g} GB/s",
            r.overhead_ns * 1e-3, 1e-3 / r.ns_per_flop, r.gemm_half_tokens,
            1.0 / r.ns_per_weight_byte);
      };
      std::printf("Fit on all steps:   %s; mean |error| %.1f %%, max %.1f %%\n",
                  rates(all.rates).c_str(), 100 * all.mean_abs_rel_error,
                  100 * all.max_abs_rel_error);
      std::printf("Fit on even steps:  %s\n", rates(h.train.rates).c_str());
      if (!*quiet) {
        std::printf("%-60s %12s %12s %8s\n", "held-out step", "measured ms", "model ms", "error");
        for (std::size_t i = 0; i < h.test.size(); ++i)
          std::printf("%-60s %12.3f %12.3f %+7.1f%%\n", h.test[i].label.c_str(),
                      h.test[i].measured_ns * 1e-6, h.predicted_ns[i] * 1e-6,
                      100 * (h.predicted_ns[i] / h.test[i].measured_ns - 1));
      }
      std::printf("Held-out (%zu steps): mean |error| %.1f %%, p90 %.1f %%, max %.1f %%\n",
                  h.test.size(), 100 * h.mean_abs_rel_error, 100 * h.p90_abs_rel_error,
                  100 * h.max_abs_rel_error);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
