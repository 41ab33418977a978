#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace jevons::cli {

Progress::Progress(std::string what, std::FILE* out)
    : what_(std::move(what)),
      out_(out),
      tty_(::isatty(::fileno(out)) == 1),
      start_(clock::now()),
      last_(start_),
      interval_(tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000)) {
  if (const char* v = std::getenv("JEVONS_PROGRESS_INTERVAL_S"); v && *v) {
    const double s = std::atof(v);
    if (std::isfinite(s) && s >= 0 && s <= 86400) {
      interval_ = std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
      first_delay_ = std::min(first_delay_, interval_);
    }
  }
}

Progress::~Progress() {
  finish();
}

std::string Progress::duration(double seconds) {
  const auto s = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

void Progress::update(double fraction, const std::string& detail) {
  const auto now = clock::now();
  if (now - start_ < first_delay_) return;
  if (shown_ && now - last_ < interval_) return;
  shown_ = true;
  last_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Linear extrapolation of the time so far; none before 1 % (too noisy) or once done.
  const std::string eta = fraction >= 0.01 && fraction < 1
                              ? "ETA " + duration(elapsed * (1 - fraction) / fraction)
                          : fraction >= 1 ? "finishing"
                                          : "ETA unknown";
  if (tty_) {
    const auto filled = static_cast<std::size_t>(fraction * 30);
    fmt::print(out_, "\r[{:<30}] {:3.0f}%  {:<16} {}\x1b[K", std::string(filled, '#'),
               100 * fraction, eta, detail);
    bar_open_ = true;
  } else {
    fmt::print(out_, "{}: {:.0f}% after {}, {}{}{}\n", what_, 100 * fraction, duration(elapsed),
               eta, detail.empty() ? "" : ", ", detail);
  }
  std::fflush(out_);
}

void Progress::note(const std::string& text) {
  finish();
  fmt::print(out_, "{}\n", text);
  std::fflush(out_);
}

void Progress::finish() {
  if (bar_open_) {
    fmt::print(out_, "\n");
    std::fflush(out_);
    bar_open_ = false;
  }
}

}  // namespace jevons::cli
