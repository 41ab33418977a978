#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "answer.h"
#include "chart_view.h"
#include "lever_panel.h"
#include "models.h"
#include "scenario_editor.h"

namespace jevons::gui {

namespace {
ChartView* make_chart(QList<ChartView*>& all, const QString& name, const QString& title) {
  auto* c = new ChartView(title);
  c->setObjectName(name);
  all.append(c);
  return c;
}

const QuarterTotals* last_total(const Projection& p, Variant v) {
  const QuarterTotals* out = nullptr;
  for (const auto& t : p.totals)
    if (t.variant == v && (!out || t.quarter > out->quarter)) out = &t;
  return out;
}
}  // namespace

MainWindow::MainWindow(Controller* controller, QWidget* parent)
    : QMainWindow(parent), controller_(controller) {
  setObjectName(QStringLiteral("jevonsMainWindow"));
  tabs_ = new QTabWidget;
  tabs_->setDocumentMode(true);
  // The headline strip (the answer in one sentence, as `jevons run` prints it), then two banners
  // above the tabs: charts that do not match the levers or the YAML, and an answer computed with
  // analytical capacity. Word-wrapped so a long sentence never widens the window.
  auto* central = new QWidget;
  auto* cv = new QVBoxLayout(central);
  cv->setContentsMargins(0, 0, 0, 0);
  cv->setSpacing(0);
  headline_ = new QLabel;
  headline_->setObjectName(QStringLiteral("headlineStrip"));
  headline_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  headline_->setStyleSheet(
      QStringLiteral("QLabel { background: #e3f2fd; color: black; font-weight: bold; }"));
  stale_banner_ = new QLabel;
  stale_banner_->setObjectName(QStringLiteral("staleBanner"));
  capacity_banner_ = new QLabel;
  capacity_banner_->setObjectName(QStringLiteral("capacityBanner"));
  for (QLabel* b : {headline_, stale_banner_, capacity_banner_}) {
    b->setWordWrap(true);
    b->setMargin(4);
    b->hide();
    cv->addWidget(b);
  }
  stale_banner_->setStyleSheet(
      QStringLiteral("QLabel { background: #c62828; color: white; font-weight: bold; }"));
  capacity_banner_->setStyleSheet(QStringLiteral("QLabel { background: #f9a825; color: black; }"));
  cv->addWidget(tabs_, 1);
  setCentralWidget(central);
  buildProjectionTab();
  buildSimulationTab();
  buildCompareTab();
  editor_ = new ScenarioEditor(controller_);
  tabs_->addTab(editor_, tr("Scenario"));
  table_model_ = new QuarterTableModel(this);
  auto* table = new QTableView;
  table->setModel(table_model_);
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  tabs_->addTab(table, tr("Table"));
  buildDatabaseTab();

  // Levers dock.
  levers_ = new LeverPanel;
  auto* scroll = new QScrollArea;
  scroll->setWidget(levers_);
  scroll->setWidgetResizable(true);
  // Narrow enough to leave four charts room on a 1024-pixel screen; the fleet table scrolls
  // sideways, and the dock collapses (the Levers button left of the tabs, or Ctrl+L).
  scroll->setMinimumWidth(250);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  levers_->setMinimumWidth(240);
  auto* dock = new QDockWidget(tr("Levers"));
  dock->setObjectName(QStringLiteral("leversDock"));
  dock->setWidget(scroll);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  auto* dock_button = new QToolButton;
  dock_button->setObjectName(QStringLiteral("leversToggle"));
  dock_button->setDefaultAction(dock->toggleViewAction());
  dock_button->setToolButtonStyle(Qt::ToolButtonTextOnly);
  dock->toggleViewAction()->setToolTip(tr("Show or hide the levers panel (Ctrl+L)."));
  tabs_->setCornerWidget(dock_button, Qt::TopLeftCorner);

  // Status bar: what happened, how long it took, progress and cancel.
  status_ = new QLabel(tr("Open a scenario (Ctrl+O) or pick a bundled one from File."));
  // A long message is cut, not allowed to widen the window.
  status_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  status_->setMinimumWidth(0);
  timing_ = new QLabel;
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(240);
  progress_->setTextVisible(true);
  progress_->hide();
  cancel_ = new QToolButton;
  cancel_->setText(tr("Cancel"));
  cancel_->setToolTip(tr("Stop the run in progress (Esc)."));
  cancel_->hide();
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(timing_);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QToolButton::clicked, controller_, &Controller::cancel);

