#include "scenario_editor.h"

#include <QDoubleSpinBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHash>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBlock>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>

#include "controller.h"
#include "models.h"

namespace jevons::gui {

namespace {
class Gutter : public QWidget {
 public:
  explicit Gutter(YamlEdit* e) : QWidget(e), edit_(e) {}
  QSize sizeHint() const override { return {edit_->gutterWidth(), 0}; }

 protected:
  void paintEvent(QPaintEvent* e) override { edit_->paintGutter(e); }

 private:
  YamlEdit* edit_;
};
}  // namespace

YamlEdit::YamlEdit(QWidget* parent) : QPlainTextEdit(parent), gutter_(new Gutter(this)) {
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  setLineWrapMode(QPlainTextEdit::NoWrap);
  setTabChangesFocus(false);
  connect(this, &QPlainTextEdit::blockCountChanged, this,
          [this] { setViewportMargins(gutterWidth(), 0, 0, 0); });
  connect(this, &QPlainTextEdit::updateRequest, this, [this](const QRect& r, int dy) {
    if (dy)
      gutter_->scroll(0, dy);
    else
      gutter_->update(0, r.y(), gutter_->width(), r.height());
  });
  setViewportMargins(gutterWidth(), 0, 0, 0);
}

int YamlEdit::gutterWidth() const {
  int digits = 1;
  for (int n = std::max(1, blockCount()); n >= 10; n /= 10) ++digits;
  return 14 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * (digits + 1);
}

void YamlEdit::resizeEvent(QResizeEvent* e) {
  QPlainTextEdit::resizeEvent(e);
  const QRect cr = contentsRect();
  gutter_->setGeometry(QRect(cr.left(), cr.top(), gutterWidth(), cr.height()));
}

void YamlEdit::paintGutter(QPaintEvent* e) {
  QPainter p(gutter_);
  p.fillRect(e->rect(), palette().color(QPalette::AlternateBase));
  QTextBlock block = firstVisibleBlock();
  int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
  const int h = fontMetrics().height();
  while (block.isValid() && top <= e->rect().bottom()) {
    const int line = block.blockNumber() + 1;
    bool bad = false;
    for (const auto& d : diagnostics_) bad |= d.line == line;
    if (bad) {
      p.setBrush(QColor(0xd3, 0x2f, 0x2f));
      p.setPen(Qt::NoPen);
      p.drawEllipse(QRect(3, top + h / 2 - 4, 8, 8));
    }
    p.setPen(bad ? QColor(0xd3, 0x2f, 0x2f) : palette().color(QPalette::PlaceholderText));
    p.drawText(0, top, gutter_->width() - 4, h, Qt::AlignRight, QString::number(line));
    block = block.next();
    top += qRound(blockBoundingRect(block).height());
  }
}

void YamlEdit::setDiagnostics(const Diagnostics& ds) {
  diagnostics_ = ds;
  QList<QTextEdit::ExtraSelection> sels;
  for (const auto& d : ds) {
    if (d.line <= 0) continue;
    QTextBlock b = document()->findBlockByNumber(d.line - 1);
    if (!b.isValid()) continue;
    QTextEdit::ExtraSelection line;
    line.format.setBackground(QColor(0xd3, 0x2f, 0x2f, 40));
    line.format.setProperty(QTextFormat::FullWidthSelection, true);
    line.cursor = QTextCursor(b);
    sels.append(line);
    QTextEdit::ExtraSelection word;
    word.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
    word.format.setUnderlineColor(QColor(0xd3, 0x2f, 0x2f));
    word.cursor = QTextCursor(b);
    word.cursor.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor,
                             std::clamp(d.column - 1, 0, std::max(0, b.length() - 1)));
    word.cursor.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
    sels.append(word);
  }
  setExtraSelections(sels);
  gutter_->update();
}

void YamlEdit::goToLine(int line, int column) {
  QTextBlock b = document()->findBlockByNumber(std::max(0, line - 1));
  QTextCursor c(b);
  c.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor,
                 std::clamp(column - 1, 0, std::max(0, b.length() - 1)));
  setTextCursor(c);
  centerCursor();
  setFocus();
}

