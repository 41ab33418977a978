#include "lever_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

#include "models.h"

namespace jevons::gui {

namespace {
bool is_rubin(const QString& gpu) {
  return gpu.startsWith(QStringLiteral("rubin"));
}

QGroupBox* group(QVBoxLayout* into, const QString& title, QFormLayout** form) {
  auto* box = new QGroupBox(title);
  *form = new QFormLayout(box);
  (*form)->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  into->addWidget(box);
  return box;
}

void fill_formats(QComboBox* c) {
  for (const auto& [name, bits] : kv_format_choices())
    c->addItem(QStringLiteral("%1  (%2)").arg(name, bits), name);
}

void select_format(QComboBox* c, const QString& name) {
  int i = c->findData(name);
  if (i < 0) {
    c->addItem(name, name);  // a format the scenario names that the list does not offer
    i = c->count() - 1;
  }
  c->setCurrentIndex(i);
}
/// Edits a generation's own KV format with a combo box; the first entry clears the override.
class FormatDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&,
                        const QModelIndex&) const override {
    auto* c = new QComboBox(parent);
    c->addItem(tr("(planner-wide)"), QString());
    fill_formats(c);
    c->setToolTip(
        tr("KV format this generation adopts; (planner-wide) uses the Compressed "
           "format above."));
    connect(c, &QComboBox::activated, this, [this, c] {
      auto* self = const_cast<FormatDelegate*>(this);
      emit self->commitData(c);
      emit self->closeEditor(c);
    });
    return c;
  }
  void setEditorData(QWidget* editor, const QModelIndex& index) const override {
    auto* c = static_cast<QComboBox*>(editor);
    const QString f = index.data(Qt::EditRole).toString();
    if (f.isEmpty())
      c->setCurrentIndex(0);
    else
      select_format(c, f);
  }
  void setModelData(QWidget* editor, QAbstractItemModel* model,
                    const QModelIndex& index) const override {
    model->setData(index, static_cast<QComboBox*>(editor)->currentData(), Qt::EditRole);
  }
};
}  // namespace

