// The controller, worker and models without widgets (style.md Lesson 10: heaptrack's
// tst_parser): drive the Controller and observe its signals with QSignalSpy.
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "answer.h"
#include "chart_data.h"
#include "controller.h"
#include "jevons/core/error.h"
#include "jevons/core/scenario_schema.h"
#include "levers.h"
#include "models.h"
#include "yaml_patch.h"

using namespace jevons;
using namespace jevons::gui;

namespace {
const QString kFixture = QStringLiteral(JEVONS_GUI_FIXTURE_DIR "/gui-small.yaml");

namespace keys = schema::keys;

std::string fixture_text() {
  QFile f(kFixture);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll().toStdString();
}

const Catalog& catalog() {
  static const Catalog c = Catalog::load(Catalog::default_dir());
  return c;
}

/// The key paths (with list indices) whose values differ between two YAML trees: changed,
/// added or removed scalars, lists and mappings, named at the outermost place that differs in
/// kind or presence.
void changed_paths(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                   QSet<QString>* out) {
  const auto join = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
  if (!a.IsDefined()) {  // added: a value, or each key of an added mapping
    if (!b.IsMap()) out->insert(QString::fromStdString(path));
    for (auto it = b.begin(); b.IsMap() && it != b.end(); ++it)
      changed_paths(a, it->second, join(it->first.Scalar()), out);
    return;
  }
  if (a.Type() != b.Type() || (a.IsScalar() && a.Scalar() != b.Scalar())) {
    out->insert(QString::fromStdString(path));
  } else if (a.IsMap()) {
    for (auto it = b.begin(); it != b.end(); ++it)
      changed_paths(a[it->first.Scalar()], it->second, join(it->first.Scalar()), out);
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b[it->first.Scalar()]) out->insert(QString::fromStdString(join(it->first.Scalar())));
  } else if (a.IsSequence()) {
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      if (i < a.size() && i < b.size())
        changed_paths(a[i], b[i], p, out);
      else
        out->insert(QString::fromStdString(p));
    }
  }
}

QSet<QString> changed_paths(const std::string& before, const std::string& after) {
  QSet<QString> out;
  changed_paths(YAML::Load(before), YAML::Load(after), "", &out);
  return out;
}

/// Every lever moved away from `base` (gui-small's levers).
Levers every_lever_moved(const Levers& base) {
  Levers l = base;
  l.baseline_format = QStringLiteral("bf16");
  l.compressed_format = QStringLiteral("tq-2.5");
  l.elasticity_short_run = 0.4;
  l.elasticity_long_run = 1.5;
  l.adoption_start_index = 2;
  l.adoption_speed_per_quarter = 0.5;
  l.adoption_ceiling = 0.75;
  l.growth_scale = 1.25;
  l.gpu_price_scale = 0.5;
  l.power_usd_per_kwh = 0.12;
  l.slo_scale = 1.5;
  l.slo_attainment = 0.9;
  l.analytical_capacity = !base.analytical_capacity;
  l.generations[0].installed = 2500;
  l.generations[1].deliveries_per_quarter = 3000;
  l.generations[2].available_quarter_index = 3;
  l.generations[1].compressed_format = QStringLiteral("tq-mse-3");
  return l;
}

double last_hbm(const ResultSnapshot& s, Variant v) {
  double out = 0;
  int q = -1;
  for (const auto& t : s.projection->totals)
    if (t.variant == v && t.quarter > q) {
      q = t.quarter;
      out = t.hbm_installed_bytes;
    }
  return out;
}
}  // namespace