bool YamlEdit::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    const QPoint vp = viewport()->mapFromGlobal(he->globalPos());
    const int line = cursorForPosition(vp).blockNumber() + 1;
    QStringList msgs;
    for (const auto& d : diagnostics_)
      if (d.line == line) msgs << d.text();
    if (!msgs.isEmpty())
      QToolTip::showText(he->globalPos(), msgs.join('\n'), this);
    else
      QToolTip::hideText();
    return true;
  }
  return QPlainTextEdit::event(e);
}

ScenarioEditor::ScenarioEditor(Controller* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(0, 0, 0, 0);
  tabs_ = new QTabWidget;
  v->addWidget(tabs_);

  // --- YAML ---
  auto* split = new QSplitter(Qt::Vertical);
  yaml_ = new YamlEdit;
  yaml_->setObjectName(QStringLiteral("yamlEdit"));
  diagnostics_ = new DiagnosticsModel(this);
  diagnostics_view_ = new QListView;
  diagnostics_view_->setModel(diagnostics_);
  diagnostics_view_->setToolTip(tr("Problems the loader found; double-click one to jump to it."));
  split->addWidget(yaml_);
  split->addWidget(diagnostics_view_);
  split->setStretchFactor(0, 5);
  split->setStretchFactor(1, 1);
  tabs_->addTab(split, tr("YAML"));

  // --- Form ---
  auto* form_scroll = new QScrollArea;
  form_scroll->setWidgetResizable(true);
  auto* form_page = new QWidget;
  form_scroll->setWidget(form_page);
  auto* fv = new QVBoxLayout(form_page);
  auto* general = new QGroupBox(tr("Scenario"));
  auto* form = new QFormLayout(general);
  fv->addWidget(general);
  name_ = new QLineEdit;
  description_ = new QLineEdit;
  seed_ = new QLineEdit;
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression("[0-9]{1,19}"), seed_));
  horizon_start_ = new QLineEdit;
  horizon_start_->setPlaceholderText(QStringLiteral("2026Q1"));
  quarters_ = new QSpinBox;
  quarters_->setRange(1, static_cast<int>(schema::keys::kHorizonQuarters.range.max));
  form->addRow(tr("Name"), name_);
  form->addRow(tr("Description"), description_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Horizon start"), horizon_start_);
  form->addRow(tr("Quarters"), quarters_);

  // Static pools: the KV formats each evaluates (the first is the one the simulation runs).
  pools_box_ = new QGroupBox(tr("Pools: KV formats"));
  auto* pv = new QVBoxLayout(pools_box_);
  pools_ = new QTableWidget(0, 4);
  pools_->setObjectName(QStringLiteral("formPools"));
  pools_->setHorizontalHeaderLabels({tr("pool"), tr("GPU"), tr("model"), tr("KV formats")});
  pools_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  pools_->horizontalHeader()->setStretchLastSection(true);
  pools_->verticalHeader()->hide();
  pools_->setToolTip(
      tr("KV formats per pool, comma-separated, with the first one simulated; empty uses the "
         "scenario's top-level kv_formats."));
  pv->addWidget(pools_);
  fv->addWidget(pools_box_);

  // The planner's demand classes.
  classes_box_ = new QGroupBox(tr("Planner: demand classes"));
  auto* cv = new QVBoxLayout(classes_box_);
  classes_ = new QTableWidget(0, 8);
  classes_->setObjectName(QStringLiteral("formClasses"));
  classes_->setHorizontalHeaderLabels({tr("name"), tr("model"), tr("tokens/s"), tr("growth ×/yr"),
                                       tr("ε short"), tr("ε long"), tr("TTFT ms"), tr("TPOT ms")});
  for (int i = 0; i < 8; ++i) {  // each column's meaning, as the scenario schema states it
    auto* h = new QTableWidgetItem(classes_->horizontalHeaderItem(i)->text());
    h->setToolTip(QString::fromUtf8(class_column_keys().at(i)->doc));
    classes_->setHorizontalHeaderItem(i, h);
  }
  classes_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  classes_->verticalHeader()->hide();
  cv->addWidget(classes_);
  auto* cb = new QHBoxLayout;
  auto* add_class = new QPushButton(tr("Add class"));
  auto* remove_class = new QPushButton(tr("Remove class"));
  add_class->setToolTip(tr("Adds a class copied from the last one (rename it before applying)."));
  remove_class->setToolTip(tr("Removes the selected class (or the last one)."));
  cb->addWidget(add_class);
  cb->addWidget(remove_class);
  cb->addStretch(1);
  cv->addLayout(cb);
  connect(add_class, &QPushButton::clicked, this, [this] {
    const int n = classes_->rowCount();
    if (n == 0) return;
    classes_->insertRow(n);
    for (int c = 0; c < classes_->columnCount(); ++c)
      classes_->setItem(
          n, c,
          classes_->item(n - 1, c) ? classes_->item(n - 1, c)->clone() : new QTableWidgetItem);
    classes_->item(n, 0)->setText(classes_->item(n - 1, 0)->text() + QStringLiteral("-2"));
  });
  connect(remove_class, &QPushButton::clicked, this, [this] {
    if (classes_->rowCount() <= 1) return;  // the planner needs at least one class
    const int r = classes_->currentRow() >= 0 ? classes_->currentRow() : classes_->rowCount() - 1;
    classes_->removeRow(r);
  });
  fv->addWidget(classes_box_);

  economics_box_ = new QGroupBox(tr("Planner: economics"));
  auto* ef = new QFormLayout(economics_box_);
  // Each spin box takes its key's range from the scenario schema (an open lower end becomes its
  // first step above).
  const auto spin = [&](const QString& label, const schema::Key& key, int decimals,
                        const QString& suffix) {
    auto* sb = new QDoubleSpinBox;
    const schema::Range& r = key.range;
    sb->setRange(r.min_exclusive ? r.min + std::pow(10.0, -decimals) : r.min, r.max);
    sb->setDecimals(decimals);
    sb->setSuffix(suffix);
    ef->addRow(label, sb);
    return sb;
  };
  lifetime_ = spin(tr("GPU lifetime"), schema::keys::kGpuLifetimeYears, 1, tr(" years"));
  server_mult_ = spin(tr("Server cost ×"), schema::keys::kServerCostMultiplier, 2, QString());
  power_price_ = spin(tr("Power price"), schema::keys::kPowerUsdPerKwh, 3, tr(" $/kWh"));
  utilization_ = spin(tr("Average utilization"), schema::keys::kAverageUtilization, 2, QString());
  default_price_ = spin(tr("Default GPU price"), schema::keys::kDefaultPriceUsd, 0, tr(" $"));
  fv->addWidget(economics_box_);

  auto* note = new QLabel(
      tr("Applying the form writes only the changed fields into the YAML text, in place "
         "(comments and layout are kept); fields the loader rejects turn red here and are "
         "marked at their line in the YAML tab. Everything else is in the YAML tab."));
  note->setWordWrap(true);
  fv->addWidget(note);
  auto* apply = new QPushButton(tr("Apply form"));
  apply->setObjectName(QStringLiteral("applyForm"));
  apply->setToolTip(tr("Write the form into the scenario text, validate it and run it."));
  fv->addWidget(apply);
  fv->addStretch(1);
  connect(apply, &QPushButton::clicked, this, &ScenarioEditor::applyForm);
  tabs_->addTab(form_scroll, tr("Form"));

  validate_timer_.setSingleShot(true);
  validate_timer_.setInterval(600);
  connect(&validate_timer_, &QTimer::timeout, this,
          [this] { controller_->setText(yaml_->toPlainText()); });
  connect(yaml_, &QPlainTextEdit::textChanged, this, [this] {
    if (!loading_) validate_timer_.start();
  });
  connect(controller_, &Controller::textChanged, this, [this](const QString& t) {
    if (t == yaml_->toPlainText()) return;
    loading_ = true;
    yaml_->setPlainText(t);
    loading_ = false;
  });
  connect(controller_, &Controller::diagnosticsChanged, this, [this](const Diagnostics& d) {
    markFormErrors(d);
    diagnostics_->resetData(d);
    yaml_->setDiagnostics(d);
    diagnostics_view_->setVisible(!d.isEmpty());
  });
  connect(controller_, &Controller::scenarioChanged, this, &ScenarioEditor::loadForm);
  connect(diagnostics_view_, &QListView::activated, this, [this](const QModelIndex& i) {
    tabs_->setCurrentIndex(0);
    yaml_->goToLine(i.data(DiagnosticsModel::kLineRole).toInt(),
                    i.data(DiagnosticsModel::kColumnRole).toInt());
  });
  diagnostics_view_->setVisible(false);
  markFormErrors({});  // the fields' tooltips
}