LeverPanel::LeverPanel(QWidget* parent) : QWidget(parent) {
  auto* v = new QVBoxLayout(this);
  QFormLayout* f = nullptr;

  group(v, tr("KV cache format"), &f);
  baseline_ = new QComboBox;
  compressed_ = new QComboBox;
  compressed_->setObjectName(QStringLiteral("leverCompressed"));
  fill_formats(baseline_);
  fill_formats(compressed_);
  baseline_->setToolTip(
      tr("The KV format of the no-compression counterfactual every result is "
         "compared against."));
  compressed_->setToolTip(
      tr("The KV format fleets adopt unless a generation sets its own in the fleet table; "
         "fewer bits per value hold more tokens in the same HBM (e.g. TurboQuant 3.5 or "
         "2.5 bits)."));
  f->addRow(tr("Counterfactual"), baseline_);
  f->addRow(tr("Compressed"), compressed_);
  for (auto* c : {baseline_, compressed_})
    connect(c, &QComboBox::currentIndexChanged, this, [this] { emitEdited(); });

  group(v, tr("Demand"), &f);
  eps_short_ = addSlider(f, tr("Elasticity, short run"),
                         tr("How strongly demand answers a cheaper token within one quarter "
                            "(applies to every class)."),
                         0, 3, 0.05, 2);
  eps_long_ = addSlider(f, tr("Elasticity, long run"),
                        tr("The demand response demand converges to: above about 1, cheaper "
                           "tokens raise total spending and memory (Jevons)."),
                        0, 4, 0.05, 2);
  growth_ = addSlider(f, tr("Growth ×"),
                      tr("Multiplies every class's baseline demand growth per year (1 = the "
                         "scenario's own growth)."),
                      0.25, 3, 0.05, 2);

  group(v, tr("Adoption of the compressed format"), &f);
  adoption_start_ = new QComboBox;
  adoption_start_->setToolTip(
      tr("The quarter in which 1 % of the fleet has adopted the "
         "compressed format."));
  f->addRow(tr("Start"), adoption_start_);
  connect(adoption_start_, &QComboBox::currentIndexChanged, this, [this] { emitEdited(); });
  adoption_speed_ = addSlider(f, tr("Speed / quarter"),
                              tr("Logistic adoption speed: larger values reach the ceiling in "
                                 "fewer quarters."),
                              0.05, 3, 0.05, 2);
  adoption_ceiling_ = addSlider(f, tr("Ceiling"),
                                tr("The share of each fleet that eventually adopts the "
                                   "compressed format."),
                                0.05, 1, 0.05, 2);

  group(v, tr("Fleet and deliveries"), &f);
  rubin_delay_ = new QSpinBox;
  rubin_delay_->setRange(-8, 12);
  rubin_delay_->setSuffix(tr(" quarters"));
  rubin_delay_->setToolTip(
      tr("Shifts the first delivery quarter of Rubin and Rubin Ultra later "
         "(positive) or earlier (negative)."));
  f->addRow(tr("Rubin delay"), rubin_delay_);
  connect(rubin_delay_, &QSpinBox::valueChanged, this, [this](int delay) {
    if (updating_) return;
    for (qsizetype i = 0; i < levers_.generations.size() && i < base_.generations.size(); ++i)
      if (is_rubin(levers_.generations[i].gpu))
        levers_.generations[i].available_quarter_index =
            std::max(0, base_.generations[i].available_quarter_index + delay);
    emit leversEdited(levers_);
  });
  generations_model_ = new GenerationsModel(this);
  generations_ = new QTableView;
  generations_->setModel(generations_model_);
  generations_->verticalHeader()->hide();
  generations_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  generations_->horizontalHeader()->setStretchLastSection(true);
  generations_->setWordWrap(false);
  generations_->setItemDelegateForColumn(4, new FormatDelegate(generations_));
  generations_->setMinimumHeight(150);
  generations_->setToolTip(
      tr("The fleet mix and delivery schedule: double-click a cell to edit "
         "installed GPUs, deliveries per quarter, the first delivery "
         "quarter (as an index from the horizon start) or the generation's own KV format."));
  f->addRow(generations_);
  connect(generations_model_, &GenerationsModel::generationsEdited, this,
          [this](const QList<GenerationLever>& g) {
            levers_.generations = g;
            emit leversEdited(levers_);
          });

  group(v, tr("Prices"), &f);
  gpu_price_ = addSlider(f, tr("GPU price ×"),
                         tr("Multiplies every GPU's purchase price, which moves the cost per "
                            "token and so the demand response."),
                         0.25, 3, 0.05, 2);
  power_price_ = addSlider(f, tr("Power price"),
                           tr("Electricity price paid by the fleet, in US dollars per kWh."), 0.01,
                           0.4, 0.01, 3, tr(" $/kWh"));

  group(v, tr("Service level"), &f);
  slo_scale_ = addSlider(f, tr("SLO targets ×"),
                         tr("Multiplies every class's TTFT and TPOT targets: below 1 is stricter "
                            "and leaves less capacity per GPU."),
                         0.25, 4, 0.05, 2);
  slo_attainment_ = addSlider(f, tr("SLO attainment"),
                              tr("The share of requests that must meet both targets for a "
                                 "replica's load to count as sustainable."),
                              0.5, 0.999, 0.005, 3);
  analytical_ = new QCheckBox(tr("Analytical capacity (fast)"));
  analytical_->setToolTip(
      tr("Use the closed-form capacity estimate instead of simulating each "
         "replica: instant, but less exact under tight SLOs."));
  f->addRow(analytical_);
  connect(analytical_, &QCheckBox::toggled, this, [this] { emitEdited(); });

  auto* buttons = new QHBoxLayout;
  reset_ = new QPushButton(tr("Reset"));
  reset_->setObjectName(QStringLiteral("resetLevers"));
  reset_->setToolTip(tr("Put every lever back to the scenario file's values."));
  bake_ = new QPushButton(tr("Write into YAML"));
  bake_->setObjectName(QStringLiteral("bakeLevers"));
  bake_->setToolTip(tr("Write the lever values into the scenario text so Save keeps them."));
  buttons->addWidget(reset_);
  buttons->addWidget(bake_);
  v->addLayout(buttons);
  v->addStretch(1);
  connect(reset_, &QPushButton::clicked, this, &LeverPanel::resetRequested);
  connect(bake_, &QPushButton::clicked, this, &LeverPanel::bakeRequested);
  setEnabled(false);
}

QDoubleSpinBox* LeverPanel::addSlider(QFormLayout* form, const QString& label, const QString& tip,
                                      double min, double max, double step, int decimals,
                                      const QString& suffix) {
  auto* row = new QWidget;
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  auto* slider = new QSlider(Qt::Horizontal);
  auto* spin = new QDoubleSpinBox;
  const int ticks = static_cast<int>(std::lround((max - min) / step));
  slider->setRange(0, ticks);
  spin->setRange(min, max);
  spin->setSingleStep(step);
  spin->setDecimals(decimals);
  spin->setSuffix(suffix);
  spin->setKeyboardTracking(false);  // typing "1.25" runs once, not for "1", "1.", "1.2"
  h->addWidget(slider, 1);
  h->addWidget(spin);
  for (QWidget* w : {static_cast<QWidget*>(slider), static_cast<QWidget*>(spin), row})
    w->setToolTip(tip);
  form->addRow(label, row);
  connect(slider, &QSlider::valueChanged, spin,
          [spin, min, step](int t) { spin->setValue(min + t * step); });
  connect(spin, &QDoubleSpinBox::valueChanged, slider, [slider, min, step](double v) {
    const QSignalBlocker block(slider);
    slider->setValue(static_cast<int>(std::lround((v - min) / step)));
  });
  connect(spin, &QDoubleSpinBox::valueChanged, this, [this] { emitEdited(); });
  return spin;
}

