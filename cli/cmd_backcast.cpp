// jevons backcast: the world baseline built from data/world.yaml, side by side with every public
// figure it can be checked against.
#include <fmt/format.h>

#include <set>

#include "commands.h"
#include "common.h"
#include "jevons/core/world.h"
#include "jevons/planner/backcast.h"

namespace jevons::cli {

namespace {

/// Decimal units: the HBM and DRAM market counts bytes in 10^18 (EB) and 10^15 (PB).
std::string si(double v, const std::string& unit) {
  if (unit == "bytes") {
    if (v >= 1e17) return fmt::format("{:.2f} EB", v / 1e18);
    return fmt::format("{:.1f} PB", v / 1e15);
  }
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  return fmt::format("{:.3g}", v);
}

std::string tag(const WorldFigure& f) {
  return fmt::format("[{}{}]", to_string(f.confidence), f.forecast ? ",forecast" : "");
}

void print_backcast(const World& w, const planner::Backcast& b) {
  fmt::print(
      "World baseline from {} (service life {:g} years; coverage: NVIDIA, Google TPU, "
      "AWS Trainium, AMD Instinct)\n\n",
      w.path, b.service_life_years);
  if (w.committed_through_year.value > 0)
    fmt::print(
        "Committed through {:.0f} {}: deliveries contracted before the planner's horizon; the "
        "bundled scenarios deliver them in every variant (fleet.committed_through), and "
        "`jevons run` prints the projection's HBM shipped per year beside the figures below.\n\n",
        w.committed_through_year.value, tag(w.committed_through_year));
  std::set<std::string> vendors;
  for (const auto& v : w.vendors) vendors.insert(v.vendor);
  fmt::print("Packages shipped per year (millions) and the HBM they carry (EB, 1e18 B):\n");
  fmt::print("{:<6}", "year");
  for (const auto& v : w.vendors) fmt::print(" {:>9}", v.vendor);
  fmt::print(" {:>9} {:>10} {:>12} {:>12} {:>12}\n", "total", "HBM EB", "installed M",
             "HBM inst EB", "host DRAM EB");
  for (const auto& y : b.years) {
    fmt::print("{:<6}", y.year);
    for (const auto& v : w.vendors) {
      auto it = y.shipped_by_vendor.find(v.vendor);
      if (it == y.shipped_by_vendor.end())
        fmt::print(" {:>9}", v.packages.count(y.year) ? "0" : "n/p");
      else
        fmt::print(" {:>9.2f}", it->second / 1e6);
    }
    bool forecast = false;
    for (const auto& v : w.vendors)
      if (auto it = v.packages.find(y.year); it != v.packages.end() && it->second.forecast)
        forecast = true;
    fmt::print(" {:>9.2f} {:>10.3f} {:>12.2f} {:>12.3f} {:>12.3f}{}\n", y.packages_shipped / 1e6,
               y.hbm_shipped_bytes / 1e18, y.packages_installed / 1e6, y.hbm_installed_bytes / 1e18,
               y.host_dram_installed_bytes / 1e18, forecast ? "  (includes forecasts)" : "");
  }
  fmt::print(
      "n/p: no published figure for that vendor and year, counted as no shipments (the "
      "totals of those years are partial).\n\n");

  fmt::print("Back-cast against public figures (ratio = back-cast / public):\n");
  fmt::print("{:<36} {:<8} {:>12} {:<14} {:>12} {:>7}  {}\n", "series", "period", "public", "",
             "back-cast", "ratio", "source, date");
  for (const auto& c : b.checks)
    fmt::print("{:<36} {:<8} {:>12} {:<14} {:>12} {:>7.2f}  {}, {}{}\n", c.series, c.period,
               si(c.sourced.value, c.unit), tag(c.sourced), si(c.modelled, c.unit), c.ratio(),
               c.sourced.source, c.sourced.date,
               c.identity    ? "  (the vendor's own input)"
               : c.within(2) ? ""
                             : "  OUTSIDE 2x");

  fmt::print("\nContext (public figures the baseline does not model):\n");
  for (const auto& s : w.series) {
    if (!s.model.empty()) continue;
    for (const auto& p : s.points)
      fmt::print("  {:<36} {:<8} {:>12.4g} {:<14} {}  ({}, {})\n", s.name, p.period.label,
                 p.figure.value, tag(p.figure), s.unit, p.figure.source, p.figure.date);
  }
}

}  // namespace

void add_backcast(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "backcast",
      "The world baseline (installed base and HBM from shipments) beside public figures");
  auto data_dir = std::make_shared<std::string>();
  auto world_path = std::make_shared<std::string>();
  sub->add_option("--data-dir", *data_dir, "Directory holding gpus.yaml, models.yaml, world.yaml");
  sub->add_option("--world", *world_path, "World dataset (default: DATA_DIR/world.yaml)");
  sub->callback([&action, data_dir, world_path] {
    action = [data_dir, world_path] {
      const Catalog c = load_catalog(*data_dir);
      const std::string dir = data_dir->empty() ? Catalog::default_dir() : *data_dir;
      const World w = World::load(world_path->empty() ? World::default_path(dir) : *world_path, c);
      print_backcast(w, planner::backcast(w, c));
      return kExitOk;
    };
  });
}

}  // namespace jevons::cli
