#include "svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace jevons::cli::svg {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

namespace {

constexpr double kW = 760, kH = 400, kLeft = 86, kRight = 170, kTop = 48, kBottom = 64;
const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1e4 || a < 1e-2) return fmt::format("{:.3g}", v);
  return fmt::format("{:g}", std::round(v * 1000) / 1000);
}

std::string header(const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{3}</text>\n",
      kW, kH, kLeft, escape(title));
}

}  // namespace

void nice_axis(double lo, double hi, double& axis_lo, double& axis_hi, double& step) {
  if (!(hi > lo)) {
    hi = lo + (lo == 0 ? 1 : std::fabs(lo) * 0.1);
  }
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double r = raw / mag;
  step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  axis_lo = std::floor(lo / step) * step;
  axis_hi = std::ceil(hi / step) * step;
}

std::string render(const LineChart& c) {
  const std::size_t n = c.x_labels.size();
  std::vector<std::vector<double>> tops;  // cumulative for stacked
  double lo = 0, hi = 0;
  if (c.stacked) {
    std::vector<double> acc(n, 0);
    for (const auto& s : c.series) {
      for (std::size_t i = 0; i < n; ++i) acc[i] += s.values[i];
      tops.push_back(acc);
    }
    for (double v : acc) hi = std::max(hi, v);
  } else {
    lo = 1e300;
    hi = -1e300;
    for (const auto& s : c.series)
      for (double v : s.values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    lo = std::min(lo, 0.0);
  }
  for (const auto& s : c.overlay)
    for (double v : s.values) hi = std::max(hi, v);
  double a_lo, a_hi, step;
  nice_axis(lo, hi, a_lo, a_hi, step);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto X = [&](std::size_t i) {
    return kLeft + (n > 1 ? pw * static_cast<double>(i) / static_cast<double>(n - 1) : pw / 2);
  };
  auto Y = [&](double v) { return kTop + ph * (1 - (v - a_lo) / (a_hi - a_lo)); };

  std::string out = header(c.title);
  for (double v = a_lo; v <= a_hi + step * 1e-9; v += step) {
    out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n",
                       kLeft, Y(v), kLeft + pw, Y(v));
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6,
                       Y(v) + 4, num(v));
  }
  const std::size_t every = std::max<std::size_t>(1, (n + 7) / 8);
  for (std::size_t i = 0; i < n; i += every)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(i),
                       kTop + ph + 18, escape(c.x_labels[i]));
  out += fmt::format(
      "<text transform=\"translate(18,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, escape(c.y_label));
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", kLeft,
      kTop, pw, ph);

  auto legend = [&](std::size_t k, const std::string& name, const std::string& color, bool dashed,
                    bool area) {
    const double y = kTop + 8 + 18 * static_cast<double>(k);
    if (area)
      out += fmt::format(
          "<rect x=\"{}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\" "
          "fill-opacity=\"0.75\"/>\n",
          kLeft + pw + 12, y - 9, color);
    else
      out += fmt::format(
          "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"{}\" "
          "stroke-width=\"2.5\"{}/>\n",
          kLeft + pw + 12, y - 4, kLeft + pw + 26, y - 4, color,
          dashed ? " stroke-dasharray=\"5,3\"" : "");
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", kLeft + pw + 32, y, escape(name));
  };
  std::size_t k = 0;
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const std::string color = kColors[si % 10];
    std::string pts;
    if (c.stacked) {
      for (std::size_t i = 0; i < n; ++i)
        pts += fmt::format("{:.1f},{:.1f} ", X(i), Y(tops[si][i]));
      for (std::size_t i = n; i-- > 0;)
        pts += fmt::format("{:.1f},{:.1f} ", X(i), Y(si ? tops[si - 1][i] : 0.0));
      out +=
          fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.75\" stroke=\"{}\"/>\n",
                      pts, color, color);
    } else {
      for (std::size_t i = 0; i < n; ++i)
        pts += fmt::format("{:.1f},{:.1f} ", X(i), Y(c.series[si].values[i]));
      out += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"{}/>\n", pts,
          color, c.series[si].dashed ? " stroke-dasharray=\"5,3\"" : "");
    }
    legend(k++, c.series[si].name, color, c.series[si].dashed, c.stacked);
  }
  for (const auto& s : c.overlay) {
    std::string pts;
    for (std::size_t i = 0; i < n; ++i) pts += fmt::format("{:.1f},{:.1f} ", X(i), Y(s.values[i]));
    out += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\" "
        "stroke-dasharray=\"6,4\"/>\n",
        pts);
    legend(k++, s.name, "#000", true, false);
  }
  return out + "</svg>\n";
}

