#include "levers.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <sstream>

#include "jevons/core/error.h"

namespace jevons::gui {

namespace {

YAML::Node load_yaml(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.line = e.mark.line + 1;
    d.column = e.mark.column + 1;
    d.message = e.msg;
    throw InputError(d);
  }
}

std::string to_text(const YAML::Node& root) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out << root;
  return std::string(out.c_str()) + "\n";
}

// Round to 6 significant digits so the written YAML reads like a hand-edited file.
std::string num(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

bool differs(double a, double b) {
  return std::abs(a - b) > 1e-12 * std::max(1.0, std::abs(b));
}

double catalog_price(const Catalog& catalog, const std::string& gpu, double fallback) {
  const GpuSpec* g = catalog.find_gpu(gpu);
  return g && g->price_usd.known() ? *g->price_usd.value : fallback;
}

}  // namespace

QString quarter_label(const HorizonSpec& h, int index) {
  const int q0 = h.start_year * 4 + (h.start_quarter - 1) + index;
  return QStringLiteral("%1Q%2").arg(q0 / 4).arg(q0 % 4 + 1);
}

QList<QPair<QString, QString>> kv_format_choices() {
  // Bits per stored value at head_dim 128, scales included (docs/scenarios.md "KV formats").
  return {{"bf16", "16 bits"},
          {"fp8", "8 bits"},
          {"int4-kivi", "4 bits + scales"},
          {"nvfp4", "4.5 bits"},
          {"tq-mse-4", "4 bits"},
          {"tq-3.5", "3.5 bits"},
          {"tq-mse-3", "3 bits"},
          {"tq-prod-3", "3 bits, unbiased"},
          {"tq-2.5", "2.5 bits"},
          {"int2-kivi", "2 bits + scales"}};
}

Levers levers_from(const Scenario& s) {
  Levers l;
  if (!s.planner) return l;
  const PlannerSpec& p = *s.planner;
  l.baseline_format = QString::fromStdString(p.baseline_format.name());
  l.compressed_format = QString::fromStdString(p.compressed_format.name());
  if (!p.classes.empty()) {
    l.elasticity_short_run = p.classes.front().elasticity.short_run;
    l.elasticity_long_run = p.classes.front().elasticity.long_run;
  }
  l.adoption_start_index = p.adoption.start_quarter_index;
  l.adoption_speed_per_quarter = p.adoption.speed_per_quarter;
  l.adoption_ceiling = p.adoption.ceiling;
  for (const auto& g : p.generations)
    l.generations.append({QString::fromStdString(g.gpu_id), g.installed, g.deliveries_per_quarter,
                          g.available_quarter_index});
  l.power_usd_per_kwh = p.power_usd_per_kwh;
  l.slo_attainment = p.slo_attainment;
  l.analytical_capacity = !p.simulate_capacity;
  return l;
}

