#include "chart_view.h"

#include <QApplication>
#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QCursor>
#include <QEvent>
#include <QGraphicsSimpleTextItem>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QPen>
#include <QStackedBarSeries>
#include <QToolTip>
#include <QValueAxis>
#include <cmath>

namespace jevons::gui {

namespace {
bool dark_palette() {
  return qApp->palette().color(QPalette::Window).lightness() < 128;
}

/// Distinct colours for stacked areas (Tableau 10 plus two), readable on light and dark
/// backgrounds: the HBM-by-generation chart stacks up to a dozen generations, more than the Qt
/// Charts themes' five or six colours.
const QList<QColor>& area_palette() {
  static const QList<QColor> p = {
      QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59),
      QColor(0x76, 0xb7, 0xb2), QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48),
      QColor(0xb0, 0x7a, 0xa1), QColor(0xff, 0x9d, 0xa7), QColor(0x9c, 0x75, 0x5f),
      QColor(0xba, 0xb0, 0xac), QColor(0x17, 0xbe, 0xcf), QColor(0xbc, 0xbd, 0x22)};
  return p;
}

QString fmt_value(double v) {
  const double a = std::abs(v);
  return QString::number(v, 'f', a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

QValueAxis* value_axis(const QString& title, double min, double max) {
  auto* a = new QValueAxis;
  a->setTitleText(title);
  a->setRange(min, max > min ? max : min + 1);
  a->applyNiceNumbers();
  // Plain numbers, never "3e+03": the unit is in the axis title.
  const double span = std::max(std::abs(a->min()), std::abs(a->max()));
  a->setLabelFormat(span >= 20 ? "%.0f" : span >= 2 ? "%.1f" : span >= 0.2 ? "%.2f" : "%.3f");
  return a;
}
}  // namespace

ChartView::ChartView(const QString& title, QWidget* parent) : QChartView(parent), title_(title) {
  setRenderHint(QPainter::Antialiasing);
  // Small enough for four columns beside the levers on a 1024-pixel screen; the charts grow
  // with the window (docs/gui.md, "Window size").
  setMinimumSize(170, 150);
  reset(title_);
  clearData(tr("no data yet: open a scenario and press F5"));
}

void ChartView::reset(const QString& title) {
  auto* c = new QChart;
  c->setTitle(title);
  c->legend()->setAlignment(Qt::AlignBottom);
  c->setMargins(QMargins(4, 4, 4, 4));
  c->setAnimationOptions(QChart::NoAnimation);
  QChart* old = chart();
  setChart(c);
  bar_labels_.clear();  // the old chart owned them
  bar_tops_.clear();
  delete old;
  applyTheme();
}

void ChartView::applyTheme() {
  if (!chart()) return;
  chart()->setTheme(dark_palette() ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  QFont f = chart()->titleFont();
  f.setBold(true);
  f.setPointSizeF(std::max(9.0, QApplication::font().pointSizeF()));
  chart()->setTitleFont(f);
  applySeriesColors();  // setTheme() recolours every series with the theme's own palette
  for (auto* label : bar_labels_) label->setBrush(dark_palette() ? Qt::white : Qt::black);
}

QColor ChartView::areaColor(const QString& name, int position) const {
  const auto& pal = area_palette();
  if (color_keys_.isEmpty()) return pal[position % pal.size()];
  if (const qsizetype k = color_keys_.indexOf(name); k >= 0) return pal[k % pal.size()];
  // qHash with an explicit seed is the same in every process (QHash's own seed is random).
  return pal[static_cast<qsizetype>(qHash(name, 0x6a65766fU) % static_cast<size_t>(pal.size()))];
}

void ChartView::setStale(const QString& reason) {
  if (reason == stale_) return;
  stale_ = reason;
  setToolTip(reason.isEmpty() ? QString() : tr("Out of date: %1").arg(reason));
  if (scene()) scene()->update();
  viewport()->update();
}

void ChartView::drawForeground(QPainter* painter, const QRectF& rect) {
  QChartView::drawForeground(painter, rect);
  if (stale_.isEmpty() || !chart()) return;
  // A veil over the plot and the reason on a band across its top: unmistakable, and it stays
  // in a PNG export of the window.
  painter->save();
  const QRectF plot = chart()->plotArea();
  const bool dark = dark_palette();
  painter->fillRect(plot, dark ? QColor(0, 0, 0, 110) : QColor(255, 255, 255, 150));
  QFont f = painter->font();
  f.setBold(true);
  painter->setFont(f);
  // Two lines on a band across the plot's top: the mark, and as much of the reason as fits
  // (the window's banner and the tooltip carry all of it).
  const QFontMetricsF fm(f);
  const QRectF band(plot.left(), plot.top() + 2, plot.width(), 2 * fm.height() + 4);
  painter->fillRect(band, QColor(0xc6, 0x28, 0x28, 215));
  painter->setPen(Qt::white);
  const QString text = tr("OUT OF DATE") + QLatin1Char('\n') +
                       fm.elidedText(stale_, Qt::ElideRight, std::max(0.0, band.width() - 8));
  painter->drawText(band.adjusted(4, 2, -4, -2), Qt::AlignCenter, text);
  painter->restore();
}

void ChartView::applySeriesColors() {
  int i = 0;
  for (QAbstractSeries* s : chart()->series()) {
    if (auto* area = qobject_cast<QAreaSeries*>(s)) {
      const QColor c = areaColor(area->name(), i++);
      area->setColor(c);
      area->setBorderColor(c.darker(125));
    } else if (s->objectName() == QStringLiteral("overlay")) {
      auto* line = static_cast<QLineSeries*>(s);
      QPen pen(dark_palette() ? Qt::white : Qt::black);
      pen.setWidthF(2);
      pen.setStyle(Qt::DashLine);
      line->setPen(pen);
    }
  }
}

bool ChartView::event(QEvent* e) {
  if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
    applyTheme();
  return QChartView::event(e);
}

void ChartView::clearData(const QString& why) {
  reset(why.isEmpty() ? title_ : title_ + QStringLiteral(" — ") + why);
}

void ChartView::setQuarterAxis(const QStringList& quarters, QAbstractAxis** out) {
  quarters_ = quarters;
  auto* x = new QCategoryAxis;
  x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  // As many labels as fit the chart's width (about 70 px for "2027Q1"); when that is a label
  // a year or less often, label the years ("2027") at their first quarter instead.
  const double fit = std::max(2.0, width() / 70.0);
  int step =
      std::max<int>(1, static_cast<int>(std::ceil(static_cast<double>(quarters.size()) / fit)));
  if (step >= 3) {
    step = 4 * std::max(1, (step + 3) / 4);
    for (int i = 0; i < quarters.size(); ++i)
      if (quarters[i].endsWith(QStringLiteral("Q1")) && (i / 4) % (step / 4) == 0)
        x->append(quarters[i].left(4), i);
  } else {
    for (int i = 0; i < quarters.size(); i += step) x->append(quarters[i], i);
  }
  x->setRange(0, static_cast<double>(std::max<qsizetype>(1, quarters.size() - 1)));
  x->setTitleText(tr("quarter"));
  *out = x;
}

void ChartView::hoverTip(const QString& series, double x, double y, const QString& unit) {
  QString where;
  const int q = static_cast<int>(std::lround(x));
  if (!quarters_.isEmpty() && q >= 0 && q < quarters_.size())
    where = quarters_[q];
  else
    where = QString::number(x, 'f', 2);
  QToolTip::showText(
      QCursor::pos(),
      QStringLiteral("<b>%1</b><br>%2: %3 %4").arg(series, where, fmt_value(y), unit), this);
}

void ChartView::showStacked(const SeriesGroup& group, const QStringList& quarters,
                            const Series* overlay) {
  reset(title_);
  QAbstractAxis* x = nullptr;
  setQuarterAxis(quarters, &x);
  chart()->addAxis(x, Qt::AlignBottom);
  double top = 0;
  QList<QPointF> below;
  QList<QList<QPointF>> layers;
  for (const Series& s : group.series) {
    QList<QPointF> upper;
    for (qsizetype i = 0; i < s.points.size(); ++i) {
      const double base = i < below.size() ? below[i].y() : 0.0;
      upper.append({s.points[i].x(), base + s.points[i].y()});
      top = std::max(top, base + s.points[i].y());
    }
    auto* up = new QLineSeries;
    up->replace(upper);
    QLineSeries* lo = nullptr;
    if (!below.isEmpty()) {
      lo = new QLineSeries;
      lo->replace(below);
    }
    auto* area = new QAreaSeries(up, lo);
    area->setName(s.name);
    chart()->addSeries(area);
    const Series copy = s;
    const QString unit = group.unit;
    connect(area, &QAreaSeries::hovered, this, [this, copy, unit](const QPointF& p, bool state) {
      if (!state) return;
      const int q = static_cast<int>(std::lround(p.x()));
      const double v = q >= 0 && q < copy.points.size() ? copy.points[q].y() : p.y();
      hoverTip(copy.name, p.x(), v, unit);
    });
    below = upper;
  }
  if (overlay && !overlay->points.isEmpty()) {
    auto* line = new QLineSeries;
    line->setName(overlay->name);
    line->setObjectName(QStringLiteral("overlay"));
    line->replace(overlay->points);
    chart()->addSeries(line);
    for (const auto& p : overlay->points) top = std::max(top, p.y());
    const QString name = overlay->name, unit = group.unit;
    connect(line, &QLineSeries::hovered, this, [this, name, unit](const QPointF& p, bool state) {
      if (state) hoverTip(name, p.x(), p.y(), unit);
    });
  }
  applySeriesColors();
  auto* y = value_axis(group.unit, 0, top * 1.05);
  chart()->addAxis(y, Qt::AlignLeft);
  // Many generations do not fit in one legend row under a third-width chart.
  if (group.series.size() > 4) chart()->legend()->setAlignment(Qt::AlignRight);
  for (auto* s : chart()->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
}

void ChartView::showLines(const SeriesGroup& group, const QStringList& quarters) {
  reset(title_);
  QAbstractAxis* x = nullptr;
  setQuarterAxis(quarters, &x);
  chart()->addAxis(x, Qt::AlignBottom);
  double lo = 0, hi = 0;
  bool first = true;
  for (const Series& s : group.series) {
    auto* line = new QLineSeries;
    line->setName(s.name);
    line->replace(s.points);
    chart()->addSeries(line);
    if (s.name.contains(QStringLiteral("(B)"))) {
      QPen pen = line->pen();
      pen.setStyle(Qt::DashLine);
      pen.setWidthF(2);
      line->setPen(pen);
    }
    for (const auto& p : s.points) {
      lo = first ? p.y() : std::min(lo, p.y());
      hi = first ? p.y() : std::max(hi, p.y());
      first = false;
    }
    const QString name = s.name, unit = group.unit;
    connect(line, &QLineSeries::hovered, this, [this, name, unit](const QPointF& p, bool state) {
      if (state) hoverTip(name, p.x(), p.y(), unit);
    });
  }
  // Start at zero unless every value sits far above it (cost curves), so changes stay visible.
  const double ymin = lo > 0 && lo > 0.5 * hi ? lo * 0.9 : std::min(0.0, lo);
  auto* y = value_axis(group.unit, ymin, hi * 1.05);
  chart()->addAxis(y, Qt::AlignLeft);
  for (auto* s : chart()->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
}

void ChartView::showXY(const QList<Series>& series, const QString& x_title,
                       const QString& y_title) {
  reset(title_);
  quarters_.clear();
  double xmax = 0, ymax = 0;
  for (const Series& s : series) {
    auto* line = new QLineSeries;
    line->setName(s.name);
    line->replace(s.points);
    chart()->addSeries(line);
    for (const auto& p : s.points) {
      xmax = std::max(xmax, p.x());
      ymax = std::max(ymax, p.y());
    }
    const QString name = s.name, unit = y_title;
    connect(line, &QLineSeries::hovered, this, [this, name, unit](const QPointF& p, bool state) {
      if (state) hoverTip(name, p.x(), p.y(), unit);
    });
  }
  auto* x = value_axis(x_title, 0, xmax);
  x->setRange(0, xmax > 0 ? xmax : 1);  // the simulated window exactly, not a rounded-up one
  auto* y = value_axis(y_title, 0, ymax * 1.05);
  chart()->addAxis(x, Qt::AlignBottom);
  chart()->addAxis(y, Qt::AlignLeft);
  for (auto* s : chart()->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
}

void ChartView::showWaterfall(const QList<WaterfallStep>& steps, const QString& unit,
                              const QString& when, const QString& scale_key) {
  reset(when.isEmpty() ? title_ : title_ + QStringLiteral(" (%1)").arg(when));
  if (scale_key != waterfall_key_) {
    waterfall_key_ = scale_key;
    waterfall_half_ = 0;
  }
  if (steps.isEmpty()) return;
  // A floating bar is an invisible base set plus a visible set stacked on it.
  auto* base = new QBarSet(QString());
  auto* total = new QBarSet(tr("total"));
  auto* down = new QBarSet(tr("decrease"));
  auto* up = new QBarSet(tr("increase"));
  base->setColor(Qt::transparent);
  base->setBorderColor(Qt::transparent);
  total->setColor(QColor(0x4c, 0x78, 0xa8));
  down->setColor(QColor(0x54, 0xa2, 0x4b));
  up->setColor(QColor(0xe4, 0x57, 0x56));
  const double centre = steps.first().to;  // the counterfactual's top
  double reach = 0;
  QStringList cats;
  for (const auto& s : steps) {
    const double v = s.total ? s.to : s.to - s.from;
    cats << s.label;
    // Each bar's value above it, signed for the changes: on a zoomed axis the bars alone do not
    // say whether an effect is −146 or −10.
    auto* label =
        new QGraphicsSimpleTextItem((!s.total && v > 0 ? QStringLiteral("+") : QString()) +
                                        fmt_value(v).replace('-', QChar(0x2212)),
                                    chart());
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    label->setBrush(dark_palette() ? Qt::white : Qt::black);
    label->setZValue(10);
    bar_labels_.append(label);
    bar_tops_.append({static_cast<double>(bar_tops_.size()), std::max(s.from, s.to)});
    const double lo = std::min(s.from, s.to), h = std::max(s.from, s.to);
    reach = std::max(reach, std::abs(h - centre));
    if (!s.total) reach = std::max(reach, std::abs(lo - centre));
    *base << (s.total ? 0 : lo);
    *total << (s.total ? h : 0);
    *down << (!s.total && s.to < s.from ? h - lo : 0);
    *up << (!s.total && s.to >= s.from ? h - lo : 0);
  }
  // Half-width: the smallest 1-2-2.5-5 step holding every bar end with 20 % to spare, never
  // smaller than before for the same scenario, nor than 0.1 % of the totals: with no change at
  // all (a supply-bound answer) a narrower axis prints one value at every tick.
  const double need = std::max(1.2 * reach, 1e-3 * std::max(1.0, std::abs(centre)));
  const double decade = std::pow(10.0, std::floor(std::log10(need)));
  double half = 10 * decade;
  for (double m : {1.0, 2.0, 2.5, 5.0})
    if (m * decade >= need) {
      half = m * decade;
      break;
    }
  waterfall_half_ = std::max(waterfall_half_, half);
  half = waterfall_half_;
  auto* series = new QStackedBarSeries;
  series->append({base, total, down, up});
  series->setBarWidth(0.6);
  chart()->addSeries(series);
  auto* x = new QBarCategoryAxis;
  x->append(cats);
  auto* y = new QValueAxis;
  const double ymin = std::max(0.0, centre - half);
  y->setRange(ymin, centre + half);
  y->setTickType(QValueAxis::TicksDynamic);
  y->setTickAnchor(0);
  y->setTickInterval(half / 2);
  y->setLabelFormat(half >= 10 ? "%.0f" : half >= 1 ? "%.1f" : "%.2f");
  y->setTitleText(ymin > 0 ? unit + tr(", axis from %1").arg(fmt_value(ymin)) : unit);
  chart()->addAxis(x, Qt::AlignBottom);
  chart()->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  chart()->legend()->markers(series).first()->setVisible(false);
  connect(chart(), &QChart::plotAreaChanged, this, &ChartView::placeBarLabels);
  placeBarLabels();
  const QList<WaterfallStep> copy = steps;
  connect(series, &QStackedBarSeries::hovered, this,
          [this, copy, unit](bool state, int index, QBarSet*) {
            if (!state || index < 0 || index >= copy.size()) return;
            const auto& s = copy[index];
            const double v = s.total ? s.to : s.to - s.from;
            QToolTip::showText(QCursor::pos(),
                               QStringLiteral("<b>%1</b><br>%2%3 %4")
                                   .arg(s.label, !s.total && v > 0 ? "+" : "", fmt_value(v), unit),
                               this);
          });
}

void ChartView::placeBarLabels() {
  const auto series = chart()->series();
  if (series.isEmpty()) return;
  const QRectF plot = chart()->plotArea();
  for (qsizetype i = 0; i < bar_labels_.size() && i < bar_tops_.size(); ++i) {
    QGraphicsSimpleTextItem* label = bar_labels_[i];
    const QPointF top = chart()->mapToPosition(bar_tops_[i], series.first());
    const QRectF box = label->boundingRect();
    // Above the bar, kept inside the plot when the bar reaches its top.
    const double y = std::max(plot.top(), top.y() - box.height() - 1);
    label->setPos(top.x() - box.width() / 2, y);
  }
}

QStringList ChartView::barLabels() const {
  QStringList out;
  for (const auto* l : bar_labels_) out << l->text();
  return out;
}

void ChartView::showBars(const QStringList& categories, const QStringList& set_names,
                         const QList<QList<double>>& values_by_set, const QString& unit) {
  reset(title_);
  auto* series = new QBarSeries;
  double hi = 0;
  for (qsizetype i = 0; i < set_names.size() && i < values_by_set.size(); ++i) {
    auto* set = new QBarSet(set_names[i]);
    for (double v : values_by_set[i]) {
      *set << v;
      hi = std::max(hi, v);
    }
    series->append(set);
  }
  chart()->addSeries(series);
  auto* x = new QBarCategoryAxis;
  x->append(categories);
  auto* y = value_axis(unit, 0, hi * 1.05);
  chart()->addAxis(x, Qt::AlignBottom);
  chart()->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  connect(series, &QBarSeries::hovered, this,
          [this, categories, unit](bool state, int index, QBarSet* set) {
            if (!state || index < 0 || index >= categories.size()) return;
            QToolTip::showText(
                QCursor::pos(),
                QStringLiteral("<b>%1</b> %2<br>%3 %4")
                    .arg(categories[index], set->label(), fmt_value(set->at(index)), unit),
                this);
          });
}

qsizetype ChartView::pointCount() const {
  qsizetype n = 0;
  for (auto* s : chart()->series()) {
    if (auto* xy = qobject_cast<QXYSeries*>(s))
      n += xy->count();
    else if (auto* a = qobject_cast<QAreaSeries*>(s))
      n += a->upperSeries()->count();
    else if (auto* b = qobject_cast<QAbstractBarSeries*>(s))
      for (auto* set : b->barSets()) n += set->count();
  }
  return n;
}

}  // namespace jevons::gui
