// `jevons report DB`: a self-contained HTML and/or Markdown report of a projection or simulation
// run, with SVG figures, and `--csv DIR` (or `jevons export`) for the run's tables as CSV. The
// run is read back through store/'s typed readers and its headline and series come from the
// session layer, so the report says what `jevons run` and the GUI say.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "band_figures.h"
#include "commands.h"
#include "common.h"
#include "jevons/core/error.h"
#include "jevons/session/figures.h"
#include "jevons/session/headline.h"
#include "jevons/store/band_store.h"
#include "jevons/store/readers.h"
#include "jevons/store/store.h"
#include "svg_chart.h"

namespace jevons::cli {

namespace {

namespace fs = std::filesystem;

constexpr double kPB = 1e15;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct ReportOptions {
  std::string db;
  std::int64_t run = 0;  ///< 0 = the latest projection or simulation run
  std::string out;       ///< directory; default "<db stem>-report-<run>"
  std::string format = "both";
  std::string csv;  ///< also write the run's tables as CSV into this directory
};

struct Figure {
  std::string file, caption, svg;
};

/// What a report holds, whatever the run's kind: sections of Markdown and figures.
struct Report {
  std::string title, intro;
  std::string headline;  ///< the answer in one sentence: first, above the intro
  std::vector<std::pair<std::string, std::string>> sections;  // heading, Markdown
  std::vector<Figure> figures;
};

std::vector<double> scaled(const std::vector<double>& v, double k) {
  std::vector<double> o(v);
  for (auto& x : o) x /= k;
  return o;
}

[[noreturn]] void bad_run(const std::string& db, std::int64_t run, const std::string& message) {
  Diagnostic dg;
  dg.file = db;
  dg.key = "--run";
  dg.value = std::to_string(run);
  dg.message = message;
  throw InputError(dg);
}

// ---- projection runs -----------------------------------------------------------------------

std::vector<Figure> projection_figures(const Projection& p) {
  const session::ProjectionFigures x = session::projection_figures(p);
  constexpr auto kCf = static_cast<std::size_t>(Variant::kCounterfactual);
  constexpr auto kEff = static_cast<std::size_t>(Variant::kEfficiency);
  constexpr auto kFull = static_cast<std::size_t>(Variant::kFull);
  std::vector<Figure> f;
  if (x.quarters.empty()) return f;
  {
    svg::LineChart c;
    c.title = "HBM installed by GPU generation (with compression and rebound)";
    c.y_label = "HBM installed (PB)";
    c.x_labels = x.quarters;
    c.stacked = true;
    for (const auto& g : x.hbm_by_generation) c.series.push_back({g.name, scaled(g.y, kPB)});
    c.overlay.push_back({"no compression", scaled(x.hbm_installed[kCf], kPB), true});
    f.push_back(
        {"hbm-by-generation.svg",
         "HBM installed, stacked by GPU generation; dashed: the no-compression counterfactual.",
         svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "HBM use: weights, KV cache and idle (with compression and rebound)";
    c.y_label = "HBM (PB)";
    c.x_labels = x.quarters;
    c.stacked = true;
    for (const auto& l : x.hbm_use) c.series.push_back({l.name, scaled(l.y, kPB)});
    f.push_back({"hbm-use.svg",
                 "How installed HBM is used: model weights, KV cache in use, and idle capacity.",
                 svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Host DRAM demand (with compression and rebound)";
    c.y_label = "host DRAM (PB)";
    c.x_labels = x.quarters;
    c.stacked = true;
    for (const auto& l : x.host_dram_parts) c.series.push_back({l.name, scaled(l.y, kPB)});
    c.overlay.push_back({"no compression", scaled(x.host_dram[kCf], kPB), true});
    f.push_back({"host-dram.svg",
                 "Host DRAM: servers' baseline DRAM, KV offload and the prefix-cache tier; dashed: "
                 "no compression.",
                 svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Fleet size";
    c.y_label = "GPUs installed (thousands)";
    c.x_labels = x.quarters;
    c.series = {{"no compression", scaled(x.gpus_installed[kCf], 1e3), true},
                {"efficiency only", scaled(x.gpus_installed[kEff], 1e3)},
                {"with rebound", scaled(x.gpus_installed[kFull], 1e3)}};
    f.push_back({"fleet.svg", "GPUs installed under the three variants.", svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Cost per million tokens";
    c.y_label = "USD per million tokens";
    c.x_labels = x.quarters;
    c.series = {{"no compression", x.cost_usd_per_mtok[kCf], true},
                {"with compression", x.cost_usd_per_mtok[kFull]}};
    f.push_back(
        {"cost.svg",
         "Cost per million tokens the fleet achieves (capital + power over goodput within SLO).",
         svg::render(c)});
  }
  if (x.has_waterfall) {
    const auto& w = x.waterfall;
    std::vector<svg::Bar> bars = {{"no compression", w.counterfactual / kPB},
                                  {"efficiency", w.efficiency / kPB},
                                  {"rebound", w.rebound / kPB},
                                  {"with compression", w.with_compression / kPB}};
    f.push_back({"decomposition.svg",
                 fmt::format("HBM installed in {}: the efficiency effect (same demand on "
                             "compressed KV) and the rebound (demand drawn by the lower price).",
                             w.quarter),
                 svg::waterfall("HBM demand in " + w.quarter + ": efficiency vs rebound",
                                "HBM installed (PB)", bars)});
  }
  if (!x.elasticity.empty()) {
    // One line on a numeric ε axis with the crossing marked: the planner's one break-even
    // definition (planner/break_even.h) is where this curve crosses zero.
    double crossing = std::numeric_limits<double>::quiet_NaN();
    int last = -1;
    for (const auto& b : p.break_even) last = std::max(last, b.quarter);
    for (const auto& b : p.break_even)
      if (b.quarter == last && b.metric == "hbm_installed_bytes") crossing = b.elasticity;
    if (auto svg_text = break_even_curve_svg(
            "Net HBM change vs long-run elasticity (" + x.quarters.back() + ")", x.elasticity,
            x.elasticity_net_hbm_bytes, crossing, {});
        !svg_text.empty())
      f.push_back({"break-even.svg",
                   "Above the break-even elasticity (where the line crosses zero), compression "
                   "raises total HBM demand.",
                   std::move(svg_text)});
  }
  if (!x.tornado.empty()) {
    std::vector<svg::TornadoRow> v;
    for (const auto& r : x.tornado)
      v.push_back({r.parameter, r.low_net_bytes / kPB, r.high_net_bytes / kPB,
                   "ε=" + fmt::format("{:g}", r.low_value),
                   "ε=" + fmt::format("{:g}", r.high_value)});
    f.push_back({"tornado.svg",
                 "Net HBM change when one class's elasticity moves to its low or high value.",
                 svg::tornado("Sensitivity of net HBM to each class's elasticity",
                              "net HBM installed (PB)", v)});
  }
  return f;
}

std::string projection_tables(const Projection& p) {
  const int last = static_cast<int>(p.quarter_labels.size()) - 1;
  std::string o;
  o += "| metric | no compression | efficiency effect | rebound effect | net | with compression "
       "|\n|---|---|---|---|---|---|\n";
  for (const auto& d : p.decomposition) {
    if (d.quarter != last) continue;
    const bool bytes = d.metric != "gpus_installed";
    auto v = [&](double x) {
      return bytes ? fmt::format("{:+.3f} PB", x / kPB) : fmt::format("{:+.0f}", x);
    };
    o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", d.metric, v(d.counterfactual),
                     v(d.efficiency_effect), v(d.rebound_effect), v(d.net), v(d.with_compression));
  }
  o += "\n| metric | break-even long-run elasticity |\n|---|---|\n";
  for (const auto& b : p.break_even)
    if (b.quarter == last)
      o += fmt::format("| {} | {} |\n", b.metric,
                       std::isnan(b.elasticity) ? fmt::format("above {:g}", p.max_elasticity)
                                                : fmt::format("{:.3f}", b.elasticity));
  o += "\n| GPU | class | KV format | TP | req/s per replica | tokens/s per replica | method "
       "|\n|---|---|---|---|---|---|---|\n";
  for (const auto& c : p.capacity)
    o += fmt::format("| {} | {} | {} | {} | {:.2f} | {:.0f} | {} |\n", c.gpu_id, c.class_name,
                     c.kv_format, c.capacity.tensor_parallel, c.capacity.rate_per_s,
                     c.capacity.tokens_per_s, c.capacity.method);
  return o;
}

void add_projection(Report& r, const Projection& p, store::Store& st,
                    const std::string& scenario_name) {
  const std::string method = p.capacity.empty() ? "" : p.capacity.front().capacity.method;
  // The newest band run of the same scenario in this database (`jevons band --db`) gives the
  // headline its P10/P50/P90 and the report its fan charts.
  const auto band_run = store::latest_band_run(st, scenario_name);
  const auto band = band_run ? store::read_band(st, *band_run) : std::nullopt;
  if (auto h = session::make_headline(p, method)) {
    if (band) session::attach_band(*h, band->rows, band->break_even);
    r.headline = session::headline_sentence(*h);
  }
  r.intro += fmt::format(
      "Projection {} to {}. Three variants: **no compression** (the counterfactual), "
      "**efficiency only** (compressed KV, demand held) and **with rebound** (compressed KV, "
      "demand responding to the lower cost per token). Efficiency effect + rebound = net "
      "change.\n",
      p.quarter_labels.front(), p.quarter_labels.back());
  r.sections.emplace_back("Change in " + p.quarter_labels.back(), projection_tables(p));
  const auto figs = projection_figures(p);
  r.figures.insert(r.figures.end(), figs.begin(), figs.end());
  if (band) {
    std::string t = fmt::format(
        "Band run {} ({} samples, {}, seed {}; docs/uncertainty.md). Final-year break-even "
        "elasticity:\n\n| metric | scenario | P10 | P50 | P90 | samples crossing |\n"
        "|---|---|---|---|---|---|\n",
        *band_run, band->samples, band->latin_hypercube ? "Latin hypercube" : "Monte Carlo",
        band->seed);
    auto be = [](double v) {
      return std::isinf(v) ? std::string(v > 0 ? "none" : "every ε") : fmt::format("{:.2f}", v);
    };
    for (const auto& b : band->break_even)
      t += fmt::format("| {} | {} | {} | {} | {} | {} of {} |\n", b.metric, be(b.at_scenario),
                       be(b.p10), be(b.p50), be(b.p90), b.crossings, band->samples);
    r.sections.emplace_back("Uncertainty", t);
    for (auto& f : band_figures(*band, {}))
      r.figures.push_back({"band-" + f.file, f.caption, std::move(f.svg)});
  }
}

// ---- simulation runs -----------------------------------------------------------------------

std::string ms(double ns) {
  return std::isnan(ns) ? std::string("-") : fmt::format("{:.1f}", ns / 1e6);
}

void add_simulation(Report& r, const SimulationReport& s,
                    const std::vector<store::RequestTableSummary>& requests) {
  // Pool counters cover the whole run, warm-up and drain included.
  const double run_s = static_cast<double>(s.end_ns) / 1e9;
  r.intro += fmt::format(
      "Simulation of {:.0f} s of arrivals (warm-up {:.0f} s, stopped at {:.0f} s), seed {}, "
      "router {}, preemption {}, workload {}: {} requests arrived, {} finished, {} rejected, {} "
      "unfinished.\n",
      static_cast<double>(s.duration_ns) / 1e9, static_cast<double>(s.warmup_ns) / 1e9,
      static_cast<double>(s.end_ns) / 1e9, s.seed, s.router, s.preemption, s.workload,
      thousands(s.requests_arrived), thousands(s.requests_finished), thousands(s.requests_rejected),
      thousands(s.requests_unfinished));

  std::string pools =
      "| pool | GPU | model | KV format | role | replicas × TP | output tok/s (whole run) | "
      "utilization | "
      "mean KV occupancy | peak KV occupancy | mean batch | preemptions | swaps out/in | swap "
      "traffic | host tier per GPU "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& p : s.pools)
    pools += fmt::format(
        "| {} | {} | {} | {} | {} | {} × {} | {:.0f} | {:.1f} % | {:.1f} % | {:.1f} % | {:.1f} | "
        "{} | {} / {} | {} | {} |\n",
        p.name, p.gpu_id, p.model_id, p.kv_format, p.role, p.replicas, p.tensor_parallel,
        run_s > 0 ? static_cast<double>(p.output_tokens) / run_s : 0.0, 100 * p.utilization,
        100 * p.mean_kv_occupancy, 100 * p.peak_kv_occupancy, p.mean_batch_sequences,
        thousands(p.preemptions), thousands(p.swaps_out), thousands(p.swaps_in),
        human_bytes(static_cast<double>(p.swap_bytes)),
        human_bytes(static_cast<double>(p.host_tier_capacity_bytes_per_gpu)));
  r.sections.emplace_back("Pools", pools);

  std::string groups =
      "| class | pool | finished | output tok/s | req/s | goodput req/s | TTFT p50/p90/p99 ms | "
      "TPOT p50/p90/p99 ms | E2E p50/p90/p99 ms | preemptions | prefix hit rate "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& g : s.groups)
    groups += fmt::format(
        "| {} | {} | {} | {:.0f} | {:.2f} | {:.2f} | {} / {} / {} | {} / {} / {} | {} / {} / {} | "
        "{} | {:.1f} % |\n",
        g.class_name, g.pool_name, thousands(g.finished), g.throughput_tokens_per_s,
        g.throughput_requests_per_s, g.goodput_requests_per_s, ms(g.ttft.p50_ns), ms(g.ttft.p90_ns),
        ms(g.ttft.p99_ns), ms(g.tpot.p50_ns), ms(g.tpot.p90_ns), ms(g.tpot.p99_ns),
        ms(g.e2e.p50_ns), ms(g.e2e.p90_ns), ms(g.e2e.p99_ns), thousands(g.preemptions),
        100 * g.prefix_hit_rate);
  r.sections.emplace_back("Latency and throughput per class and pool (after warm-up)", groups);

  std::string req;
  if (requests.empty()) {
    req = "The run kept no per-request rows (simulation.per_request).\n";
  } else {
    req =
        "| class | entry pool | rows | finished | rejected | unfinished | mean prompt tokens | "
        "mean output tokens | mean prefix-hit tokens | preempted at least once "
        "|\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& q : requests)
      req += fmt::format("| {} | {} | {} | {} | {} | {} | {:.0f} | {:.0f} | {:.0f} | {} |\n",
                         q.class_name, q.pool, thousands(q.rows), thousands(q.finished),
                         thousands(q.rejected), thousands(q.unfinished), q.mean_input_tokens,
                         q.mean_output_tokens, q.mean_prefix_hit_tokens, thousands(q.preempted));
  }
  r.sections.emplace_back("Per-request table", req);

  const session::SimulationFigures x = session::simulation_figures(s);
  if (x.pools.empty() || x.pools.front().hours.size() < 2) return;
  // Hours for long runs; seconds when the whole run is shorter than an hour.
  const bool hours = x.pools.front().hours.back() >= 1;
  std::vector<std::string> labels;
  for (double h : x.pools.front().hours)
    labels.push_back(hours ? fmt::format("{:.2f}", h) : fmt::format("{:.0f}", h * 3600));
  auto chart = [&](const std::string& file, const std::string& title, const std::string& unit,
                   const std::string& caption, auto get) {
    svg::LineChart c;
    c.title = title;
    c.y_label = unit;
    c.x_labels = labels;
    for (const auto& p : x.pools) {
      std::vector<double> v = get(p);
      v.resize(labels.size(), 0.0);  // every pool is sampled at the same times
      c.series.push_back({p.pool, v});
    }
    r.figures.push_back({file,
                         caption + (hours ? " (x: simulated hours)." : " (x: simulated seconds)."),
                         svg::render(c)});
  };
  chart("kv-occupancy.svg", "KV cache occupancy per pool", "KV in use (% of capacity)",
        "Share of each pool's KV capacity held by running requests",
        [](const session::PoolSeries& p) { return p.kv_occupancy_percent; });
  chart("host-tier.svg", "Host DRAM per pool: swapped KV and prefix tier", "host DRAM (GiB)",
        "Host DRAM holding preempted KV and the prefix-cache tier",
        [](const session::PoolSeries& p) { return scaled(p.host_tier_bytes, kGiB); });
  chart("queue.svg", "Requests waiting per pool", "requests waiting",
        "Requests queued for first scheduling",
        [](const session::PoolSeries& p) { return p.waiting; });
}

// ---- output --------------------------------------------------------------------------------

// The report's Markdown (tables and paragraphs only) as HTML, line by line.
std::string md_to_html(const std::string& md) {
  std::string html;
  bool in_table = false;
  std::size_t pos = 0;
  while (pos < md.size()) {
    auto nl = md.find('\n', pos);
    if (nl == std::string::npos) nl = md.size();
    const std::string line = md.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] != '|') {
      if (in_table) html += "</table>\n";
      in_table = false;
      if (!line.empty()) html += "<p>" + svg::escape(line) + "</p>\n";
      continue;
    }
    if (line.rfind("|---", 0) == 0) continue;
    if (!in_table) html += "<table>\n";
    const bool head = !in_table;
    in_table = true;
    html += "<tr>";
    std::size_t a = 1;
    while (a < line.size()) {
      const auto b = line.find('|', a);
      if (b == std::string::npos) break;
      const std::string cell = svg::escape(line.substr(a + 1, b - a - 2));
      html += (head ? "<th>" : "<td>") + cell + (head ? "</th>" : "</td>");
      a = b + 1;
    }
    html += "</tr>\n";
  }
  if (in_table) html += "</table>\n";
  return html;
}

void write_report(const Report& r, const std::string& dir, const std::string& format) {
  if (format == "md" || format == "both") {
    std::string md = "# " + r.title + "\n\n";
    if (!r.headline.empty()) md += "**" + r.headline + "**\n\n";
    md += r.intro + "\n";
    for (const auto& [h, body] : r.sections) md += "## " + h + "\n\n" + body + "\n";
    if (!r.figures.empty()) md += "## Figures\n\n";
    for (const auto& f : r.figures) {
      std::ofstream(fs::path(dir) / f.file) << f.svg;
      md += fmt::format("![{}]({})\n\n*{}*\n\n", f.file, f.file, f.caption);
    }
    std::ofstream(fs::path(dir) / "report.md") << md;
  }
  if (format == "html" || format == "both") {
    std::string html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + svg::escape(r.title) +
        "</title><style>body{font-family:Helvetica,Arial,sans-serif;max-width:980px;margin:2em "
        "auto;}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px "
        "8px;text-align:right}"
        "figure{margin:1.5em 0}</style></head><body>\n<h1>" +
        svg::escape(r.title) + "</h1>\n" +
        (r.headline.empty() ? std::string()
                            : "<p><strong>" + svg::escape(r.headline) + "</strong></p>\n") +
        md_to_html(r.intro);
    for (const auto& [h, body] : r.sections)
      html += "<h2>" + svg::escape(h) + "</h2>\n" + md_to_html(body);
    if (!r.figures.empty()) html += "<h2>Figures</h2>\n";
    for (const auto& f : r.figures)
      html += "<figure>" + f.svg + "<figcaption>" + f.caption + "</figcaption></figure>\n";
    html += "</body></html>\n";
    std::ofstream(fs::path(dir) / "report.html") << html;
  }
}

store::Store open_existing(const std::string& db) {
  if (!fs::exists(db)) {
    Diagnostic dg;
    dg.file = db;
    dg.message = "no such results database";
    throw InputError(dg);
  }
  return open_results_db(db);
}

void export_csv(store::Store& st, std::int64_t run, const std::string& dir) {
  const auto files = store::export_run_csv(st, run, dir);
  std::uint64_t rows = 0;
  for (const auto& f : files) rows += f.rows;
  fmt::print("Wrote run {} as CSV: {} tables, {} rows, to {}/\n", run, files.size(),
             thousands(rows), dir);
}

int run_report(const ReportOptions& o) {
  store::Store st = open_existing(o.db);
  std::int64_t run = o.run;
  if (run == 0) {
    // The newest run a report can describe.
    for (const auto& r : store::list_runs(st))
      if (r.kind == "projection" || r.kind == "simulation") {
        run = r.run_id;
        break;
      }
    if (run == 0) {
      Diagnostic dg;
      dg.file = o.db;
      dg.message =
          "the database holds no projection or simulation run (run a scenario with a planner: "
          "or simulation: section)";
      throw InputError(dg);
    }
  }
  const auto info = store::read_run(st, run);
  if (!info) bad_run(o.db, run, "no such run");
  if (info->kind != "projection" && info->kind != "simulation")
    bad_run(o.db, run,
            "run is a " + info->kind +
                " run; a report covers projection and simulation runs (`jevons export` writes "
                "any run's tables as CSV)");

  Report rep;
  rep.title = fmt::format("Jevons report — scenario '{}', run {}", info->scenario_name, run);
  rep.intro = fmt::format("Run {} ({}) started {}.\n", run, info->kind, info->started_at_utc);
  for (const auto& n : info->notes) rep.intro += "Note: " + n + "\n";
  // A run holds a simulation when its scenario had a simulation: section, whatever its kind.
  const bool has_projection = info->kind == "projection";
  std::optional<SimulationReport> sim;
  try {
    sim = store::read_simulation(st, run);
  } catch (const store::StoreError&) {
    if (!has_projection) throw;
  }
  if (has_projection) add_projection(rep, store::read_projection(st, run), st, info->scenario_name);
  if (sim) add_simulation(rep, *sim, store::summarize_requests(st, run));

  const std::string dir =
      o.out.empty() ? fs::path(o.db).stem().string() + "-report-" + std::to_string(run) : o.out;
  fs::create_directories(dir);
  write_report(rep, dir, o.format);
  fmt::print("Wrote the report of run {} ({}, {} figures) to {}/\n", run, info->kind,
             rep.figures.size(), dir);
  if (!o.csv.empty()) export_csv(st, run, o.csv);
  return kExitOk;
}

}  // namespace

void add_report(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "report", "Write an HTML/Markdown report with figures of a projection or simulation run");
  auto o = std::make_shared<ReportOptions>();
  sub->add_option("db", o->db, "Results database")->required();
  sub->add_option("--run", o->run, "Run id (default: the latest projection or simulation run)");
  sub->add_option("--out", o->out, "Output directory (default: <db>-report-<run>)");
  sub->add_option("--format", o->format, "html, md or both")
      ->check(CLI::IsMember({"html", "md", "both"}))
      ->capture_default_str();
  sub->add_option("--csv", o->csv, "Also write the run's tables as CSV files into this directory");
  sub->callback([&action, o] { action = [o] { return run_report(*o); }; });

  auto* ex = app.add_subcommand("export", "Write one run's tables as CSV files (any kind of run)");
  auto e = std::make_shared<ReportOptions>();
  ex->add_option("db", e->db, "Results database")->required();
  ex->add_option("--run", e->run, "Run id (default: the latest run)");
  ex->add_option("--csv", e->csv, "Output directory")->required();
  ex->callback([&action, e] {
    action = [e] {
      store::Store st = open_existing(e->db);
      std::int64_t run = e->run;
      if (run == 0) {
        const auto latest = store::latest_run(st);
        if (!latest) {
          Diagnostic dg;
          dg.file = e->db;
          dg.message = "the database holds no run";
          throw InputError(dg);
        }
        run = *latest;
      }
      if (!store::read_run(st, run)) bad_run(e->db, run, "no such run");
      export_csv(st, run, e->csv);
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
