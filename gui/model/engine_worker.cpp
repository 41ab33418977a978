#include "engine_worker.h"

#include <QThread>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "capacity_estimate.h"
#include "jevons/core/capacity.h"
#include "jevons/planner/projection.h"
#include "jevons/simulator/simulate.h"
#include "jevons/store/capacity_writer.h"
#include "jevons/store/projection_writer.h"
#include "jevons/store/simulation_writer.h"
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

Variant variant_from(const std::string& s) {
  if (s == "counterfactual") return Variant::kCounterfactual;
  if (s == "efficiency") return Variant::kEfficiency;
  return Variant::kFull;
}

}  // namespace

struct EngineWorker::Oracles {
  Oracles(const Catalog& catalog, const std::string& path)
      : simulated(catalog, std::nullopt),
        cached_simulated(simulated, path),
        // The closed form costs microseconds; keeping it in memory only avoids two caches
        // racing to write one file. It still goes through CachedOracle so prompt scales
        // interpolate exactly as the CLI's do.
        cached_analytical(analytical, "") {}
  planner::AnalyticalOracle analytical;
  planner::SimulatedOracle simulated;
  planner::CachedOracle cached_simulated;
  planner::CachedOracle cached_analytical;
};

EngineWorker::EngineWorker(std::shared_ptr<const Catalog> catalog, QObject* parent)
    : QObject(parent), catalog_(std::move(catalog)) {}

EngineWorker::~EngineWorker() = default;

std::string EngineWorker::cache_path(const Scenario& s) {
  namespace fs = std::filesystem;
  if (s.planner && !s.planner->capacity_cache_path.empty()) {
    const fs::path p(s.planner->capacity_cache_path);
    return p.is_absolute() ? p.string()
                           : (fs::path(s.path).parent_path() / p).lexically_normal().string();
  }
  fs::path dir;
  if (const char* d = std::getenv("JEVONS_CACHE_DIR"); d && *d) {
    dir = d;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    dir = fs::path(x) / "jevons";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    dir = fs::path(h) / ".cache" / "jevons";
  } else {
    return "";
  }
  return (dir / "capacity-cache.json").string();
}

