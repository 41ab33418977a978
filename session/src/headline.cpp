#include "jevons/session/headline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <limits>
#include <map>

#include "jevons/store/band_store.h"

namespace jevons::session {

namespace {

// U+2212 for minus: the sign is the answer and a hyphen is easy to miss.
std::string sign_fix(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\u2212");
  return s;
}

std::string signed_percent(double f) {
  return std::isnan(f) ? std::string("n/a") : sign_fix(fmt::format("{:+.1f} %", 100 * f));
}

std::string band_text(const std::optional<Band>& b, bool bytes) {
  if (!b) return "";
  // A break-even quantile is +inf where compression raises the metric at no ε in the searched
  // range and -inf where it raises it at every ε (BreakEvenResult::ordered_value).
  auto v = [&](double x) {
    if (bytes) return signed_bytes(x);
    if (std::isinf(x)) return std::string(x > 0 ? "none" : "every ε");
    return fmt::format("{:.2f}", x);
  };
  return fmt::format(" [P10 {}, P50 {}, P90 {}]", v(b->p10), v(b->p50), v(b->p90));
}

std::string figure_text(const std::string& what, const HeadlineFigure& f) {
  return fmt::format("{} {}{} ({}; efficiency {}, rebound {})", what, signed_bytes(f.net),
                     band_text(f.net_band, true), signed_percent(f.net_fraction()),
                     signed_bytes(f.efficiency), signed_bytes(f.rebound));
}

}  // namespace

std::string signed_bytes(double bytes) {
  if (bytes == 0) return "0 B";
  // Decimal units (PB = 1e15 B, as the projection tables print), three significant digits.
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  double v = std::fabs(bytes);
  while (v >= 1000 && u < 6) {
    v /= 1000;
    ++u;
  }
  const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return sign_fix(fmt::format("{:+.{}f} {}", bytes < 0 ? -v : v, decimals, kUnits[u]));
}

namespace {
std::string unsigned_bytes(double bytes) {
  std::string s = signed_bytes(bytes);
  return s.rfind("+", 0) == 0 ? s.substr(1) : s;
}
}  // namespace

double HeadlineFigure::net_fraction() const {
  return counterfactual != 0 ? net / counterfactual : std::numeric_limits<double>::quiet_NaN();
}

bool Headline::has_bands() const {
  return hbm_shipped.net_band || hbm_installed.net_band || host_dram.net_band || break_even_band;
}

std::optional<Headline> make_headline(const Projection& p, const std::string& method) {
  int last = -1;
  for (const auto& d : p.decomposition) last = std::max(last, d.quarter);
  if (last < 0 || static_cast<std::size_t>(last) >= p.quarter_labels.size()) return std::nullopt;
  Headline h;
  h.final_quarter = p.quarter_labels[static_cast<std::size_t>(last)];
  h.final_year = h.final_quarter.substr(0, 4);
  h.quarter_labels = p.quarter_labels;
  h.capacity_method = method;
  h.max_elasticity = p.max_elasticity;
  h.hbm_shipped = {"hbm_shipped_bytes", h.final_year, 0, 0, 0, 0, 0, std::nullopt};
  h.hbm_installed = {"hbm_installed_bytes", h.final_quarter, 0, 0, 0, 0, 0, std::nullopt};
  h.host_dram = {"host_dram_bytes", h.final_quarter, 0, 0, 0, 0, 0, std::nullopt};
  for (const auto& d : p.decomposition) {
    const auto& label = p.quarter_labels.at(static_cast<std::size_t>(d.quarter));
    HeadlineFigure* f = nullptr;
    // Shipments are a flow: the year's quarters add up. Installed HBM and DRAM are stocks: the
    // final quarter is the year's end.
    if (d.metric == h.hbm_shipped.metric && label.compare(0, 4, h.final_year) == 0)
      f = &h.hbm_shipped;
    else if (d.quarter == last && d.metric == h.hbm_installed.metric)
      f = &h.hbm_installed;
    else if (d.quarter == last && d.metric == h.host_dram.metric)
      f = &h.host_dram;
    if (!f) continue;
    ++f->quarters;
    f->counterfactual += d.counterfactual;
    f->efficiency += d.efficiency_effect;
    f->rebound += d.rebound_effect;
    f->net += d.net;
  }
  // Sums of per-quarter differences of equal totals leave rounding residue (256 B in exabytes):
  // below 1e-12 of the counterfactual a change is zero, not a sign.
  for (HeadlineFigure* f : {&h.hbm_shipped, &h.hbm_installed, &h.host_dram})
    for (double* x : {&f->efficiency, &f->rebound, &f->net})
      if (std::fabs(*x) <= 1e-12 * std::fabs(f->counterfactual)) *x = 0;
  // The HBM market per year and variant: a year is supply-bound in a variant when what its
  // purchases demanded exceeds what was shipped (the cap cut them).
  std::map<std::string, std::array<std::array<double, 3>, 2>> years;  // [cf|full][dem, ship, sup]
  for (const auto& t : p.totals) {
    if (t.variant == Variant::kEfficiency) continue;
    auto& y = years[t.label.substr(0, 4)][t.variant == Variant::kFull ? 1 : 0];
    y[0] += t.hbm_demanded_bytes;
    y[1] += t.hbm_shipped_bytes;
    y[2] += t.hbm_supply_bytes;
    if (t.variant == Variant::kCounterfactual && t.quarter == last && t.peak_tokens_per_s > 0)
      h.final_unserved_share = t.unserved_peak_tokens_per_s / t.peak_tokens_per_s;
  }
  for (const auto& [year, v] : years) {
    auto bound = [](const std::array<double, 3>& x) {
      return x[2] > 0 && x[0] > x[1] * (1 + 1e-9);
    };
    if (bound(v[0]) && bound(v[1])) h.supply_bound_years.push_back(year);
    if (year == h.final_year) {
      h.final_hbm_demanded_bytes = v[0][0];
      h.final_hbm_supply_bytes = v[0][2];
    }
  }
  h.break_even = std::numeric_limits<double>::quiet_NaN();
  for (const auto& b : p.break_even)
    if (b.quarter == last && b.metric == "hbm_installed_bytes") h.break_even = b.elasticity;
  return h;
}

bool attach_band(Headline& h, const std::vector<BandRow>& rows,
                 const std::vector<BreakEvenBand>& break_even) {
  // The band's quarters (one series' quarter rows, in time order) must be the projection's: a
  // band over a longer horizon has the same period labels but sums other quarters into a year.
  std::vector<std::string> band_quarters;
  const std::string probe = h.hbm_installed.metric + ".net";
  for (const auto& r : rows)
    if (r.series == probe && r.period.find('Q') != std::string::npos)
      band_quarters.push_back(r.period);
  if (band_quarters != h.quarter_labels) return false;
  auto find = [&](const HeadlineFigure& f) -> std::optional<Band> {
    const std::string series = f.metric + ".net";
    // The same rounding residue as the figures' own (make_headline): a quantile of sums of
    // exabytes that differs from zero by bytes is zero.
    auto clean = [&](double x) {
      return std::fabs(x) <= 1e-12 * std::fabs(f.counterfactual) ? 0 : x;
    };
    for (const auto& r : rows)
      if (r.series == series && r.period == f.period)
        return Band{clean(r.p10), clean(r.p50), clean(r.p90)};
    return std::nullopt;
  };
  const auto shipped = find(h.hbm_shipped), installed = find(h.hbm_installed),
             dram = find(h.host_dram);
  if (!shipped || !installed || !dram) return false;
  h.hbm_shipped.net_band = shipped;
  h.hbm_installed.net_band = installed;
  h.host_dram.net_band = dram;
  for (const auto& b : break_even)
    if (b.metric == h.hbm_installed.metric) h.break_even_band = Band{b.p10, b.p50, b.p90};
  return true;
}

bool attach_latest_band(Headline& h, store::Store& store, const std::string& scenario_name) {
  const auto run = store::latest_band_run(store, scenario_name);
  if (!run) return false;
  return attach_band(h, store::read_bands(store, *run), store::read_break_even_band(store, *run));
}

std::string band_hint() {
  return "No uncertainty band in this run: `jevons band SCENARIO` samples the uncertain inputs "
         "and stores P10/P50/P90 for these figures.";
}

std::string headline_sentence(const Headline& h) {
  std::string s = fmt::format(
      "Compression with its demand response, against none, in {}: {}, {}, {}.", h.final_year,
      figure_text(h.hbm_shipped.quarters == 4
                      ? "HBM shipped in the year"
                      : fmt::format("HBM shipped in its {} quarter(s)", h.hbm_shipped.quarters),
                  h.hbm_shipped),
      figure_text("HBM installed at " + h.final_quarter, h.hbm_installed),
      figure_text("host DRAM", h.host_dram));
  if (std::isnan(h.break_even))
    s += fmt::format(
        " Compression does not raise installed HBM at any long-run elasticity up "
        "to {:g}{}.",
        h.max_elasticity, band_text(h.break_even_band, false));
  else
    s += fmt::format(" Compression raises installed HBM above a long-run elasticity of {:.2f}{}.",
                     h.break_even, band_text(h.break_even_band, false));
  if (!h.supply_bound_years.empty()) {
    const auto& y = h.supply_bound_years;
    const std::string span = y.size() == 1 ? y.front() : y.front() + "\u2013" + y.back();
    s += fmt::format(
        " HBM supply binds in {} with and without compression (the parts demanded need more "
        "HBM than the market supplies), so what the memory makers build is shipped either way",
        y.size() == 1 ||
                std::stoi(y.back()) - std::stoi(y.front()) + 1 == static_cast<int>(y.size())
            ? span
            : fmt::format("{}", fmt::join(y, ", ")));
    if (h.supply_bound_years.back() == h.final_year)
      s += fmt::format(" ({}: {} demanded, {} supplied, {:.0f} % of peak demand unserved)",
                       h.final_year, unsigned_bytes(h.final_hbm_demanded_bytes),
                       unsigned_bytes(h.final_hbm_supply_bytes), 100 * h.final_unserved_share);
    s += ".";
  }
  if (!h.capacity_method.empty())
    s += fmt::format(" Capacity per replica: {}.", h.capacity_method == "analytical"
                                                       ? "analytical estimate (closed form)"
                                                       : h.capacity_method);
  if (!h.has_bands()) s += " " + band_hint();
  return s;
}

bool capacity_modes_agree(const Headline& a, const Headline& s) {
  const double points =
      100 * std::fabs(a.hbm_installed.net_fraction() - s.hbm_installed.net_fraction());
  // Both "not below the maximum" is agreement; one NaN and one number is not.
  const bool be_agree = std::isnan(a.break_even) || std::isnan(s.break_even)
                            ? std::isnan(a.break_even) && std::isnan(s.break_even)
                            : std::fabs(a.break_even - s.break_even) <= kModeToleranceBreakEven;
  return points <= kModeToleranceNetPoints && be_agree;
}

std::string capacity_mode_difference(const Headline& a, const std::optional<Headline>& s,
                                     std::uint64_t searches_needed) {
  const double an = a.hbm_installed.net_fraction();
  std::string out =
      fmt::format("Analytical capacity (closed form): installed HBM at {} {} analytical",
                  a.final_quarter, signed_percent(an));
  auto be = [](const Headline& h) {
    return std::isnan(h.break_even) ? fmt::format("above {:g}", h.max_elasticity)
                                    : fmt::format("{:.2f}", h.break_even);
  };
  if (!s) {
    out += fmt::format(
        ", break-even {}. The simulated search this scenario asks for needs at least {} "
        "capacity search(es) not in the cache; run without --analytical-capacity to compare "
        "(analytical "
        "and simulated capacity are different answers on the default scenario, docs/planner.md).",
        be(a), searches_needed);
    return out;
  }
  const double sn = s->hbm_installed.net_fraction();
  out += fmt::format(
      " against {} simulated (difference {} points); break-even {} against {}. {}",
      signed_percent(sn), sign_fix(fmt::format("{:+.1f}", 100 * (an - sn))), be(a), be(*s),
      capacity_modes_agree(a, *s)
          ? fmt::format("Within the tolerance ({:g} points, {:g} in break-even): the same answer.",
                        kModeToleranceNetPoints, kModeToleranceBreakEven)
          : fmt::format("Beyond the tolerance ({:g} points, {:g} in break-even): a different "
                        "answer; the simulated one is the model's.",
                        kModeToleranceNetPoints, kModeToleranceBreakEven));
  return out;
}

}  // namespace jevons::session
