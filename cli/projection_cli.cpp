#include "projection_cli.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "jevons/core/error.h"
#include "jevons/core/world.h"
#include "jevons/planner/backcast.h"
#include "jevons/planner/projection.h"
#include "progress.h"

namespace jevons::cli {

session::ProjectionRun run_projection_with_progress(const Scenario& s, const Catalog& catalog,
                                                    session::Oracles& oracles) {
  Progress progress("projection");
  planner::ProjectionOptions po;
  po.progress = [&](const std::string& stage, double fraction) {
    progress.update(fraction, stage);
  };
  session::ProjectionRun r = session::run_projection(s, catalog, oracles, po);
  progress.finish();
  return r;
}

namespace {
std::string pb(double bytes) {
  return fmt::format("{:.2f}", bytes / 1e15);
}  // petabytes
std::string gpus(double n) {
  return n >= 1e6 ? fmt::format("{:.2f}M", n / 1e6) : fmt::format("{:.0f}k", n / 1e3);
}

const QuarterTotals* find(const Projection& p, Variant v, int q) {
  for (const auto& t : p.totals)
    if (t.variant == v && t.quarter == q) return &t;
  return nullptr;
}
}  // namespace

void print_projection(std::ostream& out, const Scenario& s, const Projection& p) {
  const auto& plan = *s.planner;
  fmt::print(out, "Scenario '{}' (seed {}): projection {}–{}, {} → {} KV\n", s.name, s.seed,
             p.quarter_labels.front(), p.quarter_labels.back(), plan.baseline_format.name(),
             plan.compressed_format.name());
  fmt::print(out, "\nCapacity per replica within SLO ({} search):\n",
             p.capacity.empty() ? "no" : p.capacity.front().capacity.method);
  fmt::print(out, "  {:<12} {:<10} {:<22} {:>3} {:>10} {:>12}\n", "gpu", "class", "kv format", "TP",
             "req/s", "tok/s/GPU");
  for (const auto& c : p.capacity)
    fmt::print(
        out, "  {:<12} {:<10} {:<22} {:>3} {:>10.2f} {:>12.0f}\n", c.gpu_id, c.class_name,
        c.kv_format, c.capacity.tensor_parallel, c.capacity.rate_per_s,
        c.capacity.tensor_parallel ? c.capacity.tokens_per_s / c.capacity.tensor_parallel : 0.0);

  fmt::print(out, "\n{:<8} {:<15} {:>12} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9}\n", "quarter",
             "variant", "demand Mt/s", "$/Mtok", "GPUs", "HBM inst", "HBM used", "host DRAM",
             "power MW");
  fmt::print(out, "{:<8} {:<15} {:>12} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9}\n", "", "", "", "",
             "", "PB", "PB", "PB", "");
  const int T = static_cast<int>(p.quarter_labels.size());
  for (int q = 0; q < T; ++q) {
    if (q % 4 != 3 && q != 0 && q != T - 1) continue;  // yearly, plus the first and last quarter
    for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
      const auto* t = find(p, v, q);
      if (!t) continue;
      fmt::print(out, "{:<8} {:<15} {:>12.3f} {:>9.3f} {:>9} {:>10} {:>10} {:>10} {:>9.0f}\n",
                 v == Variant::kCounterfactual ? t->label : "", to_string(v),
                 t->demand_tokens_per_s / 1e6, t->cost_usd_per_mtok, gpus(t->gpus_installed),
                 pb(t->hbm_installed_bytes), pb(t->hbm_used_bytes()), pb(t->host_dram_bytes()),
                 t->power_mw);
    }
  }
  // The HBM market layer: what the fleet buys per calendar year, with and without compression.
  const auto* first = find(p, Variant::kCounterfactual, 0);
  if (first && plan.initial_utilization > 0) {
    // The first quarter's demand and fleet at the stated utilisation, and why any more of the
    // installed base is idle (docs/planner.md, "The first quarter").
    const double u = plan.initial_utilization;
    double serving = 0, installed = 0, unusable = 0;
    std::vector<std::string> unusable_parts;
    for (const auto& g : p.generations) {
      if (g.variant != Variant::kCounterfactual || g.quarter != 0) continue;
      serving += g.serving;
      installed += g.installed;  // the installed base and its committed deliveries
      bool fits = false;
      for (const auto& e : p.capacity)
        fits = fits || (e.gpu_id == g.gpu_id && e.kv_format == plan.baseline_format.name() &&
                        e.capacity.tokens_per_s > 0);
      if (!fits && g.installed > 0) {
        unusable += g.installed;
        unusable_parts.push_back(fmt::format("{} ({})", g.gpu_id, gpus(g.installed)));
      }
    }
    const double capable = installed - unusable;
    fmt::print(out,
               "\nFirst quarter at the stated utilisation (fleet.initial_utilization {:.0f} %): "
               "{:.1f} % of the installed base is busy at the peak, {:.1f} % of the parts that "
               "can serve a class; the stated demand is scaled x{:.3f} overall\n",
               100 * u, installed > 0 ? 100 * serving / installed : 0.0,
               capable > 0 ? 100 * serving / capable : 0.0, first->initial_demand_scale);
    double top = 0;
    std::vector<std::pair<std::string, double>> scales;
    for (const auto& c : p.classes)
      if (c.variant == Variant::kCounterfactual && c.quarter == 0)
        for (const auto& k : plan.classes)
          if (k.name == c.class_name && k.tokens_per_s > 0) {
            scales.push_back({k.name, c.baseline_tokens_per_s / k.tokens_per_s});
            top = std::max(top, scales.back().second);
          }
    std::string line;
    for (const auto& [name, k] : scales) {
      line += fmt::format("{}{} x{:.2f}", line.empty() ? "" : ", ", name, k);
      if (k < top * (1 - 1e-6)) line += " (ran out of the parts that can serve it)";
    }
    fmt::print(out, "  per class: {}\n", line);
    fmt::print(out, "  idle: {:.1f} % headroom (1 - utilisation) on the parts that serve",
               installed > 0 ? 100 * (1 - u) * capable / installed : 0.0);
    if (!unusable_parts.empty()) {
      std::string names;
      for (const auto& n : unusable_parts) names += (names.empty() ? "" : ", ") + n;
      fmt::print(out, "; {:.1f} % on parts no class's model fits: {}",
                 installed > 0 ? 100 * unusable / installed : 0.0, names);
    }
    fmt::print(out, "\n");
  }
  fmt::print(out,
             "\nHBM market per year (EB = 1e18 B; shipped = HBM of the parts bought; demanded = "
             "without the supply cap):\n");
  fmt::print(out, "{:<6} {:<15} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "year",
             "variant", "shipped", "demanded", "supply", "HBM inst", "$/Mtok", "all-in",
             "marginal");
  for (int q0 = 0; q0 < T; q0 += 4) {
    for (Variant v : {Variant::kCounterfactual, Variant::kFull}) {
      double shipped = 0, demanded = 0, supply = 0;
      const QuarterTotals* last = nullptr;
      for (int q = q0; q < std::min(T, q0 + 4); ++q)
        if (const auto* t = find(p, v, q)) {
          shipped += t->hbm_shipped_bytes;
          demanded += t->hbm_demanded_bytes;
          supply += t->hbm_supply_bytes;
          last = t;
        }
      if (!last) continue;
      fmt::print(
          out, "{:<6} {:<15} {:>10.3f} {:>10.3f} {:>10} {:>10.3f} {:>10.3f} {:>10.3f} {:>10.3f}\n",
          v == Variant::kCounterfactual ? last->label.substr(0, 4) : "", to_string(v),
          shipped / 1e18, demanded / 1e18,
          supply > 0 ? fmt::format("{:.3f}", supply / 1e18) : std::string("none"),
          last->hbm_installed_bytes / 1e18, last->cost_usd_per_mtok, last->cost_all_in_usd_per_mtok,
          last->cost_marginal_usd_per_mtok);
    }
  }
  fmt::print(out,
             "$/Mtok: serving GPUs over tokens served; all-in: every installed GPU, idle ones "
             "included; marginal: the cheapest part on offer (year's last quarter).\n"
             "Inference only: the fleet is the inference fleet; training and other uses are not "
             "modelled (`jevons backcast` shows the world's accelerators, HBM, and the sourced "
             "inference share that scales this fleet to the market).\n");

