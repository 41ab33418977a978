// Parser of the scenario's `uncertainty:` section. Schema and defaults: docs/uncertainty.md.
#include "jevons/core/uncertainty_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jevons/core/error.h"
#include "jevons/core/scenario.h"
#include "sections.h"

namespace jevons {

namespace {

constexpr std::uint64_t kMaxSamples = 10'000'000;

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}
/// Inverse of the standard normal CDF: Acklam's rational approximation (relative error 1.2e-9)
/// polished by one Halley step on erfc, which brings it to double precision.
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  double x;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

// An untruncated normal or lognormal has unbounded support; ±6 σ (probability 2e-9 outside)
// keeps u = 0 and u = 1 finite without moving any quantile a band reports.
constexpr double kTailSigmas = 6.0;

}  // namespace

double Distribution::quantile(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  switch (kind) {
    case Kind::kUniform:
      return low + u * (high - low);
    case Kind::kTriangular: {
      const double w = high - low;
      if (w <= 0) return low;
      const double fc = (mode - low) / w;
      return u < fc ? low + std::sqrt(u * w * (mode - low))
                    : high - std::sqrt((1 - u) * w * (high - mode));
    }
    case Kind::kNormal:
    case Kind::kLognormal: {
      const bool log = kind == Kind::kLognormal;
      const double mu = log ? std::log(median) : mean;
      const double s = log ? sigma : sd;
      if (s <= 0) return std::clamp(log ? median : mean, low, high);
      auto z_of = [&](double x) {
        if (log) return x <= 0 ? -kTailSigmas : (std::log(x) - mu) / s;
        return (x - mu) / s;
      };
      const double z_lo = std::max(-kTailSigmas, z_of(low));
      const double z_hi = std::min(kTailSigmas, z_of(high));
      // Renormalise only over bounds the user set; the ±6 σ ends only clamp.
      const double p_lo = z_of(low) > -kTailSigmas ? normal_cdf(z_lo) : 0.0;
      const double p_hi = z_of(high) < kTailSigmas ? normal_cdf(z_hi) : 1.0;
      double z;
      if (u <= 0) {
        z = z_lo;
      } else if (u >= 1) {
        z = z_hi;
      } else {
        z = std::clamp(normal_quantile(p_lo + u * (p_hi - p_lo)), z_lo, z_hi);
      }
      const double x = mu + s * z;
      return log ? std::exp(x) : x;
    }
  }
  return low;
}

std::string Distribution::describe() const {
  auto bounds = [&] {
    std::string b;
    if (low > -1e299) b += fmt::format(", low {:g}", low);
    if (high < 1e299) b += fmt::format(", high {:g}", high);
    return b;
  };
  switch (kind) {
    case Kind::kUniform:
      return fmt::format("uniform({:g}, {:g})", low, high);
    case Kind::kTriangular:
      return fmt::format("triangular({:g}, {:g}, {:g})", low, mode, high);
    case Kind::kNormal:
      return fmt::format("normal(mean {:g}, sd {:g}{})", mean, sd, bounds());
    case Kind::kLognormal:
      return fmt::format("lognormal(median {:g}, sigma {:g}{})", median, sigma, bounds());
  }
  return "?";
}

