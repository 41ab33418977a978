#pragma once
/// \file A QChartView that draws chart_data.h values: stacked areas, lines, the waterfall and
/// grouped bars, with axis titles carrying units and a tooltip showing the value under the mouse.

#include <QChartView>
#include <QStringList>

#include "chart_data.h"

class QAbstractAxis;

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
  void showWaterfall(const QList<WaterfallStep>& steps, const QString& unit, const QString& when);
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

 protected:
  bool event(QEvent* e) override;

 private:
  void reset(const QString& title);
  void setQuarterAxis(const QStringList& quarters, QAbstractAxis** out);
  void hoverTip(const QString& series, double x, double y, const QString& unit);

  QString title_;
  QStringList quarters_;
};

}  // namespace jevons::gui
