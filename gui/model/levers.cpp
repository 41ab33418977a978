#include "levers.h"

#include <yaml-cpp/yaml.h>

#include <QRegularExpression>
#include <cmath>
#include <sstream>
#include <tuple>

#include "jevons/core/error.h"
#include "yaml_patch.h"

namespace jevons::gui {

namespace keys = schema::keys;

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
    l.generations.append(
        {QString::fromStdString(g.gpu_id), g.installed, g.deliveries_per_quarter,
         g.available_quarter_index,
         g.has_compressed_format ? QString::fromStdString(g.compressed_format.name()) : QString()});
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

  if (l.baseline_format != base.baseline_format)
    node_at(root, keys::kBaselineFormat) = l.baseline_format.toStdString();
  if (l.compressed_format != base.compressed_format)
    node_at(root, keys::kCompressedFormat) = l.compressed_format.toStdString();

  if (l.adoption_start_index != base.adoption_start_index ||
      differs(l.adoption_speed_per_quarter, base.adoption_speed_per_quarter) ||
      differs(l.adoption_ceiling, base.adoption_ceiling)) {
    node_at(root, keys::kAdoptionStart) =
        quarter_label(s.horizon, l.adoption_start_index).toStdString();
    node_at(root, keys::kAdoptionSpeed) = num(l.adoption_speed_per_quarter);
    node_at(root, keys::kAdoptionCeiling) = num(l.adoption_ceiling);
  }

  const bool eps_changed = differs(l.elasticity_short_run, base.elasticity_short_run) ||
                           differs(l.elasticity_long_run, base.elasticity_long_run);
  const YAML::Node classes = node_at(root, keys::kClasses);
  for (std::size_t i = 0; i < p.classes.size() && i < classes.size(); ++i) {
    const DemandClassSpec& c = p.classes[i];
    if (eps_changed) {
      // The loader requires short ≤ long and low ≤ long ≤ high: keep the sensitivity range
      // around the new value instead of rejecting a lever move.
      const double lr = l.elasticity_long_run;
      const double sr = std::min(l.elasticity_short_run, lr);
      node_at(root, keys::kElasticityShortRun, {i}) = num(sr);
      node_at(root, keys::kElasticityLongRun, {i}) = num(lr);
      node_at(root, keys::kElasticityLow, {i}) = num(std::min(c.elasticity.low, lr));
      node_at(root, keys::kElasticityHigh, {i}) = num(std::max(c.elasticity.high, lr));
    }
    if (differs(l.growth_scale, base.growth_scale))
      node_at(root, keys::kClassGrowth, {i}) = num(c.growth_per_year * l.growth_scale);
    if (differs(l.slo_scale, base.slo_scale)) {
      if (c.slo.ttft_ns > 0)
        node_at(root, keys::kSloTtftMs, {i}) =
            num(static_cast<double>(c.slo.ttft_ns) / 1e6 * l.slo_scale);
      if (c.slo.tpot_ns > 0)
        node_at(root, keys::kSloTpotMs, {i}) =
            num(static_cast<double>(c.slo.tpot_ns) / 1e6 * l.slo_scale);
    }
  }

  const YAML::Node gens = node_at(root, keys::kGenerations);
  for (qsizetype i = 0; i < l.generations.size(); ++i) {
    const auto gi = static_cast<std::size_t>(i);
    if (gi >= p.generations.size() || gi >= gens.size()) break;
    const GenerationLever& g = l.generations[i];
    const GenerationLever& b = i < base.generations.size() ? base.generations[i] : g;
    YAML::Node gn = node_at(root, keys::kGeneration, {gi});
    const auto at = [&gn](const schema::Key& k) { return node_at(gn, keys::kGeneration, k); };
    if (differs(g.installed, b.installed)) at(keys::kGenerationInstalled) = num(g.installed);
    if (differs(g.deliveries_per_quarter, b.deliveries_per_quarter))
      at(keys::kGenerationDeliveries) = num(g.deliveries_per_quarter);
    if (g.available_quarter_index != b.available_quarter_index)
      at(keys::kGenerationAvailableFrom) =
          quarter_label(s.horizon, g.available_quarter_index).toStdString();
    if (g.compressed_format != b.compressed_format) {
      if (g.compressed_format.isEmpty())
        remove_at(gn, keys::kGeneration, keys::kGenerationCompressedFormat);
      else
        at(keys::kGenerationCompressedFormat) = g.compressed_format.toStdString();
    }
    if (differs(l.gpu_price_scale, base.gpu_price_scale)) {
      const GenerationSpec& gs = p.generations[gi];
      const double price =
          gs.price_usd > 0 ? gs.price_usd : catalog_price(catalog, gs.gpu_id, p.default_price_usd);
      at(keys::kGenerationPrice) = num(price * l.gpu_price_scale);
    }
  }
  if (differs(l.power_usd_per_kwh, base.power_usd_per_kwh))
    node_at(root, keys::kPowerUsdPerKwh) = num(l.power_usd_per_kwh);
  if (differs(l.slo_attainment, base.slo_attainment))
    node_at(root, keys::kSloAttainment) = num(l.slo_attainment);
  if (l.analytical_capacity != base.analytical_capacity)
    node_at(root, keys::kCapacityMethod) = l.analytical_capacity ? "analytical" : "simulate";
  return write_back(text, root);
}

