// Smoke test of the whole window, offscreen: open a scenario, run it, and check that every
// chart received data; then move a lever and pin a comparison.
#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QChart>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QPalette>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QValueAxis>
#include <QtTest>

#include "answer.h"
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
    // The waterfall's axis spans at least ±0.1 % of its totals, so its tick labels differ even
    // when compression changes nothing (a supply-bound answer).
    {
      const auto axes = w.chart("waterfall")->chart()->axes(Qt::Vertical);
      QVERIFY(!axes.isEmpty());
      auto* y = qobject_cast<QValueAxis*>(axes.first());
      QVERIFY(y);
      const double centre = (y->max() + y->min()) / 2;
      QVERIFY(y->max() - y->min() >= 2e-3 * centre * (1 - 1e-9) || y->min() == 0);
    }

    // A lever move redraws the charts from the new snapshot.
    auto* bake = w.findChild<QPushButton*>(QStringLiteral("bakeLevers"));
    QVERIFY(bake);
    QVERIFY(!bake->isEnabled());  // nothing to write while the levers equal the file
    Levers l = c.levers();
    l.elasticity_long_run = 2.0;
    QVERIFY(c.setLevers(l));
    QVERIFY(bake->isEnabled());
    QVERIFY(ready.wait(5000));
    QVERIFY(w.chart("waterfall")->pointCount() > 0);

    // A lever value the loader refuses snaps back, and the lever is marked with the message.
    auto* compressed = w.findChild<QComboBox*>(QStringLiteral("leverCompressed"));
    QVERIFY(compressed);
    const QString tip = compressed->toolTip();
    Levers bad = c.levers();
    bad.compressed_format = QStringLiteral("no-such-format");
    QVERIFY(!c.setLevers(bad));
    QVERIFY(!compressed->styleSheet().isEmpty());
    QVERIFY(compressed->toolTip().contains("compressed_format"));
    Levers good = c.levers();
    good.elasticity_long_run = 2.1;
    QVERIFY(c.setLevers(good));  // a valid move clears the mark
    QVERIFY(compressed->styleSheet().isEmpty());
    QCOMPARE(compressed->toolTip(), tip);
    QVERIFY(ready.wait(5000));

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

  void windowFitsSmallScreens() {
    Controller c;
    MainWindow w(&c);
    qInfo("minimum size %dx%d", w.minimumSizeHint().width(), w.minimumSizeHint().height());
    // The window must be able to shrink to a 1024x768 screen (less its title bar and panel).
    QVERIFY2(w.minimumSizeHint().width() <= 1024,
             qPrintable(QString::number(w.minimumSizeHint().width())));
    QVERIFY2(w.minimumSizeHint().height() <= 700,
             qPrintable(QString::number(w.minimumSizeHint().height())));
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.openFile(JEVONS_GUI_FIXTURE_DIR "/gui-small.yaml"));
    QVERIFY(ready.wait(30000));
    for (const QSize size : {QSize(1280, 800), QSize(1024, 700)}) {
      w.resize(size);
      w.show();
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      QTRY_COMPARE(w.size(), size);
      // Every projection chart lies wholly inside the window, and none is squeezed to nothing.
      for (const char* name :
           {"hbmByGeneration", "hbmUse", "hostDram", "fleet", "cost", "waterfall"}) {
        ChartView* chart = w.chart(name);
        const QRect r(chart->mapTo(&w, QPoint(0, 0)), chart->size());
        QVERIFY2(w.rect().contains(r), name);
        QVERIFY2(chart->width() >= 150 && chart->height() >= 140, name);
      }
      // Long messages are cut, never widening the window.
      c.leversNotice(QString(400, QChar('x')));
      QVERIFY(w.minimumSizeHint().width() <= 1024);
    }
    // The lever panel collapses from a button beside the tabs and gives its width to the charts.
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("leversDock"));
    auto* toggle = w.findChild<QToolButton*>(QStringLiteral("leversToggle"));
    QVERIFY(dock && toggle);
    QVERIFY(dock->isVisible());
    const int before = w.chart("hbmByGeneration")->width();
    toggle->click();
    QTRY_VERIFY(!dock->isVisible());
    QTRY_VERIFY(w.chart("hbmByGeneration")->width() > before);
    toggle->click();
    QTRY_VERIFY(dock->isVisible());
  }

  void chartsMarkedOutOfDate() {
    Controller c;
    MainWindow w(&c);
    w.show();
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.openFile(JEVONS_GUI_FIXTURE_DIR "/gui-small.yaml"));
    QVERIFY(ready.wait(30000));
    auto* banner = w.findChild<QLabel*>(QStringLiteral("staleBanner"));
    QVERIFY(banner);
    QVERIFY(!banner->isVisible());
    // The headline strip states the answer, the sentence `jevons run` prints first.
    auto* headline = w.findChild<QLabel*>(QStringLiteral("headlineStrip"));
    QVERIFY(headline && headline->isVisible());
    QCOMPARE(headline->text(), headline_text(c.result()));
    QVERIFY2(headline->text().contains("HBM installed at"), qPrintable(headline->text()));
    QCOMPARE(w.chart("waterfall")->staleReason(), QString());
    const QString good = c.text();
    QVERIFY(!c.setText(good + "\nplanner: [unclosed"));
    QVERIFY(banner->isVisible());
    QVERIFY(banner->text().contains("out of date"));
    for (const char* name : {"hbmByGeneration", "waterfall", "ttft", "cmpHbm"})
      QVERIFY2(!w.chart(name)->staleReason().isEmpty(), name);
    // The mark is drawn on the chart (it stays in a PNG export): the pixels differ.
    const QImage marked = w.chart("hbmUse")->grab().toImage();
    QVERIFY(c.setText(good));
    QVERIFY(!banner->isVisible());
    QCOMPARE(w.chart("hbmUse")->staleReason(), QString());
    QVERIFY(w.chart("hbmUse")->grab().toImage() != marked);
  }

  void generationColoursFollowTheName() {
    // Keyed on the name: the same generation keeps its colour whatever the stack order, as in
    // a live run against the same run loaded from a results database.
    ChartView v(QStringLiteral("t"));
    v.setColorKeys({"a100-80gb", "h100-sxm", "b200", "rubin"});
    const auto show = [&](const QStringList& names) {
      SeriesGroup g;
      g.unit = QStringLiteral("PB");
      for (const QString& n : names) g.series.append({n, {{0, 1}, {1, 2}}});
      v.showStacked(g, {"2026Q1", "2026Q2"});
      QHash<QString, QRgb> colors;
      for (auto* s : v.chart()->series())
        if (auto* a = qobject_cast<QAreaSeries*>(s)) colors[a->name()] = a->color().rgb();
      return colors;
    };
    const auto one = show({"h100-sxm", "b200", "rubin"});
    const auto two = show({"rubin", "a100-80gb", "b200", "h100-sxm", "unknown-gpu"});
    for (const QString& n : {"h100-sxm", "b200", "rubin"}) QCOMPARE(one[n], two[n]);
    QCOMPARE(QSet<QRgb>(two.begin(), two.end()).size() >= 4, true);
    QCOMPARE(v.areaColor("unknown-gpu", 0), v.areaColor("unknown-gpu", 7));

    // Live and loaded runs of the same scenario colour every generation alike.
    Controller c;
    MainWindow w(&c);
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.openFile(JEVONS_GUI_FIXTURE_DIR "/gui-small.yaml"));
    QVERIFY(ready.wait(30000));
    const auto colors = [&] {
      QHash<QString, QRgb> out;
      for (auto* s : w.chart("hbmByGeneration")->chart()->series())
        if (auto* a = qobject_cast<QAreaSeries*>(s)) out[a->name()] = a->color().rgb();
      return out;
    };
    const auto live = colors();
    QCOMPARE(live.size(), 3);
    const QString db = tmp_.filePath("colours.sqlite");
    QSignalSpy exported(&c, &Controller::exportFinished);
    c.exportSqlite(db);
    QVERIFY(exported.wait(10000));
    c.loadStoredRun(db, 1);
    QVERIFY(ready.wait(10000));
    QCOMPARE(c.result().capacity_method, QStringLiteral("database"));
    QCOMPARE(colors(), live);
  }

  void waterfallHasLabelsAndAStableAxis() {
    ChartView v(QStringLiteral("w"));
    const auto show = [&](double eff, double rebound, const QString& key) {
      const double cf = 1000, e = cf + eff, f = e + rebound;
      v.showWaterfall({{"without", 0, cf, true},
                       {"efficiency", cf, e, false},
                       {"rebound", e, f, false},
                       {"with", 0, f, true}},
                      QStringLiteral("PB"), QStringLiteral("2030Q4"), key);
      auto* y = qobject_cast<QValueAxis*>(v.chart()->axes(Qt::Vertical).first());
      return std::make_tuple(y->min(), y->max(), v.barLabels());
    };
    const auto [lo1, hi1, cats1] = show(-146, 40, "a.yaml");
    QCOMPARE(qobject_cast<QBarCategoryAxis*>(v.chart()->axes(Qt::Horizontal).first())->count(), 4);
    QCOMPARE(cats1.size(), 4);
    // Every bar end lies on the axis.
    for (double end : {1000.0, 854.0, 894.0}) QVERIFY(lo1 <= end && end <= hi1);
    // Each bar says its value, signed for the changes (U+2212 minus).
    QVERIFY2(cats1[1].contains(QStringLiteral("\u2212146")), qPrintable(cats1[1]));
    QVERIFY2(cats1[2].contains("+40.0"), qPrintable(cats1[2]));
    QVERIFY2(cats1[0].contains("1000"), qPrintable(cats1[0]));
    // A smaller effect in the same scenario keeps the scale: −10 PB looks like −10, not −146.
    const auto [lo2, hi2, cats2] = show(-10, 2, "a.yaml");
    QCOMPARE(lo2, lo1);
    QCOMPARE(hi2, hi1);
    QVERIFY(cats2[1].contains(QStringLiteral("\u221210")));
    // A larger one grows it, to hold every bar.
    const auto [lo3, hi3, cats3] = show(-300, 10, "a.yaml");
    QVERIFY(lo3 <= 700 && hi3 > hi1 - 1e-9);
    // Another scenario starts its own scale.
    const auto [lo4, hi4, cats4] = show(-10, 2, "b.yaml");
    QVERIFY(hi4 - lo4 < hi1 - lo1);
    QVERIFY(lo4 <= 990 && hi4 >= 1000);
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
    // A timeout, not a speed target: the superseded simulated run may be inside a capacity
    // search (cancelled between searches), which on a loaded 2-core CI machine takes tens of
    // seconds before the analytical run starts.
    QVERIFY(ready.wait(180000));
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
