#pragma once
/// \file The engine side of the interface: a QObject that lives on a worker QThread (Qt's
/// worker-object pattern) and turns run requests into immutable ResultSnapshots.
///
/// Everything the engine owns — the catalog, the capacity caches, the scenario being run — stays
/// on this thread; the interface receives only values through queued signals.

#include <QObject>
#include <QString>
#include <atomic>
#include <map>
#include <memory>

#include "jevons/core/catalog.h"
#include "jevons/planner/capacity_oracle.h"
#include "jevons/session/session.h"
#include "snapshot.h"

namespace jevons::gui {

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  explicit EngineWorker(std::shared_ptr<const Catalog> catalog, QObject* parent = nullptr);
  ~EngineWorker() override;

  /// Requests with an id at or below this are abandoned at their next progress report. Written by
  /// the interface thread; read by the engine between capacity searches and simulator batches.
  void cancel_up_to(quint64 id) { cancel_up_to_.store(id); }

  /// Where the simulated capacity cache lives for `scenario`: session::capacity_cache_path, the
  /// CLI's own rule.
  static std::string cache_path(const Scenario& scenario);

 public slots:
  void run(const jevons::gui::RunRequest& request);
  /// Writes `snapshot` as one run into the SQLite file `db_path` (created if missing).
  void exportSqlite(const jevons::gui::ResultSnapshot& snapshot, const QString& db_path);
  /// Lists the runs of an existing results database.
  void openDatabase(const QString& db_path);
  /// Reads a stored projection or simulation back into a snapshot (emitted through finished()).
  void loadStoredRun(const QString& db_path, qint64 run_id, quint64 request_id);

 signals:
  void started(quint64 id);
  void progress(quint64 id, const QString& stage, double fraction);
  void finished(const jevons::gui::ResultSnapshot& snapshot);
  void cancelled(quint64 id);
  /// Before a projection that must run `searches` uncached capacity searches: about `seconds`,
  /// from the measured time per search (`measured`) or, before any was timed, a prior.
  void estimate(quint64 id, quint64 searches, double seconds, bool measured);
  void failed(quint64 id, const QString& message, const jevons::gui::Diagnostics& diagnostics);
  void exported(const QString& db_path, qint64 run_id);
  void exportFailed(const QString& message);
  void databaseOpened(const QString& db_path, const jevons::gui::StoredRuns& runs);
  void databaseFailed(const QString& message);

 private:
  std::shared_ptr<const Catalog> catalog_;
  std::atomic<quint64> cancel_up_to_{0};
  // One set of capacity caches per cache file, kept for the worker's life: this is what makes
  // a lever move that needs no new capacity search finish in a fraction of a second.
  std::unique_ptr<session::OracleRegistry> oracles_;
  double seconds_per_search_ = 0;  ///< from the last run with ≥ 10 searches; 0 = not yet
};

}  // namespace jevons::gui
