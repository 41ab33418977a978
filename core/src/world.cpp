#include "jevons/core/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

#include "jevons/core/error.h"
#include "yaml_reader.h"

namespace jevons {

bool WorldPeriod::parse(const std::string& text, WorldPeriod& out) {
  static const std::regex year(R"(^(\d{4})$)"), quarter(R"(^(\d{4})Q([1-4])$)"),
      month(R"(^(\d{4})-(0[1-9]|1[0-2])$)");
  std::smatch m;
  out.label = text;
  if (std::regex_match(text, m, year)) {
    out.year = std::stoi(m[1]);
    out.first_month = out.year * 12;
    out.last_month = out.first_month + 11;
    return true;
  }
  if (std::regex_match(text, m, quarter)) {
    out.year = std::stoi(m[1]);
    out.first_month = out.year * 12 + (std::stoi(m[2]) - 1) * 3;
    out.last_month = out.first_month + 2;
    return true;
  }
  if (std::regex_match(text, m, month)) {
    out.year = std::stoi(m[1]);
    out.first_month = out.last_month = out.year * 12 + std::stoi(m[2]) - 1;
    return true;
  }
  return false;
}

namespace {

std::string read_world_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the world dataset (set JEVONS_DATA_DIR or pass --data-dir)";
    throw InputError(d);
  }
  check_input_file_size(path, "world dataset");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  check_input_lines(path, text, "world dataset");
  return text;
}

/// "YYYY-MM" or "YYYY-MM-DD" → months since year 0; -1 when malformed.
int date_month(const std::string& date) {
  static const std::regex re(R"(^(\d{4})-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$)");
  std::smatch m;
  if (!std::regex_match(date, m, re)) return -1;
  return std::stoi(m[1]) * 12 + std::stoi(m[2]) - 1;
}

class Reader {
 public:
  Reader(yaml::Context& ctx, const std::map<std::string, Source>& sources)
      : ctx_(ctx), sources_(sources) {}

  /// [value, source, date, confidence]; `range` bounds the value. `period` (may be null) makes
  /// the figure a forecast when it ends after the date.
  WorldFigure figure(const YAML::Node& n, const std::string& path, const yaml::Range& range,
                     const WorldPeriod* period) {
    WorldFigure f;
    f.line = n.IsDefined() ? n.Mark().line + 1 : 0;
    if (!n.IsSequence() || n.size() != 4) {
      ctx_.error(n, path, yaml::describe(n),
                 "expected [value, source, date, confidence], e.g. [2.64e6, techinsights, "
                 "\"2024-06\", S]");
      return f;
    }
    f.value = yaml::MapReader::to_number(ctx_, n[0], path + "[0]", range).value_or(0);
    f.source = n[1].IsScalar() ? n[1].Scalar() : "";
    if (!sources_.count(f.source)) {
      std::vector<std::string> ids;
      for (const auto& [id, s] : sources_) ids.push_back(id);
      const std::string m = closest_match(f.source, ids);
      ctx_.error(n[1], path + "[1]", f.source, "unknown source id (define it under 'sources:')",
                 m.empty() ? "" : "did you mean '" + m + "'?");
    }
    f.date = n[2].IsScalar() ? n[2].Scalar() : "";
    const int dm = date_month(f.date);
    if (dm < 0)
      ctx_.error(n[2], path + "[2]", f.date,
                 "expected the publication date as \"YYYY-MM\" or \"YYYY-MM-DD\"");
    const std::string c = n[3].IsScalar() ? n[3].Scalar() : "";
    if (c == "V")
      f.confidence = Confidence::kVendor;
    else if (c == "S")
      f.confidence = Confidence::kSecondary;
    else if (c == "U")
      f.confidence = Confidence::kUncertain;
    else
      ctx_.error(n[3], path + "[3]", c, "expected a confidence marker: V, S or U");
    if (period && dm >= 0) f.forecast = period->last_month > dm;
    return f;
  }

  /// A mapping key that must be a period; reports and returns false otherwise.
  bool period(const YAML::Node& key, const std::string& path, WorldPeriod& out, bool year_only) {
    const std::string text = key.IsScalar() ? key.Scalar() : "";
    if (!WorldPeriod::parse(text, out) || (year_only && out.first_month % 12 != 0) ||
        (year_only && out.last_month - out.first_month != 11)) {
      ctx_.error(key, path, text,
                 year_only ? "expected a year, e.g. \"2025\""
                           : "expected a period: \"YYYY\", \"YYYYQn\" or \"YYYY-MM\"");
      return false;
    }
    return true;
  }