  buildMenus();

  connect(levers_, &LeverPanel::leversEdited, controller_, &Controller::setLevers);
  connect(levers_, &LeverPanel::resetRequested, this,
          [this] { controller_->setLevers(controller_->scenarioLevers()); });
  connect(levers_, &LeverPanel::bakeRequested, controller_, &Controller::bakeLevers);
  connect(controller_, &Controller::diagnosticsChanged, levers_, &LeverPanel::markErrors);
  connect(controller_, &Controller::leversChanged, this, [this](const Levers& l) {
    if (auto s = controller_->scenario())
      levers_->setLevers(l, controller_->scenarioLevers(), s->horizon);
  });
  connect(controller_, &Controller::scenarioChanged, this, [this] {
    levers_->setEnabled(controller_->hasPlanner());
    updateTitle();
  });
  connect(controller_, &Controller::textChanged, this, &MainWindow::updateTitle);
  connect(controller_, &Controller::busyChanged, this, [this](bool busy) {
    progress_->setVisible(busy);
    cancel_->setVisible(busy);
    if (busy) {
      progress_->setValue(0);
      progress_->setFormat(tr("starting…"));
    }
  });
  connect(controller_, &Controller::progress, this, [this](double f, const QString& stage) {
    progress_->setValue(static_cast<int>(f * 1000));
    progress_->setFormat(QStringLiteral("%1 %p%").arg(stage));
  });
  connect(controller_, &Controller::runStarted, this, [this] {
    status_->setText(tr("Running %1…")
                         .arg(controller_->scenario()
                                  ? QString::fromStdString(controller_->scenario()->name)
                                  : QString()));
  });
  connect(controller_, &Controller::resultReady, this, &MainWindow::showResult);
  connect(controller_, &Controller::comparisonReady, this, [this] { showComparison(); });
  connect(controller_, &Controller::runCancelled, this,
          [this] { status_->setText(tr("Run cancelled.")); });
  connect(controller_, &Controller::runFailed, this, [this](const QString& m) {
    status_->setText(tr("Run failed: %1").arg(m.section('\n', 0, 0)));
  });
  connect(controller_, &Controller::diagnosticsChanged, this, [this](const Diagnostics& d) {
    if (!d.isEmpty())
      status_->setText(tr("%n problem(s) in the scenario; see the Scenario tab.", nullptr,
                          static_cast<int>(d.size())));
  });
  connect(controller_, &Controller::staleChanged, this, [this](const QString& why) {
    stale_banner_->setText(tr("Charts out of date: %1.").arg(why));
    stale_banner_->setVisible(!why.isEmpty());
    for (ChartView* c : charts_) c->setStale(why);
  });
  connect(controller_, &Controller::searchEstimate, this,
          [this](quint64 n, double seconds, bool measured) {
            const QString about = seconds >= 90 ? tr("%1 min").arg(seconds / 60, 0, 'f', 1)
                                                : tr("%1 s").arg(seconds, 0, 'f', 0);
            status_->setText(
                tr("Capacity search: %n uncached case(s), about %1 (%2); Esc cancels.", nullptr,
                   static_cast<int>(n))
                    .arg(about, measured ? tr("at the measured time per case")
                                         : tr("before any case was timed here: a rough guess")));
            progress_->setFormat(tr("searching, about %1 %p%").arg(about));
          });
  connect(controller_, &Controller::leversNotice, this,
          [this](const QString& m) { status_->setText(m); });
  connect(controller_, &Controller::exportFinished, this,
          [this](const QString& m) { status_->setText(m); });
  connect(controller_, &Controller::recentFilesChanged, this, &MainWindow::rebuildRecentMenu);
  connect(
      controller_, &Controller::databaseOpened, this,
      [this](const QString& path, const StoredRuns& runs) {
        db_path_ = path;
        db_label_->setText(tr("%1 — %n run(s)", nullptr, static_cast<int>(runs.size())).arg(path));
        runs_model_->resetData(runs);
        tabs_->setCurrentIndex(tabs_->count() - 1);
      });
  connect(controller_, &Controller::databaseFailed, this,
          [this](const QString& m) { status_->setText(tr("Database: %1").arg(m)); });

  chart("hbmByGeneration")->setColorKeys([this] {
    QStringList ids;
    for (const auto& g : controller_->catalog().gpus()) ids << QString::fromStdString(g.id);
    return ids;
  }());

