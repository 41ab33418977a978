#include "models.h"

#include "levers.h"

namespace jevons::gui {

namespace {
// Columns of QuarterTableModel: header, unit divisor, and the field.
struct Column {
  const char* header;
  double divisor;
  double (*get)(const QuarterTotals&);
};
const Column kColumns[] = {
    {"demand (Mtok/s)", 1e6, [](const QuarterTotals& t) { return t.demand_tokens_per_s; }},
    {"$ / Mtok", 1, [](const QuarterTotals& t) { return t.cost_usd_per_mtok; }},
    {"GPUs (M)", 1e6, [](const QuarterTotals& t) { return t.gpus_installed; }},
    {"HBM installed (PB)", 1e15, [](const QuarterTotals& t) { return t.hbm_installed_bytes; }},
    {"HBM weights (PB)", 1e15, [](const QuarterTotals& t) { return t.hbm_weight_bytes; }},
    {"HBM KV (PB)", 1e15, [](const QuarterTotals& t) { return t.hbm_kv_bytes; }},
    {"HBM idle (PB)", 1e15, [](const QuarterTotals& t) { return t.hbm_idle_bytes; }},
    {"DRAM base (PB)", 1e15, [](const QuarterTotals& t) { return t.host_dram_baseline_bytes; }},
    {"DRAM offload (PB)", 1e15, [](const QuarterTotals& t) { return t.host_dram_offload_bytes; }},
    {"DRAM prefix (PB)", 1e15, [](const QuarterTotals& t) { return t.host_dram_prefix_bytes; }},
    {"power (MW)", 1, [](const QuarterTotals& t) { return t.power_mw; }},
};
constexpr int kFixed = 2;  // quarter, variant
constexpr int kNumColumns = kFixed + static_cast<int>(std::size(kColumns));
}  // namespace

int QuarterTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int QuarterTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kNumColumns;
}
QVariant QuarterTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const QuarterTotals& t = rows_[static_cast<std::size_t>(index.row())];
  const int c = index.column();
  if (role == Qt::TextAlignmentRole && c >= kFixed)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole && role != Qt::EditRole) return {};
  if (c == 0) return QString::fromStdString(t.label);
  if (c == 1) return QString::fromStdString(to_string(t.variant));
  const Column& col = kColumns[c - kFixed];
  const double v = col.get(t) / col.divisor;
  return role == Qt::EditRole ? QVariant(v) : QVariant(QString::number(v, 'f', v < 10 ? 3 : 1));
}
QVariant QuarterTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == 0) return tr("quarter");
  if (section == 1) return tr("variant");
  return tr(kColumns[section - kFixed].header);
}
void QuarterTableModel::resetData(const ResultSnapshot& snapshot) {
  beginResetModel();
  rows_.clear();
  if (snapshot.projection) {
    rows_ = snapshot.projection->totals;
    std::stable_sort(rows_.begin(), rows_.end(), [](const auto& a, const auto& b) {
      return a.quarter != b.quarter ? a.quarter < b.quarter : a.variant < b.variant;
    });
  }
  endResetModel();
}

int DiagnosticsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(items_.size());
}
QVariant DiagnosticsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const DiagnosticItem& d = items_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
      return d.text();
    case Qt::ToolTipRole:
      return d.text();
    case kLineRole:
      return d.line;
    case kColumnRole:
      return d.column;
    default:
      return {};
  }
}
void DiagnosticsModel::resetData(const Diagnostics& diagnostics) {
  beginResetModel();
  items_ = diagnostics;
  endResetModel();
}

int StoredRunsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}
int StoredRunsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : 5;
}
QVariant StoredRunsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || role != Qt::DisplayRole) return {};
  const StoredRun& r = runs_[index.row()];
  switch (index.column()) {
    case 0:
      return r.run_id;
    case 1:
      return r.kind;
    case 2:
      return r.scenario_name;
    case 3:
      return r.started_at_utc;
    default:
      return QString::number(static_cast<double>(r.wall_time_ms) / 1000.0, 'f', 2);
  }
}
QVariant StoredRunsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"run", "kind", "scenario", "started (UTC)", "wall (s)"};
  return tr(h[section]);
}
void StoredRunsModel::resetData(const StoredRuns& runs) {
  beginResetModel();
  runs_ = runs;
  endResetModel();
}

int GenerationsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(gens_.size());
}
int GenerationsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : 5;
}
QVariant GenerationsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const GenerationLever& g = gens_[index.row()];
  if (role == Qt::ToolTipRole) {
    static const char* tips[] = {
        "GPU generation (catalog id).", "GPUs of this generation installed at the horizon start.",
        "Most new GPUs of this generation that can be delivered per quarter.",
        "First quarter this generation can be delivered (delay Rubin by moving this).",
        "KV format this generation adopts instead of the planner-wide compressed format "
        "(empty = planner-wide)."};
    return tr(tips[index.column()]);
  }
  if (index.column() == 4 && g.compressed_format.isEmpty() && role == Qt::DisplayRole)
    return tr("(planner)");
  if (role != Qt::DisplayRole && role != Qt::EditRole) return {};
  switch (index.column()) {
    case 0:
      return g.gpu;
    case 1:
      return role == Qt::EditRole ? QVariant(g.installed)
                                  : QVariant(QString::number(g.installed / 1e3, 'f', 0) + "k");
    case 2:
      return role == Qt::EditRole
                 ? QVariant(g.deliveries_per_quarter)
                 : QVariant(QString::number(g.deliveries_per_quarter / 1e3, 'f', 0) + "k");
    case 3:
      return role == Qt::EditRole ? QVariant(g.available_quarter_index)
                                  : QVariant(quarter_label(horizon_, g.available_quarter_index));
    default:
      return g.compressed_format;
  }
}
QVariant GenerationsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"GPU", "installed", "per q", "from", "KV format"};
  return tr(h[section]);
}
Qt::ItemFlags GenerationsModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.column() > 0) f |= Qt::ItemIsEditable;
  return f;
}
bool GenerationsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || role != Qt::EditRole || index.column() == 0) return false;
  bool ok = false;
  QList<GenerationLever> next = gens_;
  GenerationLever& g = next[index.row()];
  if (index.column() == 4) {
    const QString f = value.toString().trimmed();
    if (f == g.compressed_format) return false;
    g.compressed_format = f;
  } else if (index.column() == 3) {
    const int q = value.toInt(&ok);
    if (!ok || q < 0) return false;
    g.available_quarter_index = q;
  } else {
    const double v = value.toDouble(&ok);
    if (!ok || v < 0) return false;
    (index.column() == 1 ? g.installed : g.deliveries_per_quarter) = v;
  }
  emit generationsEdited(next);
  return true;
}
void GenerationsModel::resetData(const QList<GenerationLever>& generations) {
  if (generations == gens_) {
    emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
    return;
  }
  beginResetModel();
  gens_ = generations;
  endResetModel();
}

}  // namespace jevons::gui
