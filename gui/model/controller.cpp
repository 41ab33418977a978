#include "controller.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QTextStream>

#include "answer.h"
#include "jevons/core/error.h"

#ifndef JEVONS_GUI_SCENARIO_DIR
#define JEVONS_GUI_SCENARIO_DIR ""
#endif

namespace jevons::gui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "recentFiles";
}  // namespace

Controller::Controller(const Options& options, QObject* parent) : QObject(parent) {
  qRegisterMetaType<DiagnosticItem>();
  qRegisterMetaType<Diagnostics>();
  qRegisterMetaType<RunRequest>();
  qRegisterMetaType<ResultSnapshot>();
  qRegisterMetaType<StoredRuns>();
  qRegisterMetaType<Levers>();

  const std::string dir =
      options.catalog_dir.isEmpty() ? Catalog::default_dir() : options.catalog_dir.toStdString();
  catalog_ = std::make_shared<const Catalog>(Catalog::load(dir));

  worker_ = new EngineWorker(catalog_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &Controller::requestRun, worker_, &EngineWorker::run);
  connect(this, &Controller::requestExport, worker_, &EngineWorker::exportSqlite);
  connect(this, &Controller::requestOpenDatabase, worker_, &EngineWorker::openDatabase);
  connect(this, &Controller::requestLoadRun, worker_, &EngineWorker::loadStoredRun);
  connect(worker_, &EngineWorker::started, this, &Controller::onStarted);
  connect(worker_, &EngineWorker::progress, this,
          [this](quint64 id, const QString& stage, double f) {
            if (id == latest_main_ || id == compare_pending_) emit progress(f, stage);
          });
  connect(worker_, &EngineWorker::estimate, this,
          [this](quint64 id, quint64 searches, double seconds, bool measured) {
            if (id == latest_main_ || id == compare_pending_)
              emit searchEstimate(searches, seconds, measured);
          });
  connect(worker_, &EngineWorker::finished, this, &Controller::onFinished);
  connect(worker_, &EngineWorker::cancelled, this, [this](quint64 id) {
    const bool was_compare = id == compare_pending_;
    if (id == latest_main_) last_end_ = QStringLiteral("cancelled");
    onEnded(id);
    // A lever move supersedes every older request, the comparison's too: queue it again.
    if (was_compare && compare_scenario_) {
      compare_pending_ = post(Slot::kCompare, compare_scenario_, false);
      return;
    }
    if (id == latest_main_) emit runCancelled();
  });
  connect(worker_, &EngineWorker::failed, this,
          [this](quint64 id, const QString& message, const Diagnostics& ds) {
            if (id == latest_main_) last_end_ = QStringLiteral("failed");
            onEnded(id);
            if (!ds.isEmpty()) setDiagnostics(ds);
            emit runFailed(message);
          });
  connect(worker_, &EngineWorker::exported, this, [this](const QString& db, qint64 run_id) {
    emit exportFinished(tr("Wrote run %1 to %2").arg(run_id).arg(db));
  });
  connect(worker_, &EngineWorker::exportFailed, this,
          [this](const QString& m) { emit exportFinished(tr("Export failed: %1").arg(m)); });
  connect(worker_, &EngineWorker::databaseOpened, this, &Controller::databaseOpened);
  connect(worker_, &EngineWorker::databaseFailed, this, &Controller::databaseFailed);
  thread_.setObjectName(QStringLiteral("jevons-engine"));
  thread_.start();

  debounce_.setSingleShot(true);
  debounce_.setInterval(options.debounce_ms);
  connect(&debounce_, &QTimer::timeout, this, [this] { startRun(false); });
}

Controller::~Controller() {
  worker_->cancel_up_to(next_id_);
  thread_.quit();
  thread_.wait();
}

std::shared_ptr<const Scenario> Controller::validate(const std::string& text,
                                                     const std::string& path,
                                                     Diagnostics* out) const {
  try {
    return std::make_shared<const Scenario>(Scenario::parse(text, path, *catalog_));
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) out->append(DiagnosticItem::from(d));
  } catch (const std::exception& e) {
    DiagnosticItem d;
    d.message = QString::fromStdString(e.what());
    out->append(d);
  }
  return nullptr;
}

