#include "answer.h"

#include <QCoreApplication>
#include <cmath>

#include "jevons/session/headline.h"

namespace jevons::gui {

namespace {
QString percent(double f) {
  // U+2212 minus and an explicit plus: the sign is the answer.
  return (f < 0 ? QStringLiteral("\u2212") : QStringLiteral("+")) +
         QString::number(std::abs(100 * f), 'f', 1) + QStringLiteral(" %");
}
}  // namespace

std::optional<double> net_hbm_change(const Projection& p) {
  const QuarterTotals* without = nullptr;
  const QuarterTotals* with = nullptr;
  for (const auto& t : p.totals) {
    if (t.variant == Variant::kEfficiency) continue;
    const QuarterTotals*& slot = t.variant == Variant::kFull ? with : without;
    if (!slot || t.quarter > slot->quarter) slot = &t;
  }
  if (!without || !with || without->hbm_installed_bytes <= 0) return std::nullopt;
  return (with->hbm_installed_bytes - without->hbm_installed_bytes) / without->hbm_installed_bytes;
}

QString headline_text(const ResultSnapshot& r) {
  if (!r.projection) return {};
  // A stored run's method is in its capacity rows; a live run's in the snapshot.
  std::string method = r.capacity_method.toStdString();
  if (method == "database")
    method = r.projection->capacity.empty() ? "" : r.projection->capacity.front().capacity.method;
  const auto h = session::make_headline(*r.projection, method);
  return h ? QString::fromStdString(session::headline_sentence(*h)) : QString();
}

QString capacity_mode_note(const ResultSnapshot& r, const ResultSnapshot& sim) {
  if (!r.projection || r.capacity_method != QStringLiteral("analytical")) return {};
  const auto net = net_hbm_change(*r.projection);
  if (!net) return {};
  QString note = QCoreApplication::translate(
                     "jevons::gui",
                     "Analytical capacity (closed form): a different answer from simulated "
                     "capacity. Installed HBM, last quarter: %1 analytical")
                     .arg(percent(*net));
  const auto sim_net = sim.projection && sim.capacity_method == QStringLiteral("simulated") &&
                               sim.scenario_path == r.scenario_path
                           ? net_hbm_change(*sim.projection)
                           : std::nullopt;
  if (sim_net)
    note += QCoreApplication::translate("jevons::gui",
                                        " against %1 simulated (last simulated run); "
                                        "difference %2 points.")
                .arg(percent(*sim_net))
                .arg(100 * (*net - *sim_net), 0, 'f', 1);
  else
    note += QCoreApplication::translate(
        "jevons::gui", "; no simulated run of this scenario yet to compare (untick to run one).");
  return note;
}

}  // namespace jevons::gui
