#pragma once
/// \file The scenario as a form and as raw YAML. Loader errors are marked inline at the offending
/// line and column (a red underline, a marker in the line-number gutter, the message as the
/// line's tooltip) and listed below the editor.

#include <QPlainTextEdit>
#include <QTimer>
#include <QWidget>

#include "levers.h"
#include "snapshot.h"

class QDoubleSpinBox;
class QGroupBox;
class QLineEdit;
class QSpinBox;
class QTableWidget;
class QListView;
class QTabWidget;
class QPaintEvent;

namespace jevons::gui {

class Controller;
class DiagnosticsModel;

/// A plain-text editor with a line-number gutter and diagnostics drawn on their lines.
class YamlEdit : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit YamlEdit(QWidget* parent = nullptr);
  void setDiagnostics(const Diagnostics& d);
  void goToLine(int line, int column);
  int gutterWidth() const;
  void paintGutter(QPaintEvent* e);

 protected:
  void resizeEvent(QResizeEvent* e) override;
  bool event(QEvent* e) override;

 private:
  QWidget* gutter_;
  Diagnostics diagnostics_;
};

class ScenarioEditor : public QWidget {
  Q_OBJECT

 public:
  ScenarioEditor(Controller* controller, QWidget* parent = nullptr);
  YamlEdit* yaml() const { return yaml_; }
  /// The form's current values (what Apply writes), for tests.
  ScenarioForm formValues() const;
  /// Applies the form to the YAML text: only fields that differ from the scenario are written.
  void applyForm();
  QTableWidget* classesTable() const { return classes_; }
  QTableWidget* poolsTable() const { return pools_; }

 private:
  void loadForm();
  /// Marks form fields and cells named by loader diagnostics (red, with the message as tooltip).
  void markFormErrors(const Diagnostics& d);

  Controller* controller_;
  QTabWidget* tabs_;
  YamlEdit* yaml_;
  QListView* diagnostics_view_;
  DiagnosticsModel* diagnostics_;
  QTimer validate_timer_;
  QLineEdit* name_;
  QLineEdit* description_;
  QLineEdit* seed_;
  QLineEdit* horizon_start_;
  QSpinBox* quarters_;
  QGroupBox* pools_box_;
  QTableWidget* pools_;
  QGroupBox* classes_box_;
  QTableWidget* classes_;
  QGroupBox* economics_box_;
  QDoubleSpinBox* lifetime_;
  QDoubleSpinBox* server_mult_;
  QDoubleSpinBox* power_price_;
  QDoubleSpinBox* utilization_;
  QDoubleSpinBox* default_price_;
  ScenarioForm form_base_;
  bool loading_ = false;
};

}  // namespace jevons::gui