EngineWorker::Oracles& EngineWorker::oracles_for(const std::string& path) {
  auto it = oracles_.find(path);
  if (it == oracles_.end())
    it = oracles_.emplace(path, std::make_unique<Oracles>(*catalog_, path)).first;
  return *it->second;
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

  planner::CachedOracle* oracle = nullptr;
  std::uint64_t hits0 = 0, misses0 = 0;
  try {
    if (request.project && s.planner) {
      Oracles& o = oracles_for(cache_path(s));
      oracle = s.planner->simulate_capacity ? &o.cached_simulated : &o.cached_analytical;
      hits0 = oracle->hits();
      misses0 = oracle->misses();
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
        if (uncached_searches(s, *catalog_, *oracle, variants_only) > 0) {
          const auto n = uncached_searches(s, *catalog_, *oracle, po);
          const bool measured = seconds_per_search_ > 0;
          emit estimate(
              id, n,
              static_cast<double>(n) * (measured ? seconds_per_search_ : kPriorSecondsPerSearch),
              measured);
        }
      }
      const auto t_project = Clock::now();
      snap.projection =
          std::make_shared<const Projection>(planner::project(s, *catalog_, *oracle, po));
      snap.capacity_method = QString::fromStdString(oracle->method());
      snap.cache_hits = oracle->hits() - hits0;
      snap.cache_misses = oracle->misses() - misses0;
      // Timed over the whole projection, so only runs where searches dominate its time count:
      // one search in a 0.6 s warm replay would read as 0.6 s per search.
      if (s.planner->simulate_capacity && snap.cache_misses >= 10)
        seconds_per_search_ = std::chrono::duration<double>(Clock::now() - t_project).count() /
                              static_cast<double>(snap.cache_misses);
      oracle->save();
    }
    if (request.simulate && s.simulation) {
      snap.simulation = std::make_shared<const SimulationReport>(
          simulate(s, *catalog_, std::nullopt,
                   [&](double f, std::uint64_t) { report(QStringLiteral("simulation"), f); }));
    }
  } catch (const Cancelled&) {
    // Searches finished before the cancel stay cached: the next run starts warmer.
    if (oracle) oracle->save();
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
    info.kind = snap.projection ? "projection" : snap.simulation ? "simulation" : "static-capacity";
    info.scenario_name = s.name;
    info.scenario_path = s.path;
    info.scenario_text = s.text;
    info.seed = s.seed;
    const auto run_id = st.write_run(info, [&](std::int64_t rid) {
      store::write_static_capacity(st, rid, cap);
      if (snap.simulation) store::write_simulation(st, rid, *snap.simulation);
      if (snap.projection) store::write_projection(st, rid, *snap.projection);
    });
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
    auto q = st.prepare(
        "SELECT run_id, kind, scenario_name, started_at_utc, coalesce(wall_time_ms, 0) "
        "FROM runs ORDER BY run_id DESC");
    while (q.step())
      runs.append({q.column_int(0), QString::fromStdString(q.column_text(1)),
                   QString::fromStdString(q.column_text(2)),
                   QString::fromStdString(q.column_text(3)), q.column_int(4)});
    emit databaseOpened(db_path, runs);
  } catch (const std::exception& e) {
    emit databaseFailed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::loadStoredRun(const QString& db_path, qint64 run_id, quint64 request_id) {
  try {
    store::Store st(db_path.toStdString());
    ResultSnapshot snap;
    snap.request_id = request_id;
    snap.capacity_method = QStringLiteral("database");
    {
      auto q = st.prepare(
          "SELECT scenario_name, scenario_path, scenario_text, seed FROM runs WHERE run_id = ?1");
      q.bind(1, static_cast<std::int64_t>(run_id));
      if (!q.step()) throw std::runtime_error("no run " + std::to_string(run_id));
      snap.scenario_name =
          QString::fromStdString(q.column_text(0)) + QStringLiteral(" (run %1)").arg(run_id);
      snap.scenario_path = QString::fromStdString(q.column_text(1));
      snap.scenario_text = q.column_text(2);
      snap.seed = static_cast<std::uint64_t>(q.column_int(3));
    }
    auto p = std::make_shared<Projection>();
    {
      auto q = st.prepare(
          "SELECT variant, quarter_index, quarter, demand_tokens_per_s, peak_tokens_per_s, "
          "unserved_peak_tokens_per_s, cost_usd_per_mtok, gpus_installed, gpus_powered, "
          "hbm_installed_bytes, hbm_weight_bytes, hbm_kv_bytes, hbm_idle_bytes, "
          "host_dram_baseline_bytes, host_dram_offload_bytes, host_dram_prefix_bytes, energy_mwh, "
          "power_mw FROM projection_quarters WHERE run_id = ?1 ORDER BY variant, quarter_index");
      q.bind(1, static_cast<std::int64_t>(run_id));
      while (q.step()) {
        QuarterTotals t;
        t.variant = variant_from(q.column_text(0));
        t.quarter = static_cast<int>(q.column_int(1));
        t.label = q.column_text(2);
        double* f[] = {&t.demand_tokens_per_s,
                       &t.peak_tokens_per_s,
                       &t.unserved_peak_tokens_per_s,
                       &t.cost_usd_per_mtok,
                       &t.gpus_installed,
                       &t.gpus_powered,
                       &t.hbm_installed_bytes,
                       &t.hbm_weight_bytes,
                       &t.hbm_kv_bytes,
                       &t.hbm_idle_bytes,
                       &t.host_dram_baseline_bytes,
                       &t.host_dram_offload_bytes,
                       &t.host_dram_prefix_bytes,
                       &t.energy_mwh,
                       &t.power_mw};
        for (int i = 0; i < 15; ++i) *f[i] = q.column_double(3 + i);
        if (t.variant == Variant::kCounterfactual) {
          if (p->quarter_labels.size() <= static_cast<std::size_t>(t.quarter))
            p->quarter_labels.resize(static_cast<std::size_t>(t.quarter) + 1);
          p->quarter_labels[static_cast<std::size_t>(t.quarter)] = t.label;
        }
        p->totals.push_back(t);
      }
    }
    if (p->totals.empty())
      throw std::runtime_error("run " + std::to_string(run_id) +
                               " has no projection (only projection runs can be charted)");
    {
      auto q = st.prepare(
          "SELECT variant, quarter_index, gpu, installed, powered, serving, purchased, retired, "
          "compressed_share, hbm_installed_bytes, hbm_weight_bytes, hbm_kv_bytes, hbm_idle_bytes, "
          "host_dram_baseline_bytes, host_dram_offload_bytes, host_dram_prefix_bytes, energy_mwh, "
          "power_mw FROM projection_generations WHERE run_id = ?1");
      q.bind(1, static_cast<std::int64_t>(run_id));
      while (q.step()) {
        GenerationQuarter g;
        g.variant = variant_from(q.column_text(0));
        g.quarter = static_cast<int>(q.column_int(1));
        g.gpu_id = q.column_text(2);
        double* f[] = {&g.installed,
                       &g.powered,
                       &g.serving,
                       &g.purchased,
                       &g.retired,
                       &g.compressed_share,
                       &g.hbm_installed_bytes,
                       &g.hbm_weight_bytes,
                       &g.hbm_kv_bytes,
                       &g.hbm_idle_bytes,
                       &g.host_dram_baseline_bytes,
                       &g.host_dram_offload_bytes,
                       &g.host_dram_prefix_bytes,
                       &g.energy_mwh,
                       &g.power_mw};
        for (int i = 0; i < 15; ++i) *f[i] = q.column_double(3 + i);
        p->generations.push_back(g);
      }
    }
    {
      auto q = st.prepare(
          "SELECT quarter_index, metric, counterfactual, efficiency_effect, rebound_effect, net, "
          "with_compression FROM memory_decomposition WHERE run_id = ?1 ORDER BY quarter_index");
      q.bind(1, static_cast<std::int64_t>(run_id));
      while (q.step()) {
        Decomposition d;
        d.quarter = static_cast<int>(q.column_int(0));
        d.metric = q.column_text(1);
        d.counterfactual = q.column_double(2);
        d.efficiency_effect = q.column_double(3);
        d.rebound_effect = q.column_double(4);
        d.net = q.column_double(5);
        d.with_compression = q.column_double(6);
        p->decomposition.push_back(d);
      }
    }
    snap.projection = std::move(p);
    emit finished(snap);
  } catch (const std::exception& e) {
    emit databaseFailed(QString::fromStdString(e.what()));
  }
}

}  // namespace jevons::gui
