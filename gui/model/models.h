#pragma once
/// \file Qt item models over snapshots. Each takes a whole snapshot in resetData() (never a
/// pointer into engine state) and drives a table view; the charts read the same snapshot through
/// chart_data.h.

#include <QAbstractListModel>
#include <QAbstractTableModel>
#include <vector>

#include "levers.h"
#include "snapshot.h"

namespace jevons::gui {

/// The projection's quarterly totals, one row per (variant, quarter), in display units.
class QuarterTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 public slots:
  void resetData(const jevons::gui::ResultSnapshot& snapshot);

 private:
  std::vector<QuarterTotals> rows_;
};

/// Loader diagnostics; Qt::UserRole holds the 1-based line (0 = unknown).
class DiagnosticsModel : public QAbstractListModel {
  Q_OBJECT

 public:
  static constexpr int kLineRole = Qt::UserRole;
  static constexpr int kColumnRole = Qt::UserRole + 1;
  using QAbstractListModel::QAbstractListModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 public slots:
  void resetData(const jevons::gui::Diagnostics& diagnostics);

 private:
  Diagnostics items_;
};

/// The runs of a results database.
class StoredRunsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  const StoredRun& run(int row) const { return runs_[row]; }

 public slots:
  void resetData(const jevons::gui::StoredRuns& runs);

 private:
  StoredRuns runs_;
};

/// The fleet's delivery schedule as an editable table (installed, deliveries per quarter, first
/// delivery quarter, the generation's own compressed KV format; "" = the planner-wide one). Edits
/// emit generationsEdited with the whole new list; the controller decides whether they are valid.
class GenerationsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  void setHorizon(const HorizonSpec& h) { horizon_ = h; }

 public slots:
  void resetData(const QList<jevons::gui::GenerationLever>& generations);

 signals:
  void generationsEdited(const QList<jevons::gui::GenerationLever>& generations);

 private:
  QList<GenerationLever> gens_;
  HorizonSpec horizon_;
};

}  // namespace jevons::gui