void Controller::setDiagnostics(const Diagnostics& d) {
  diagnostics_ = d;
  emit diagnosticsChanged(diagnostics_);
}

bool Controller::openFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    DiagnosticItem d;
    d.file = path;
    d.message = tr("cannot read the file: %1").arg(f.errorString());
    setDiagnostics({d});
    return false;
  }
  path_ = QFileInfo(path).absoluteFilePath();
  // Another file: its own levers, not the previous file's.
  const bool ok = applyText(QString::fromUtf8(f.readAll()), false);
  modified_ = false;
  if (ok) addRecent(path_);
  return ok;
}

bool Controller::setText(const QString& yaml) {
  return applyText(yaml, true);
}

bool Controller::applyText(const QString& yaml, bool keep_levers) {
  if (yaml != text_) {
    text_ = yaml;
    modified_ = true;
    emit textChanged(text_);
  }
  Diagnostics ds;
  auto s = validate(text_.toStdString(), path_.toStdString(), &ds);
  setDiagnostics(ds);
  if (!s) {
    updateStale();
    return false;
  }
  const Levers old_base = base_levers_, moved = levers_;
  const bool had_planner = hasPlanner();
  base_ = s;
  effective_ = s;
  base_levers_ = levers_from(*s);
  levers_ = base_levers_;
  if (keep_levers && had_planner && s->planner && moved != old_base) {
    QStringList followed;
    const Levers next = carry_levers(old_base, moved, base_levers_, &followed);
    QString why;
    if (next != base_levers_) {
      Diagnostics lds;
      std::shared_ptr<const Scenario> e;
      try {
        e = validate(apply_levers(text_.toStdString(), *s, base_levers_, next, *catalog_),
                     path_.toStdString(), &lds);
      } catch (const InputError& err) {
        why = QString::fromStdString(err.what());
      }
      if (e) {
        levers_ = next;
        effective_ = e;
      } else if (why.isEmpty() && !lds.isEmpty()) {
        why = lds.first().text();
      }
    }
    if (!why.isEmpty())
      emit leversNotice(tr("Levers reset to the edited YAML: the moved levers do not apply to "
                           "it (%1).")
                            .arg(why.section('\n', 0, 0)));
    else if (!followed.isEmpty())
      emit leversNotice(tr("Levers kept; %1 now follow the YAML edit, which changed them.")
                            .arg(followed.join(QStringLiteral(", "))));
    else
      emit leversNotice(
          tr("Levers kept: the edited YAML runs with the moved levers (Ctrl+B "
             "writes them into it)."));
  }
  emit scenarioChanged();
  emit leversChanged(levers_);
  // A new scenario runs at once, simulation included; only lever moves wait for quiet.
  debounce_.stop();
  startRun(true);
  updateStale();
  return true;
}

bool Controller::save(const QString& path) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return false;
  f.write(text_.toUtf8());
  if (!f.commit()) return false;
  path_ = QFileInfo(path).absoluteFilePath();
  modified_ = false;
  addRecent(path_);
  return true;
}

bool Controller::setLevers(const Levers& levers) {
  if (!base_ || !base_->planner) return false;
  if (levers == levers_) return true;
  Diagnostics ds;
  std::shared_ptr<const Scenario> s;
  try {
    const std::string text =
        apply_levers(text_.toStdString(), *base_, base_levers_, levers, *catalog_);
    s = validate(text, path_.toStdString(), &ds);
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) ds.append(DiagnosticItem::from(d));
  }
  setDiagnostics(ds);
  if (!s) {
    emit leversChanged(levers_);  // the views snap back to the last valid values
    return false;
  }
  levers_ = levers;
  effective_ = s;
  emit leversChanged(levers_);
  debounce_.start();
  updateStale();
  return true;
}

QString Controller::effectiveText() const {
  return effective_ ? QString::fromStdString(effective_->text) : text_;
}

