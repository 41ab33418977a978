// Smoke test of the whole window, offscreen: open a scenario, run it, and check that every
// chart received data; then move a lever and pin a comparison.
#include <QAreaSeries>
#include <QChart>
#include <QPalette>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "chart_view.h"
#include "controller.h"
#include "main_window.h"
#include "scenario_editor.h"

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

    // Stacked areas take distinct colours (the HBM chart stacks up to a dozen generations).
    const auto area_colors = [&] {
      QSet<QRgb> colors;
      for (auto* s : w.chart("hbmByGeneration")->chart()->series())
        if (auto* a = qobject_cast<QAreaSeries*>(s)) colors.insert(a->color().rgb());
      return colors.size();
    };
    QCOMPARE(area_colors(), 3);

    // The theme follows the application palette (Qt 6.4 has no colour-scheme API: the
    // platform theme sets the palette, and a dark window colour selects the dark chart theme).
    const QPalette light = qApp->palette();
    QCOMPARE(w.chart("hbmByGeneration")->chart()->theme(), QChart::ChartThemeLight);
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x20, 0x20, 0x24));
    dark.setColor(QPalette::WindowText, Qt::white);
    dark.setColor(QPalette::Base, QColor(0x18, 0x18, 0x1c));
    dark.setColor(QPalette::Text, Qt::white);
    dark.setColor(QPalette::Button, QColor(0x30, 0x30, 0x34));
    dark.setColor(QPalette::ButtonText, Qt::white);
    qApp->setPalette(dark);
    QTRY_COMPARE(w.chart("hbmByGeneration")->chart()->theme(), QChart::ChartThemeDark);
    QCOMPARE(w.chart("waterfall")->chart()->theme(), QChart::ChartThemeDark);
    QCOMPARE(area_colors(), 3);  // the theme switch keeps the distinct palette
    qApp->setPalette(light);
    QTRY_COMPARE(w.chart("hbmByGeneration")->chart()->theme(), QChart::ChartThemeLight);

    // The form edits planner classes; a rejected value turns its cell red.
    auto* editor = w.findChild<ScenarioEditor*>();
    QVERIFY(editor);
    QTableWidget* classes = editor->classesTable();
    QCOMPARE(classes->rowCount(), 2);
    classes->item(1, 2)->setData(Qt::EditRole, 1.5e7);  // rag tokens/s
    editor->applyForm();
    QCOMPARE(c.scenario()->planner->classes[1].tokens_per_s, 1.5e7);
    QVERIFY(ready.wait(30000));
    classes->item(0, 4)->setData(Qt::EditRole, 5.0);  // short run above long run
    editor->applyForm();
    QVERIFY(!c.diagnostics().isEmpty());
    QVERIFY(classes->item(0, 4)->background().color().alpha() > 0);
    QVERIFY(classes->item(0, 4)->toolTip().contains("short_run"));
    QVERIFY(editor->yaml()->extraSelections().size() >= 2);  // marked at its YAML line too

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
    int areas = 0;
    QSet<QRgb> colors;
    for (auto* s : w.chart("hbmByGeneration")->chart()->series())
      if (auto* a = qobject_cast<QAreaSeries*>(s)) {
        ++areas;
        colors.insert(a->color().rgb());
      }
    QCOMPARE(colors.size(), std::min(areas, 12));  // no two generations share a colour
  }
};

QTEST_MAIN(TestGuiSmoke)
#include "test_gui_smoke.moc"
