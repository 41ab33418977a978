#include "band_figures.h"

#include <fmt/format.h>

#include "svg_chart.h"

namespace jevons::cli {

namespace {
constexpr double kPB = 1e15;
}

std::string break_even_curve_svg(const std::string& title, const std::vector<double>& elasticity,
                                 const std::vector<double>& net_bytes, double break_even,
                                 const CurrentSetting& current) {
  if (elasticity.size() < 2 || elasticity.size() != net_bytes.size()) return {};
  std::vector<double> ys;
  for (double y : net_bytes) ys.push_back(y / kPB);
  std::vector<svg::CurveMark> marks;
  if (std::isfinite(current.elasticity) && std::isfinite(current.net_bytes))
    marks.push_back({current.elasticity, current.net_bytes / kPB,
                     fmt::format("scenario (mean ε {:.2f})", current.elasticity), "#444"});
  if (std::isfinite(break_even))
    marks.push_back({break_even, 0, fmt::format("break-even {:.2f}", break_even)});
  return svg::curve(title, "long-run elasticity ε (every class)", "PB (with − without compression)",
                    elasticity, ys, marks);
}

std::vector<BandFigure> band_figures(const Band& b, const CurrentSetting& current) {
  std::vector<BandFigure> out;
  // Periods in time order from one series' rows (the rows are ordered by series, then time).
  std::vector<std::string> quarters, years;
  const std::string first = b.rows.empty() ? "" : b.rows.front().series;
  for (const auto& r : b.rows) {
    if (r.series != first) break;
    (r.period.find('Q') == std::string::npos ? years : quarters).push_back(r.period);
  }
  auto fan = [&](const std::string& series, const std::string& name, bool yearly) {
    svg::Fan f;
    f.name = name;
    for (const auto& r : b.rows) {
      if (r.series != series) continue;
      if ((r.period.find('Q') == std::string::npos) != yearly) continue;
      f.p10.push_back(r.p10 / kPB);
      f.p50.push_back(r.p50 / kPB);
      f.p90.push_back(r.p90 / kPB);
    }
    return f;
  };
  struct Chart {
    const char* metric;
    const char* title;
    bool yearly;
  };
  for (const Chart& c : {Chart{"hbm_installed_bytes", "HBM installed", false},
                         Chart{"hbm_shipped_bytes", "HBM shipped per year", true},
                         Chart{"host_dram_bytes", "Host DRAM installed", false}}) {
    const std::string m = c.metric;
    const auto& x = c.yearly ? years : quarters;
    if (x.empty()) continue;
    out.push_back(
        {"fan-" + m + ".svg",
         fmt::format("{} with and without compression over {} samples: P10–P90 "
                     "shaded, P50 line.",
                     c.title, b.samples),
         svg::fan_chart(std::string(c.title) + ": with and without compression (P10–P90, P50)",
                        "PB", x,
                        {fan(m + ".without", "without compression", c.yearly),
                         fan(m + ".with", "with compression", c.yearly)})});
    out.push_back(
        {"fan-" + m + "-net.svg",
         fmt::format("{}: the change compression makes (net = efficiency + rebound), P10–P90.",
                     c.title),
         svg::fan_chart(
             std::string(c.title) + ": change from compression (P10–P90, P50)",
             "PB (with − without)", x,
             {fan(m + ".net", "net", c.yearly), fan(m + ".efficiency", "efficiency", c.yearly),
              fan(m + ".rebound", "rebound", c.yearly)})});
  }
  std::vector<double> xs, ys;
  for (const auto& p : b.curve)
    if (p.metric == "hbm_installed_bytes") {
      xs.push_back(p.elasticity);
      ys.push_back(p.net_bytes);
    }
  double crossing = std::numeric_limits<double>::quiet_NaN();
  for (const auto& e : b.break_even)
    if (e.metric == "hbm_installed_bytes") crossing = e.at_scenario;
  const std::string period =
      years.empty() ? (quarters.empty() ? "" : quarters.back()) : years.back();
  if (auto svg_text = break_even_curve_svg(
          "Net change in installed HBM, " + period + ", against the long-run elasticity", xs, ys,
          crossing, current);
      !svg_text.empty())
    out.push_back({"break-even-curve.svg",
                   "Net change in installed HBM against a uniform long-run elasticity: above the "
                   "crossing, compression raises installed HBM.",
                   std::move(svg_text)});
  return out;
}

}  // namespace jevons::cli