  QSettings settings;
  // The first start fills most of the screen, never more than it.
  QSize size(1500, 950);
  if (const QScreen* sc = screen()) size = size.boundedTo(sc->availableGeometry().size());
  resize(size);
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  tabs_->setCurrentIndex(settings.value("window/tab", 0).toInt());
  updateTitle();
}

ChartView* MainWindow::chart(const QString& name) const {
  for (auto* c : charts_)
    if (c->objectName() == name) return c;
  return nullptr;
}

void MainWindow::buildProjectionTab() {
  auto* page = new QWidget;
  auto* g = new QGridLayout(page);
  g->setContentsMargins(2, 2, 2, 2);
  g->setSpacing(2);
  // Four columns: the two charts with the most categories (generations, waterfall bars) take
  // two each so their legends and labels are never cut.
  g->addWidget(make_chart(charts_, "hbmByGeneration", tr("HBM installed by GPU generation")), 0, 0,
               1, 2);
  g->addWidget(make_chart(charts_, "hbmUse", tr("HBM use: weights, KV, idle")), 0, 2);
  g->addWidget(make_chart(charts_, "hostDram", tr("Host DRAM: base, offload, prefix")), 0, 3);
  g->addWidget(make_chart(charts_, "fleet", tr("Fleet size")), 1, 0);
  g->addWidget(make_chart(charts_, "cost", tr("Cost per million tokens")), 1, 1);
  g->addWidget(make_chart(charts_, "waterfall", tr("Compression: efficiency vs rebound")), 1, 2, 1,
               2);
  for (int col = 0; col < 4; ++col) g->setColumnStretch(col, 1);
  tabs_->addTab(page, tr("Projection"));
}

void MainWindow::buildSimulationTab() {
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  auto* top = new QHBoxLayout;
  pool_ = new QComboBox;
  pool_->setToolTip(tr("The simulated pool whose latency and KV occupancy are shown."));
  pool_->setMinimumWidth(200);
  top->addWidget(new QLabel(tr("Pool:")));
  top->addWidget(pool_);
  top->addStretch(1);
  v->addLayout(top);
  auto* g = new QGridLayout;
  g->addWidget(make_chart(charts_, "ttft", tr("Time to first token")), 0, 0);
  g->addWidget(make_chart(charts_, "tpot", tr("Time per output token")), 0, 1);
  g->addWidget(make_chart(charts_, "kvOccupancy", tr("KV cache occupancy")), 1, 0);
  g->addWidget(make_chart(charts_, "hostTier", tr("Host DRAM tier (swap + prefix)")), 1, 1);
  v->addLayout(g, 1);
  connect(pool_, &QComboBox::currentIndexChanged, this, [this] { showSimulation(); });
  tabs_->addTab(page, tr("Simulation"));
}

void MainWindow::buildCompareTab() {
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  auto* top = new QHBoxLayout;
  auto* file = new QPushButton(tr("Compare with file…"));
  file->setToolTip(tr("Run another scenario and overlay it on the current one (dashed)."));
  auto* pin = new QPushButton(tr("Pin current as B"));
  pin->setToolTip(tr("Keep the current result as B, then move levers to see A move against it."));
  auto* clear = new QPushButton(tr("Clear"));
  top->addWidget(file);
  top->addWidget(pin);
  top->addWidget(clear);
  top->addStretch(1);
  v->addLayout(top);
  auto* g = new QGridLayout;
  g->addWidget(make_chart(charts_, "cmpHbm", tr("HBM installed")), 0, 0);
  g->addWidget(make_chart(charts_, "cmpDram", tr("Host DRAM")), 0, 1);
  g->addWidget(make_chart(charts_, "cmpFleet", tr("GPUs installed")), 1, 0);
  g->addWidget(make_chart(charts_, "cmpCost", tr("Cost per million tokens")), 1, 1);
  v->addLayout(g, 3);
  compare_table_ = new QTableWidget(0, 4);
  compare_table_->setHorizontalHeaderLabels(
      {tr("last quarter, with rebound"), tr("A"), tr("B"), tr("B − A")});
  compare_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  compare_table_->verticalHeader()->hide();
  compare_table_->setMaximumHeight(180);
  v->addWidget(compare_table_, 1);
  connect(file, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Compare with scenario"),
                                                      QFileInfo(controller_->path()).absolutePath(),
                                                      tr("Scenarios (*.yaml *.yml)"));
    if (!path.isEmpty()) controller_->compareWithFile(path);
  });
  connect(pin, &QPushButton::clicked, controller_, &Controller::pinComparison);
  connect(clear, &QPushButton::clicked, controller_, &Controller::clearComparison);
  tabs_->addTab(page, tr("Compare"));
}

