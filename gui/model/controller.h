#pragma once
/// \file The interface's single entry point to the engine: holds the scenario being edited and
/// the lever values, validates edits, debounces lever moves into runs on the worker thread, and
/// republishes the worker's snapshots. No widget code: tested headless with QSignalSpy.

#include <QObject>
#include <QStringList>
#include <QThread>
#include <QTimer>
#include <memory>

#include "engine_worker.h"
#include "levers.h"
#include "snapshot.h"

namespace jevons::gui {

class Controller : public QObject {
  Q_OBJECT

 public:
  struct Options {
    QString catalog_dir;    ///< "" = the installed or source data/ directory
    int debounce_ms = 250;  ///< quiet time after a lever move before a run starts
  };
  explicit Controller(QObject* parent = nullptr) : Controller(Options{}, parent) {}
  explicit Controller(const Options& options, QObject* parent = nullptr);
  /// Cancels what is running, then quit() and wait() on the worker thread.
  ~Controller() override;

  const Catalog& catalog() const { return *catalog_; }

  // --- The scenario -------------------------------------------------------------------------
  /// Reads and validates a file; false (with diagnosticsChanged) when it cannot be used.
  bool openFile(const QString& path);
  /// Validates `yaml` as the scenario text (labelled with the current path). On success a run
  /// is scheduled and levers the user moved keep their positions (carry_levers; leversNotice
  /// says so, and names any lever the edit itself changed); on failure the previous scenario
  /// stays and diagnosticsChanged carries every problem. Opening a file resets the levers.
  bool setText(const QString& yaml);
  bool save(const QString& path);
  QString text() const { return text_; }
  QString path() const { return path_; }
  bool modified() const { return modified_; }
  /// The validated scenario the editor text describes (null before the first valid text).
  std::shared_ptr<const Scenario> scenario() const { return base_; }
  const Diagnostics& diagnostics() const { return diagnostics_; }

  // --- Levers -------------------------------------------------------------------------------
  const Levers& levers() const { return levers_; }
  const Levers& scenarioLevers() const { return base_levers_; }
  bool hasPlanner() const { return base_ && base_->planner.has_value(); }
  /// Applies `levers` (re-validated through the loader) and schedules a debounced run.
  bool setLevers(const Levers& levers);
  /// The scenario text with the levers applied: what the engine runs and an export stores.
  QString effectiveText() const;
  /// Writes the levers into the editor text (the levers then equal the scenario's again).
  void bakeLevers();

  // --- Runs ---------------------------------------------------------------------------------
  /// Runs now (projection and simulation), superseding anything queued or running.
  void run();
  void cancel();
  bool busy() const { return !in_flight_.isEmpty(); }
  const ResultSnapshot& result() const { return result_; }
  /// Why the current result does not show the levers and the YAML text ("" when it does): the
  /// text has errors, a run is pending or running, the last run was cancelled or failed, or the
  /// result is a stored run.
  QString staleReason() const { return stale_; }
  /// The last main result of the current file computed with simulated capacity (may be empty).
  const ResultSnapshot& lastSimulated() const { return last_simulated_; }
  /// capacity_mode_note() of the current result: "" unless it used analytical capacity.
  QString capacityNote() const;
  const ResultSnapshot& comparison() const { return comparison_; }
  /// Runs another scenario file as the comparison (slot B).
  bool compareWithFile(const QString& path);
  /// Keeps the current result as the comparison, so lever moves show against it.
  void pinComparison();
  void clearComparison();

  // --- Data ---------------------------------------------------------------------------------
  void exportSqlite(const QString& db_path);
  /// Writes the current projection's quarters (every variant) as CSV; false with a message.
  bool exportCsv(const QString& csv_path, QString* error = nullptr) const;
  void openDatabase(const QString& db_path);
  void loadStoredRun(const QString& db_path, qint64 run_id);

  QStringList recentFiles() const;
  /// The scenarios bundled with Jevons (scenarios/*.yaml), absolute paths.
  static QStringList bundledScenarios();

 signals:
  void scenarioChanged();
  void textChanged(const QString& text);
  void diagnosticsChanged(const jevons::gui::Diagnostics& diagnostics);
  void leversChanged(const jevons::gui::Levers& levers);
  void busyChanged(bool busy);
  void runStarted(quint64 id);
  void progress(double fraction, const QString& stage);
  void resultReady(const jevons::gui::ResultSnapshot& snapshot);
  void comparisonReady(const jevons::gui::ResultSnapshot& snapshot);
  void runCancelled();
  void runFailed(const QString& message);
  /// staleReason() changed.
  void staleChanged(const QString& reason);
  /// A text edit kept the levers the user had moved (or could not, and reset them).
  void leversNotice(const QString& message);
  /// The run about to start must search `searches` uncached capacity cases, taking about
  /// `seconds` (`measured`: from this session's timing, else a prior). Sent before the search.
  void searchEstimate(quint64 searches, double seconds, bool measured);
  void exportFinished(const QString& message);
  void databaseOpened(const QString& db_path, const jevons::gui::StoredRuns& runs);
  void databaseFailed(const QString& message);
  void recentFilesChanged();

  // Queued into the worker (the worker-object pattern's `operate`).
  void requestRun(const jevons::gui::RunRequest& request);
  void requestExport(const jevons::gui::ResultSnapshot& snapshot, const QString& db_path);
  void requestOpenDatabase(const QString& db_path);
  void requestLoadRun(const QString& db_path, qint64 run_id, quint64 request_id);

 private:
  std::shared_ptr<const Scenario> validate(const std::string& text, const std::string& path,
                                           Diagnostics* out) const;
  void setDiagnostics(const Diagnostics& d);
  bool applyText(const QString& yaml, bool keep_levers);
  void updateStale();
  void startRun(bool simulate);
  quint64 post(Slot slot, std::shared_ptr<const Scenario> scenario, bool simulate);
  void onStarted(quint64 id);
  void onFinished(const ResultSnapshot& snapshot);
  void onEnded(quint64 id);
  void addRecent(const QString& path);

  std::shared_ptr<const Catalog> catalog_;
  QThread thread_;
  EngineWorker* worker_ = nullptr;  // owned by thread_ (deleteLater on finish)
  QTimer debounce_;

  QString text_;
  QString path_;
  bool modified_ = false;
  std::shared_ptr<const Scenario> base_;
  std::shared_ptr<const Scenario> effective_;
  Levers base_levers_;
  Levers levers_;
  Diagnostics diagnostics_;

  quint64 next_id_ = 1;
  quint64 latest_main_ = 0;
  bool latest_main_simulates_ = false;
  quint64 compare_pending_ = 0;
  std::shared_ptr<const Scenario> compare_scenario_;
  QList<quint64> in_flight_;
  ResultSnapshot result_;
  ResultSnapshot last_simulated_;
  ResultSnapshot comparison_;
  QString stale_;
  QString last_end_;  ///< "cancelled" or "failed" when the latest main request ended so
};

}  // namespace jevons::gui