namespace {
QTableWidgetItem* text_item(const QString& t, bool editable) {
  auto* i = new QTableWidgetItem(t);
  if (!editable) i->setFlags(i->flags() & ~Qt::ItemIsEditable);
  return i;
}
QTableWidgetItem* number_item(double v) {
  auto* i = new QTableWidgetItem;
  i->setData(Qt::EditRole, v);
  return i;
}
double number(const QTableWidget* t, int r, int c) {
  const QTableWidgetItem* i = t->item(r, c);
  return i ? i->data(Qt::EditRole).toDouble() : 0.0;
}
QString text(const QTableWidget* t, int r, int c) {
  const QTableWidgetItem* i = t->item(r, c);
  return i ? i->text().trimmed() : QString();
}
}  // namespace

void ScenarioEditor::loadForm() {
  const auto s = controller_->scenario();
  if (!s) return;
  form_base_ = form_from(*s, controller_->text().toStdString());
  const ScenarioForm& f = form_base_;
  name_->setText(f.name);
  description_->setText(f.description);
  seed_->setText(QString::number(f.seed));
  horizon_start_->setText(f.horizon_start);
  quarters_->setValue(f.quarters);

  pools_->setRowCount(static_cast<int>(f.pools.size()));
  for (int r = 0; r < f.pools.size(); ++r) {
    const PoolForm& p = f.pools[r];
    pools_->setItem(r, 0, text_item(p.name, false));
    pools_->setItem(r, 1, text_item(p.gpu, false));
    pools_->setItem(r, 2, text_item(p.model, false));
    pools_->setItem(r, 3, text_item(p.kv_formats.join(QStringLiteral(", ")), true));
  }
  pools_box_->setVisible(!f.pools.isEmpty());

  classes_->setRowCount(static_cast<int>(f.classes.size()));
  for (int r = 0; r < f.classes.size(); ++r) {
    const ClassForm& c = f.classes[r];
    classes_->setItem(r, 0, text_item(c.name, true));
    classes_->setItem(r, 1, text_item(c.model, true));
    classes_->setItem(r, 2, number_item(c.tokens_per_s));
    classes_->setItem(r, 3, number_item(c.growth_per_year));
    classes_->setItem(r, 4, number_item(c.elasticity_short_run));
    classes_->setItem(r, 5, number_item(c.elasticity_long_run));
    classes_->setItem(r, 6, number_item(c.ttft_ms));
    classes_->setItem(r, 7, number_item(c.tpot_ms));
  }
  classes_box_->setVisible(f.has_planner);
  economics_box_->setVisible(f.has_planner);
  lifetime_->setValue(f.economics.gpu_lifetime_years);
  server_mult_->setValue(f.economics.server_cost_multiplier);
  power_price_->setValue(f.economics.power_usd_per_kwh);
  utilization_->setValue(f.economics.average_utilization);
  default_price_->setValue(f.economics.default_price_usd);
  markFormErrors({});
}

