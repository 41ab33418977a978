#include "engine_worker.h"

#include <QThread>
#include <chrono>
#include <filesystem>

#include "jevons/core/capacity.h"
#include "jevons/planner/projection.h"
#include "jevons/session/capacity_estimate.h"
#include "jevons/session/session.h"
#include "jevons/simulator/simulate.h"
#include "jevons/store/readers.h"
#include "jevons/store/store.h"

namespace jevons::gui {

namespace {

// Thrown from the engine's progress callbacks to abandon a run; caught in run(). It is not an
// InputError or a std::exception so no engine code can mistake it for a failure and swallow it.
struct Cancelled {};

using Clock = std::chrono::steady_clock;

// Seconds per simulated capacity search before one has been timed in this session: a cold
// default-scenario run on the shared 2-core development machine ran 144 searches in 58 s of
// wall-clock time (28 s of CPU), 0.4 s each.
constexpr double kPriorSecondsPerSearch = 0.4;

// Progress is reported at most every 100 ms of wall-clock time (about 10 Hz, Lesson 10): more
// would flood the interface's event queue during a cold capacity search.
class ProgressGate {
 public:
  bool open(const QString& stage) {
    const auto now = Clock::now();
    if (stage == stage_ && now - last_ < std::chrono::milliseconds(100)) return false;
    stage_ = stage;
    last_ = now;
    return true;
  }