class TestGuiModel : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;

  // Opens the fixture and waits for its first result.
  ResultSnapshot open(Controller& c) {
    QSignalSpy ready(&c, &Controller::resultReady);
    if (!c.openFile(kFixture)) return {};
    if (!ready.wait(30000)) return {};
    return ready.last().first().value<ResultSnapshot>();
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QStandardPaths::setTestModeEnabled(true);
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("cache").toUtf8());
    qputenv("XDG_CONFIG_HOME", tmp_.filePath("config").toUtf8());
  }

  void openRunsAndEmitsSnapshot() {
    Controller c;
    QSignalSpy busy(&c, &Controller::busyChanged);
    const ResultSnapshot s = open(c);
    QVERIFY(s.projection);
    QVERIFY(s.simulation);  // the first run of a scenario includes its simulation
    QCOMPARE(s.projection->quarter_labels.size(), std::size_t(8));
    QCOMPARE(s.projection->totals.size(), std::size_t(24));  // 3 variants x 8 quarters
    QCOMPARE(s.scenario_name, QStringLiteral("gui-small"));
    QCOMPARE(s.capacity_method, QStringLiteral("analytical"));
    QTRY_VERIFY(!c.busy());
    QVERIFY(busy.count() >= 2);
    QCOMPARE(busy.first().first().toBool(), true);
    QCOMPARE(busy.last().first().toBool(), false);
    QVERIFY(c.recentFiles().contains(QFileInfo(kFixture).absoluteFilePath()));
  }

  void leverMoveRerunsWithinASecond() {
    Controller c;
    const ResultSnapshot before = open(c);
    QVERIFY(before.projection);
    QSignalSpy ready(&c, &Controller::resultReady);
    Levers l = c.levers();
    QCOMPARE(l.elasticity_long_run, 1.2);
    l.elasticity_long_run = 2.5;
    l.elasticity_short_run = 1.0;
    QElapsedTimer t;
    t.start();
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(5000));
    // Warm path: the debounce (250 ms) plus the run, well within the one second.
    QVERIFY2(t.elapsed() < 1000, qPrintable(QString::number(t.elapsed())));
    const auto after = ready.last().first().value<ResultSnapshot>();
    QVERIFY(last_hbm(after, Variant::kFull) > last_hbm(before, Variant::kFull));
    // Levers edit the YAML text, which the engine ran and an export stores.
    QVERIFY(QString::fromStdString(after.scenario_text).contains("long_run: 2.5"));
    QVERIFY(c.effectiveText().contains("long_run: 2.5"));
    // The lever move re-runs the planner only and keeps the scenario's simulation.
    QVERIFY(after.simulation);
  }

  void leverMovesAreDebounced() {
    Controller c;
    QVERIFY(open(c).projection);
    QSignalSpy ready(&c, &Controller::resultReady);
    Levers l = c.levers();
    for (double e : {1.3, 1.4, 1.5, 1.6, 1.7}) {
      l.elasticity_long_run = e;
      QVERIFY(c.setLevers(l));
    }
    QVERIFY(ready.wait(5000));
    QTest::qWait(600);
    QCOMPARE(ready.count(), 1);
    QVERIFY(QString::fromStdString(ready.first().first().value<ResultSnapshot>().scenario_text)
                .contains("long_run: 1.7"));
  }

  void rubinDelayAndFormatLevers() {
    Controller c;
    QVERIFY(open(c).projection);
    Levers l = c.levers();
    QCOMPARE(l.generations.size(), 3);
    QCOMPARE(l.generations[2].gpu, QStringLiteral("rubin"));
    QCOMPARE(l.generations[2].available_quarter_index, 2);
    l.generations[2].available_quarter_index = 4;  // delay Rubin by two quarters
    l.compressed_format = QStringLiteral("tq-2.5");
    l.gpu_price_scale = 1.5;
    l.slo_scale = 0.8;
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(5000));
    const QString text = c.effectiveText();
    QVERIFY(text.contains("available_from: 2027Q1"));
    QVERIFY(text.contains("compressed_format: tq-2.5"));
    QVERIFY(text.contains("price_usd"));
    QVERIFY(text.contains("tpot_ms: 40"));
    // Baking writes the levers into the editor text; they then equal the scenario's own.
    c.bakeLevers();
    QVERIFY(c.text().contains("available_from: 2027Q1"));
    QCOMPARE(c.levers(), c.scenarioLevers());
  }

  void generationKvFormatLever() {
    Controller c;
    QVERIFY(open(c).projection);
    Levers l = c.levers();
    QCOMPARE(l.generations[1].gpu, QStringLiteral("b200"));
    QVERIFY(l.generations[1].compressed_format.isEmpty());  // planner-wide
    GenerationsModel gm;
    gm.resetData(l.generations);
    QCOMPARE(gm.headerData(4, Qt::Horizontal, Qt::DisplayRole).toString(),
             QStringLiteral("KV format"));
    QSignalSpy edited(&gm, &GenerationsModel::generationsEdited);
    QVERIFY(gm.setData(gm.index(1, 4), QStringLiteral("tq-2.5"), Qt::EditRole));
    l.generations = edited.last().first().value<QList<GenerationLever>>();
    QCOMPARE(l.generations[1].compressed_format, QStringLiteral("tq-2.5"));
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(5000));
    QVERIFY(c.effectiveText().contains("compressed_format: tq-2.5"));
    // The capacity table shows each generation's own compressed format.
    const auto snap = ready.last().first().value<ResultSnapshot>();
    QHash<QString, QSet<QString>> formats;
    for (const auto& e : snap.projection->capacity)
      formats[QString::fromStdString(e.gpu_id)].insert(QString::fromStdString(e.kv_format));
    QCOMPARE(formats["b200"], (QSet<QString>{"fp8", "tq-2.5"}));
    QCOMPARE(formats["h100-sxm"], (QSet<QString>{"fp8", "tq-3.5"}));
    // Back to planner-wide removes the key again.
    l.generations[1].compressed_format.clear();
    QVERIFY(c.setLevers(l));
    QVERIFY(!c.effectiveText().contains("tq-2.5"));
    // An unknown format is refused by the loader and the levers snap back.
    l.generations[1].compressed_format = QStringLiteral("tq-9");
    QVERIFY(!c.setLevers(l));
    QVERIFY(!c.diagnostics().isEmpty());
    QVERIFY(c.diagnostics().first().key.contains("generations[1].compressed_format"));
  }

  void formRoundTripsClassesEconomicsAndPools() {
    Controller c;
    QVERIFY(open(c).projection);
    const ScenarioForm base = form_from(*c.scenario(), c.text().toStdString());
    QCOMPARE(base.classes.size(), 2);
    QCOMPARE(base.classes[1].name, QStringLiteral("rag"));
    QCOMPARE(base.classes[1].ttft_ms, 6000.0);
    QCOMPARE(base.economics.power_usd_per_kwh, 0.08);
    QCOMPARE(base.pools.size(), 1);
    QVERIFY(base.pools[0].kv_formats.isEmpty());  // the top-level list
    // Unchanged, the form leaves the scenario as it is.
    QCOMPARE(apply_form(c.text().toStdString(), base, base).find("tq-2.5"), std::string::npos);

    ScenarioForm f = base;
    f.classes[1].tokens_per_s = 3e7;
    f.classes[1].growth_per_year = 2.5;
    f.classes[1].elasticity_long_run = 2.4;  // beyond the file's high (1.8): widened
    f.classes[1].ttft_ms = 4000;
    f.classes[0].name = QStringLiteral("chatbot");
    ClassForm extra = f.classes[0];
    extra.name = QStringLiteral("code");
    extra.tokens_per_s = 5e6;
    f.classes.append(extra);
    f.economics.power_usd_per_kwh = 0.12;
    f.economics.gpu_lifetime_years = 4;
    f.pools[0].kv_formats = split_formats(QStringLiteral("tq-3.5, fp8"));
    QCOMPARE(f.pools[0].kv_formats, (QStringList{"tq-3.5", "fp8"}));
    const std::string text = apply_form(c.text().toStdString(), base, f);
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.setText(QString::fromStdString(text)));
    const auto& p = *c.scenario()->planner;
    QCOMPARE(p.classes.size(), std::size_t(3));
    QCOMPARE(p.classes[0].name, std::string("chatbot"));
    QCOMPARE(p.classes[1].tokens_per_s, 3e7);
    QCOMPARE(p.classes[1].growth_per_year, 2.5);
    QCOMPARE(p.classes[1].elasticity.long_run, 2.4);
    QVERIFY(p.classes[1].elasticity.high >= 2.4);
    QCOMPARE(p.classes[1].slo.ttft_ns, std::uint64_t(4000) * 1000000);
    QCOMPARE(p.classes[2].name, std::string("code"));
    QCOMPARE(p.classes[2].tokens_per_s, 5e6);
    QCOMPARE(p.power_usd_per_kwh, 0.12);
    QCOMPARE(p.gpu_lifetime_years, 4.0);
    QCOMPARE(c.scenario()->pools[0].kv_formats.front().name(), std::string("tq-3.5"));
    // The round trip reads back what was written.
    const ScenarioForm back = form_from(*c.scenario(), c.text().toStdString());
    QCOMPARE(back.classes.size(), 3);
    QCOMPARE(back.pools[0].kv_formats, f.pools[0].kv_formats);
    QCOMPARE(back.economics, f.economics);
    QVERIFY(ready.wait(30000));  // the new text runs, simulation included
    QVERIFY(ready.last().first().value<ResultSnapshot>().simulation);

    // Removing a class drops it; a loader error names the line of the offending key.
    ScenarioForm g = back;
    g.classes.removeLast();
    g.classes[0].elasticity_short_run = 3.0;  // above long_run: rejected
    const QString bad = QString::fromStdString(apply_form(c.text().toStdString(), back, g));
    QVERIFY(!c.setText(bad));
    bool found = false;
    const QStringList lines = bad.split('\n');
    for (const auto& d : c.diagnostics())
      if (d.key.contains("classes[0].elasticity.short_run"))
        found = d.line > 0 && lines[d.line - 1].contains("short_run");
    QVERIFY(found);
    QCOMPARE(c.scenario()->planner->classes.size(), std::size_t(3));  // the last valid one
  }

  // Every key the levers write is a key the schema describes, and maps back to its lever.
  void leverPathsAreSchemaKeys() {
    const std::string text = fixture_text();
    const Scenario s = Scenario::parse(text, "gui-small.yaml", catalog());
    const Levers base = levers_from(s);
    const Levers moved = every_lever_moved(base);
    const std::string written = apply_levers(text, s, base, moved, catalog());
    const QSet<QString> paths = changed_paths(text, written);
    QVERIFY(paths.size() >= 20);
    QSet<Lever> levers;
    for (const QString& p : paths) {
      QVERIFY2(schema::find(p.toStdString()), qPrintable(p));
      const Lever lever = lever_for(p.toStdString());
      QVERIFY2(lever != Lever::kNone, qPrintable(p));
      levers.insert(lever);
    }
    // Every lever wrote something, and maps back from a key it wrote.
    for (int l = int(kFirstLever); l <= int(kLastLever); ++l)
      QVERIFY2(levers.contains(Lever(l)), qPrintable(lever_name(Lever(l))));
  }

  // Levers → YAML text → Scenario → levers gives the levers back (the relative levers are then
  // in the file's values, at 1).
  void leversRoundTripThroughYaml() {
    const std::string text = fixture_text();
    const Scenario s = Scenario::parse(text, "gui-small.yaml", catalog());
    const Levers base = levers_from(s);
    const Levers moved = every_lever_moved(base);
    QVERIFY(moved != base);
    const Scenario back =
        Scenario::parse(apply_levers(text, s, base, moved, catalog()), "t.yaml", catalog());
    Levers expected = moved;
    expected.growth_scale = expected.gpu_price_scale = expected.slo_scale = 1;
    QCOMPARE(levers_from(back), expected);
    const PlannerSpec& p0 = *s.planner;
    const PlannerSpec& p1 = *back.planner;
    for (std::size_t i = 0; i < p0.classes.size(); ++i) {
      QCOMPARE(p1.classes[i].growth_per_year, p0.classes[i].growth_per_year * 1.25);
      QCOMPARE(p1.classes[i].slo.ttft_ns, p0.classes[i].slo.ttft_ns * 3 / 2);
      QCOMPARE(p1.classes[i].elasticity.long_run, 1.5);
    }
    const GpuSpec* h100 = catalog().find_gpu(p0.generations[0].gpu_id);
    QVERIFY(h100 && h100->price_usd.known());
    QCOMPARE(p1.generations[0].price_usd, *h100->price_usd.value * 0.5);
    // Moving the levers back writes the file's own values again.
    const Levers again = levers_from(back);
    QCOMPARE(levers_from(Scenario::parse(apply_levers(back.text, back, again, expected, catalog()),
                                         "t.yaml", catalog())),
             expected);
  }

  // Every key the form writes is a key the schema describes, and maps back to its field.
  void formPathsAreSchemaKeys() {
    const std::string text = fixture_text();
    const Scenario s = Scenario::parse(text, "gui-small.yaml", catalog());
    const ScenarioForm base = form_from(s, text);
    ScenarioForm f = base;
    f.name = QStringLiteral("renamed");
    f.description = QStringLiteral("another");
    f.seed = 12;
    f.horizon_start = QStringLiteral("2026Q2");
    f.quarters = 6;
    f.pools[0].kv_formats = QStringList{"fp8", "tq-3.5"};
    f.classes[1] = {"batch", "llama-3.1-8b", 3e6, 1.25, 0.25, 0.75, 3000, 60};
    f.classes.append(f.classes[1]);
    f.classes.last().name = QStringLiteral("batch-2");
    f.economics = {4, 1.25, 0.125, 0.5, 20000};
    const std::string written = apply_form(text, base, f);
    const QSet<QString> paths = changed_paths(text, written);
    QVERIFY2(paths.size() >= 18, qPrintable(QStringList(paths.begin(), paths.end()).join(' ')));
    for (const QString& p : paths) {
      QVERIFY2(schema::find_enclosing(p.toStdString()), qPrintable(p));
      QVERIFY2(form_target(p.toStdString()).field != FormField::kNone, qPrintable(p));
    }
    const Scenario back = Scenario::parse(written, "t.yaml", catalog());
    QCOMPARE(form_from(back, written), f);
  }

  // A loader error in each key a lever or a form field edits lands on that lever or field.
  void errorsInEditedKeysMapToTheirWidget() {
    const std::string text = fixture_text();
    // The list item each key is spoiled in: the second class, the third generation.
    const auto item_of = [](const schema::Key& k) -> std::size_t {
      if (k.path.starts_with(keys::kClass.path)) return 1;
      if (k.path.starts_with(keys::kGeneration.path)) return 2;
      return 0;
    };
    const auto bad_value = [](const schema::Key& k) -> YAML::Node {
      switch (k.kind) {
        case schema::Kind::kNumber:
        case schema::Kind::kInteger:
          return YAML::Node(-1);  // below every range the planner's keys have
        case schema::Kind::kQuarter:
          return YAML::Node("2026Q9");
        case schema::Kind::kKvFormat:
        case schema::Kind::kChoice:
          return YAML::Node("bogus");
        case schema::Kind::kKvFormatList: {
          YAML::Node l(YAML::NodeType::Sequence);
          l.push_back("bogus");
          return l;
        }
        default: {  // text: a list where text is expected
          YAML::Node l(YAML::NodeType::Sequence);
          l.push_back("a");
          return l;
        }
      }
    };
    // Each spoiled key: the loader names it, and the form or the lever panel marks its widget.
    const auto spoil = [&](const schema::Key& k) -> std::vector<Diagnostic> {
      YAML::Node root = YAML::Load(text);
      const std::size_t i = item_of(k);
      node_at(root, k, {i}) = bad_value(k);
      try {
        Scenario::parse(write_back(text, root), "t.yaml", catalog());
      } catch (const InputError& e) {
        return e.diagnostics();
      }
      return {};
    };
    const auto named = [](const std::vector<Diagnostic>& ds, const std::string& key) {
      for (const auto& d : ds)
        if (d.key == key && d.line > 0) return true;
      return false;
    };

    int form_keys = 0;
    for (const auto& [key, field] : form_field_keys()) {
      const auto ds = spoil(*key);
      QVERIFY2(named(ds, key->at()), key->path.data());
      QCOMPARE(form_target(key->at()), (FormTarget{field, -1, -1}));
      ++form_keys;
    }
    for (int c = 0; c < class_column_keys().size(); ++c) {
      const schema::Key& key = *class_column_keys()[c];
      const auto ds = spoil(key);
      QVERIFY2(named(ds, key.at({1})), key.path.data());
      QCOMPARE(form_target(key.at({1})), (FormTarget{FormField::kClassesTable, 1, c}));
      ++form_keys;
    }
    {
      const auto ds = spoil(keys::kPoolKvFormats);
      const std::string at = keys::kPoolKvFormats.at({0}) + "[0]";
      QVERIFY(named(ds, at));
      QCOMPARE(form_target(at), (FormTarget{FormField::kPoolsTable, 0, kPoolFormatsColumn}));
      ++form_keys;
    }
    QCOMPARE(form_keys, 19);

    int lever_keys = 0;
    for (const schema::Key* key : schema::all()) {
      const std::string at = key->at({item_of(*key)});
      if (lever_for(at) == Lever::kNone || key->kind == schema::Kind::kSection) continue;
      const auto ds = spoil(*key);
      QVERIFY2(named(ds, at), key->path.data());
      ++lever_keys;
    }
    QCOMPARE(lever_keys, 20);
  }

  void invalidTextReportsLineAndKeepsScenario() {
    Controller c;
    QVERIFY(open(c).projection);
    QSignalSpy diags(&c, &Controller::diagnosticsChanged);
    QString bad = c.text();
    bad.replace("gpus: 2,", "gpus: -8,");
    bad.replace("tokens_per_s: 2.0e7", "tokens_per_sec: 2.0e7");
    QVERIFY(!c.setText(bad));
    QVERIFY(diags.count() >= 1);
    const auto ds = diags.last().first().value<Diagnostics>();
    QVERIFY(ds.size() >= 2);
    bool gpus = false, typo = false;
    const QStringList lines = bad.split('\n');
    for (const auto& d : ds) {
      QVERIFY(d.line > 0);
      if (d.key.contains("gpus")) gpus = lines[d.line - 1].contains("gpus: -8");
      if (d.hint.contains("tokens_per_s")) typo = lines[d.line - 1].contains("tokens_per_sec");
    }
    QVERIFY(gpus);
    QVERIFY(typo);
    QVERIFY(c.scenario());  // the last valid scenario stays
    QCOMPARE(QString::fromStdString(c.scenario()->name), QStringLiteral("gui-small"));
  }

  void cancelStopsALongRun() {
    Controller c;
    QVERIFY(open(c).projection);
    // Simulated capacity with a fresh cache: searches take seconds, reported as progress.
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("cold-cache").toUtf8());
    Levers l = c.levers();
    l.analytical_capacity = false;
    l.slo_scale = 0.9;
    QSignalSpy progress(&c, &Controller::progress);
    QSignalSpy cancelled(&c, &Controller::runCancelled);
    QSignalSpy ready(&c, &Controller::resultReady);
    QSignalSpy estimate(&c, &Controller::searchEstimate);
    // The estimate must come before the search: record the order of the two signals.
    QStringList order;
    connect(&c, &Controller::searchEstimate, this, [&] { order << "estimate"; });
    connect(&c, &Controller::progress, this, [&] { order << "progress"; });
    QVERIFY(c.setLevers(l));
    QVERIFY(progress.wait(20000));
    QCOMPARE(estimate.count(), 1);
    QCOMPARE(order.first(), QStringLiteral("estimate"));
    const quint64 searches = estimate.first().at(0).toULongLong();
    // The fixture has 3 generations x 2 classes x 2 formats at its base prompts, plus the
    // prompt-scale grid points its context elasticity reaches.
    QVERIFY2(searches >= 12, qPrintable(QString::number(searches)));
    QVERIFY(estimate.first().at(1).toDouble() > 0);
    QVERIFY(!estimate.first().at(2).toBool());  // nothing timed yet in this worker
    QElapsedTimer t;
    t.start();
    c.cancel();
    QVERIFY(cancelled.wait(10000));
    QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
    QTRY_VERIFY(!c.busy());
    QCOMPARE(ready.count(), 0);
    // The charts still show the analytical run: marked out of date, naming the cancel.
    QVERIFY2(c.staleReason().contains("cancelled"), qPrintable(c.staleReason()));
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("cache").toUtf8());
  }

  void estimateCountsTheSearchesThatRun() {
    Controller c;
    QVERIFY(open(c).projection);
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("estimate-cache").toUtf8());
    QSignalSpy estimate(&c, &Controller::searchEstimate);
    QSignalSpy ready(&c, &Controller::resultReady);
    Levers l = c.levers();
    l.analytical_capacity = false;
    QVERIFY(c.setLevers(l));
    QVERIFY(ready.wait(120000));
    const auto cold = ready.last().first().value<ResultSnapshot>();
    QCOMPARE(cold.capacity_method, QStringLiteral("simulated"));
    QCOMPARE(estimate.count(), 1);
    const quint64 said = estimate.first().at(0).toULongLong();
    qInfo("estimated %llu searches, ran %llu", said,
          static_cast<unsigned long long>(cold.cache_misses));
    // The replay takes closed-form answers, and with context-length elasticity (this fixture:
    // 0.2) those move prompts to other grid points than the simulated answers do, so the count
    // is an estimate: it must be of the right size, not exact (18 said, 12 run with the
    // calibrated latency model).
    QVERIFY2(said > 0 && cold.cache_misses > 0, "searches were announced and run");
    QVERIFY2(said <= 2 * cold.cache_misses && cold.cache_misses <= 2 * said,
             qPrintable(QStringLiteral("estimated %1, ran %2").arg(said).arg(cold.cache_misses)));
    // Warm: nothing to search, nothing announced.
    c.run();
    QVERIFY(ready.wait(30000));
    QCOMPARE(ready.last().first().value<ResultSnapshot>().cache_misses, std::uint64_t(0));
    QCOMPARE(estimate.count(), 1);
    // A move that needs new searches is announced with the time measured on the cold run.
    l.slo_scale = 0.8;
    QVERIFY(c.setLevers(l));
    QVERIFY(estimate.wait(10000));
    QVERIFY(estimate.last().at(2).toBool());
    c.cancel();
    QTRY_VERIFY(!c.busy());
    qputenv("JEVONS_CACHE_DIR", tmp_.filePath("cache").toUtf8());
  }

  void staleWheneverResultDiffersFromLeversOrText() {
    Controller c;
    QSignalSpy stale(&c, &Controller::staleChanged);
    QVERIFY(open(c).projection);
    QCOMPARE(c.staleReason(), QString());
    const QString good = c.text();
    // Broken YAML: the charts show the last valid scenario.
    QVERIFY(!c.setText(good + "\nplanner: [unclosed"));
    QVERIFY2(c.staleReason().contains("errors"), qPrintable(c.staleReason()));
    QVERIFY(stale.count() >= 1);
    QVERIFY(!stale.last().first().toString().isEmpty());
    // Valid again, and the same text the charts were run from: current at once.
    QSignalSpy ready(&c, &Controller::resultReady);
    QVERIFY(c.setText(good));
    QCOMPARE(c.staleReason(), QString());
    QVERIFY(ready.wait(30000));
    QCOMPARE(c.staleReason(), QString());
    // A lever move is pending until it runs; Esc during the debounce leaves it unrun.
    Levers l = c.levers();
    l.elasticity_long_run = 1.9;
    QVERIFY(c.setLevers(l));
    QVERIFY2(c.staleReason().contains("pending"), qPrintable(c.staleReason()));
    c.cancel();
    QVERIFY(!c.staleReason().isEmpty());
    QTest::qWait(400);
    QVERIFY(!c.staleReason().isEmpty());
    c.run();
    QVERIFY(ready.wait(30000));
    QCOMPARE(c.staleReason(), QString());
    // A failed open (the file reads but does not validate) keeps the old charts: marked.
    const QString broken = tmp_.filePath("broken.yaml");
    {
      QFile f(broken);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("name: broken\nhorizon: {start: 2026Q1, quarters: -3}\n");
    }
    QVERIFY(!c.openFile(broken));
    QVERIFY(!c.staleReason().isEmpty());
  }

  void leversSurviveYamlEdits() {
    Controller c;
    QVERIFY(open(c).projection);
    Levers l = c.levers();
    l.elasticity_long_run = 2.0;
    l.compressed_format = QStringLiteral("tq-2.5");
    l.growth_scale = 1.5;
    QVERIFY(c.setLevers(l));
    QSignalSpy notice(&c, &Controller::leversNotice);
    // An unrelated edit in the YAML keeps every moved lever, and says so.
    QString text = c.text();
    text.replace("description: Two classes", "description: Edited; two classes");
    QVERIFY(c.setText(text));
    QCOMPARE(notice.count(), 1);
    QCOMPARE(c.levers().elasticity_long_run, 2.0);
    QCOMPARE(c.levers().compressed_format, QStringLiteral("tq-2.5"));
    QCOMPARE(c.levers().growth_scale, 1.5);
    QVERIFY(c.levers() != c.scenarioLevers());
    QVERIFY(c.effectiveText().contains("long_run: 2"));
    QVERIFY(c.effectiveText().contains("description: Edited"));
    QVERIFY(c.effectiveText().contains("growth_per_year: 3"));  // chat's 2.0 × 1.5
    // Editing the value a lever holds: the edit wins for that lever, and the notice names it.
    text.replace("compressed_format: tq-3.5", "compressed_format: nvfp4");
    QVERIFY(c.setText(text));
    QCOMPARE(c.levers().compressed_format, QStringLiteral("nvfp4"));
    QCOMPARE(c.levers().elasticity_long_run, 2.0);
    QVERIFY2(notice.last().first().toString().contains("Compressed"),
             qPrintable(notice.last().first().toString()));
    // Writing the levers into the YAML makes them the scenario's: growth applies once.
    c.bakeLevers();
    QCOMPARE(c.levers(), c.scenarioLevers());
    QCOMPARE(c.scenario()->planner->classes[0].growth_per_year, 3.0);
    // Opening a file starts from that file's levers.
    Levers m = c.levers();
    m.elasticity_long_run = 0.7;
    QVERIFY(c.setLevers(m));
    QVERIFY(c.openFile(kFixture));
    QCOMPARE(c.levers(), c.scenarioLevers());
    QCOMPARE(c.levers().elasticity_long_run, 1.2);
  }

  void commentsSurviveWriteBackAndSave() {
    Controller c;
    QVERIFY(open(c).projection);
    // Comments on their own lines, after values, inside flow-map lines and in lists.
    QString text = c.text();
    text.replace("planner:\n", "planner:   # the planner section\n");
    text.replace("      growth_per_year: 2.0\n",
                 "      growth_per_year: 2.0   # chat doubles yearly\n      # own-line comment\n");
    text.replace("      - {gpu: b200,", "      # b200 ships from the start\n      - {gpu: b200,");
    text.replace("  capacity: {method: analytical, duration_s: 60}",
                 "  capacity: {method: analytical, duration_s: 60}  # closed form for speed");
    QVERIFY(c.setText(text));
    const QStringList comments = {"# GUI test fixture",          "# the planner section",
                                  "# chat doubles yearly",       "# own-line comment",
                                  "# b200 ships from the start", "# closed form for speed"};
    Levers l = c.levers();
    l.compressed_format = QStringLiteral("tq-2.5");
    l.elasticity_long_run = 2.2;
    l.gpu_price_scale = 1.5;    // adds price_usd inside each generation's flow map
    l.power_usd_per_kwh = 0.2;  // adds an economics map the fixture does not have
    l.adoption_ceiling = 0.7;
    l.generations[2].available_quarter_index = 4;
    QVERIFY(c.setLevers(l));
    c.bakeLevers();
    for (const QString& k : comments) QVERIFY2(c.text().contains(k), qPrintable(k));
    // Only what the levers changed differs: every line of the file that holds no edited value
    // is still there, byte for byte.
    for (const QString& line : text.split('\n'))
      if (!line.contains("compressed_format") && !line.contains("elasticity") &&
          !line.contains("gpu:") && !line.contains("adoption"))
        QVERIFY2(c.text().contains(line), qPrintable(line));
    const auto& p = *c.scenario()->planner;
    QCOMPARE(QString::fromStdString(p.compressed_format.name()), QStringLiteral("tq-2.5"));
    QCOMPARE(p.classes[1].elasticity.long_run, 2.2);
    QCOMPARE(p.power_usd_per_kwh, 0.2);
    QCOMPARE(p.adoption.ceiling, 0.7);
    QCOMPARE(p.generations[2].available_quarter_index, 4);
    QVERIFY(p.generations[0].price_usd > 0);

    // The form: a changed field, an added class, then the class removed again.
    ScenarioForm f = form_from(*c.scenario(), c.text().toStdString());
    ScenarioForm g = f;
    g.classes[0].tokens_per_s = 2.5e7;
    ClassForm extra = g.classes[1];
    extra.name = QStringLiteral("code");
    g.classes.append(extra);
    QVERIFY(c.setText(QString::fromStdString(apply_form(c.text().toStdString(), f, g))));
    QCOMPARE(c.scenario()->planner->classes.size(), std::size_t(3));
    QCOMPARE(c.scenario()->planner->classes[0].tokens_per_s, 2.5e7);
    for (const QString& k : comments) QVERIFY2(c.text().contains(k), qPrintable(k));
    ScenarioForm h = form_from(*c.scenario(), c.text().toStdString());
    ScenarioForm i = h;
    i.classes.removeLast();
    QVERIFY(c.setText(QString::fromStdString(apply_form(c.text().toStdString(), h, i))));
    QCOMPARE(c.scenario()->planner->classes.size(), std::size_t(2));
    for (const QString& k : comments) QVERIFY2(c.text().contains(k), qPrintable(k));

    // Save writes the text as it is.
    const QString path = tmp_.filePath("saved.yaml");
    QVERIFY(c.save(path));
    QFile saved(path);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(saved.readAll()), c.text());
  }

  void analyticalCapacityIsShownAsADifferentAnswer() {
    Controller c;
    const ResultSnapshot a = open(c);
    QVERIFY(a.projection);
    QCOMPARE(a.capacity_method, QStringLiteral("analytical"));
    const auto net = net_hbm_change(*a.projection);
    QVERIFY(net.has_value());
    // Without a simulated run to compare, the note still names the mode and its answer.
    QString note = capacity_mode_note(a, {});
    QVERIFY2(note.contains("Analytical capacity"), qPrintable(note));
    QVERIFY(note.contains("no simulated run"));
    QCOMPARE(c.capacityNote(), note);
    // With one: both answers and their difference, in percentage points.
    ResultSnapshot sim = a;
    sim.capacity_method = QStringLiteral("simulated");
    auto p = std::make_shared<Projection>(*a.projection);
    for (auto& t : p->totals)
      if (t.variant == Variant::kFull) t.hbm_installed_bytes *= 1.1;
    sim.projection = p;
    const double sim_net = *net_hbm_change(*p);
    QVERIFY(std::abs(sim_net - ((1 + *net) * 1.1 - 1)) < 1e-9);
    note = capacity_mode_note(a, sim);
    const auto pct = [](double f) { return QString::number(std::abs(100 * f), 'f', 1) + " %"; };
    QVERIFY2(note.contains(pct(*net)) && note.contains(pct(sim_net)), qPrintable(note));
    QVERIFY2(note.contains(QString::number(100 * (*net - sim_net), 'f', 1) + " points"),
             qPrintable(note));
    // A simulated result, or another file's simulated result, gets no note / no comparison.
    QCOMPARE(capacity_mode_note(sim, sim), QString());
    sim.scenario_path = QStringLiteral("/elsewhere.yaml");
    QVERIFY(capacity_mode_note(a, sim).contains("no simulated run"));
  }

  void exportAndBrowseDatabase() {
    Controller c;
    const ResultSnapshot s = open(c);
    QVERIFY(s.projection);
    const QString db = tmp_.filePath("results.sqlite");
    QSignalSpy exported(&c, &Controller::exportFinished);
    c.exportSqlite(db);
    QVERIFY(exported.wait(10000));
    QVERIFY2(exported.last().first().toString().startsWith("Wrote run 1"),
             qPrintable(exported.last().first().toString()));
    QSignalSpy opened(&c, &Controller::databaseOpened);
    c.openDatabase(db);
    QVERIFY(opened.wait(5000));
    const auto runs = opened.last().at(1).value<StoredRuns>();
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs[0].kind, QStringLiteral("projection"));
    QSignalSpy ready(&c, &Controller::resultReady);
    c.loadStoredRun(db, runs[0].run_id);
    QVERIFY(ready.wait(5000));
    const auto back = ready.last().first().value<ResultSnapshot>();
    QCOMPARE(back.capacity_method, QStringLiteral("database"));
    QCOMPARE(back.projection->totals.size(), s.projection->totals.size());
    QCOMPARE(last_hbm(back, Variant::kFull), last_hbm(s, Variant::kFull));

    const QString csv = tmp_.filePath("q.csv");
    QVERIFY(c.exportCsv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), 25);  // header + 3 variants x 8 quarters
  }

  void comparisonPinsAndRunsFiles() {
    Controller c;
    QVERIFY(open(c).projection);
    QSignalSpy cmp(&c, &Controller::comparisonReady);
    c.pinComparison();
    QCOMPARE(cmp.count(), 1);
    QVERIFY(c.comparison().projection);
    QVERIFY(c.compareWithFile(kFixture));
    QVERIFY(cmp.wait(10000));
    QCOMPARE(c.comparison().slot, Slot::kCompare);
    QCOMPARE(c.comparison().scenario_name, QStringLiteral("gui-small"));
  }

  void modelsTakeSnapshots() {
    Controller c;
    const ResultSnapshot s = open(c);
    QVERIFY(s.projection);
    QuarterTableModel table;
    QSignalSpy reset(&table, &QAbstractItemModel::modelReset);
    table.resetData(s);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(table.rowCount(), 24);
    QCOMPARE(table.index(0, 0).data().toString(), QStringLiteral("2026Q1"));

    DiagnosticsModel dm;
    DiagnosticItem d;
    d.line = 7;
    d.column = 3;
    d.message = "bad";
    dm.resetData({d});
    QCOMPARE(dm.rowCount(), 1);
    QCOMPARE(dm.index(0).data(DiagnosticsModel::kLineRole).toInt(), 7);
    QVERIFY(dm.index(0).data().toString().startsWith("line 7, col 3"));

    GenerationsModel gm;
    gm.setHorizon(c.scenario()->horizon);
    gm.resetData(c.levers().generations);
    QSignalSpy edited(&gm, &GenerationsModel::generationsEdited);
    QCOMPARE(gm.index(2, 3).data().toString(), QStringLiteral("2026Q3"));
    QVERIFY(gm.setData(gm.index(2, 3), 5, Qt::EditRole));
    QCOMPARE(edited.count(), 1);
    QCOMPARE(edited.first().first().value<QList<GenerationLever>>()[2].available_quarter_index, 5);
    QVERIFY(!gm.setData(gm.index(1, 1), -3.0, Qt::EditRole));  // negative GPUs refused
  }

  void chartDataAddsUp() {
    Controller c;
    const ResultSnapshot s = open(c);
    QVERIFY(s.projection);
    const ProjectionCharts pc = projection_charts(*s.projection);
    QCOMPARE(pc.quarters.size(), 8);
    QCOMPARE(pc.hbm_by_generation.series.size(), 3);
    // The generation stack adds up to the with-rebound total in every quarter.
    const Series total = total_series(*s.projection, Variant::kFull, "t", 1e15,
                                      [](const QuarterTotals& t) { return t.hbm_installed_bytes; });
    for (int q = 0; q < 8; ++q) {
      double sum = 0;
      for (const auto& g : pc.hbm_by_generation.series) sum += g.points[q].y();
      QVERIFY(qAbs(sum - total.points[q].y()) <= 1e-9 * qMax(1.0, sum));
    }
    QCOMPARE(pc.waterfall.size(), 4);
    // Waterfall steps chain: counterfactual → efficiency → rebound → with compression.
    QCOMPARE(pc.waterfall[1].from, pc.waterfall[0].to);
    QCOMPARE(pc.waterfall[2].from, pc.waterfall[1].to);
    QVERIFY(qAbs(pc.waterfall[2].to - pc.waterfall[3].to) < 1e-9 * pc.waterfall[3].to);
    QCOMPARE(pc.fleet.series.size(), 3);
    QCOMPARE(pc.cost.point_count(), 24);

    const SimulationCharts sc = simulation_charts(*s.simulation);
    QCOMPARE(sc.pools, QStringList{"h100-8b"});
    QCOMPARE(sc.latency[0].size(), 1);
    QVERIFY(sc.latency[0][0].ttft_ms[2] >= sc.latency[0][0].ttft_ms[0]);
    QVERIFY(sc.kv_occupancy[0].points.size() > 10);
  }
};

QTEST_GUILESS_MAIN(TestGuiModel)
#include "test_gui_model.moc"