ScenarioForm ScenarioEditor::formValues() const {
  ScenarioForm f = form_base_;
  f.name = name_->text();
  f.description = description_->text();
  if (!seed_->text().isEmpty()) f.seed = seed_->text().toLongLong();
  if (!horizon_start_->text().isEmpty()) f.horizon_start = horizon_start_->text();
  f.quarters = quarters_->value();
  for (int r = 0; r < pools_->rowCount() && r < f.pools.size(); ++r)
    f.pools[r].kv_formats = split_formats(text(pools_, r, 3));
  f.classes.clear();
  for (int r = 0; r < classes_->rowCount(); ++r)
    f.classes.append({text(classes_, r, 0), text(classes_, r, 1), number(classes_, r, 2),
                      number(classes_, r, 3), number(classes_, r, 4), number(classes_, r, 5),
                      number(classes_, r, 6), number(classes_, r, 7)});
  // Spin boxes round to their decimals: an untouched one keeps the scenario's exact value.
  const auto keep = [](const QDoubleSpinBox* sb, double base) {
    return std::abs(sb->value() - base) < std::pow(10.0, -sb->decimals()) / 2 ? base : sb->value();
  };
  f.economics.gpu_lifetime_years = keep(lifetime_, form_base_.economics.gpu_lifetime_years);
  f.economics.server_cost_multiplier =
      keep(server_mult_, form_base_.economics.server_cost_multiplier);
  f.economics.power_usd_per_kwh = keep(power_price_, form_base_.economics.power_usd_per_kwh);
  f.economics.average_utilization = keep(utilization_, form_base_.economics.average_utilization);
  f.economics.default_price_usd = keep(default_price_, form_base_.economics.default_price_usd);
  return f;
}