Levers carry_levers(const Levers& old_base, const Levers& moved, const Levers& new_base,
                    QStringList* followed) {
  Levers out = new_base;
  const auto carry = [&](auto field, Lever lever) {
    if (moved.*field == old_base.*field) return;
    if (new_base.*field != old_base.*field) {
      if (followed) followed->append(lever_name(lever));
      return;
    }
    out.*field = moved.*field;
  };
  carry(&Levers::baseline_format, Lever::kCounterfactual);
  carry(&Levers::compressed_format, Lever::kCompressed);
  carry(&Levers::elasticity_short_run, Lever::kElasticityShortRun);
  carry(&Levers::elasticity_long_run, Lever::kElasticityLongRun);
  carry(&Levers::adoption_start_index, Lever::kAdoptionStart);
  carry(&Levers::adoption_speed_per_quarter, Lever::kAdoptionSpeed);
  carry(&Levers::adoption_ceiling, Lever::kAdoptionCeiling);
  carry(&Levers::growth_scale, Lever::kGrowth);
  carry(&Levers::gpu_price_scale, Lever::kGpuPrice);
  carry(&Levers::power_usd_per_kwh, Lever::kPowerPrice);
  carry(&Levers::slo_scale, Lever::kSloScale);
  carry(&Levers::slo_attainment, Lever::kSloAttainment);
  carry(&Levers::analytical_capacity, Lever::kAnalytical);
  // The fleet table row by row, matched on the GPU: an edit that adds, removes or reorders
  // generations keeps the moves of the rows that are still there.
  for (GenerationLever& g : out.generations) {
    for (qsizetype i = 0; i < moved.generations.size() && i < old_base.generations.size(); ++i) {
      const GenerationLever& m = moved.generations[i];
      const GenerationLever& ob = old_base.generations[i];
      if (m.gpu != g.gpu || ob.gpu != g.gpu || m == ob) continue;
      const GenerationLever nb = g;
      const auto keep = [&](auto field) {
        if (m.*field == ob.*field) return;
        if (nb.*field != ob.*field) {
          if (followed)
            followed->append(QStringLiteral("%1 (%2)").arg(lever_name(Lever::kFleetTable), g.gpu));
          return;
        }
        g.*field = m.*field;
      };
      keep(&GenerationLever::installed);
      keep(&GenerationLever::deliveries_per_quarter);
      keep(&GenerationLever::available_quarter_index);
      keep(&GenerationLever::compressed_format);
      break;
    }
  }
  if (followed) followed->removeDuplicates();
  return out;
}

const QList<QPair<const schema::Key*, FormField>>& form_field_keys() {
  static const QList<QPair<const schema::Key*, FormField>> fields = {
      {&keys::kName, FormField::kName},
      {&keys::kDescription, FormField::kDescription},
      {&keys::kSeed, FormField::kSeed},
      {&keys::kHorizonStart, FormField::kHorizonStart},
      {&keys::kHorizonQuarters, FormField::kQuarters},
      {&keys::kGpuLifetimeYears, FormField::kGpuLifetime},
      {&keys::kServerCostMultiplier, FormField::kServerCostMultiplier},
      {&keys::kPowerUsdPerKwh, FormField::kPowerPrice},
      {&keys::kAverageUtilization, FormField::kAverageUtilization},
      {&keys::kDefaultPriceUsd, FormField::kDefaultPrice}};
  return fields;
}