 private:
  QString stage_;
  Clock::time_point last_{};
};

}  // namespace

EngineWorker::EngineWorker(std::shared_ptr<const Catalog> catalog, QObject* parent)
    : QObject(parent),
      catalog_(std::move(catalog)),
      oracles_(std::make_unique<session::OracleRegistry>(*catalog_)) {}

EngineWorker::~EngineWorker() = default;

std::string EngineWorker::cache_path(const Scenario& s) {
  return session::capacity_cache_path(s);
}

void EngineWorker::run(const RunRequest& request) {
  const quint64 id = request.id;
  // A newer request superseded this one while it waited in the queue.
  if (id <= cancel_up_to_.load()) {
    emit cancelled(id);
    return;
  }
  emit started(id);
  const Scenario& s = *request.scenario;
  const auto t0 = Clock::now();
  ResultSnapshot snap;
  snap.request_id = id;
  snap.slot = request.slot;
  snap.scenario_name = QString::fromStdString(s.name);
  snap.scenario_path = QString::fromStdString(s.path);
  snap.scenario_text = s.text;
  snap.seed = s.seed;

  ProgressGate gate;
  auto report = [&](const QString& stage, double fraction) {
    if (id <= cancel_up_to_.load()) throw Cancelled{};
    if (gate.open(stage)) emit progress(id, stage, fraction);
  };

  session::Oracles* oracles = nullptr;
  try {
    if (request.project && s.planner) {
      oracles = &oracles_->for_path(cache_path(s));
      planner::CachedOracle& oracle = oracles->for_scenario(s);
      planner::ProjectionOptions po;
      po.progress = [&](const std::string& stage, double f) {
        report(QString::fromStdString(stage), f);
      };
      if (s.planner->simulate_capacity) {
        // The three variants first, without the elasticity sweeps (a few per cent of a run's
        // time): when they need no search the sweeps rarely do, and a warm re-run stays fast.
        // Otherwise the whole projection is replayed for the full count.
        planner::ProjectionOptions variants_only = po;
        variants_only.break_even = false;
        variants_only.sensitivity = false;
        if (session::uncached_searches(s, *catalog_, oracle, variants_only) > 0) {
          const auto n = session::uncached_searches(s, *catalog_, oracle, po);
          const bool measured = seconds_per_search_ > 0;
          emit estimate(
              id, n,
              static_cast<double>(n) * (measured ? seconds_per_search_ : kPriorSecondsPerSearch),
              measured);
        }
      }
      const auto t_project = Clock::now();
      // The session layer saves the cache also when a cancel interrupts the projection:
      // searches finished before it stay cached and the next run starts warmer.
      session::ProjectionRun run = session::run_projection(s, *catalog_, *oracles, po);
      snap.capacity_method = QString::fromStdString(run.capacity_method);
      snap.cache_hits = run.cache_hits;
      snap.cache_misses = run.cache_misses;
      // Timed over the whole projection, so only runs where searches dominate its time count:
      // one search in a 0.6 s warm replay would read as 0.6 s per search.
      if (s.planner->simulate_capacity && snap.cache_misses >= 10)
        seconds_per_search_ = std::chrono::duration<double>(Clock::now() - t_project).count() /
                              static_cast<double>(snap.cache_misses);
      snap.projection = std::make_shared<const Projection>(std::move(run.projection));
    }
    if (request.simulate && s.simulation) {
      snap.simulation = std::make_shared<const SimulationReport>(
          simulate(s, *catalog_, std::nullopt,
                   [&](double f, std::uint64_t) { report(QStringLiteral("simulation"), f); }));
    }
  } catch (const Cancelled&) {
    emit cancelled(id);
    return;
  } catch (const InputError& e) {
    Diagnostics ds;
    for (const auto& d : e.diagnostics()) ds.append(DiagnosticItem::from(d));
    emit failed(id, QString::fromStdString(e.what()), ds);
    return;
  } catch (const std::exception& e) {
    emit failed(id, QString::fromStdString(e.what()), {});
    return;
  }
  snap.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  emit finished(snap);
}

void EngineWorker::exportSqlite(const ResultSnapshot& snap, const QString& db_path) {
  try {
    // The scenario is re-parsed from the text the engine ran so the static-capacity tables are
    // written too, exactly as `jevons run` would.
    const Scenario s =
        Scenario::parse(snap.scenario_text, snap.scenario_path.toStdString(), *catalog_);
    const StaticCapacity cap = compute_static_capacity(s, *catalog_);
    store::Store st(db_path.toStdString());
    store::RunInfo info;
    info.scenario_name = s.name;
    info.scenario_path = s.path;
    info.scenario_text = s.text;
    info.seed = s.seed;
    const auto run_id =
        session::store_run(st, info, {&cap, snap.simulation.get(), snap.projection.get()});
    emit exported(db_path, run_id);
  } catch (const std::exception& e) {
    emit exportFailed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::openDatabase(const QString& db_path) {
  try {
    if (!std::filesystem::exists(db_path.toStdString()))
      throw std::runtime_error("no such file: " + db_path.toStdString());
    store::Store st(db_path.toStdString());
    StoredRuns runs;
    for (const auto& r : store::list_runs(st))
      runs.append({r.run_id, QString::fromStdString(r.kind),
                   QString::fromStdString(r.scenario_name),
                   QString::fromStdString(r.started_at_utc), r.wall_time_ms});
    emit databaseOpened(db_path, runs);
  } catch (const std::exception& e) {
    emit databaseFailed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::loadStoredRun(const QString& db_path, qint64 run_id, quint64 request_id) {
  try {
    store::Store st(db_path.toStdString());
    const auto run = store::read_run(st, run_id);
    if (!run) throw std::runtime_error("no run " + std::to_string(run_id));
    ResultSnapshot snap;
    snap.request_id = request_id;
    snap.capacity_method = QStringLiteral("database");
    snap.scenario_name =
        QString::fromStdString(run->scenario_name) + QStringLiteral(" (run %1)").arg(run_id);
    snap.scenario_path = QString::fromStdString(run->scenario_path);
    snap.scenario_text = run->scenario_text;
    snap.seed = run->seed;
    if (run->kind == "projection")
      snap.projection = std::make_shared<const Projection>(store::read_projection(st, run_id));
    // A projection run also holds a simulation when its scenario had a simulation: section.
    if (run->kind == "projection" || run->kind == "simulation") {
      try {
        snap.simulation =
            std::make_shared<const SimulationReport>(store::read_simulation(st, run_id));
      } catch (const store::StoreError&) {
        if (run->kind == "simulation") throw;
      }
    }
    if (!snap.projection && !snap.simulation)
      throw std::runtime_error("run " + std::to_string(run_id) + " is a " + run->kind +
                               " run; only projection and simulation runs can be charted");
    emit finished(snap);
  } catch (const std::exception& e) {
    emit databaseFailed(QString::fromStdString(e.what()));
  }
}

}  // namespace jevons::gui