std::string waterfall(const std::string& title, const std::string& y_label,
                      const std::vector<Bar>& bars) {
  double lo = 0, hi = 0, run = 0;
  std::vector<std::pair<double, double>> spans;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const bool total = i == 0 || i + 1 == bars.size();
    double a, b;
    if (total) {
      a = 0;
      b = bars[i].value;
      run = bars[i].value;
    } else {
      a = run;
      b = run + bars[i].value;
      run = b;
    }
    spans.push_back({a, b});
    lo = std::min({lo, a, b});
    hi = std::max({hi, a, b});
  }
  double a_lo, a_hi, step;
  nice_axis(lo, hi, a_lo, a_hi, step);
  const double pw = kW - kLeft - 40, ph = kH - kTop - kBottom;
  auto Y = [&](double v) { return kTop + ph * (1 - (v - a_lo) / (a_hi - a_lo)); };
  std::string out = header(title);
  for (double v = a_lo; v <= a_hi + step * 1e-9; v += step) {
    out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n",
                       kLeft, Y(v), kLeft + pw, Y(v));
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6,
                       Y(v) + 4, num(v));
  }
  out += fmt::format(
      "<text transform=\"translate(18,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, escape(y_label));
  const double slot = pw / static_cast<double>(std::max<std::size_t>(1, bars.size()));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const bool total = i == 0 || i + 1 == bars.size();
    const auto [a, b] = spans[i];
    const std::string color = total ? "#4c72b0" : (b < a ? "#2ca02c" : "#d62728");
    const double x = kLeft + slot * static_cast<double>(i) + slot * 0.15;
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n", x,
        Y(std::max(a, b)), slot * 0.7, std::max(1.0, std::fabs(Y(a) - Y(b))), color);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       x + slot * 0.35, Y(std::max(a, b)) - 5,
                       (total ? "" : (b >= a ? "+" : "")) + num(total ? b : b - a));
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       x + slot * 0.35, kTop + ph + 18, escape(bars[i].label));
  }
  out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#444\"/>\n",
                     kLeft, Y(0), kLeft + pw, Y(0));
  return out + "</svg>\n";
}

std::string tornado(const std::string& title, const std::string& x_label,
                    const std::vector<TornadoRow>& rows) {
  double lo = 0, hi = 0;
  for (const auto& r : rows) {
    lo = std::min({lo, r.low, r.high});
    hi = std::max({hi, r.low, r.high});
  }
  double a_lo, a_hi, step;
  nice_axis(lo, hi, a_lo, a_hi, step);
  const double left = 150, pw = kW - left - 40, ph = kH - kTop - kBottom;
  auto X = [&](double v) { return left + pw * (v - a_lo) / (a_hi - a_lo); };
  std::string out = header(title);
  for (double v = a_lo; v <= a_hi + step * 1e-9; v += step) {
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#ddd\"/>\n",
                       X(v), kTop, X(v), kTop + ph);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(v),
                       kTop + ph + 18, num(v));
  }
  out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     left + pw / 2, kTop + ph + 40, escape(x_label));
  const double slot = ph / static_cast<double>(std::max<std::size_t>(1, rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double y = kTop + slot * static_cast<double>(i) + slot * 0.2;
    const auto& r = rows[i];
    for (int side = 0; side < 2; ++side) {
      const double v = side ? r.high : r.low;
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
          "fill-opacity=\"0.8\"/>\n",
          std::min(X(0), X(v)), y, std::max(1.0, std::fabs(X(v) - X(0))), slot * 0.6,
          side ? "#d62728" : "#2ca02c");
      const std::string& note = side ? r.high_note : r.low_note;
      out += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-size=\"11\">{}</text>\n",
          X(v) + (v >= 0 ? 4 : -4), y + slot * 0.4, v >= 0 ? "start" : "end", escape(note));
    }
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 8,
                       y + slot * 0.4, escape(r.label));
  }
  out += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#444\"/>\n",
                     X(0), kTop, X(0), kTop + ph);
  return out + "</svg>\n";
}