void Controller::bakeLevers() {
  if (levers_ == base_levers_) return;
  // The levers are in the text now: the relative ones (growth ×, price ×) must not apply twice.
  applyText(effectiveText(), false);
}

quint64 Controller::post(Slot slot, std::shared_ptr<const Scenario> scenario, bool simulate) {
  RunRequest r;
  r.id = next_id_++;
  r.slot = slot;
  r.scenario = std::move(scenario);
  r.project = true;
  r.simulate = simulate;
  const bool was_busy = busy();
  in_flight_.append(r.id);
  if (!was_busy) emit busyChanged(true);
  emit requestRun(r);
  return r.id;
}

void Controller::startRun(bool simulate) {
  if (!effective_) return;
  const quint64 id = post(Slot::kMain, effective_, simulate);
  // Everything older is superseded: a queued request is skipped, a running one stops at its
  // next progress report.
  worker_->cancel_up_to(id - 1);
  latest_main_ = id;
  latest_main_simulates_ = simulate;
  last_end_.clear();
  updateStale();
}

void Controller::run() {
  debounce_.stop();
  startRun(true);
}

void Controller::cancel() {
  debounce_.stop();
  compare_pending_ = 0;
  // Everything posted so far; not next_id_ itself, or the run after Esc would be cancelled too.
  worker_->cancel_up_to(next_id_ - 1);
  updateStale();
}

void Controller::onStarted(quint64 id) {
  if (id == latest_main_ || id == compare_pending_) emit runStarted(id);
}

void Controller::onEnded(quint64 id) {
  in_flight_.removeAll(id);
  if (id == compare_pending_) compare_pending_ = 0;
  if (!busy()) emit busyChanged(false);
  updateStale();
}

void Controller::updateStale() {
  QString why;
  if (!result_.empty()) {
    if (base_ && text_.toStdString() != base_->text)
      why = tr("the YAML text has errors; the charts show the last valid scenario");
    else if (result_.capacity_method == QStringLiteral("database"))
      why = tr("a stored run from a results database, not the levers and YAML");
    else if (effective_ && result_.scenario_text != effective_->text)
      why = busy() || debounce_.isActive() ? tr("a run is pending for the new levers or YAML")
            : last_end_ == QStringLiteral("cancelled")
                ? tr("the run was cancelled; F5 runs it again")
            : last_end_ == QStringLiteral("failed")
                ? tr("the run failed; see the status bar")
                : tr("the levers or YAML changed since this run; F5 runs it");
  }
  if (why == stale_) return;
  stale_ = why;
  emit staleChanged(stale_);
}

QString Controller::capacityNote() const {
  return capacity_mode_note(result_, last_simulated_);
}

void Controller::onFinished(const ResultSnapshot& snapshot) {
  const quint64 id = snapshot.request_id;
  const bool compare = snapshot.slot == Slot::kCompare && id == compare_pending_;
  onEnded(id);
  if (compare) {
    comparison_ = snapshot;
    emit comparisonReady(comparison_);
    return;
  }
  if (id != latest_main_) return;  // finished just as a newer request superseded it
  ResultSnapshot s = snapshot;
  // Levers move the planner only: keep the simulation of the same scenario rather than re-run
  // a multi-second simulation on every drag.
  if (!latest_main_simulates_ && !s.simulation && result_.simulation &&
      result_.scenario_path == s.scenario_path)
    s.simulation = result_.simulation;
  result_ = s;
  if (s.capacity_method == QStringLiteral("simulated")) last_simulated_ = s;
  updateStale();
  emit resultReady(result_);
}

bool Controller::compareWithFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return false;
  Diagnostics ds;
  auto s =
      validate(f.readAll().toStdString(), QFileInfo(path).absoluteFilePath().toStdString(), &ds);
  if (!s) {
    setDiagnostics(ds);
    return false;
  }
  // Compare like with like: the comparison uses the main scenario's capacity method.
  if (s->planner && base_ && base_->planner &&
      levers_.analytical_capacity != !s->planner->simulate_capacity) {
    auto copy = std::make_shared<Scenario>(*s);
    copy->planner->simulate_capacity = !levers_.analytical_capacity;
    s = copy;
  }
  compare_scenario_ = s;
  compare_pending_ = post(Slot::kCompare, s, false);
  return true;
}