void MainWindow::buildDatabaseTab() {
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  auto* top = new QHBoxLayout;
  auto* open = new QPushButton(tr("Open results database…"));
  auto* show = new QPushButton(tr("Show run in charts"));
  show->setToolTip(tr("Load the selected projection run into the Projection tab."));
  db_label_ = new QLabel(tr("No database open."));
  db_label_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  top->addWidget(open);
  top->addWidget(show);
  top->addWidget(db_label_, 1);
  v->addLayout(top);
  runs_model_ = new StoredRunsModel(this);
  runs_view_ = new QTableView;
  runs_view_->setModel(runs_model_);
  runs_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  runs_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  runs_view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  v->addWidget(runs_view_, 1);
  auto load = [this] {
    const QModelIndex i = runs_view_->currentIndex();
    if (!i.isValid() || db_path_.isEmpty()) return;
    controller_->loadStoredRun(db_path_, runs_model_->run(i.row()).run_id);
    tabs_->setCurrentIndex(0);
  };
  connect(open, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open results database"), {},
                                                      tr("SQLite (*.sqlite *.db);;All files (*)"));
    if (!path.isEmpty()) controller_->openDatabase(path);
  });
  connect(show, &QPushButton::clicked, this, load);
  connect(runs_view_, &QTableView::doubleClicked, this, load);
  tabs_->addTab(page, tr("Results DB"));
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open scenario…"), QKeySequence::Open, this, &MainWindow::openScenario);
  recent_menu_ = file->addMenu(tr("Open &recent"));
  QMenu* bundled = file->addMenu(tr("&Bundled scenarios"));
  for (const QString& p : Controller::bundledScenarios())
    bundled->addAction(QFileInfo(p).fileName(), this, [this, p] { controller_->openFile(p); });
  file->addAction(tr("&Save"), QKeySequence::Save, this, [this] { saveScenario(false); });
  file->addAction(tr("Save &as…"), QKeySequence::SaveAs, this, [this] { saveScenario(true); });
  file->addSeparator();
  file->addAction(tr("Export results to &SQLite…"), QKeySequence(tr("Ctrl+E")), this, [this] {
    const QString p = QFileDialog::getSaveFileName(
        this, tr("Export to SQLite"), "jevons-results.sqlite", tr("SQLite (*.sqlite *.db)"),
        nullptr, QFileDialog::DontConfirmOverwrite);
    if (!p.isEmpty()) controller_->exportSqlite(p);
  });
  file->addAction(tr("Export quarters to &CSV…"), QKeySequence(tr("Ctrl+Shift+E")), this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, tr("Export to CSV"), "projection.csv",
                                                   tr("CSV (*.csv)"));
    QString err;
    if (!p.isEmpty())
      status_->setText(controller_->exportCsv(p, &err) ? tr("Wrote %1").arg(p)
                                                       : tr("CSV export failed: %1").arg(err));
  });
  file->addAction(tr("Export charts to &PNG…"), QKeySequence(tr("Ctrl+Shift+P")), this, [this] {
    const QString p =
        QFileDialog::getSaveFileName(this, tr("Export to PNG"), "jevons.png", tr("PNG (*.png)"));
    if (!p.isEmpty())
      status_->setText(savePng(p) ? tr("Wrote %1").arg(p) : tr("Could not write %1").arg(p));
  });
  file->addAction(tr("Open results &database…"), QKeySequence(tr("Ctrl+D")), this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, tr("Open results database"), {},
                                                   tr("SQLite (*.sqlite *.db);;All files (*)"));
    if (!p.isEmpty()) controller_->openDatabase(p);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(tr("&Run scenario"), QKeySequence(Qt::Key_F5), controller_, &Controller::run);
  run->addAction(tr("&Cancel run"), QKeySequence(Qt::Key_Escape), controller_, &Controller::cancel);
  run->addAction(tr("&Reset levers"), QKeySequence(tr("Ctrl+R")), this,
                 [this] { controller_->setLevers(controller_->scenarioLevers()); });
  run->addAction(tr("Write levers into &YAML"), QKeySequence(tr("Ctrl+B")), controller_,
                 &Controller::bakeLevers);
  run->addAction(tr("&Pin result for comparison"), QKeySequence(tr("Ctrl+K")), controller_,
                 &Controller::pinComparison);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < tabs_->count(); ++i) {
    auto* a = view->addAction(tabs_->tabText(i), this, [this, i] { tabs_->setCurrentIndex(i); });
    a->setShortcut(QKeySequence(QStringLiteral("Ctrl+%1").arg(i + 1)));
  }
  view->addSeparator();
  if (auto* dock = findChild<QDockWidget*>(QStringLiteral("leversDock"))) {
    QAction* toggle = dock->toggleViewAction();
    toggle->setShortcut(QKeySequence(tr("Ctrl+L")));
    view->addAction(toggle);
  }
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList files = controller_->recentFiles();
  for (const QString& p : files)
    recent_menu_->addAction(QFileInfo(p).fileName(), this, [this, p] { controller_->openFile(p); })
        ->setToolTip(p);
  recent_menu_->setEnabled(!files.isEmpty());
}

