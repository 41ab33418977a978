#pragma once
// Progress of a long command on stderr. On a terminal: one bar redrawn at most ten times a
// second, with an estimate of the time left. Anywhere else (a log file, a pipe, CI): a plain
// line every 10 s, so a redirected log is a readable history rather than thousands of
// carriage-return redraws. Nothing is shown for work that ends within the first second.

#include <chrono>
#include <cstdio>
#include <string>

namespace jevons::cli {

class Progress {
 public:
  /// `what` names the work in plain lines ("simulation", "projection"). JEVONS_PROGRESS_INTERVAL_S
  /// overrides the 10 s between plain lines and the 1 s before the first output (tests).
  explicit Progress(std::string what, std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// `fraction` done in [0, 1]; `detail` follows the percentage ("1,234 requests finished").
  void update(double fraction, const std::string& detail);
  /// A one-off line (e.g. "writing results to x.sqlite"), shown at once, after any open bar.
  void note(const std::string& text);
  /// Ends an open bar line (also done by the destructor).
  void finish();

  /// "42 s", "3 min 05 s", "1 h 02 min".
  static std::string duration(double seconds);

 private:
  using clock = std::chrono::steady_clock;
  std::string what_;
  std::FILE* out_;
  bool tty_;
  clock::time_point start_;
  clock::time_point last_;
  std::chrono::milliseconds first_delay_{1000};
  std::chrono::milliseconds interval_;
  bool shown_ = false;
  bool bar_open_ = false;
};

}  // namespace jevons::cli
