#pragma once
/// \file A QChartView that draws chart_data.h values: stacked areas, lines, the waterfall and
/// grouped bars, with axis titles carrying units and a tooltip showing the value under the mouse.

#include <QChartView>
#include <QStringList>

#include "chart_data.h"

class QAbstractAxis;
class QGraphicsSimpleTextItem;

namespace jevons::gui {

class ChartView : public QChartView {
  Q_OBJECT

 public:
  explicit ChartView(const QString& title, QWidget* parent = nullptr);

  /// Areas stacked in series order over quarters; `overlay` (may be null) is drawn as a dashed
  /// line on top (e.g. the no-compression total).
  void showStacked(const SeriesGroup& group, const QStringList& quarters,
                   const Series* overlay = nullptr);
  /// Lines over quarters; series whose name contains "(B)" are dashed (the comparison).
  void showLines(const SeriesGroup& group, const QStringList& quarters);
  /// Lines over a numeric x axis (simulated hours).
  void showXY(const QList<Series>& series, const QString& x_title, const QString& y_title);
  /// Floating bars, each with its signed value written above it. The value axis is centred on
  /// the first bar's top (the counterfactual) with a half-width from a 1-2-2.5-5 ladder that only
  /// grows while `scale_key` (e.g. the scenario file) stays the same, so a −146 PB and a −10 PB
  /// effect keep their true proportions from one lever move to the next.
  void showWaterfall(const QList<WaterfallStep>& steps, const QString& unit, const QString& when,
                     const QString& scale_key = {});
  /// Grouped bars: one category per row label, one bar set per set name.
  void showBars(const QStringList& categories, const QStringList& set_names,
                const QList<QList<double>>& values_by_set, const QString& unit);
  void clearData(const QString& why = {});

  /// Data points currently drawn (all series and bar sets), for tests.
  qsizetype pointCount() const;
  /// Follow the application palette: dark chart theme when the window colour is dark.
  void applyTheme();
  /// Gives stacked areas distinct colours from a 12-colour palette, and the overlay line a
  /// pen that shows on the current theme.
  void applySeriesColors();
  /// Colours stacked areas by name instead of by position: the i-th key takes the palette's
  /// i-th colour, other names a colour from a fixed hash of the name. With the catalog's GPU ids
  /// as keys a generation has one colour in every run, live or loaded, whatever the stack order.
  void setColorKeys(const QStringList& keys) { color_keys_ = keys; }
  /// The colour a stacked area named `name` takes.
  QColor areaColor(const QString& name, int position) const;
  /// Marks the chart as not matching the levers or the YAML: a veil and the reason across the
  /// plot (also in exported PNGs). "" clears the mark.
  void setStale(const QString& reason);
  QString staleReason() const { return stale_; }
  /// The value labels drawn over the waterfall's bars, in bar order (for tests).
  QStringList barLabels() const;

 protected:
  bool event(QEvent* e) override;
  void drawForeground(QPainter* painter, const QRectF& rect) override;

 private:
  void reset(const QString& title);
  void setQuarterAxis(const QStringList& quarters, QAbstractAxis** out);
  void hoverTip(const QString& series, double x, double y, const QString& unit);
  void placeBarLabels();

  QString title_;
  QStringList quarters_;
  QStringList color_keys_;
  QString stale_;
  QString waterfall_key_;
  double waterfall_half_ = 0;                   ///< the waterfall axis's half-width, grown only
  QList<QGraphicsSimpleTextItem*> bar_labels_;  ///< owned by the chart
  QList<QPointF> bar_tops_;                     ///< (bar index, value) each label sits on
};

}  // namespace jevons::gui