 private:
  yaml::Context& ctx_;
  const std::map<std::string, Source>& sources_;
};

const double kHuge = 1e30;

}  // namespace

std::string World::default_path(const std::string& dir) {
  return dir + "/world.yaml";
}

World World::load(const std::string& path, const Catalog& catalog) {
  World w;
  w.path = path;
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(read_world_file(path), path);
  yaml::MapReader root(ctx, doc, "");
  yaml::MapReader src(ctx, root.child("sources", true), "sources");
  if (src.valid())
    for (auto it = src.node().begin(); it != src.node().end(); ++it) {
      const std::string id = it->first.Scalar();
      yaml::MapReader s(ctx, it->second, "sources." + id);
      Source so;
      so.id = id;
      so.url = s.string_or("url", "");
      so.note = s.string("note", true).value_or("");
      s.finish();
      w.sources[id] = so;
    }
  Reader r(ctx, w.sources);

  yaml::MapReader as(ctx, root.child("assumptions", true), "assumptions");
  w.service_life_years = r.figure(as.child("service_life_years", true),
                                  "assumptions.service_life_years", yaml::positive(50), nullptr);
  w.installed_utilization =
      r.figure(as.child("installed_utilization", true), "assumptions.installed_utilization",
               yaml::positive(1), nullptr);
  // Optional: the last year whose deliveries were contracted before the horizon (0 = none).
  if (as.has("committed_through"))
    w.committed_through_year =
        r.figure(as.child("committed_through", true), "assumptions.committed_through",
                 yaml::between(2000, 2100), nullptr);
  if (as.has("software_efficiency_growth_per_year"))
    w.software_efficiency_growth_per_year = r.figure(
        as.child("software_efficiency_growth_per_year", true),
        "assumptions.software_efficiency_growth_per_year", yaml::between(0.5, 10), nullptr);
  else
    w.software_efficiency_growth_per_year.value = 1;
  as.finish();

  YAML::Node vendors = root.child("vendors", true);
  if (!vendors.IsSequence()) {
    ctx.error(vendors, "vendors", yaml::describe(vendors), "expected a list of vendors");
  } else {
    for (std::size_t i = 0; i < vendors.size(); ++i) {
      const std::string p = fmt::format("vendors[{}]", i);
      yaml::MapReader v(ctx, vendors[i], p);
      VendorShipments vs;
      vs.line = vendors[i].Mark().line + 1;
      vs.vendor = v.string("vendor", true).value_or("");
      for (const auto& other : w.vendors)
        if (other.vendor == vs.vendor)
          ctx.error(vendors[i]["vendor"], p + ".vendor", vs.vendor, "duplicate vendor");
      yaml::MapReader pk(ctx, v.child("packages", true), p + ".packages");
      if (pk.valid())
        for (auto it = pk.node().begin(); it != pk.node().end(); ++it) {
          WorldPeriod per;
          const std::string kp = p + ".packages." + yaml::describe(it->first);
          if (!r.period(it->first, kp, per, true)) continue;
          vs.packages[per.year] = r.figure(it->second, kp, yaml::positive(1e10), &per);
        }
      yaml::MapReader mx(ctx, v.child("mix", true), p + ".mix");
      if (mx.valid())
        for (auto it = mx.node().begin(); it != mx.node().end(); ++it) {
          WorldPeriod per;
          const std::string kp = p + ".mix." + yaml::describe(it->first);
          if (!r.period(it->first, kp, per, true)) continue;
          if (!it->second.IsMap()) {
            ctx.error(it->second, kp, yaml::describe(it->second),
                      "expected a mapping of catalog GPU id to [share, source, date, confidence]");
            continue;
          }
          auto& year = vs.mix[per.year];
          double sum = 0;
          for (auto g = it->second.begin(); g != it->second.end(); ++g) {
            const std::string id = g->first.IsScalar() ? g->first.Scalar() : "";
            const std::string gp = kp + "." + id;
            if (!catalog.find_gpu(id)) {
              const std::string m = closest_match(id, catalog.gpu_ids());
              ctx.error(g->first, gp, id, "unknown GPU id (not in data/gpus.yaml)",
                        m.empty() ? "" : "did you mean '" + m + "'?");
            }
            year[id] = r.figure(g->second, gp, yaml::positive(1), &per);
            sum += year[id].value;
          }
          if (std::fabs(sum - 1.0) > 0.005)
            ctx.error(it->first, kp, fmt::format("{:g}", sum),
                      "the shares of a year's mix must add up to 1");
          if (!vs.packages.count(per.year))
            ctx.error(it->first, kp, per.label, "a mix for a year with no packages figure");
        }
      for (const auto& [year, f] : vs.packages)
        if (!vs.mix.count(year))
          ctx.error(vendors[i]["packages"], p + ".packages", std::to_string(year),
                    "this year has no mix: say which catalog parts its packages are");
      v.finish();
      w.vendors.push_back(std::move(vs));
    }
  }

  yaml::MapReader se(ctx, root.child("series", true), "series");
  if (se.valid())
    for (auto it = se.node().begin(); it != se.node().end(); ++it) {
      WorldSeries s;
      s.name = it->first.IsScalar() ? it->first.Scalar() : "";
      s.line = it->first.Mark().line + 1;
      const std::string p = "series." + s.name;
      yaml::MapReader m(ctx, it->second, p);
      s.unit = m.string("unit", true).value_or("");
      s.what = m.string("what", true).value_or("");
      s.model = m.choice_or("model", "",
                            {"", "hbm_shipped_bytes", "hbm_installed_bytes", "packages_shipped",
                             "packages_installed"});
      s.vendor = m.string_or("vendor", "");
      if (!s.vendor.empty() &&
          std::none_of(w.vendors.begin(), w.vendors.end(),
                       [&](const VendorShipments& v) { return v.vendor == s.vendor; }))
        ctx.error(it->second["vendor"], p + ".vendor", s.vendor,
                  "unknown vendor (not under 'vendors:')");
      YAML::Node gl = m.child("gpus");
      if (gl.IsDefined()) {
        if (!gl.IsSequence())
          ctx.error(gl, p + ".gpus", yaml::describe(gl), "expected a list of catalog GPU ids");
        else
          for (const auto& g : gl) {
            const std::string id = g.IsScalar() ? g.Scalar() : "";
            if (!catalog.find_gpu(id))
              ctx.error(g, p + ".gpus", id, "unknown GPU id (not in data/gpus.yaml)");
            s.gpus.push_back(id);
          }
      }
      s.since_year = static_cast<int>(m.integer_or("since", 0, yaml::non_negative(3000)));
      if ((!s.vendor.empty() || !s.gpus.empty() || s.since_year > 0) && s.model.empty())
        ctx.error(it->second, p, "", "vendor, gpus and since only apply to a modelled series",
                  "add model: ...");
      if (s.since_year > 0 && s.model != "packages_shipped")
        ctx.error(it->second["since"], p + ".since", std::to_string(s.since_year),
                  "since applies to model: packages_shipped only");
      yaml::MapReader pts(ctx, m.child("points", true), p + ".points");
      if (pts.valid())
        for (auto q = pts.node().begin(); q != pts.node().end(); ++q) {
          WorldPoint pt;
          const std::string kp = p + ".points." + yaml::describe(q->first);
          if (!r.period(q->first, kp, pt.period, false)) continue;
          pt.figure = r.figure(q->second, kp, yaml::positive(kHuge), &pt.period);
          s.points.push_back(pt);
        }
      m.finish();
      w.series.push_back(std::move(s));
    }
  root.finish();
  ctx.throw_if_errors();
  return w;
}

const WorldSeries* World::find_series(const std::string& name) const {
  for (const auto& s : series)
    if (s.name == name) return &s;
  return nullptr;
}

int World::first_year() const {
  int y = std::numeric_limits<int>::max();
  for (const auto& v : vendors)
    if (!v.packages.empty()) y = std::min(y, v.packages.begin()->first);
  return y == std::numeric_limits<int>::max() ? 0 : y;
}

int World::last_year() const {
  int y = 0;
  for (const auto& v : vendors)
    if (!v.packages.empty()) y = std::max(y, v.packages.rbegin()->first);
  return y;
}

}  // namespace jevons