std::string apply_levers(const std::string& text, const Scenario& s, const Levers& base,
                         const Levers& l, const Catalog& catalog) {
  if (!s.planner || l == base) return text;
  const PlannerSpec& p = *s.planner;
  YAML::Node root = load_yaml(text);
  YAML::Node plan = root["planner"];

  if (l.baseline_format != base.baseline_format)
    plan["baseline_format"] = l.baseline_format.toStdString();
  if (l.compressed_format != base.compressed_format)
    plan["compressed_format"] = l.compressed_format.toStdString();

  if (l.adoption_start_index != base.adoption_start_index ||
      differs(l.adoption_speed_per_quarter, base.adoption_speed_per_quarter) ||
      differs(l.adoption_ceiling, base.adoption_ceiling)) {
    YAML::Node a = plan["adoption"];
    a["start"] = quarter_label(s.horizon, l.adoption_start_index).toStdString();
    a["speed_per_quarter"] = num(l.adoption_speed_per_quarter);
    a["ceiling"] = num(l.adoption_ceiling);
  }

  const bool eps_changed = differs(l.elasticity_short_run, base.elasticity_short_run) ||
                           differs(l.elasticity_long_run, base.elasticity_long_run);
  YAML::Node classes = plan["classes"];
  for (std::size_t i = 0; i < p.classes.size() && i < classes.size(); ++i) {
    const DemandClassSpec& c = p.classes[i];
    YAML::Node cn = classes[i];
    if (eps_changed) {
      YAML::Node e = cn["elasticity"];
      // The loader requires short ≤ long and low ≤ long ≤ high: keep the sensitivity range
      // around the new value instead of rejecting a lever move.
      const double lr = l.elasticity_long_run;
      const double sr = std::min(l.elasticity_short_run, lr);
      e["short_run"] = num(sr);
      e["long_run"] = num(lr);
      e["low"] = num(std::min(c.elasticity.low, lr));
      e["high"] = num(std::max(c.elasticity.high, lr));
    }
    if (differs(l.growth_scale, base.growth_scale))
      cn["growth_per_year"] = num(c.growth_per_year * l.growth_scale);
    if (differs(l.slo_scale, base.slo_scale)) {
      YAML::Node slo = cn["slo"];
      if (c.slo.ttft_ns > 0)
        slo["ttft_ms"] = num(static_cast<double>(c.slo.ttft_ns) / 1e6 * l.slo_scale);
      if (c.slo.tpot_ns > 0)
        slo["tpot_ms"] = num(static_cast<double>(c.slo.tpot_ns) / 1e6 * l.slo_scale);
    }
  }

  YAML::Node gens = plan["fleet"]["generations"];
  for (qsizetype i = 0; i < l.generations.size(); ++i) {
    const auto gi = static_cast<std::size_t>(i);
    if (gi >= p.generations.size() || gi >= gens.size()) break;
    const GenerationLever& g = l.generations[i];
    const GenerationLever& b = i < base.generations.size() ? base.generations[i] : g;
    YAML::Node gn = gens[gi];
    if (differs(g.installed, b.installed)) gn["installed"] = num(g.installed);
    if (differs(g.deliveries_per_quarter, b.deliveries_per_quarter))
      gn["deliveries_per_quarter"] = num(g.deliveries_per_quarter);
    if (g.available_quarter_index != b.available_quarter_index)
      gn["available_from"] = quarter_label(s.horizon, g.available_quarter_index).toStdString();
    if (differs(l.gpu_price_scale, base.gpu_price_scale)) {
      const GenerationSpec& gs = p.generations[gi];
      const double price =
          gs.price_usd > 0 ? gs.price_usd : catalog_price(catalog, gs.gpu_id, p.default_price_usd);
      gn["price_usd"] = num(price * l.gpu_price_scale);
    }
  }
  if (differs(l.power_usd_per_kwh, base.power_usd_per_kwh))
    plan["economics"]["power_usd_per_kwh"] = num(l.power_usd_per_kwh);
  if (differs(l.slo_attainment, base.slo_attainment))
    plan["capacity"]["slo_attainment"] = num(l.slo_attainment);
  if (l.analytical_capacity != base.analytical_capacity)
    plan["capacity"]["method"] = l.analytical_capacity ? "analytical" : "simulate";
  return to_text(root);
}

std::string apply_form(const std::string& text, const QString& name, const QString& description,
                       qint64 seed, const QString& horizon_start, int quarters) {
  YAML::Node root = load_yaml(text);
  if (!name.isEmpty()) root["name"] = name.toStdString();
  if (!description.isNull()) root["description"] = description.toStdString();
  if (seed >= 0) root["seed"] = std::to_string(seed);
  if (!horizon_start.isEmpty()) root["horizon"]["start"] = horizon_start.toStdString();
  if (quarters > 0) root["horizon"]["quarters"] = std::to_string(quarters);
  return to_text(root);
}

}  // namespace jevons::gui