  fmt::print(out, "\nChange against no compression in {} (efficiency + rebound = net):\n",
             p.quarter_labels.back());
  for (const auto& d : p.decomposition) {
    if (d.quarter != T - 1) continue;
    const bool bytes = d.metric != "gpus_installed";
    auto f = [&](double x) {
      return bytes ? fmt::format("{:+.3f} PB", x / 1e15) : fmt::format("{:+.0f}", x);
    };
    const double pct = d.counterfactual != 0 ? 100.0 * d.net / d.counterfactual : 0.0;
    fmt::print(out, "  {:<20} efficiency {:>14}  rebound {:>14}  net {:>14} ({:+.1f}%)\n", d.metric,
               f(d.efficiency_effect), f(d.rebound_effect), f(d.net), pct);
  }
  for (const auto& b : p.break_even) {
    if (b.quarter != T - 1) continue;
    fmt::print(out, "  break-even elasticity for {:<20} {}\n", b.metric,
               std::isnan(b.elasticity) ? fmt::format("above {:.1f}", p.max_elasticity)
                                        : fmt::format("{:.3f}", b.elasticity));
  }
}

void print_scarcity(std::ostream& out, const Scenario& s, const Projection& p) {
  if (!s.planner) return;
  const auto rows = planner::scarcity(*s.planner, p);
  const auto& classes = s.planner->classes;
  fmt::print(out,
             "\nPeak demand served without compression, and the price over cost that would "
             "ration the rest (year's last quarter; each class's long-run elasticity; "
             "docs/planner.md, \"Unserved demand\"):\n");
  fmt::print(out, "{:<6} {:>8}", "year", "served");
  for (const auto& c : classes)
    fmt::print(out, " {:>16}", fmt::format("{} (ε {:g})", c.name, c.elasticity.long_run));
  fmt::print(out, "\n");
  const int T = static_cast<int>(p.quarter_labels.size());
  for (int t = 0; t < T; ++t) {
    if (t != T - 1 && p.quarter_labels[t].substr(0, 4) == p.quarter_labels[t + 1].substr(0, 4))
      continue;
    double peak = 0, served = 0;
    std::vector<std::string> cells;
    for (const auto& c : classes)
      for (const auto& r : rows)
        if (r.quarter == t && r.class_name == c.name) {
          peak += r.peak_tokens_per_s;
          served += r.peak_tokens_per_s * r.served_share;
          cells.push_back(
              std::isfinite(r.rationing_price_ratio)
                  ? fmt::format("{:.0f} % ×{:.2f}", 100 * r.served_share, r.rationing_price_ratio)
                  : fmt::format("{:.0f} % none", 100 * r.served_share));
        }
    fmt::print(out, "{:<6} {:>6.0f} %", p.quarter_labels[t].substr(0, 4),
               peak > 0 ? 100 * served / peak : 100.0);
    for (const auto& c : cells) fmt::print(out, " {:>16}", c);
    fmt::print(out, "\n");
  }
  fmt::print(out,
             "The projection prices tokens at cost and leaves what the fleet cannot serve "
             "unserved; ×N is the price that would ration demand to what was served instead "
             "(\"none\": no price does, at ε 0).\n");
}

