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
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/scenario.h"

namespace jevons::gui {

/// Delivery schedule of one GPU generation in the planner's fleet.
struct GenerationLever {
  QString gpu;
  double installed = 0;               ///< GPUs at the horizon start
  double deliveries_per_quarter = 0;  ///< supply cap on new GPUs per quarter
  int available_quarter_index = 0;    ///< first quarter of deliveries, from the horizon start
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

/// Sets top-level form fields (name, description, seed, horizon) in `text`; empty QString or
/// negative numbers leave a field as it is.
std::string apply_form(const std::string& text, const QString& name, const QString& description,
                       qint64 seed, const QString& horizon_start, int quarters);

/// "2026Q3" for `index` quarters after the horizon start.
QString quarter_label(const HorizonSpec& horizon, int index);

/// KV formats offered by the format levers, with their bits per stored value for the tooltip.
QList<QPair<QString, QString>> kv_format_choices();

}  // namespace jevons::gui

Q_DECLARE_METATYPE(jevons::gui::Levers)
