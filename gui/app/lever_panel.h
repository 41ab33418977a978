#pragma once
/// \file The levers: sliders, spin boxes and combo boxes for the parameters analysts move most,
/// each with a one-sentence tooltip. The panel only edits a Levers value; the controller
/// validates it and schedules the run.

#include <QHash>
#include <QWidget>

#include "levers.h"
#include "snapshot.h"

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;
class QCheckBox;
class QTableView;
class QFormLayout;
class QPushButton;

namespace jevons::gui {

class GenerationsModel;

class LeverPanel : public QWidget {
  Q_OBJECT

 public:
  explicit LeverPanel(QWidget* parent = nullptr);

 public slots:
  /// Shows `levers`; `base` (the scenario's own values) anchors the relative levers.
  void setLevers(const jevons::gui::Levers& levers, const jevons::gui::Levers& base,
                 const jevons::HorizonSpec& horizon);
  /// Marks the levers whose keys the loader rejected (red, the message as tooltip): a lever move
  /// the loader refuses snaps back, and the mark says why. Empty diagnostics clear the marks.
  void markErrors(const jevons::gui::Diagnostics& diagnostics);

 signals:
  void leversEdited(const jevons::gui::Levers& levers);
  void resetRequested();
  void bakeRequested();

 private:
  QDoubleSpinBox* addSlider(QFormLayout* form, const QString& label, const QString& tip, double min,
                            double max, double step, int decimals, const QString& suffix = {});
  void emitEdited();
  /// The widget of each lever.
  QHash<Lever, QWidget*> leverWidgets() const;

  Levers levers_;
  Levers base_;
  HorizonSpec horizon_;
  QComboBox* baseline_ = nullptr;
  QComboBox* compressed_ = nullptr;
  QDoubleSpinBox* eps_short_ = nullptr;
  QDoubleSpinBox* eps_long_ = nullptr;
  QDoubleSpinBox* growth_ = nullptr;
  QComboBox* adoption_start_ = nullptr;
  QDoubleSpinBox* adoption_speed_ = nullptr;
  QDoubleSpinBox* adoption_ceiling_ = nullptr;
  QSpinBox* rubin_delay_ = nullptr;
  QTableView* generations_ = nullptr;
  GenerationsModel* generations_model_ = nullptr;
  QDoubleSpinBox* gpu_price_ = nullptr;
  QDoubleSpinBox* power_price_ = nullptr;
  QDoubleSpinBox* slo_scale_ = nullptr;
  QDoubleSpinBox* slo_attainment_ = nullptr;
  QCheckBox* analytical_ = nullptr;
  QPushButton* reset_ = nullptr;
  QPushButton* bake_ = nullptr;
  bool updating_ = false;
  QHash<QWidget*, QString> tooltips_;  ///< the marked widgets' own tooltips
};

}  // namespace jevons::gui
