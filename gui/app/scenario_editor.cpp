#include "scenario_editor.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBlock>
#include <QToolTip>
#include <QVBoxLayout>

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
  auto* form_page = new QWidget;
  auto* form = new QFormLayout(form_page);
  name_ = new QLineEdit;
  description_ = new QLineEdit;
  seed_ = new QLineEdit;
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression("[0-9]{1,19}"), seed_));
  horizon_start_ = new QLineEdit;
  horizon_start_->setPlaceholderText(QStringLiteral("2026Q1"));
  quarters_ = new QSpinBox;
  quarters_->setRange(1, 400);
  name_->setToolTip(tr("Scenario name, stored with every run."));
  description_->setToolTip(tr("One line saying what the scenario asks."));
  seed_->setToolTip(
      tr("Seed of every random stream: the same scenario and seed give identical "
         "results."));
  horizon_start_->setToolTip(tr("First quarter of the projection, as YYYYQn."));
  quarters_->setToolTip(tr("Number of quarters the planner projects."));
  form->addRow(tr("Name"), name_);
  form->addRow(tr("Description"), description_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Horizon start"), horizon_start_);
  form->addRow(tr("Quarters"), quarters_);
  auto* note =
      new QLabel(tr("Applying the form rewrites the YAML text (comments are not kept). "
                    "Planner parameters are on the Levers panel; everything else is in "
                    "the YAML tab."));
  note->setWordWrap(true);
  form->addRow(note);
  auto* apply = new QPushButton(tr("Apply form"));
  form->addRow(apply);
  connect(apply, &QPushButton::clicked, this, &ScenarioEditor::applyForm);
  tabs_->addTab(form_page, tr("Form"));

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
}

void ScenarioEditor::loadForm() {
  const auto s = controller_->scenario();
  if (!s) return;
  name_->setText(QString::fromStdString(s->name));
  description_->setText(QString::fromStdString(s->description));
  seed_->setText(QString::number(s->seed));
  horizon_start_->setText(QString::fromStdString(s->horizon.start_label()));
  quarters_->setValue(static_cast<int>(s->horizon.quarters));
}

void ScenarioEditor::applyForm() {
  try {
    const std::string text =
        apply_form(controller_->text().toStdString(), name_->text(), description_->text(),
                   seed_->text().isEmpty() ? -1 : seed_->text().toLongLong(),
                   horizon_start_->text(), quarters_->value());
    controller_->setText(QString::fromStdString(text));
  } catch (const std::exception& e) {
    DiagnosticItem d;
    d.message = QString::fromStdString(e.what());
    diagnostics_->resetData({d});
  }
}

}  // namespace jevons::gui
