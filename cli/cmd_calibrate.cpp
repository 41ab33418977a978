// `jevons calibrate PROFILE`: fits the latency model's rates on a profile's synthetic steps and
// checks them on held-out steps (docs/validation.md §2): fit on the even-numbered points, predict
// the odd-numbered ones, print each and the error summary.
// `jevons calibrate DIR` does the same on a measured-ops set (data/measured/<set>/sources.yaml):
// a third party's per-layer operator times on a GPU, which check the GEMM term on real hardware.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <tuple>

#include "commands.h"
#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/measured_ops.h"
#include "jevons/core/profile.h"
#include "jevons/core/roofline.h"
#include "timing/profile_calibration.h"

namespace jevons::cli {

namespace {

std::string rates_text(const sim::StepRates& r) {
  return fmt::format(
      "overhead {:.1f} us, {:.3g} TFLOP/s (half of it at {:.1f} tokens), weights {:.3g} GB/s",
      r.overhead_ns * 1e-3, 1e-3 / r.ns_per_flop, r.gemm_half_tokens, 1.0 / r.ns_per_weight_byte);
}

struct ErrorSummary {
  double mean = 0, max = 0;
  std::size_t n = 0;
};

ErrorSummary summarise(const std::vector<double>& e) {
  ErrorSummary s;
  s.n = e.size();
  for (double v : e) s.mean += v / static_cast<double>(e.size()), s.max = std::max(s.max, v);
  return s;
}

// The measured all-reduces against the latency model's ring all-reduce with the catalog's link
// bandwidth and the default latency, and the (latency, bus bandwidth) that fit them.
void report_all_reduce(const MeasuredOpsSet& set, const Catalog& catalog) {
  const GpuSpec* g = catalog.find_gpu(set.gpu_catalog_id);
  const AnalyticalParams params;
  const double link_gbps = g ? g->scaleup_link_gbps.value.value_or(64.0) : 64.0;
  std::map<std::uint32_t, std::vector<const MeasuredAllReduce*>> by_workers;
  for (const auto& r : set.all_reduce) by_workers[r.workers].push_back(&r);
  std::printf("All-reduce, %zu measurements; model: %.0f us + ring over %.0f GB/s per direction\n",
              set.all_reduce.size(), params.allreduce_latency_us, link_gbps / 2);
  for (const auto& [n, rows] : by_workers) {
    if (rows.size() < 2) continue;
    const auto fit = sim::fit_all_reduce(set.all_reduce, n);
    // Per decode-relevant size band: activations of 1-64 tokens of an 8k-wide model are
    // 16 KB-1 MB, of a 4k-token prefill chunk 64 MB.
    std::vector<double> small, large, ratio_small, ratio_large;
    for (const auto* r : rows) {
      const double model = ring_allreduce_ns(static_cast<double>(r->bytes), n, link_gbps,
                                             params.allreduce_latency_us);
      const double t = r->time_ms * 1e6;
      (r->bytes < (1u << 20) ? small : large).push_back(std::abs(model - t) / t);
      (r->bytes < (1u << 20) ? ratio_small : ratio_large).push_back(t / model);
    }
    const auto ss = summarise(small), sl = summarise(large);
    const auto rs = summarise(ratio_small), rl = summarise(ratio_large);
    std::printf(
        "  %u GPUs (%zu): fit %.1f us + %.0f GB/s bus (mean |error| %.1f %%, max %.1f %%); "
        "model mean |error| %.0f %% below 1 MB (measured %.1fx the model), %.0f %% from "
        "1 MB (%.2fx)\n",
        n, rows.size(), fit.latency_ns * 1e-3, fit.bus_bytes_per_ns, 100 * fit.mean_abs_rel_error,
        100 * fit.max_abs_rel_error, 100 * ss.mean, rs.mean, 100 * sl.mean, rl.mean);
  }
}

// Measured decode attention over a bf16 cache against the latency model's KV term without a
// profile: KV bytes over the catalog's HBM bandwidth times AnalyticalParams::bandwidth_efficiency.
void report_decode_attention(const MeasuredOpsSet& set, const Catalog& catalog, bool quiet) {
  const GpuSpec* g = catalog.find_gpu(set.gpu_catalog_id);
  if (g == nullptr) return;
  const AnalyticalParams params;
  const double bytes_per_ns =
      g->hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e3 * params.bandwidth_efficiency;
  std::printf("Decode attention, %zu measurements (%s); model: KV bytes at %.0f %% of %.2f TB/s\n",
              set.decode_attention.size(), set.decode_attention_source.c_str(),
              100 * params.bandwidth_efficiency, g->hbm_bandwidth_tbps.get("hbm_bandwidth_tbps"));
  std::vector<double> large, small;
  for (const auto& m : set.decode_attention) {
    const double model_ns = m.kv_bytes() / bytes_per_ns, t = m.time_ms * 1e6;
    const double err = model_ns / t - 1;
    (m.kv_bytes() >= 256e6 ? large : small).push_back(std::abs(err));
    if (!quiet)
      std::printf("  B=%-3u L=%-7llu KV %8.1f MB  measured %8.4f ms  model %8.4f ms  %+6.1f%%\n",
                  m.batch, static_cast<unsigned long long>(m.context), m.kv_bytes() * 1e-6,
                  m.time_ms, model_ns * 1e-6, 100 * err);
  }
  const auto l = summarise(large), sm = summarise(small);
  std::printf(
      "  model |error| from 256 MB of KV per layer: mean %.1f %%, max %.1f %% (%zu points); "
      "below: mean %.0f %% (%zu points, a fixed per-kernel cost the KV term does not "
      "carry)\n",
      100 * l.mean, 100 * l.max, l.n, 100 * sm.mean, sm.n);
}

// Rates fitted on `set`'s GPU, projected by catalog ratios to `target`'s GPU, against the layers
// measured there: the check of how the latency model carries a measured GPU to one it has not
// measured.
void report_projection(const MeasuredOpsSet& set, const sim::StepRates& rates,
                       const std::string& target_dir, const Catalog& catalog) {
  const MeasuredOpsSet target = MeasuredOpsSet::load(target_dir);
  const GpuSpec* from = catalog.find_gpu(set.gpu_catalog_id);
  const GpuSpec* to = catalog.find_gpu(target.gpu_catalog_id);
  if (from == nullptr || to == nullptr) {
    Diagnostic d;
    d.file = (from ? target_dir : set.dir) + "/sources.yaml";
    d.key = "gpu";
    d.value = from ? target.gpu_catalog_id : set.gpu_catalog_id;
    d.message = "expected a GPU id of the catalog (data/gpus.yaml) to project between";
    throw InputError(d);
  }
  const auto projected = sim::project_rates(rates, *from, set.weights, *to, target.weights);
  std::printf("Projected to %s (%s) by catalog ratios: %s\n", to->id.c_str(),
              target.weights.c_str(), rates_text(projected).c_str());
  std::vector<sim::StepSample> all;
  for (const auto& ds : target.datasets) {
    const auto s = sim::ops_samples(ds, target.weights);
    const auto e = summarise(sim::relative_errors(s, projected));
    std::printf("  %s on %s (%zu layers): mean |error| %.1f %%, max %.1f %%\n", ds.model.c_str(),
                to->id.c_str(), e.n, 100 * e.mean, 100 * e.max);
    all.insert(all.end(), s.begin(), s.end());
  }
  if (all.size() >= 8) {
    const auto own = sim::fit_step_rates(all);
    std::printf("  for comparison, fitted on %s itself: %s; mean |error| %.1f %%\n", to->id.c_str(),
                rates_text(own.rates).c_str(), 100 * own.mean_abs_rel_error);
  }
}

ExitCode calibrate_ops(const std::string& dir, bool quiet, const std::string& project_to) {
  const MeasuredOpsSet set = MeasuredOpsSet::load(dir);
  const Catalog catalog = Catalog::load(Catalog::default_dir());
  std::vector<std::vector<sim::StepSample>> per;
  std::vector<sim::StepSample> all;
  for (const auto& ds : set.datasets) {
    per.push_back(sim::ops_samples(ds, set.weights));
    all.insert(all.end(), per.back().begin(), per.back().end());
  }
  std::printf("%s\n", fmt::format("Measured ops {} on {} ({}), {} layers measured; source: {}", dir,
                                  set.gpu_catalog_id, set.weights, all.size(), set.source)
                          .c_str());
  if (all.size() < 8) {
    Diagnostic d;
    d.file = dir + "/sources.yaml";
    d.key = "datasets";
    d.value = std::to_string(all.size()) + " rows";
    d.message = "expected at least 8 measured rows in all";
    throw InputError(d);
  }
  const auto fit = sim::fit_step_rates(all);
  std::printf("Fit on all rows:    %s; mean |error| %.1f %%, max %.1f %%\n",
              rates_text(fit.rates).c_str(), 100 * fit.mean_abs_rel_error,
              100 * fit.max_abs_rel_error);
  if (const GpuSpec* g = catalog.find_gpu(set.gpu_catalog_id)) {
    const double peak_flops = g->dense_tflops(set.weights) * 1e12;
    const double peak_bytes = g->hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e12;
    std::printf("  of the catalog's %s peaks: %.0f %% of %.0f TFLOP/s, %.0f %% of %.2f TB/s\n",
                g->id.c_str(), 100 * 1e9 / fit.rates.ns_per_flop / peak_flops, peak_flops * 1e-12,
                100 * 1e9 / fit.rates.ns_per_weight_byte / peak_bytes, peak_bytes * 1e-12);
  }
  // Held out: the even-numbered rows of every dataset fit, the odd-numbered ones are predicted.
  std::vector<sim::StepSample> train, test;
  for (const auto& p : per)
    for (std::size_t i = 0; i < p.size(); ++i) (i % 2 == 0 ? train : test).push_back(p[i]);
  const auto h = sim::holdout_check(train, std::move(test));
  std::printf("Fit on even rows:   %s\n", rates_text(h.train.rates).c_str());
  if (!quiet) {
    std::printf("%-44s %12s %12s %8s\n", "held-out layer", "measured ms", "model ms", "error");
    for (std::size_t i = 0; i < h.test.size(); ++i)
      std::printf("%-44s %12.4f %12.4f %+7.1f%%\n", h.test[i].label.c_str(),
                  h.test[i].measured_ns * 1e-6, h.predicted_ns[i] * 1e-6,
                  100 * (h.predicted_ns[i] / h.test[i].measured_ns - 1));
  }
  // By token band, where a model of this form fails first (the roofline's knee).
  std::map<int, std::vector<double>> bands;
  for (std::size_t i = 0; i < h.test.size(); ++i) {
    const double t = h.test[i].work.tokens;
    bands[t < 64     ? 0
          : t < 512  ? 1
          : t < 2048 ? 2
                     : 3]
        .push_back(std::abs(h.predicted_ns[i] - h.test[i].measured_ns) / h.test[i].measured_ns);
  }
  const char* names[] = {"T < 64", "64 <= T < 512", "512 <= T < 2048", "T >= 2048"};
  for (const auto& [b, v] : bands) {
    const auto s = summarise(v);
    std::printf("  held-out %-16s %4zu rows: mean |error| %.1f %%, max %.1f %%\n", names[b], s.n,
                100 * s.mean, 100 * s.max);
  }
  // A serving engine's steps spread over many token counts, so what a simulation accumulates is
  // the error over a range of T, not at one T: sum each held-out (model, TP, 256-token band).
  // h.test holds each dataset's odd-numbered rows in order.
  std::map<std::tuple<std::size_t, std::uint32_t, std::uint64_t>, std::pair<double, double>> sums;
  std::size_t t = 0;
  for (std::size_t k = 0; k < per.size(); ++k)
    for (std::size_t i = 1; i < per[k].size(); i += 2, ++t) {
      const auto& row = set.datasets[k].rows[i];
      auto& acc = sums[{k, row.tensor_parallel, (row.num_tokens - 1) / 256}];
      acc.first += h.test[t].measured_ns;
      acc.second += h.predicted_ns[t];
    }
  std::vector<double> band_errors;
  for (const auto& [key, v] : sums) band_errors.push_back(std::abs(v.second / v.first - 1));
  const auto be = summarise(band_errors);
  std::printf(
      "  held-out, summed over each model's 256-token bands per TP (%zu bands): mean "
      "|error| %.1f %%, max %.1f %%\n",
      be.n, 100 * be.mean, 100 * be.max);
  std::printf("Held-out (%zu rows): mean |error| %.1f %%, p90 %.1f %%, max %.1f %%\n",
              h.test.size(), 100 * h.mean_abs_rel_error, 100 * h.p90_abs_rel_error,
              100 * h.max_abs_rel_error);
  // Across models: the rates are meant to be the device's, so each model is predicted from a
  // fit on the others only.
  if (per.size() > 1)
    for (std::size_t k = 0; k < per.size(); ++k) {
      std::vector<sim::StepSample> others;
      for (std::size_t j = 0; j < per.size(); ++j)
        if (j != k) others.insert(others.end(), per[j].begin(), per[j].end());
      if (others.size() < 4) continue;
      const auto of = sim::fit_step_rates(others);
      const auto ce = summarise(sim::relative_errors(per[k], of.rates));
      std::printf(
          "%s predicted from the other models' fit (%zu rows): mean |error| %.1f %%, "
          "max %.1f %%\n",
          set.datasets[k].model.c_str(), ce.n, 100 * ce.mean, 100 * ce.max);
    }
  if (!project_to.empty()) report_projection(set, fit.rates, project_to, catalog);
  if (!set.decode_attention.empty()) report_decode_attention(set, catalog, quiet);
  if (!set.all_reduce.empty()) report_all_reduce(set, catalog);
  return kExitOk;
}

}  // namespace

void add_calibrate(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "calibrate",
      "Fit the latency model to a profile's measured synthetic steps and report its error on "
      "held-out steps");
  auto path = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  sub->add_option("profile", *path,
                  "profile.json written by jevons profile, or a measured-ops directory "
                  "(data/measured/<set>, with sources.yaml)")
      ->required();
  sub->add_flag("--summary", *quiet, "Print only the fitted rates and the error summary");
  auto project_to = std::make_shared<std::string>();
  sub->add_option("--project-to", *project_to,
                  "With a measured-ops directory: project its fitted rates by catalog ratios to "
                  "another measured set's GPU and report the error there");
  sub->callback([&action, path, quiet, project_to] {
    action = [path, quiet, project_to] {
      if (std::filesystem::is_directory(*path)) return calibrate_ops(*path, *quiet, *project_to);
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
      const auto rates = rates_text;
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
