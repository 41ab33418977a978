// `jevons validate-published`: runs every row of the published-results suite
// (data/published/serving.yaml) through the simulator and prints published against simulated
// output tokens/s per GPU with the signed error, the H100 step times of
// data/published/h100-llama31-8b-steps.json against the latency model, then the mean absolute
// error by split, GPU, model family and scenario. `--fit` refits data/latency-model.yaml's fitted
// figures first and prints them. `--markdown` writes the tables docs/validation.md §3 is made of.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "commands.h"
#include "jevons/core/catalog.h"
#include "jevons/core/published.h"
#include "jevons/simulator/published.h"

namespace jevons::cli {

namespace {

struct Options {
  std::string suite, steps, only;
  bool fit = false, markdown = false, detail = false;
};

std::string pct(double e) {
  return std::isnan(e) ? "n/a" : fmt::format("{:+.1f} %", 100 * e);
}
std::string apct(double e) {
  return std::isnan(e) ? "n/a" : fmt::format("{:.1f} %", 100 * e);
}

int run(const Options& o) {
  Catalog catalog = Catalog::load(Catalog::default_dir());
  const std::string dir = Catalog::default_dir();
  const PublishedSuite suite =
      load_published_suite(o.suite.empty() ? dir + "/published/serving.yaml" : o.suite, catalog);
  const PublishedSteps steps = load_published_steps(
      o.steps.empty() ? dir + "/published/h100-llama31-8b-steps.json" : o.steps);
  if (o.fit) {
    std::ostringstream log;
    catalog.latency() = fit_published(suite, steps, catalog, log);
    std::printf("# Fit (paste into data/latency-model.yaml)\n%s\n%s\n", log.str().c_str(),
                latency_yaml_sections(catalog.latency()).c_str());
  }
  const bool md = o.markdown;
  std::set<std::string> only;
  {
    std::stringstream ss(o.only);
    std::string id;
    while (std::getline(ss, id, ','))
      if (!id.empty()) only.insert(id);
  }

  // Steps.
  const auto pred = predict_published_steps(steps, catalog);
  if (md) {
    std::printf(
        "| step (Llama-3.1-8B, bf16, one H100) | measured ms | model ms | error |\n"
        "|---|---|---|---|\n");
  } else {
    std::printf("H100 step times (%s, bf16, TP 1): measured vs latency model\n",
                steps.model_id.c_str());
  }
  double step_mae = 0, step_max = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const auto& s = steps.steps[i];
    const double e = pred[i] / s.measured_ms - 1;
    step_mae += std::abs(e) / static_cast<double>(pred.size());
    step_max = std::max(step_max, std::abs(e));
    const std::string label = s.phase == "decode"
                                  ? fmt::format("decode B={} ctx={}", s.batch, s.context_tokens)
                                  : fmt::format("prefill {} tokens", s.context_tokens);
    if (md)
      std::printf("| %s | %.2f | %.2f | %s |\n", label.c_str(), s.measured_ms, pred[i],
                  pct(e).c_str());
    else
      std::printf("  %-28s %9.2f %9.2f %9s\n", label.c_str(), s.measured_ms, pred[i],
                  pct(e).c_str());
  }
  std::printf("%sstep times: mean |error| %.1f %%, max %.1f %%\n\n", md ? "\n" : "  ",
              100 * step_mae, 100 * step_max);

