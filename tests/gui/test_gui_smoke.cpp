// Smoke test of the whole window, offscreen: open a scenario, run it, and check that every
// chart received data; then move a lever and pin a comparison.
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "chart_view.h"
#include "controller.h"
#include "main_window.h"

using namespace jevons::gui;

class TestGuiSmoke : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QStandardPaths::setTestModeEnabled(true);
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("cache").toUtf8());
    qputenv("XDG_CONFIG_HOME", tmp_.filePath("config").toUtf8());
  }

  void mainWindowRunsAScenario() {
    Controller c;
    MainWindow w(&c);
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(!Controller::bundledScenarios().isEmpty());  // the File menu lists them
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.openFile(JEVONS_GUI_FIXTURE_DIR "/gui-small.yaml"));
    QVERIFY(ready.wait(30000));
    for (const char* name : {"hbmByGeneration", "hbmUse", "hostDram", "fleet", "cost", "waterfall",
                             "ttft", "tpot", "kvOccupancy", "hostTier"}) {
      ChartView* chart = w.chart(name);
      QVERIFY2(chart, name);
      QVERIFY2(chart->pointCount() > 0, name);
    }
    QCOMPARE(w.chart("hbmByGeneration")->chart()->series().size(), 4);  // 3 generations + line

    // A lever move redraws the charts from the new snapshot.
    Levers l = c.levers();
    l.elasticity_long_run = 2.0;
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(5000));
    QVERIFY(w.chart("waterfall")->pointCount() > 0);

    c.pinComparison();
    for (const char* name : {"cmpHbm", "cmpDram", "cmpFleet", "cmpCost"})
      QVERIFY2(w.chart(name)->pointCount() == 16, name);  // A and B, 8 quarters each

    const QString png = tmp_.filePath("w.png");
    QVERIFY(w.savePng(png));
    QVERIFY(QFileInfo(png).size() > 10000);
  }

  void bundledDefaultScenarioLoads() {
    Controller c;
    MainWindow w(&c);
    w.show();
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.openFile(JEVONS_TEST_SCENARIO_DIR "/default.yaml"));
    QVERIFY(c.hasPlanner());
    // The default scenario searches capacity by simulation; the analytical lever keeps this
    // test fast. The run started by openFile is superseded by the lever's.
    Levers l = c.levers();
    l.analytical_capacity = true;
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(30000));
    QCOMPARE(ready.last().first().value<ResultSnapshot>().capacity_method,
             QStringLiteral("analytical"));
    QVERIFY(w.chart("hbmByGeneration")->chart()->series().size() >= 8);
    QVERIFY(w.chart("hbmByGeneration")->pointCount() >= 8 * 20);
  }
};

QTEST_MAIN(TestGuiSmoke)
#include "test_gui_smoke.moc"