void MainWindow::openScenario() {
  const QStringList bundled = Controller::bundledScenarios();
  const QString dir = controller_->path().isEmpty() && !bundled.isEmpty()
                          ? QFileInfo(bundled.first()).absolutePath()
                          : QFileInfo(controller_->path()).absolutePath();
  const QString p =
      QFileDialog::getOpenFileName(this, tr("Open scenario"), dir, tr("Scenarios (*.yaml *.yml)"));
  if (!p.isEmpty()) controller_->openFile(p);
}

void MainWindow::saveScenario(bool as) {
  QString p = controller_->path();
  if (as || p.isEmpty())
    p = QFileDialog::getSaveFileName(this, tr("Save scenario"), p, tr("Scenarios (*.yaml *.yml)"));
  if (p.isEmpty()) return;
  status_->setText(controller_->save(p) ? tr("Saved %1").arg(p) : tr("Could not save %1").arg(p));
  updateTitle();
}

void MainWindow::updateTitle() {
  const auto s = controller_->scenario();
  setWindowTitle(s ? tr("Jevons — %1%2")
                         .arg(QString::fromStdString(s->name), controller_->modified() ? "*" : "")
                   : tr("Jevons"));
}

void MainWindow::showResult(const ResultSnapshot& s) {
  table_model_->resetData(s);
  if (s.projection) {
    const ProjectionCharts c = projection_charts(*s.projection);
    chart("hbmByGeneration")->showStacked(c.hbm_by_generation, c.quarters, &c.hbm_counterfactual);
    chart("hbmUse")->showStacked(c.hbm_use, c.quarters);
    chart("hostDram")->showStacked(c.host_dram, c.quarters);
    chart("fleet")->showLines(c.fleet, c.quarters);
    chart("cost")->showLines(c.cost, c.quarters);
    chart("waterfall")
        ->showWaterfall(c.waterfall, c.waterfall_unit, c.waterfall_quarter, s.scenario_path);
  } else {
    for (const char* n : {"hbmByGeneration", "hbmUse", "hostDram", "fleet", "cost", "waterfall"})
      chart(n)->clearData(tr("this scenario has no planner section"));
  }
  const QString keep = pool_->currentText();
  {
    const QSignalBlocker block(pool_);
    pool_->clear();
    if (s.simulation)
      for (const auto& p : s.simulation->pools) pool_->addItem(QString::fromStdString(p.name));
    const int i = pool_->findText(keep);
    if (i >= 0) pool_->setCurrentIndex(i);
  }
  showSimulation();
  showComparison();
  const QString where =
      s.capacity_method == QStringLiteral("database")
          ? tr("from the results database")
          : tr("in %1 s (%2 capacity, %3 cached, %4 searched)")
                .arg(s.wall_s, 0, 'f', 2)
                .arg(s.capacity_method.isEmpty() ? tr("no planner") : s.capacity_method)
                .arg(s.cache_hits)
                .arg(s.cache_misses);
  timing_->setText(where);
  const QString headline = headline_text(s);
  headline_->setText(headline);
  headline_->setVisible(!headline.isEmpty());
  const QString note = controller_->capacityNote();
  capacity_banner_->setText(note);
  capacity_banner_->setVisible(!note.isEmpty());
  status_->setText(tr("%1: done.").arg(s.scenario_name));
  // Static-only scenarios have nothing to chart in the projection tab: show the simulation.
  if (!s.projection && s.simulation && tabs_->currentIndex() == 0) tabs_->setCurrentIndex(1);
}

