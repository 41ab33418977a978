// `jevons report DB`: a self-contained HTML and/or Markdown report of a projection run, with SVG
// figures: HBM by generation, HBM use, host DRAM, fleet size, cost per token, the
// efficiency/rebound waterfall and the sensitivity to elasticity.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "commands.h"
#include "common.h"
#include "jevons/core/error.h"
#include "jevons/store/store.h"
#include "svg_chart.h"

namespace jevons::cli {

namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  std::string db;
  std::int64_t run = 0;  ///< 0 = the latest projection run
  std::string out;       ///< directory; default "<db stem>-report-<run>"
  std::string format = "both";
};

double d(const std::string& s) {
  return s.empty() ? 0.0 : std::stod(s);
}

struct Data {
  std::int64_t run = 0;
  std::string scenario, started;
  std::vector<std::string> labels;
  std::map<std::string, std::map<std::string, std::vector<double>>> totals;  // variant → column → q
  std::map<std::string, std::vector<double>> hbm_by_gpu;                     // with-rebound
  std::vector<std::string> gpu_order;
  std::vector<std::vector<std::string>> decomposition, break_even, sensitivity, capacity;
};

Data load(store::Store& st, std::int64_t run) {
  Data x;
  if (run == 0) {
    const auto r = st.query("SELECT max(run_id) FROM runs WHERE kind='projection'");
    if (r.empty() || r[0][0].empty()) {
      Diagnostic dg;
      dg.file = st.path();
      dg.message = "the database holds no projection run (run a scenario with a planner: section)";
      throw InputError(dg);
    }
    run = std::stoll(r[0][0]);
  }
  const auto info = st.query(
      fmt::format("SELECT scenario_name, started_at_utc, kind FROM runs WHERE run_id={}", run));
  if (info.empty() || info[0][2] != "projection") {
    Diagnostic dg;
    dg.file = st.path();
    dg.key = "--run";
    dg.value = std::to_string(run);
    dg.message = info.empty() ? "no such run" : "run is a " + info[0][2] + " run, not a projection";
    throw InputError(dg);
  }
  x.run = run;
  x.scenario = info[0][0];
  x.started = info[0][1];
  for (const auto& r : st.query(fmt::format("SELECT DISTINCT quarter FROM projection_quarters "
                                            "WHERE run_id={} ORDER BY quarter_index",
                                            run)))
    x.labels.push_back(r[0]);
  const char* cols[] = {"demand_tokens_per_s",
                        "cost_usd_per_mtok",
                        "gpus_installed",
                        "hbm_installed_bytes",
                        "hbm_weight_bytes",
                        "hbm_kv_bytes",
                        "hbm_idle_bytes",
                        "host_dram_baseline_bytes",
                        "host_dram_offload_bytes",
                        "host_dram_prefix_bytes",
                        "energy_mwh"};
  std::string sel;
  for (const char* c : cols) sel += std::string(", ") + c;
  for (const auto& r : st.query(fmt::format("SELECT variant{} FROM projection_quarters WHERE "
                                            "run_id={} ORDER BY variant, quarter_index",
                                            sel, run)))
    for (std::size_t i = 0; i < std::size(cols); ++i)
      x.totals[r[0]][cols[i]].push_back(d(r[i + 1]));
  // Generations in the scenario's order (oldest first in the bundled scenarios), so the stack
  // reads bottom-up by age.
  for (const auto& g : st.query(fmt::format("SELECT gpu FROM projection_generations WHERE "
                                            "run_id={} GROUP BY gpu ORDER BY min(rowid)",
                                            run)))
    x.gpu_order.push_back(g[0]);
  for (const auto& r : st.query(fmt::format(
           "SELECT gpu, hbm_installed_bytes FROM projection_generations WHERE run_id={} AND "
           "variant='with-rebound' ORDER BY gpu, quarter_index",
           run)))
    x.hbm_by_gpu[r[0]].push_back(d(r[1]));
  const int last = static_cast<int>(x.labels.size()) - 1;
  x.decomposition = st.query(
      fmt::format("SELECT metric, counterfactual, efficiency_effect, rebound_effect, net, "
                  "with_compression FROM "
                  "memory_decomposition WHERE run_id={} AND quarter_index={} ORDER BY metric",
                  run, last));
  x.break_even = st.query(fmt::format(
      "SELECT metric, elasticity, max_elasticity FROM break_even_elasticity WHERE run_id={} AND "
      "quarter_index={} ORDER BY metric",
      run, last));
  x.sensitivity = st.query(
      fmt::format("SELECT parameter, value, hbm_installed_net_bytes, host_dram_net_bytes FROM "
                  "elasticity_sensitivity WHERE run_id={} ORDER BY parameter, value",
                  run));
  x.capacity = st.query(fmt::format(
      "SELECT gpu, class, kv_format, tensor_parallel, rate_per_s, tokens_per_s_per_replica, method "
      "FROM capacity_search WHERE run_id={} ORDER BY gpu, class, kv_format",
      run));
  return x;
}