const QList<const schema::Key*>& class_column_keys() {
  static const QList<const schema::Key*> columns = {
      &keys::kClassName,   &keys::kClassModel,         &keys::kClassTokensPerS,
      &keys::kClassGrowth, &keys::kElasticityShortRun, &keys::kElasticityLongRun,
      &keys::kSloTtftMs,   &keys::kSloTpotMs};
  return columns;
}

FormTarget form_target(const std::string& path) {
  std::vector<std::size_t> idx;
  const schema::Key* k = schema::find_enclosing(path, &idx);
  if (!k) return {};
  for (const auto& [key, field] : form_field_keys())
    if (key == k) return {field, -1, -1};
  const int row = idx.empty() ? -1 : static_cast<int>(idx.front());
  if (k == &keys::kPoolKvFormats) return {FormField::kPoolsTable, row, kPoolFormatsColumn};
  // A class's key the table shows marks its cell; the elasticity and SLO mappings mark the
  // column of their main value; any other key of the class marks the whole row.
  const QList<const schema::Key*>& cols = class_column_keys();
  if (const auto c = cols.indexOf(k); c >= 0) return {FormField::kClassesTable, row, int(c)};
  if (k == &keys::kClassElasticity || k == &keys::kElasticityLow || k == &keys::kElasticityHigh)
    return {FormField::kClassesTable, row, int(cols.indexOf(&keys::kElasticityLongRun))};
  if (k == &keys::kClassSlo)
    return {FormField::kClassesTable, row, int(cols.indexOf(&keys::kSloTtftMs))};
  if (k == &keys::kClass) return {FormField::kClassesTable, row, -1};
  return {};
}

QString lever_name(Lever lever) {
  switch (lever) {
    case Lever::kNone:
      return {};
    case Lever::kCounterfactual:
      return QStringLiteral("Counterfactual");
    case Lever::kCompressed:
      return QStringLiteral("Compressed");
    case Lever::kElasticityShortRun:
      return QStringLiteral("Elasticity, short run");
    case Lever::kElasticityLongRun:
      return QStringLiteral("Elasticity, long run");
    case Lever::kGrowth:
      return QStringLiteral("Growth ×");
    case Lever::kAdoptionStart:
      return QStringLiteral("Adoption start");
    case Lever::kAdoptionSpeed:
      return QStringLiteral("Adoption speed");
    case Lever::kAdoptionCeiling:
      return QStringLiteral("Adoption ceiling");
    case Lever::kFleetTable:
      return QStringLiteral("fleet table");
    case Lever::kGpuPrice:
      return QStringLiteral("GPU price ×");
    case Lever::kPowerPrice:
      return QStringLiteral("Power price");
    case Lever::kSloScale:
      return QStringLiteral("SLO targets ×");
    case Lever::kSloAttainment:
      return QStringLiteral("SLO attainment");
    case Lever::kAnalytical:
      return QStringLiteral("Analytical capacity");
  }
  return {};
}

Lever lever_for(const std::string& path) {
  // The keys apply_levers writes, by the lever that writes them.
  static const QList<QPair<const schema::Key*, Lever>> levers = {
      {&keys::kBaselineFormat, Lever::kCounterfactual},
      {&keys::kCompressedFormat, Lever::kCompressed},
      {&keys::kElasticityShortRun, Lever::kElasticityShortRun},
      {&keys::kElasticityLongRun, Lever::kElasticityLongRun},
      {&keys::kElasticityLow, Lever::kElasticityLongRun},
      {&keys::kElasticityHigh, Lever::kElasticityLongRun},
      {&keys::kClassElasticity, Lever::kElasticityLongRun},
      {&keys::kAdoptionStart, Lever::kAdoptionStart},
      {&keys::kAdoptionSpeed, Lever::kAdoptionSpeed},
      {&keys::kAdoptionCeiling, Lever::kAdoptionCeiling},
      {&keys::kClassGrowth, Lever::kGrowth},
      {&keys::kGenerationPrice, Lever::kGpuPrice},
      {&keys::kPowerUsdPerKwh, Lever::kPowerPrice},
      {&keys::kSloTtftMs, Lever::kSloScale},
      {&keys::kSloTpotMs, Lever::kSloScale},
      {&keys::kSloAttainment, Lever::kSloAttainment},
      {&keys::kCapacityMethod, Lever::kAnalytical},
      {&keys::kGenerationInstalled, Lever::kFleetTable},
      {&keys::kGenerationDeliveries, Lever::kFleetTable},
      {&keys::kGenerationAvailableFrom, Lever::kFleetTable},
      {&keys::kGenerationCompressedFormat, Lever::kFleetTable}};
  const schema::Key* k = schema::find(path);
  for (const auto& [key, lever] : levers)
    if (key == k) return lever;
  return Lever::kNone;
}