std::string fan_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& x_labels, const std::vector<Fan>& fans) {
  const std::size_t n = x_labels.size();
  double lo = 0, hi = 0;
  for (const auto& f : fans)
    for (std::size_t i = 0; i < n; ++i) {
      lo = std::min({lo, f.p10[i], f.p50[i], f.p90[i]});
      hi = std::max({hi, f.p10[i], f.p50[i], f.p90[i]});
    }
  double a_lo, a_hi, step;
  nice_axis(lo, hi, a_lo, a_hi, step);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto X = [&](std::size_t i) {
    return kLeft + (n > 1 ? pw * static_cast<double>(i) / static_cast<double>(n - 1) : pw / 2);
  };
  auto Y = [&](double v) { return kTop + ph * (1 - (v - a_lo) / (a_hi - a_lo)); };
  std::string out = header(title);
  for (double v = a_lo; v <= a_hi + step * 1e-9; v += step) {
    out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n",
                       kLeft, Y(v), kLeft + pw, Y(v));
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6,
                       Y(v) + 4, num(v));
  }
  const std::size_t every = std::max<std::size_t>(1, (n + 7) / 8);
  for (std::size_t i = 0; i < n; i += every)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(i),
                       kTop + ph + 18, escape(x_labels[i]));
  out += fmt::format(
      "<text transform=\"translate(18,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, escape(y_label));
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", kLeft,
      kTop, pw, ph);
  if (a_lo < 0 && a_hi > 0)
    out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#444\"/>\n",
                       kLeft, Y(0), kLeft + pw, Y(0));
  for (std::size_t k = 0; k < fans.size(); ++k) {
    const auto& f = fans[k];
    const std::string color = kColors[k % 10];
    std::string band, mid;
    for (std::size_t i = 0; i < n; ++i) band += fmt::format("{:.1f},{:.1f} ", X(i), Y(f.p90[i]));
    for (std::size_t i = n; i-- > 0;) band += fmt::format("{:.1f},{:.1f} ", X(i), Y(f.p10[i]));
    for (std::size_t i = 0; i < n; ++i) mid += fmt::format("{:.1f},{:.1f} ", X(i), Y(f.p50[i]));
    out +=
        fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.25\" stroke=\"none\"/>\n",
                    band, color);
    out += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", mid, color);
    const double y = kTop + 8 + 36 * static_cast<double>(k);
    out += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\" "
        "fill-opacity=\"0.25\"/>\n",
        kLeft + pw + 12, y - 9, color);
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{} P10–P90</text>\n", kLeft + pw + 32, y,
                       escape(f.name));
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2.5\"/>\n",
        kLeft + pw + 12, y + 14, kLeft + pw + 26, y + 14, color);
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{} P50</text>\n", kLeft + pw + 32, y + 18,
                       escape(f.name));
  }
  return out + "</svg>\n";
}

std::string curve(const std::string& title, const std::string& x_label, const std::string& y_label,
                  const std::vector<double>& x, const std::vector<double>& y,
                  const std::vector<CurveMark>& marks) {
  if (x.size() != y.size() || x.empty())
    throw std::logic_error("svg::curve: x and y must be non-empty and of one length");
  for (std::size_t i = 1; i < x.size(); ++i)
    if (!(x[i] > x[i - 1]))
      throw std::logic_error("svg::curve: x must increase strictly (one y per x)");
  double lo = 0, hi = 0;
  for (double v : y) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (const auto& m : marks) {
    lo = std::min(lo, m.y);
    hi = std::max(hi, m.y);
  }
  double a_lo, a_hi, step, x_lo, x_hi, x_step;
  nice_axis(lo, hi, a_lo, a_hi, step);
  nice_axis(x.front(), x.back(), x_lo, x_hi, x_step);
  const double pw = kW - kLeft - 40, ph = kH - kTop - kBottom;
  auto X = [&](double v) { return kLeft + pw * (v - x_lo) / (x_hi - x_lo); };
  auto Y = [&](double v) { return kTop + ph * (1 - (v - a_lo) / (a_hi - a_lo)); };
  std::string out = header(title);
  for (double v = a_lo; v <= a_hi + step * 1e-9; v += step) {
    out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n",
                       kLeft, Y(v), kLeft + pw, Y(v));
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6,
                       Y(v) + 4, num(v));
  }
  for (double v = x_lo; v <= x_hi + x_step * 1e-9; v += x_step)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(v),
                       kTop + ph + 18, num(v));
  out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     kLeft + pw / 2, kTop + ph + 40, escape(x_label));
  out += fmt::format(
      "<text transform=\"translate(18,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, escape(y_label));
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", kLeft,
      kTop, pw, ph);
  out += fmt::format(
      "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#444\" "
      "stroke-dasharray=\"5,3\"/>\n",
      kLeft, Y(0), kLeft + pw, Y(0));
  std::string pts;
  for (std::size_t i = 0; i < x.size(); ++i) pts += fmt::format("{:.1f},{:.1f} ", X(x[i]), Y(y[i]));
  out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n",
                     pts, kColors[0]);
  for (std::size_t k = 0; k < marks.size(); ++k) {
    const auto& m = marks[k];
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/>\n", X(m.x),
                       Y(m.y), m.color);
    // Labels alternate above and below so two nearby marks stay readable.
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", X(m.x),
        Y(m.y) + (k % 2 ? 20 : -10), m.color, escape(m.label));
  }
  return out + "</svg>\n";
}

}  // namespace jevons::cli::svg