void Controller::pinComparison() {
  if (result_.empty()) return;
  compare_scenario_.reset();
  comparison_ = result_;
  comparison_.slot = Slot::kCompare;
  comparison_.scenario_name += tr(" (pinned)");
  emit comparisonReady(comparison_);
}

void Controller::clearComparison() {
  compare_scenario_.reset();
  compare_pending_ = 0;
  comparison_ = ResultSnapshot{};
  comparison_.slot = Slot::kCompare;
  emit comparisonReady(comparison_);
}

void Controller::exportSqlite(const QString& db_path) {
  if (result_.empty()) {
    emit exportFinished(tr("Nothing to export yet"));
    return;
  }
  emit requestExport(result_, db_path);
}

bool Controller::exportCsv(const QString& csv_path, QString* error) const {
  if (!result_.projection) {
    if (error) *error = tr("the current result has no projection");
    return false;
  }
  QSaveFile f(csv_path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) {
    if (error) *error = f.errorString();
    return false;
  }
  QTextStream out(&f);
  out << "variant,quarter_index,quarter,demand_tokens_per_s,peak_tokens_per_s,"
         "unserved_peak_tokens_per_s,cost_usd_per_mtok,gpus_installed,gpus_powered,"
         "hbm_installed_bytes,hbm_weight_bytes,hbm_kv_bytes,hbm_idle_bytes,"
         "host_dram_baseline_bytes,host_dram_offload_bytes,host_dram_prefix_bytes,energy_mwh,"
         "power_mw\n";
  out.setRealNumberPrecision(17);
  for (const auto& t : result_.projection->totals) {
    out << QString::fromStdString(to_string(t.variant)) << ',' << t.quarter << ','
        << QString::fromStdString(t.label);
    for (double v :
         {t.demand_tokens_per_s, t.peak_tokens_per_s, t.unserved_peak_tokens_per_s,
          t.cost_usd_per_mtok, t.gpus_installed, t.gpus_powered, t.hbm_installed_bytes,
          t.hbm_weight_bytes, t.hbm_kv_bytes, t.hbm_idle_bytes, t.host_dram_baseline_bytes,
          t.host_dram_offload_bytes, t.host_dram_prefix_bytes, t.energy_mwh, t.power_mw})
      out << ',' << v;
    out << '\n';
  }
  out.flush();
  if (!f.commit()) {
    if (error) *error = f.errorString();
    return false;
  }
  return true;
}

void Controller::openDatabase(const QString& db_path) {
  emit requestOpenDatabase(db_path);
}

void Controller::loadStoredRun(const QString& db_path, qint64 run_id) {
  // Shown as the main result: it supersedes any run in flight.
  const quint64 id = next_id_++;
  worker_->cancel_up_to(id - 1);
  latest_main_ = id;
  latest_main_simulates_ = true;
  emit requestLoadRun(db_path, run_id, id);
}

QStringList Controller::recentFiles() const {
  return QSettings().value(kRecentKey).toStringList();
}

void Controller::addRecent(const QString& path) {
  QSettings settings;
  QStringList list = settings.value(kRecentKey).toStringList();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > kMaxRecent) list.removeLast();
  settings.setValue(kRecentKey, list);
  emit recentFilesChanged();
}

QStringList Controller::bundledScenarios() {
  QStringList dirs;
  if (const QByteArray env = qgetenv("JEVONS_SCENARIO_DIR"); !env.isEmpty())
    dirs << QString::fromLocal8Bit(env);
  dirs << QCoreApplication::applicationDirPath() + QStringLiteral("/../share/jevons/scenarios")
       << QStringLiteral(JEVONS_GUI_SCENARIO_DIR);
  for (const QString& d : dirs) {
    QDir dir(d);
    if (d.isEmpty() || !dir.exists()) continue;
    QStringList out;
    for (const QString& f : dir.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
      out << dir.absoluteFilePath(f);
    if (!out.isEmpty()) return out;
  }
  return {};
}

}  // namespace jevons::gui
