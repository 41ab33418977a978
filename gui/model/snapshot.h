#pragma once
/// \file Immutable values that cross from the engine thread to the interface.
///
/// The worker builds a snapshot, emits it, and never touches it again; views only read it. The
/// heavy results are held through shared_ptr<const ...> so a snapshot copies in O(1) across the
/// queued signal and every view shares one projection (style.md Lesson 10, heaptrack's ChartData).

#include <QList>
#include <QMetaType>
#include <QString>
#include <cstdint>
#include <memory>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/projection_result.h"
#include "jevons/core/scenario.h"
#include "jevons/core/simulation_report.h"

namespace jevons::gui {

/// One loader problem, located in the scenario text (1-based line and column; 0 = unknown).
struct DiagnosticItem {
  QString file;
  int line = 0;
  int column = 0;
  QString key;
  QString value;
  QString message;
  QString hint;

  static DiagnosticItem from(const Diagnostic& d);
  /// "line 9, col 5: key 'pools[0].gpus' = '-8': expected ... (hint)"
  QString text() const;
};
using Diagnostics = QList<DiagnosticItem>;

/// Which result a run fills: the main scenario, or the one it is compared against.
enum class Slot : int { kMain = 0, kCompare = 1 };

/// A request for the worker: a validated scenario (shared, never mutated) and what to compute.
struct RunRequest {
  quint64 id = 0;
  Slot slot = Slot::kMain;
  std::shared_ptr<const Scenario> scenario;
  bool project = true;    ///< run the planner (when the scenario has a `planner:` section)
  bool simulate = false;  ///< run the discrete-event simulation (when it has `simulation:`)
};

/// What one run produced. Either result may be absent (the scenario lacks that section, or the
/// request did not ask for it).
struct ResultSnapshot {
  quint64 request_id = 0;
  Slot slot = Slot::kMain;
  QString scenario_name;
  QString scenario_path;
  std::string scenario_text;  ///< the effective text (levers applied) the engine ran
  std::uint64_t seed = 0;
  std::shared_ptr<const Projection> projection;
  std::shared_ptr<const SimulationReport> simulation;
  QString capacity_method;         ///< "simulated", "analytical", or "database" for stored runs
  double wall_s = 0;               ///< engine wall-clock time of this run
  std::uint64_t cache_hits = 0;    ///< capacity answers reused from the cache
  std::uint64_t cache_misses = 0;  ///< capacity searches actually run

  bool empty() const { return !projection && !simulation; }
};

/// One row of a results database's `runs` table, for browsing.
struct StoredRun {
  qint64 run_id = 0;
  QString kind;
  QString scenario_name;
  QString started_at_utc;
  qint64 wall_time_ms = 0;
};
using StoredRuns = QList<StoredRun>;

}  // namespace jevons::gui

Q_DECLARE_METATYPE(jevons::gui::DiagnosticItem)
Q_DECLARE_METATYPE(jevons::gui::Diagnostics)
Q_DECLARE_METATYPE(jevons::gui::RunRequest)
Q_DECLARE_METATYPE(jevons::gui::ResultSnapshot)
Q_DECLARE_METATYPE(jevons::gui::StoredRuns)