void LeverPanel::emitEdited() {
  if (updating_) return;
  levers_.baseline_format = baseline_->currentData().toString();
  levers_.compressed_format = compressed_->currentData().toString();
  levers_.elasticity_short_run = eps_short_->value();
  levers_.elasticity_long_run = eps_long_->value();
  levers_.growth_scale = growth_->value();
  levers_.adoption_start_index = std::max(0, adoption_start_->currentIndex());
  levers_.adoption_speed_per_quarter = adoption_speed_->value();
  levers_.adoption_ceiling = adoption_ceiling_->value();
  levers_.gpu_price_scale = gpu_price_->value();
  levers_.power_usd_per_kwh = power_price_->value();
  levers_.slo_scale = slo_scale_->value();
  levers_.slo_attainment = slo_attainment_->value();
  levers_.analytical_capacity = analytical_->isChecked();
  emit leversEdited(levers_);
}

QHash<Lever, QWidget*> LeverPanel::leverWidgets() const {
  // A slider's spin box sits in a row widget with the slider: mark the row.
  const auto row = [](QWidget* spin) { return spin->parentWidget(); };
  return {{Lever::kCounterfactual, baseline_},
          {Lever::kCompressed, compressed_},
          {Lever::kElasticityShortRun, row(eps_short_)},
          {Lever::kElasticityLongRun, row(eps_long_)},
          {Lever::kGrowth, row(growth_)},
          {Lever::kAdoptionStart, adoption_start_},
          {Lever::kAdoptionSpeed, row(adoption_speed_)},
          {Lever::kAdoptionCeiling, row(adoption_ceiling_)},
          {Lever::kFleetTable, generations_},
          {Lever::kGpuPrice, row(gpu_price_)},
          {Lever::kPowerPrice, row(power_price_)},
          {Lever::kSloScale, row(slo_scale_)},
          {Lever::kSloAttainment, row(slo_attainment_)},
          {Lever::kAnalytical, analytical_}};
}

void LeverPanel::markErrors(const Diagnostics& diagnostics) {
  for (auto it = tooltips_.cbegin(); it != tooltips_.cend(); ++it) {
    it.key()->setStyleSheet(QString());
    it.key()->setToolTip(it.value());
  }
  tooltips_.clear();
  const QHash<Lever, QWidget*> widgets = leverWidgets();
  // The error's key path names the lever through the scenario schema (lever_for).
  for (const DiagnosticItem& d : diagnostics) {
    QWidget* w = widgets.value(lever_for(d.key.toStdString()));
    if (!w) continue;
    if (!tooltips_.contains(w)) tooltips_.insert(w, w->toolTip());
    w->setStyleSheet(QStringLiteral("background: rgba(211, 47, 47, 70);"));
    w->setToolTip(d.text());
  }
}

void LeverPanel::setLevers(const Levers& levers, const Levers& base, const HorizonSpec& horizon) {
  updating_ = true;
  levers_ = levers;
  base_ = base;
  horizon_ = horizon;
  select_format(baseline_, levers.baseline_format);
  select_format(compressed_, levers.compressed_format);
  // Setting a spin box moves its slider through the connection above; the slider's echo back
  // into the spin box is the same value, so nothing loops.
  eps_short_->setValue(levers.elasticity_short_run);
  eps_long_->setValue(levers.elasticity_long_run);
  growth_->setValue(levers.growth_scale);
  adoption_start_->clear();
  for (std::uint32_t i = 0; i < horizon.quarters; ++i)
    adoption_start_->addItem(quarter_label(horizon, static_cast<int>(i)));
  adoption_start_->setCurrentIndex(
      std::min<int>(levers.adoption_start_index, adoption_start_->count() - 1));
  adoption_speed_->setValue(levers.adoption_speed_per_quarter);
  adoption_ceiling_->setValue(levers.adoption_ceiling);
  int delay = 0;
  for (qsizetype i = 0; i < levers.generations.size() && i < base.generations.size(); ++i)
    if (is_rubin(levers.generations[i].gpu)) {
      delay = levers.generations[i].available_quarter_index -
              base.generations[i].available_quarter_index;
      break;
    }
  rubin_delay_->setValue(delay);
  generations_model_->setHorizon(horizon);
  generations_model_->resetData(levers.generations);
  gpu_price_->setValue(levers.gpu_price_scale);
  power_price_->setValue(levers.power_usd_per_kwh);
  slo_scale_->setValue(levers.slo_scale);
  slo_attainment_->setValue(levers.slo_attainment);
  analytical_->setChecked(levers.analytical_capacity);
  // Enabled exactly while the levers differ from the file: the panel shows at a glance that
  // the charts run settings the YAML does not hold (they survive YAML edits; see Controller).
  const bool moved = levers != base;
  reset_->setEnabled(moved);
  bake_->setEnabled(moved);
  updating_ = false;
}

}  // namespace jevons::gui