void print_world_comparison(std::ostream& out, const Catalog& catalog, const std::string& data_dir,
                            const Projection& p) {
  const std::string dir = data_dir.empty() ? Catalog::default_dir() : data_dir;
  std::optional<World> w;
  try {
    w = World::load(World::default_path(dir), catalog);
  } catch (const InputError& e) {
    fmt::print(out, "\nNo world comparison: {}\n", e.what());
    return;
  }
  std::vector<QuarterTotals> baseline;
  for (const auto& t : p.totals)
    if (t.variant == Variant::kCounterfactual) baseline.push_back(t);
  const auto rows = planner::compare_with_world(*w, planner::backcast(*w, catalog), baseline);
  fmt::print(out,
             "\nHBM shipped per year, the projection without compression against the world "
             "(EB = 1e18 B; market = projection / inference share; ratio = market / sourced):\n");
  fmt::print(out, "{:<6} {:>10} {:>7} {:>10} {:>10} {:>10} {:>7}  {}\n", "year", "projection",
             "share", "market", "back-cast", "sourced", "ratio", "sourced figure");
  for (const auto& r : rows) {
    const WorldFigure* f = r.reference();
    fmt::print(out, "{:<6} {:>10.3f} {:>7.2f} {:>10.3f} {:>10} {:>10} {:>7}  {}{}\n", r.year,
               r.projected_bytes / 1e18, r.inference_share, r.market_bytes() / 1e18,
               r.backcast_bytes > 0 ? fmt::format("{:.3f}", r.backcast_bytes / 1e18) : "-",
               f ? fmt::format("{:.3f}", f->value / 1e18) : "-",
               f ? fmt::format("{:.2f}", r.ratio()) : "-",
               f ? fmt::format("{} {} ({}, {}{})", r.shipped ? "shipped" : "supply", f->source,
                               f->date, to_string(f->confidence), f->forecast ? ", forecast" : "")
                 : "none published",
               r.quarters < 4 ? fmt::format("  [{} quarters]", r.quarters) : "");
  }
  fmt::print(out,
             "The committed quarters (fleet.committed_through) deliver every part's "
             "deliveries_per_quarter in every variant; later years buy what demand needs "
             "(docs/planner.md, \"Committed deliveries\").\n");
}

}  // namespace jevons::cli
