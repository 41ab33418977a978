#include "jevons/planner/backcast.h"

#include <algorithm>
#include <cmath>

namespace jevons::planner {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

bool selected(const WorldSeries& s, const std::string& vendor, const std::string& gpu) {
  if (!s.vendor.empty() && s.vendor != vendor) return false;
  if (!s.gpus.empty() && std::find(s.gpus.begin(), s.gpus.end(), gpu) == s.gpus.end()) return false;
  return true;
}
}  // namespace

const BackcastYear* Backcast::year(int y) const {
  for (const auto& r : years)
    if (r.year == y) return &r;
  return nullptr;
}

std::map<std::string, double> Backcast::installed_at_start_of(int y) const {
  if (const auto* r = year(y - 1)) return r->installed_by_gpu;
  return {};
}

Backcast backcast(const World& world, const Catalog& catalog) {
  Backcast b;
  b.service_life_years = world.service_life_years.value;
  // Whole years: shipments are yearly, and a part shipped mid-year serves `life` year ends.
  const int life = std::max(1, static_cast<int>(std::lround(world.service_life_years.value)));
  const int first = world.first_year(), last = world.last_year();

  // Shipments by (year, vendor, gpu).
  struct Lot {
    int year;
    std::string vendor, gpu;
    double packages;
  };
  std::vector<Lot> lots;
  for (const auto& v : world.vendors)
    for (const auto& [y, total] : v.packages)
      for (const auto& [gpu, share] : v.mix.at(y))
        lots.push_back({y, v.vendor, gpu, total.value * share.value});

  auto hbm = [&](const std::string& gpu) {
    return catalog.gpu(gpu).hbm_nominal_gib.get("hbm_nominal_gib") * kGiB;
  };
  auto host = [&](const std::string& gpu) {
    return catalog.gpu(gpu).host_dram_per_gpu_gib.get("host_dram_per_gpu_gib") * kGiB;
  };
  auto in_service = [&](int shipped, int at) { return shipped <= at && at - shipped < life; };

  for (int y = first; y <= last && first > 0; ++y) {
    BackcastYear r;
    r.year = y;
    for (const auto& l : lots) {
      if (l.year == y) {
        r.packages_shipped += l.packages;
        r.hbm_shipped_bytes += l.packages * hbm(l.gpu);
        r.shipped_by_gpu[l.gpu] += l.packages;
        r.shipped_by_vendor[l.vendor] += l.packages;
        r.hbm_shipped_by_vendor[l.vendor] += l.packages * hbm(l.gpu);
      }
      if (in_service(l.year, y)) {
        r.packages_installed += l.packages;
        r.hbm_installed_bytes += l.packages * hbm(l.gpu);
        r.host_dram_installed_bytes += l.packages * host(l.gpu);
        r.installed_by_gpu[l.gpu] += l.packages;
      }
    }
    b.years.push_back(std::move(r));
  }

  for (const auto& s : world.series) {
    if (s.model.empty()) continue;
    for (const auto& p : s.points) {
      const int y = p.period.year;
      BackcastCheck c;
      c.series = s.name;
      c.what = s.what;
      c.unit = s.unit;
      c.period = p.period.label;
      c.sourced = p.figure;
      c.identity = s.model == "packages_shipped" && !s.vendor.empty() && s.gpus.empty();
      for (const auto& l : lots) {
        if (!selected(s, l.vendor, l.gpu)) continue;
        if (s.model == "hbm_shipped_bytes" && l.year == y) c.modelled += l.packages * hbm(l.gpu);
        if (s.model == "hbm_installed_bytes" && in_service(l.year, y))
          c.modelled += l.packages * hbm(l.gpu);
        if (s.model == "packages_shipped" &&
            (s.since_year > 0 ? (l.year >= s.since_year && l.year <= y) : l.year == y))
          c.modelled += l.packages;
        if (s.model == "packages_installed" && in_service(l.year, y)) c.modelled += l.packages;
      }
      b.checks.push_back(std::move(c));
    }
  }
  return b;
}

std::vector<ProjectionWorldYear> compare_with_world(const World& world, const Backcast& b,
                                                    const std::vector<QuarterTotals>& baseline) {
  std::map<int, ProjectionWorldYear> by_year;
  for (const auto& t : baseline) {
    WorldPeriod p;
    if (!WorldPeriod::parse(t.label, p)) continue;
    auto& r = by_year[p.year];
    r.year = p.year;
    ++r.quarters;
    r.projected_bytes += t.hbm_shipped_bytes;
  }
  auto point = [&](const char* series, int year) -> std::optional<WorldFigure> {
    if (const WorldSeries* s = world.find_series(series))
      for (const auto& pt : s->points)
        if (pt.period.year == year && pt.period.last_month - pt.period.first_month == 11)
          return pt.figure;
    return std::nullopt;
  };
  std::vector<ProjectionWorldYear> out;
  for (auto& [year, r] : by_year) {
    if (const WorldSeries* s = world.find_series("inference_share"))
      for (const auto& pt : s->points)
        if (pt.period.year <= year || r.inference_share == 0) r.inference_share = pt.figure.value;
    if (const BackcastYear* y = b.year(year)) r.backcast_bytes = y->hbm_shipped_bytes;
    r.shipped = point("hbm_shipped_bytes", year);
    r.supply = point("hbm_supply_bytes", year);
    out.push_back(r);
  }
  return out;
}

}  // namespace jevons::planner