std::vector<double> scale(const std::vector<double>& v, double k) {
  std::vector<double> o(v);
  for (auto& x : o) x /= k;
  return o;
}

struct Figure {
  std::string file, caption, svg;
};

std::vector<Figure> figures(const Data& x) {
  std::vector<Figure> f;
  const double PB = 1e15;
  auto& full = x.totals.at("with-rebound");
  auto& cf = x.totals.at("counterfactual");
  auto& eff = x.totals.at("efficiency");
  {
    svg::LineChart c;
    c.title = "HBM installed by GPU generation (with compression and rebound)";
    c.y_label = "HBM installed (PB)";
    c.x_labels = x.labels;
    c.stacked = true;
    for (const auto& gpu : x.gpu_order) c.series.push_back({gpu, scale(x.hbm_by_gpu.at(gpu), PB)});
    c.overlay.push_back({"no compression", scale(cf.at("hbm_installed_bytes"), PB), true});
    f.push_back(
        {"hbm-by-generation.svg",
         "HBM installed, stacked by GPU generation; dashed: the no-compression counterfactual.",
         svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "HBM use: weights, KV cache and idle (with compression and rebound)";
    c.y_label = "HBM (PB)";
    c.x_labels = x.labels;
    c.stacked = true;
    c.series = {{"weights", scale(full.at("hbm_weight_bytes"), PB)},
                {"KV cache", scale(full.at("hbm_kv_bytes"), PB)},
                {"idle", scale(full.at("hbm_idle_bytes"), PB)}};
    f.push_back({"hbm-use.svg",
                 "How installed HBM is used: model weights, KV cache in use, and idle capacity.",
                 svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Host DRAM demand (with compression and rebound)";
    c.y_label = "host DRAM (PB)";
    c.x_labels = x.labels;
    c.stacked = true;
    c.series = {{"baseline", scale(full.at("host_dram_baseline_bytes"), PB)},
                {"KV offload", scale(full.at("host_dram_offload_bytes"), PB)},
                {"prefix tier", scale(full.at("host_dram_prefix_bytes"), PB)}};
    std::vector<double> cft(x.labels.size());
    for (std::size_t i = 0; i < cft.size(); ++i)
      cft[i] = (cf.at("host_dram_baseline_bytes")[i] + cf.at("host_dram_offload_bytes")[i] +
                cf.at("host_dram_prefix_bytes")[i]) /
               PB;
    c.overlay.push_back({"no compression", cft, true});
    f.push_back({"host-dram.svg",
                 "Host DRAM: servers' baseline DRAM, KV offload and the prefix-cache tier; dashed: "
                 "no compression.",
                 svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Fleet size";
    c.y_label = "GPUs installed (thousands)";
    c.x_labels = x.labels;
    c.series = {{"no compression", scale(cf.at("gpus_installed"), 1e3), true},
                {"efficiency only", scale(eff.at("gpus_installed"), 1e3)},
                {"with rebound", scale(full.at("gpus_installed"), 1e3)}};
    f.push_back({"fleet.svg", "GPUs installed under the three variants.", svg::render(c)});
  }
  {
    svg::LineChart c;
    c.title = "Cost per million tokens";
    c.y_label = "USD per million tokens";
    c.x_labels = x.labels;
    c.series = {{"no compression", cf.at("cost_usd_per_mtok"), true},
                {"with compression", full.at("cost_usd_per_mtok")}};
    f.push_back(
        {"cost.svg",
         "Cost per million tokens the fleet achieves (capital + power over goodput within SLO).",
         svg::render(c)});
  }
  for (const auto& r : x.decomposition) {
    if (r[0] != "hbm_installed_bytes") continue;
    std::vector<svg::Bar> bars = {{"no compression", d(r[1]) / PB},
                                  {"efficiency", d(r[2]) / PB},
                                  {"rebound", d(r[3]) / PB},
                                  {"with compression", d(r[5]) / PB}};
    f.push_back({"decomposition.svg",
                 fmt::format("HBM installed in {}: the efficiency effect (same demand on "
                             "compressed KV) and the rebound (demand drawn by the lower price).",
                             x.labels.back()),
                 svg::waterfall("HBM demand in " + x.labels.back() + ": efficiency vs rebound",
                                "HBM installed (PB)", bars)});
  }
  {
    svg::LineChart c;
    c.title = "Net HBM change vs long-run elasticity (" + x.labels.back() + ")";
    c.y_label = "net HBM installed (PB)";
    std::vector<double> v;
    for (const auto& r : x.sensitivity)
      if (r[0] == "elasticity") {
        c.x_labels.push_back(fmt::format("{:g}", d(r[1])));
        v.push_back(d(r[2]) / PB);
      }
    if (!v.empty()) {
      c.series.push_back({"compression − no compression", v});
      c.series.push_back({"zero", std::vector<double>(v.size(), 0.0), true});
      f.push_back({"break-even.svg",
                   "Above the break-even elasticity (where the line crosses zero), compression "
                   "raises total HBM demand.",
                   svg::render(c)});
    }
  }
  {
    std::map<std::string, svg::TornadoRow> rows;
    for (const auto& r : x.sensitivity) {
      if (r[0] == "elasticity") continue;
      auto& row = rows[r[0]];
      row.label = r[0];
      if (row.low_note.empty()) {
        row.low = d(r[2]) / PB;
        row.low_note = "ε=" + fmt::format("{:g}", d(r[1]));
      } else {
        row.high = d(r[2]) / PB;
        row.high_note = "ε=" + fmt::format("{:g}", d(r[1]));
      }
    }
    std::vector<svg::TornadoRow> v;
    for (auto& [k, r] : rows) v.push_back(r);
    if (!v.empty())
      f.push_back({"tornado.svg",
                   "Net HBM change when one class's elasticity moves to its low or high value.",
                   svg::tornado("Sensitivity of net HBM to each class's elasticity",
                                "net HBM installed (PB)", v)});
  }
  return f;
}

std::string tables_md(const Data& x) {
  std::string o;
  o += "| metric | no compression | efficiency effect | rebound effect | net | with compression "
       "|\n|---|---|---|---|---|---|\n";
  for (const auto& r : x.decomposition) {
    const bool bytes = r[0] != "gpus_installed";
    auto v = [&](const std::string& s) {
      return bytes ? fmt::format("{:+.3f} PB", d(s) / 1e15) : fmt::format("{:+.0f}", d(s));
    };
    o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r[0], v(r[1]), v(r[2]), v(r[3]), v(r[4]),
                     v(r[5]));
  }
  o += "\n| metric | break-even long-run elasticity |\n|---|---|\n";
  for (const auto& r : x.break_even)
    o += fmt::format("| {} | {} |\n", r[0],
                     r[1].empty() ? "above " + r[2] : fmt::format("{:.3f}", d(r[1])));
  o += "\n| GPU | class | KV format | TP | req/s per replica | tokens/s per replica | method "
       "|\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : x.capacity)
    o += fmt::format("| {} | {} | {} | {} | {:.2f} | {:.0f} | {} |\n", r[0], r[1], r[2], r[3],
                     d(r[4]), d(r[5]), r[6]);
  return o;
}

int run_report(const ReportOptions& o) {
  if (!fs::exists(o.db)) {
    Diagnostic dg;
    dg.file = o.db;
    dg.message = "no such results database";
    throw InputError(dg);
  }
  store::Store st = open_results_db(o.db);
  const Data x = load(st, o.run);
  const std::string dir =
      o.out.empty() ? fs::path(o.db).stem().string() + "-report-" + std::to_string(x.run) : o.out;
  fs::create_directories(dir);
  const auto figs = figures(x);
  const std::string title = fmt::format("Jevons report — scenario '{}', run {}", x.scenario, x.run);
  const std::string intro = fmt::format(
      "Run {} started {} ({} to {}). Three variants: **no compression** (the counterfactual), "
      "**efficiency only** (compressed KV, demand held) and **with rebound** (compressed KV, "
      "demand responding to the lower cost per token). Efficiency effect + rebound = net change.\n",
      x.run, x.started, x.labels.front(), x.labels.back());
  const std::string tables = tables_md(x);
  if (o.format == "md" || o.format == "both") {
    std::string md = "# " + title + "\n\n" + intro + "\n## Change in " + x.labels.back() + "\n\n" +
                     tables + "\n## Figures\n\n";
    for (const auto& f : figs) {
      std::ofstream(fs::path(dir) / f.file) << f.svg;
      md += fmt::format("![{}]({})\n\n*{}*\n\n", f.file, f.file, f.caption);
    }
    std::ofstream(fs::path(dir) / "report.md") << md;
  }
  if (o.format == "html" || o.format == "both") {
    std::string html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
        "</title><style>body{font-family:Helvetica,Arial,sans-serif;max-width:820px;margin:2em "
        "auto;}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px "
        "8px;text-align:right}"
        "figure{margin:1.5em 0}</style></head><body>\n<h1>" +
        title + "</h1>\n<p>" + intro + "</p>\n";
    // Markdown tables to HTML, row by row.
    html += "<h2>Change in " + x.labels.back() + "</h2>\n";
    bool in_table = false;
    std::size_t pos = 0;
    while (pos < tables.size()) {
      const auto nl = tables.find('\n', pos);
      const std::string line = tables.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) {
        if (in_table) html += "</table>\n";
        in_table = false;
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
        html +=
            (head ? "<th>" : "<td>") + line.substr(a + 1, b - a - 2) + (head ? "</th>" : "</td>");
        a = b + 1;
      }
      html += "</tr>\n";
    }
    if (in_table) html += "</table>\n";
    html += "<h2>Figures</h2>\n";
    for (const auto& f : figs)
      html += "<figure>" + f.svg + "<figcaption>" + f.caption + "</figcaption></figure>\n";
    html += "</body></html>\n";
    std::ofstream(fs::path(dir) / "report.html") << html;
  }
  fmt::print("Wrote the report of run {} ({} figures) to {}/\n", x.run, figs.size(), dir);
  return kExitOk;
}

}  // namespace

void add_report(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("report",
                                 "Write an HTML/Markdown report with figures of a projection run");
  auto o = std::make_shared<ReportOptions>();
  sub->add_option("db", o->db, "Results database")->required();
  sub->add_option("--run", o->run, "Run id (default: the latest projection run)");
  sub->add_option("--out", o->out, "Output directory (default: <db>-report-<run>)");
  sub->add_option("--format", o->format, "html, md or both")
      ->check(CLI::IsMember({"html", "md", "both"}))
      ->capture_default_str();
  sub->callback([&action, o] { action = [o] { return run_report(*o); }; });
}

}  // namespace jevons::cli
