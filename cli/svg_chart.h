#pragma once
// Minimal SVG charts for `jevons report`: line/stacked-area charts over quarters, a waterfall and
// horizontal bars. Deterministic text output (same data, same bytes), self-contained, no fonts.

#include <string>
#include <vector>

namespace jevons::cli::svg {

/// `<`, `>` and `&` escaped, for SVG and HTML text.
std::string escape(const std::string& s);

struct Series {
  std::string name;
  std::vector<double> values;  ///< one per x label
  bool dashed = false;
};

struct LineChart {
  std::string title;
  std::string y_label;  ///< with the unit, e.g. "HBM (PB)"
  std::vector<std::string> x_labels;
  std::vector<Series> series;
  bool stacked = false;         ///< stacked areas (in order), else lines
  std::vector<Series> overlay;  ///< lines drawn over a stacked chart (e.g. a counterfactual)
};
std::string render(const LineChart& chart);

struct Bar {
  std::string label;
  double value = 0;
};
/// A waterfall: the first and last bars are totals from zero, the middle ones steps.
std::string waterfall(const std::string& title, const std::string& y_label,
                      const std::vector<Bar>& bars);
/// Horizontal bars around zero (a tornado): pairs of (low, high) per row.
struct TornadoRow {
  std::string label;
  double low = 0, high = 0;  ///< effects at the parameter's low and high values
  std::string low_note, high_note;
};
std::string tornado(const std::string& title, const std::string& x_label,
                    const std::vector<TornadoRow>& rows);

/// A fan: the P10–P90 range shaded and the P50 as a line, per x label.
struct Fan {
  std::string name;
  std::vector<double> p10, p50, p90;  ///< one per x label each
};
/// Fan chart over categorical x labels (quarters or years); fans drawn in order.
std::string fan_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& x_labels, const std::vector<Fan>& fans);

/// A labelled point on an x–y curve (the current setting, the crossing).
struct CurveMark {
  double x = 0, y = 0;
  std::string label;
  std::string color = "#d62728";
};
/// One line y(x) on a numeric x axis with a zero line and marks. `x` must be strictly
/// increasing (one value per x: a curve that doubles back is a data error, refused).
std::string curve(const std::string& title, const std::string& x_label, const std::string& y_label,
                  const std::vector<double>& x, const std::vector<double>& y,
                  const std::vector<CurveMark>& marks);

/// Round axis maximum and step for [lo, hi].
void nice_axis(double lo, double hi, double& axis_lo, double& axis_hi, double& step);

}  // namespace jevons::cli::svg