void MainWindow::showSimulation() {
  const ResultSnapshot& s = controller_->result();
  const int pool = pool_->currentIndex();
  if (!s.simulation || pool < 0) {
    for (const char* n : {"ttft", "tpot", "kvOccupancy", "hostTier"})
      chart(n)->clearData(tr("this scenario has no simulation section"));
    return;
  }
  const SimulationCharts c = simulation_charts(*s.simulation);
  QStringList classes;
  QList<QList<double>> ttft(3), tpot(3);
  for (const auto& row : c.latency[pool]) {
    classes << row.class_name;
    for (int i = 0; i < 3; ++i) {
      ttft[i] << row.ttft_ms[i];
      tpot[i] << row.tpot_ms[i];
    }
  }
  const QStringList pct = {"p50", "p90", "p99"};
  chart("ttft")->showBars(classes, pct, ttft, tr("TTFT (ms)"));
  chart("tpot")->showBars(classes, pct, tpot, tr("TPOT (ms)"));
  chart("kvOccupancy")
      ->showXY({c.kv_occupancy[pool]}, tr("simulated time (h)"), tr("KV in use (% of capacity)"));
  chart("hostTier")->showXY({c.host_tier[pool]}, tr("simulated time (h)"), tr("host DRAM (GiB)"));
}

void MainWindow::showComparison() {
  const ResultSnapshot& a = controller_->result();
  const ResultSnapshot& b = controller_->comparison();
  compare_table_->setRowCount(0);
  if (!a.projection || !b.projection) {
    for (const char* n : {"cmpHbm", "cmpDram", "cmpFleet", "cmpCost"})
      chart(n)->clearData(b.projection ? tr("no current result")
                                       : tr("pin a result or pick a file to compare"));
    return;
  }
  const QString na = a.scenario_name, nb = b.scenario_name + QStringLiteral(" (B)");
  struct Metric {
    const char* chart;
    QString unit;
    double divisor;
    double (*get)(const QuarterTotals&);
  };
  const Metric metrics[] = {{"cmpHbm", tr("HBM installed (PB)"), 1e15,
                             [](const QuarterTotals& t) { return t.hbm_installed_bytes; }},
                            {"cmpDram", tr("host DRAM (PB)"), 1e15,
                             [](const QuarterTotals& t) { return t.host_dram_bytes(); }},
                            {"cmpFleet", tr("GPUs installed (millions)"), 1e6,
                             [](const QuarterTotals& t) { return t.gpus_installed; }},
                            {"cmpCost", tr("cost ($ per million tokens)"), 1,
                             [](const QuarterTotals& t) { return t.cost_usd_per_mtok; }}};
  QStringList quarters;
  for (const auto& l : a.projection->quarter_labels) quarters << QString::fromStdString(l);
  const QuarterTotals* la = last_total(*a.projection, Variant::kFull);
  const QuarterTotals* lb = last_total(*b.projection, Variant::kFull);
  for (const Metric& m : metrics) {
    SeriesGroup g;
    g.unit = m.unit;
    g.series = {total_series(*a.projection, Variant::kFull, na, m.divisor, m.get),
                total_series(*b.projection, Variant::kFull, nb, m.divisor, m.get)};
    chart(m.chart)->showLines(g, quarters);
    if (la && lb) {
      const int r = compare_table_->rowCount();
      compare_table_->insertRow(r);
      const double va = m.get(*la) / m.divisor, vb = m.get(*lb) / m.divisor;
      compare_table_->setItem(r, 0, new QTableWidgetItem(m.unit));
      compare_table_->setItem(r, 1, new QTableWidgetItem(QString::number(va, 'f', 2)));
      compare_table_->setItem(r, 2, new QTableWidgetItem(QString::number(vb, 'f', 2)));
      compare_table_->setItem(
          r, 3,
          new QTableWidgetItem(QStringLiteral("%1 (%2%)")
                                   .arg(vb - va, 0, 'f', 2)
                                   .arg(va != 0 ? 100 * (vb - va) / va : 0.0, 0, 'f', 1)));
    }
  }
}

bool MainWindow::savePng(const QString& path) {
  return grab().save(path, "PNG");
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("window/tab", tabs_->currentIndex());
  if (controller_->modified()) {
    const auto r = QMessageBox::question(
        this, tr("Unsaved scenario"), tr("The scenario text has unsaved changes. Save them?"),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
    if (r == QMessageBox::Cancel) {
      e->ignore();
      return;
    }
    if (r == QMessageBox::Save) saveScenario(false);
  }
  e->accept();
}

}  // namespace jevons::gui
