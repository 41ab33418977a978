#pragma once
/// \file The parameters analysts move most, and how they rewrite a scenario.
///
/// Levers are applied by editing the scenario's YAML text (yaml-cpp) and parsing it again, so
/// every lever value passes the loader's validation and the text the engine ran is a complete,
/// reproducible scenario (it is what an export stores). Only levers that differ from the values
/// read from the scenario are written, so untouched levers leave the file's own numbers (e.g.
/// per-class elasticities) exactly as they are.

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"
#include "jevons/core/scenario_schema.h"

namespace jevons::gui {

/// Delivery schedule of one GPU generation in the planner's fleet.
struct GenerationLever {
  QString gpu;
  double installed = 0;               ///< GPUs at the horizon start
  double deliveries_per_quarter = 0;  ///< supply cap on new GPUs per quarter
  int available_quarter_index = 0;    ///< first quarter of deliveries, from the horizon start
  QString compressed_format;  ///< the KV format this generation adopts; "" = the planner-wide one
  bool operator==(const GenerationLever&) const = default;
};

struct Levers {
  QString baseline_format;            ///< counterfactual KV format, e.g. "fp8"
  QString compressed_format;          ///< adopted KV format, e.g. "tq-3.5" (3.5 bits per value)
  double elasticity_short_run = 0.5;  ///< first-quarter price elasticity (all classes)
  double elasticity_long_run = 1.1;   ///< long-run price elasticity (all classes)
  int adoption_start_index = 0;       ///< quarters after the horizon start
  double adoption_speed_per_quarter = 1;
  double adoption_ceiling = 1;
  double growth_scale = 1;  ///< multiplies every class's baseline growth per year
  QList<GenerationLever> generations;
  double gpu_price_scale = 1;  ///< multiplies every generation's GPU price
  double power_usd_per_kwh = 0.08;
  double slo_scale = 1;              ///< multiplies every class's TTFT and TPOT targets
  double slo_attainment = 0.95;      ///< share of requests that must meet the SLO
  bool analytical_capacity = false;  ///< closed-form capacity instead of simulated bisection

  bool operator==(const Levers&) const = default;
};

/// The levers as the scenario sets them (elasticities from its first class). Requires a planner.
Levers levers_from(const Scenario& scenario);

/// `text` with every lever that differs from `base` written into it. Throws InputError when the
/// text is not YAML (it was validated before, so this is a bug in practice).
std::string apply_levers(const std::string& text, const Scenario& scenario, const Levers& base,
                         const Levers& levers, const Catalog& catalog);

/// The levers after the scenario text changed from one whose levers were `old_base` to one whose
/// levers are `new_base`: every lever the user had moved (`moved` differs from `old_base`) keeps
/// its position, unless the text edit changed that same value, which then wins. The names of
/// those levers (as the panel labels them) go to `followed`. A lever the user had not moved
/// follows the text.
Levers carry_levers(const Levers& old_base, const Levers& moved, const Levers& new_base,
                    QStringList* followed = nullptr);

/// One demand class as the scenario form edits it.
struct ClassForm {
  QString name;
  QString model;
  double tokens_per_s = 0;
  double growth_per_year = 1;
  double elasticity_short_run = 0.5;
  double elasticity_long_run = 1.1;
  double ttft_ms = 0;  ///< 0 = no TTFT target
  double tpot_ms = 0;  ///< 0 = no TPOT target
  bool operator==(const ClassForm&) const = default;
};

/// The planner's economics block.
struct EconomicsForm {
  double gpu_lifetime_years = 5;
  double server_cost_multiplier = 1.5;
  double power_usd_per_kwh = 0.08;
  double average_utilization = 0.6;
  double default_price_usd = 30000;
  bool operator==(const EconomicsForm&) const = default;
};

/// A static pool's KV formats (the first is the one the simulation runs).
struct PoolForm {
  QString name;
  QString gpu;
  QString model;
  QStringList kv_formats;  ///< the pool's own list; empty = the scenario's top-level kv_formats
  bool operator==(const PoolForm&) const = default;
};

/// What the Form tab edits: top-level fields, static pools' KV formats, the planner's demand
/// classes and economics. Round-trips through the YAML text like the levers do.
struct ScenarioForm {
  QString name;
  QString description;
  qint64 seed = 0;
  QString horizon_start;
  int quarters = 0;
  QList<PoolForm> pools;
  bool has_planner = false;
  QList<ClassForm> classes;
  EconomicsForm economics;
  bool operator==(const ScenarioForm&) const = default;
};

/// The form as the scenario sets it; `text` (the scenario's YAML) tells which pools list their
/// own KV formats.
ScenarioForm form_from(const Scenario& scenario, const std::string& text);

/// `text` with every form field that differs from `base` written into it (classes added at the
/// end copy the last class's other keys; classes removed from the end are dropped). Throws
/// InputError when the text is not YAML.
std::string apply_form(const std::string& text, const ScenarioForm& base, const ScenarioForm& form);

/// The Form tab's fields that hold one value each.
enum class FormField {
  kNone,
  kName,
  kDescription,
  kSeed,
  kHorizonStart,
  kQuarters,
  kGpuLifetime,
  kServerCostMultiplier,
  kPowerPrice,
  kAverageUtilization,
  kDefaultPrice,
  kPoolsTable,    ///< a cell of the pools table (row = pool)
  kClassesTable,  ///< a cell of the demand-classes table (row = class)
};

/// The scenario keys of the single-value form fields, and of the tables' columns in their order
/// (the classes table shows these keys, the pools table their KV formats in its last column).
const QList<QPair<const schema::Key*, FormField>>& form_field_keys();
const QList<const schema::Key*>& class_column_keys();
inline constexpr int kPoolFormatsColumn = 3;

/// Where a loader error's key path lands in the form: a field, or a table cell (column -1: the
/// whole row). The path's nearest described key decides (schema::find_enclosing).
struct FormTarget {
  FormField field = FormField::kNone;
  int row = -1;
  int column = -1;
  bool operator==(const FormTarget&) const = default;
};
FormTarget form_target(const std::string& path);

/// The levers, one per control of the lever panel.
enum class Lever {
  kNone,
  kCounterfactual,
  kCompressed,
  kElasticityShortRun,
  kElasticityLongRun,
  kGrowth,
  kAdoptionStart,
  kAdoptionSpeed,
  kAdoptionCeiling,
  kFleetTable,
  kGpuPrice,
  kPowerPrice,
  kSloScale,
  kSloAttainment,
  kAnalytical,
};
inline constexpr Lever kFirstLever = Lever::kCounterfactual;
inline constexpr Lever kLastLever = Lever::kAnalytical;
/// The lever's name as the panel labels it ("Counterfactual", "Growth ×", "fleet table").
QString lever_name(Lever lever);
/// The lever that writes a key path (through the scenario schema); kNone when none does.
Lever lever_for(const std::string& path);

/// Splits "bf16, fp8 tq-3.5" into format names.
QStringList split_formats(const QString& list);

/// "2026Q3" for `index` quarters after the horizon start.
QString quarter_label(const HorizonSpec& horizon, int index);

/// KV formats offered by the format levers, with their bits per stored value for the tooltip.
QList<QPair<QString, QString>> kv_format_choices();

}  // namespace jevons::gui

Q_DECLARE_METATYPE(jevons::gui::Levers)
Q_DECLARE_METATYPE(jevons::gui::ScenarioForm)