  // Rows.
  std::vector<PublishedOutcome> out;
  if (md) {
    std::printf(
        "| id | split | system | model | scenario | published tok/s/GPU | simulated | "
        "error | step time from |\n|---|---|---|---|---|---|---|---|---|\n");
  } else {
    std::printf("%-5s %-7s %-10s %-13s %-5s %-8s %10s %10s %9s\n", "id", "split", "gpu", "model",
                "w", "scenario", "published", "simulated", "error");
  }
  for (const auto& r : suite.rows) {
    if (!only.empty() && !only.count(r.id)) continue;
    const PublishedOutcome p = run_published_row(r, catalog);
    out.push_back(p);
    if (md) {
      std::printf("| %s | %s | %s | %s %s | %s | %.0f | %.0f | %s | %s |\n", r.id.c_str(),
                  r.split.c_str(), r.system.c_str(), r.model_id.c_str(),
                  to_string(r.weights).c_str(), r.scenario.c_str(), p.published, p.simulated,
                  pct(p.error).c_str(), p.latency_source.c_str());
    } else {
      std::printf("%-5s %-7s %-10s %-13s %-5s %-8s %10.0f %10.0f %9s\n", r.id.c_str(),
                  r.split.c_str(), r.gpu_id.c_str(), r.model_id.c_str(),
                  to_string(r.weights).c_str(), r.scenario.c_str(), p.published, p.simulated,
                  pct(p.error).c_str());
      if (o.detail)
        std::printf(
            "      batch %.0f seqs, KV %.1f GB/GPU at %.0f %% mean occupancy, step %.2f ms, "
            "TPOT p50 %.1f / p99 %.1f ms, TTFT p99 %.0f ms, %llu preemptions; %s; KV read: %s\n",
            p.mean_batch_sequences, p.kv_capacity_gb_per_gpu, 100 * p.mean_kv_occupancy,
            p.mean_step_ms, p.tpot_p50_ms, p.tpot_p99_ms, p.ttft_p99_ms,
            static_cast<unsigned long long>(p.preemptions), p.latency_source.c_str(),
            p.kv_speed_source.c_str());
    }
    std::fflush(stdout);
  }

  // Mean absolute error by group.
  std::map<std::string, std::function<bool(const PublishedRow&)>> groups;
  groups["all rows"] = [](const PublishedRow&) { return true; };
  groups["split fit (offline/static)"] = [](const PublishedRow& r) {
    return r.split == "fit" && r.scenario != "server";
  };
  groups["split holdout"] = [](const PublishedRow& r) { return r.split == "holdout"; };
  std::set<std::string> gpus, fams, scen;
  for (const auto& r : suite.rows)
    gpus.insert(r.gpu_id), fams.insert(r.family), scen.insert(r.scenario);
  for (const auto& g : gpus)
    groups["gpu " + g] = [g](const PublishedRow& r) { return r.gpu_id == g; };
  for (const auto& f : fams)
    groups["family " + f] = [f](const PublishedRow& r) { return r.family == f; };
  for (const auto& s : scen)
    groups["scenario " + s] = [s](const PublishedRow& r) { return r.scenario == s; };
  std::printf(md ? "\n| group | rows | mean \\|error\\| |\n|---|---|---|\n"
                 : "\nMean absolute error\n");
  for (const auto& [name, pick] : groups) {
    int n = 0;
    for (const auto& p : out)
      for (const auto& r : suite.rows)
        if (r.id == p.id && pick(r)) ++n;
    const double m = mean_abs_error(out, suite.rows, pick);
    if (md)
      std::printf("| %s | %d | %s |\n", name.c_str(), n, apct(m).c_str());
    else
      std::printf("  %-32s %3d rows  %s\n", name.c_str(), n, apct(m).c_str());
  }
  return kExitOk;
}

}  // namespace

void add_validate_published(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "validate-published",
      "Run the published-results suite (data/published/) through the simulator: published vs "
      "simulated per row, H100 step times, mean absolute error by GPU, family and scenario");
  auto o = std::make_shared<Options>();
  sub->add_option("--suite", o->suite, "suite file (default: <data dir>/published/serving.yaml)");
  sub->add_option("--steps", o->steps,
                  "measured step times (default: <data dir>/published/h100-llama31-8b-steps.json)");
  sub->add_option("--rows", o->only, "comma-separated row ids to run (default: all)");
  sub->add_flag("--fit", o->fit,
                "Refit the fitted figures of data/latency-model.yaml first and print them");
  sub->add_flag("--markdown", o->markdown, "Markdown tables (docs/validation.md §3)");
  sub->add_flag("--detail", o->detail,
                "Under each row, what the run did: mean batch, KV capacity and occupancy, mean "
                "step time, preemptions, and where the step and KV-read times came from");
  sub->callback([&action, o] { action = [o] { return run(*o); }; });
}

}  // namespace jevons::cli