void ScenarioEditor::markFormErrors(const Diagnostics& ds) {
  const QColor bad(0xd3, 0x2f, 0x2f, 70);
  for (QTableWidget* t : {pools_, classes_})
    for (int r = 0; r < t->rowCount(); ++r)
      for (int c = 0; c < t->columnCount(); ++c)
        if (auto* i = t->item(r, c)) {
          i->setData(Qt::BackgroundRole, QVariant());
          i->setToolTip(QString());
        }
  const QHash<FormField, QWidget*> fields = {{FormField::kName, name_},
                                             {FormField::kDescription, description_},
                                             {FormField::kSeed, seed_},
                                             {FormField::kHorizonStart, horizon_start_},
                                             {FormField::kQuarters, quarters_},
                                             {FormField::kGpuLifetime, lifetime_},
                                             {FormField::kServerCostMultiplier, server_mult_},
                                             {FormField::kPowerPrice, power_price_},
                                             {FormField::kAverageUtilization, utilization_},
                                             {FormField::kDefaultPrice, default_price_}};
  // Unmarked, each field's tooltip is its key's meaning as the scenario schema states it.
  for (const auto& [key, field] : form_field_keys()) {
    fields[field]->setStyleSheet(QString());
    fields[field]->setToolTip(QString::fromUtf8(key->doc));
  }
  const auto mark = [&](QTableWidget* t, int r, int c, const DiagnosticItem& d) {
    if (r < 0 || r >= t->rowCount()) return;
    for (int col = c < 0 ? 0 : c; col < (c < 0 ? t->columnCount() : c + 1); ++col)
      if (auto* i = t->item(r, col)) {
        i->setBackground(bad);
        i->setToolTip(d.text());
      }
  };
  // The error's key path names the field through the scenario schema (form_target).
  for (const DiagnosticItem& d : ds) {
    const FormTarget target = form_target(d.key.toStdString());
    if (auto it = fields.find(target.field); it != fields.end()) {
      (*it)->setStyleSheet(QStringLiteral("background: rgba(211, 47, 47, 70);"));
      (*it)->setToolTip(d.text());
    } else if (target.field == FormField::kClassesTable) {
      mark(classes_, target.row, target.column, d);
    } else if (target.field == FormField::kPoolsTable) {
      mark(pools_, target.row, target.column, d);
    }
  }
}

void ScenarioEditor::applyForm() {
  try {
    const std::string text =
        apply_form(controller_->text().toStdString(), form_base_, formValues());
    controller_->setText(QString::fromStdString(text));
  } catch (const std::exception& e) {
    DiagnosticItem d;
    d.message = QString::fromStdString(e.what());
    diagnostics_->resetData({d});
  }
}

}  // namespace jevons::gui