QStringList split_formats(const QString& list) {
  static const QRegularExpression sep(QStringLiteral("[,\\s\\[\\]]+"));
  return list.split(sep, Qt::SkipEmptyParts);
}

ScenarioForm form_from(const Scenario& s, const std::string& text) {
  ScenarioForm f;
  f.name = QString::fromStdString(s.name);
  f.description = QString::fromStdString(s.description);
  f.seed = static_cast<qint64>(s.seed);
  f.horizon_start = QString::fromStdString(s.horizon.start_label());
  f.quarters = static_cast<int>(s.horizon.quarters);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
  }
  const YAML::Node pools = root.IsMap() ? node_at(root, keys::kPools) : YAML::Node();
  for (std::size_t i = 0; i < s.pools.size(); ++i) {
    const PoolSpec& p = s.pools[i];
    PoolForm pf{QString::fromStdString(p.name),
                QString::fromStdString(p.gpu_id),
                QString::fromStdString(p.model_id),
                {}};
    const auto own_list = [&] {
      const YAML::Node l = node_at(pools[i], keys::kPool, keys::kPoolKvFormats);
      return l.IsDefined() && !l.IsNull();
    };
    const bool own = pools.IsSequence() && i < pools.size() && pools[i].IsMap() && own_list();
    if (own)
      for (const auto& kv : p.kv_formats) pf.kv_formats << QString::fromStdString(kv.name());
    f.pools.append(pf);
  }
  if (!s.planner) return f;
  const PlannerSpec& pl = *s.planner;
  f.has_planner = true;
  for (const auto& c : pl.classes)
    f.classes.append({QString::fromStdString(c.name), QString::fromStdString(c.model_id),
                      c.tokens_per_s, c.growth_per_year, c.elasticity.short_run,
                      c.elasticity.long_run, static_cast<double>(c.slo.ttft_ns) / 1e6,
                      static_cast<double>(c.slo.tpot_ns) / 1e6});
  f.economics = {pl.gpu_lifetime_years, pl.server_cost_multiplier, pl.power_usd_per_kwh,
                 pl.average_utilization, pl.default_price_usd};
  return f;
}

namespace {
/// Writes the fields of `c` that differ from `b` (every field when `all`) into the class node.
void write_class(YAML::Node cn, const ClassForm& b, const ClassForm& c, bool all) {
  const auto at = [&cn](const schema::Key& k) { return node_at(cn, keys::kClass, k); };
  const auto changed = [all](double x, double y) { return all || differs(x, y); };
  if (all || c.name != b.name) at(keys::kClassName) = c.name.toStdString();
  if (all || c.model != b.model) at(keys::kClassModel) = c.model.toStdString();
  if (changed(c.tokens_per_s, b.tokens_per_s)) at(keys::kClassTokensPerS) = num(c.tokens_per_s);
  if (changed(c.growth_per_year, b.growth_per_year))
    at(keys::kClassGrowth) = num(c.growth_per_year);
  if (changed(c.elasticity_short_run, b.elasticity_short_run) ||
      changed(c.elasticity_long_run, b.elasticity_long_run)) {
    // The form does not show the sensitivity range: widen it around the new long-run value
    // (the loader requires low ≤ long_run ≤ high). short_run > long_run is left for the loader
    // to report at its line.
    const double lr = c.elasticity_long_run;
    YAML::Node low_node = at(keys::kElasticityLow);
    YAML::Node high_node = at(keys::kElasticityHigh);
    const bool has_low = low_node.IsDefined(), has_high = high_node.IsDefined();
    const double low = has_low ? low_node.as<double>(keys::kElasticityLow.fallback)
                               : keys::kElasticityLow.fallback;
    const double high = has_high ? high_node.as<double>(keys::kElasticityHigh.fallback)
                                 : keys::kElasticityHigh.fallback;
    at(keys::kElasticityShortRun) = num(c.elasticity_short_run);
    at(keys::kElasticityLongRun) = num(lr);
    if (has_low || low > lr) low_node = num(std::min(low, lr));
    if (has_high || high < lr) high_node = num(std::max(high, lr));
  }
  for (const auto& [key, v, old] : {std::tuple{&keys::kSloTtftMs, c.ttft_ms, b.ttft_ms},
                                    std::tuple{&keys::kSloTpotMs, c.tpot_ms, b.tpot_ms}}) {
    if (!changed(v, old)) continue;
    if (v > 0)
      at(*key) = num(v);
    else
      remove_at(cn, keys::kClass, *key);
  }
}
}  // namespace