namespace detail {

namespace {

/// The names an input may take in `scenario`, in a fixed order.
std::vector<std::string> input_names(const Scenario& s) {
  std::vector<std::string> n = {"elasticity",
                                "growth",
                                "adoption.ceiling",
                                "adoption.speed_per_quarter",
                                "gpu_price_factor",
                                "hbm_per_package_factor",
                                "deliveries_factor",
                                "hbm_supply_factor",
                                "software_efficiency_growth",
                                "compressed_attention_time"};
  if (s.planner)
    for (const auto& c : s.planner->classes) {
      n.push_back("elasticity." + c.name);
      n.push_back("growth." + c.name);
    }
  return n;
}

/// The range a sampled value must stay within for the input to mean anything.
yaml::Range value_range(const std::string& name) {
  if (name.rfind("elasticity", 0) == 0) return yaml::non_negative(20);
  if (name.rfind("growth", 0) == 0) return yaml::positive(100);
  if (name == "adoption.ceiling") return schema::keys::kAdoptionCeiling.range;
  if (name == "adoption.speed_per_quarter") return schema::keys::kAdoptionSpeed.range;
  if (name == "compressed_attention_time") return yaml::positive(20);
  if (name == "software_efficiency_growth") return yaml::between(0.5, 10);
  return yaml::positive(100);  // the factors
}

bool within(const yaml::Range& r, double v) {
  return r.contains(v);
}

std::optional<Distribution> parse_distribution(yaml::MapReader& m, const std::string& name) {
  auto& ctx = m.context();
  const yaml::Range any{};
  const yaml::Range vr = value_range(name);
  const std::string kind =
      m.choice_or("dist", "", {"triangular", "uniform", "lognormal", "normal"});
  if (!m.has("dist")) {
    ctx.error(m.node(), m.path_of("dist"), "",
              "missing: expected dist: triangular, uniform, lognormal or normal");
    return std::nullopt;
  }
  if (kind.empty()) return std::nullopt;  // reported by choice_or
  Distribution d;
  bool ok = true;
  auto need = [&](const char* key, const yaml::Range& r) {
    auto v = m.number(key, r, true);
    if (!v) ok = false;
    return v.value_or(0);
  };
  auto bound = [&](const char* key) -> std::optional<double> {
    auto v = m.number(key, any, false);
    if (v && !within(vr, *v)) {
      ctx.error(m.node()[key], m.path_of(key), fmt::format("{:g}", *v),
                "outside the values " + name + " can take: expected " + vr.expected());
      ok = false;
    }
    return v;
  };
  if (kind == "uniform" || kind == "triangular") {
    d.kind = kind == "uniform" ? Distribution::Kind::kUniform : Distribution::Kind::kTriangular;
    auto lo = bound("low");
    auto hi = bound("high");
    if (!m.has("low")) ctx.error(m.node(), m.path_of("low"), "", "missing: expected a number");
    if (!m.has("high")) ctx.error(m.node(), m.path_of("high"), "", "missing: expected a number");
    if (!lo || !hi) return std::nullopt;
    d.low = *lo;
    d.high = *hi;
    if (!(d.high > d.low)) {
      ctx.error(m.node()["high"], m.path_of("high"), fmt::format("{:g}", d.high),
                fmt::format("expected a number above low ({:g})", d.low));
      ok = false;
    }
    if (d.kind == Distribution::Kind::kTriangular) {
      d.mode = need("mode", any);
      if (ok && (d.mode < d.low || d.mode > d.high)) {
        ctx.error(m.node()["mode"], m.path_of("mode"), fmt::format("{:g}", d.mode),
                  fmt::format("expected a number in [low, high] = [{:g}, {:g}]", d.low, d.high));
        ok = false;
      }
    }
  } else {
    const bool log = kind == "lognormal";
    d.kind = log ? Distribution::Kind::kLognormal : Distribution::Kind::kNormal;
    if (log) {
      d.median = need("median", yaml::positive(1e300));
      d.sigma = need("sigma", yaml::non_negative(10));
    } else {
      d.mean = need("mean", any);
      d.sd = need("sd", yaml::non_negative(1e300));
    }
    // Without bounds, the input's own range truncates (an elasticity below 0 means nothing).
    d.low = bound("low").value_or(vr.min);
    d.high = bound("high").value_or(vr.max);
    if (ok && !(d.high > d.low)) {
      ctx.error(m.node()["high"], m.path_of("high"), fmt::format("{:g}", d.high),
                fmt::format("expected a number above low ({:g})", d.low));
      ok = false;
    }
    const double centre = log ? d.median : d.mean;
    if (ok && (centre < d.low || centre > d.high)) {
      const char* key = log ? "median" : "mean";
      ctx.error(m.node()[key], m.path_of(key), fmt::format("{:g}", centre),
                fmt::format("expected a number in [low, high] = [{:g}, {:g}]", d.low, d.high));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  if (!within(vr, d.quantile(0)) || !within(vr, d.quantile(1))) {
    ctx.error(m.node(), m.path_of("dist"), d.describe(),
              "the distribution reaches values " + name + " cannot take: expected every value " +
                  vr.expected() + " (add low/high bounds)");
    return std::nullopt;
  }
  return d;
}

}  // namespace

void parse_uncertainty(yaml::MapReader& section, const Scenario& scenario, UncertaintySpec& out) {
  auto& ctx = section.context();
  if (!section.valid()) return;
  if (!scenario.planner) {
    ctx.error(section.node(), "uncertainty", "",
              "an uncertainty section needs a planner section to sample (it varies the "
              "projection's inputs)");
    return;
  }
  out.samples = static_cast<std::uint64_t>(
      section.integer_or("samples", static_cast<std::int64_t>(out.samples),
                         yaml::positive(static_cast<double>(kMaxSamples))));
  out.latin_hypercube = section.choice_or("method", "lhs", {"lhs", "monte-carlo"}) == "lhs";
  out.seed = static_cast<std::uint64_t>(section.integer_or(
      "seed", static_cast<std::int64_t>(scenario.seed), yaml::non_negative(9e15)));
  if (section.has("break_even")) {
    yaml::MapReader b(ctx, section.child("break_even"), "uncertainty.break_even");
    out.break_even_low = b.number_or("low", out.break_even_low, yaml::non_negative(20));
    out.break_even_high = b.number_or("high", out.break_even_high, yaml::positive(20));
    if (!(out.break_even_high > out.break_even_low))
      ctx.error(b.node()["high"], "uncertainty.break_even.high",
                fmt::format("{:g}", out.break_even_high),
                fmt::format("expected a number above low ({:g})", out.break_even_low));
    b.finish();
  }
  YAML::Node inputs = section.child("inputs", true);
  if (inputs.IsDefined() && !inputs.IsMap()) {
    ctx.error(inputs, "uncertainty.inputs", yaml::describe(inputs),
              "expected a mapping of input name to distribution, e.g. "
              "{elasticity: {dist: triangular, low: 0.5, mode: 1.1, high: 2.0}}");
  } else if (inputs.IsDefined()) {
    const std::vector<std::string> names = input_names(scenario);
    yaml::MapReader in(ctx, inputs, "uncertainty.inputs");
    for (auto it = inputs.begin(); it != inputs.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
      const std::string path = "uncertainty.inputs." + name;
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        const std::string m = closest_match(name, names);
        ctx.error(it->first, path, name,
                  "unknown uncertain input; expected one of: elasticity, elasticity.<class>, "
                  "growth, growth.<class>, adoption.ceiling, adoption.speed_per_quarter, "
                  "gpu_price_factor, hbm_per_package_factor, deliveries_factor, "
                  "hbm_supply_factor, software_efficiency_growth, compressed_attention_time",
                  m.empty() ? "" : "did you mean '" + m + "'?");
        in.child(name);
        continue;
      }
      yaml::MapReader m(ctx, in.child(name), path);
      if (!m.valid()) continue;
      UncertainInput u;
      u.name = name;
      u.line = it->first.Mark().line + 1;
      auto d = parse_distribution(m, name);
      if (name == "compressed_attention_time") {
        // A count of evenly spaced speeds, or the speeds themselves (each a capacity search).
        const YAML::Node g = m.node()["grid"];
        if (g.IsSequence()) {
          m.child("grid");
          for (std::size_t i = 0; i < g.size(); ++i)
            if (auto v = yaml::MapReader::to_number(ctx, g[i], fmt::format("{}.grid[{}]", path, i),
                                                    value_range(name)))
              u.grid.push_back(*v);
          const bool ascending = std::is_sorted(u.grid.begin(), u.grid.end()) &&
                                 std::adjacent_find(u.grid.begin(), u.grid.end()) == u.grid.end();
          if (g.size() < 2 || g.size() > 16 || !ascending)
            ctx.error(g, path + ".grid", yaml::describe(g),
                      "expected 2 to 16 speeds in strictly ascending order");
          else if (d && (u.grid.front() > d->quantile(0) || u.grid.back() < d->quantile(1)))
            ctx.error(g, path + ".grid", yaml::describe(g),
                      fmt::format("expected the grid to span the distribution's range [{:g}, {:g}] "
                                  "(capacity is interpolated, never extrapolated)",
                                  d->quantile(0), d->quantile(1)));
          u.grid_points = static_cast<int>(u.grid.size());
        } else {
          u.grid_points = static_cast<int>(m.integer_or("grid", 4, yaml::Range{2, 16}));
        }
      }
      m.finish();
      if (!d) continue;
      u.dist = *d;
      out.inputs.push_back(u);
    }
    in.finish();
    if (inputs.size() == 0)
      ctx.error(inputs, "uncertainty.inputs", "{}", "expected at least one uncertain input");
  }
  section.finish();
}

}  // namespace detail

UncertaintySpec parse_uncertainty_text(const std::string& text, const std::string& label,
                                       const Scenario& scenario) {
  yaml::Context ctx(label);
  YAML::Node doc = yaml::parse_document(text, label);
  yaml::MapReader section(ctx, doc, "uncertainty");
  UncertaintySpec spec;
  detail::parse_uncertainty(section, scenario, spec);
  ctx.throw_if_errors();
  return spec;
}

std::optional<UncertaintySpec> read_uncertainty(const Scenario& scenario) {
  yaml::Context ctx(scenario.path);
  YAML::Node doc = yaml::parse_document(scenario.text, scenario.path);
  if (!doc.IsMap() || !doc["uncertainty"].IsDefined()) return std::nullopt;
  yaml::MapReader section(ctx, doc["uncertainty"], "uncertainty");
  UncertaintySpec spec;
  detail::parse_uncertainty(section, scenario, spec);
  ctx.throw_if_errors();
  return spec;
}

}  // namespace jevons
