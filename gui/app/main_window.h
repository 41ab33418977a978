#pragma once
/// \file The main window: levers on the left, charts, comparison, scenario editor, table and
/// results browser in tabs, progress and cancel in the status bar. It reads only snapshots the
/// controller publishes.

#include <QMainWindow>

#include "controller.h"

class QLabel;
class QProgressBar;
class QToolButton;
class QTabWidget;
class QComboBox;
class QTableView;
class QTableWidget;
class QMenu;

namespace jevons::gui {

class ChartView;
class LeverPanel;
class ScenarioEditor;
class QuarterTableModel;
class StoredRunsModel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(Controller* controller, QWidget* parent = nullptr);

  Controller* controller() const { return controller_; }
  /// Every chart, by object name (hbmByGeneration, hbmUse, hostDram, fleet, cost, waterfall,
  /// ttft, tpot, kvOccupancy, hostTier, cmpHbm, cmpDram, cmpFleet, cmpCost).
  ChartView* chart(const QString& name) const;
  QTabWidget* tabs() const { return tabs_; }
  bool savePng(const QString& path);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();
  void buildProjectionTab();
  void buildSimulationTab();
  void buildCompareTab();
  void buildDatabaseTab();
  void showResult(const ResultSnapshot& s);
  void showSimulation();
  void showComparison();
  void rebuildRecentMenu();
  void updateTitle();
  void openScenario();
  void saveScenario(bool as);

  Controller* controller_;
  QTabWidget* tabs_ = nullptr;
  LeverPanel* levers_ = nullptr;
  ScenarioEditor* editor_ = nullptr;
  QuarterTableModel* table_model_ = nullptr;
  StoredRunsModel* runs_model_ = nullptr;
  QTableView* runs_view_ = nullptr;
  QLabel* db_label_ = nullptr;
  QString db_path_;
  QComboBox* pool_ = nullptr;
  QTableWidget* compare_table_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* headline_ = nullptr;  ///< the headline strip: session::headline_sentence
  QLabel* stale_banner_ = nullptr;
  QLabel* capacity_banner_ = nullptr;
  QLabel* timing_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancel_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QList<ChartView*> charts_;
};

}  // namespace jevons::gui