std::string apply_form(const std::string& text, const ScenarioForm& b, const ScenarioForm& f) {
  YAML::Node root = load_yaml(text);
  if (f.name != b.name) node_at(root, keys::kName) = f.name.toStdString();
  if (f.description != b.description)
    node_at(root, keys::kDescription) = f.description.toStdString();
  if (f.seed != b.seed) node_at(root, keys::kSeed) = std::to_string(f.seed);
  if (f.horizon_start != b.horizon_start)
    node_at(root, keys::kHorizonStart) = f.horizon_start.toStdString();
  if (f.quarters != b.quarters) node_at(root, keys::kHorizonQuarters) = std::to_string(f.quarters);

  const YAML::Node pools = node_at(root, keys::kPools);
  for (qsizetype i = 0; i < f.pools.size() && i < b.pools.size(); ++i) {
    const auto pi = static_cast<std::size_t>(i);
    if (f.pools[i].kv_formats == b.pools[i].kv_formats || !pools.IsSequence() || pi >= pools.size())
      continue;
    YAML::Node pn = node_at(root, keys::kPool, {pi});
    if (f.pools[i].kv_formats.isEmpty()) {
      remove_at(pn, keys::kPool, keys::kPoolKvFormats);
      continue;
    }
    YAML::Node list(YAML::NodeType::Sequence);
    list.SetStyle(YAML::EmitterStyle::Flow);
    for (const auto& k : f.pools[i].kv_formats) list.push_back(k.toStdString());
    node_at(pn, keys::kPool, keys::kPoolKvFormats) = list;
  }

  if (f.has_planner && node_at(root, keys::kPlanner)) {
    YAML::Node classes = node_at(root, keys::kClasses);
    if (classes.IsSequence()) {
      const std::size_t n = classes.size();
      for (qsizetype i = 0; i < f.classes.size(); ++i) {
        const auto ci = static_cast<std::size_t>(i);
        if (ci < n && i < b.classes.size()) {
          write_class(node_at(root, keys::kClass, {ci}), b.classes[i], f.classes[i], false);
        } else if (n > 0) {
          // A new class starts as a copy of the last one (lengths, peak, prefixes) and takes
          // the form's values for everything the form shows.
          YAML::Node copy = YAML::Clone(classes[n - 1]);
          write_class(copy, f.classes[i], f.classes[i], true);
          classes.push_back(copy);
        }
      }
      if (f.classes.size() < static_cast<qsizetype>(n)) {
        YAML::Node kept(YAML::NodeType::Sequence);
        for (qsizetype i = 0; i < f.classes.size(); ++i)
          kept.push_back(classes[static_cast<std::size_t>(i)]);
        node_at(root, keys::kClasses) = kept;
      }
    }
    const EconomicsForm& e = f.economics;
    const EconomicsForm& eb = b.economics;
    for (const auto& [key, v, old] :
         {std::tuple{&keys::kGpuLifetimeYears, e.gpu_lifetime_years, eb.gpu_lifetime_years},
          std::tuple{&keys::kServerCostMultiplier, e.server_cost_multiplier,
                     eb.server_cost_multiplier},
          std::tuple{&keys::kPowerUsdPerKwh, e.power_usd_per_kwh, eb.power_usd_per_kwh},
          std::tuple{&keys::kAverageUtilization, e.average_utilization, eb.average_utilization},
          std::tuple{&keys::kDefaultPriceUsd, e.default_price_usd, eb.default_price_usd}})
      if (differs(v, old)) node_at(root, *key) = num(v);
  }
  return write_back(text, root);
}

}  // namespace jevons::gui
