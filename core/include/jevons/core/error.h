#pragma once
/// \file Errors for bad input at the boundaries (scenario, catalog, profile and trace loading).
///
/// Bugs are `std::logic_error`; simulated outcomes (OOM, SLO misses) are metrics, never exceptions.
/// A `InputError` carries every diagnostic found in one pass so a user fixes a file in one go.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace jevons {

/// One problem in one input file, located as precisely as the reader can.
struct Diagnostic {
  std::string file;     ///< path as given by the user ("" when not from a file)
  int line = 0;         ///< 1-based; 0 when unknown
  int column = 0;       ///< 1-based; 0 when unknown
  std::string key;      ///< dotted key path, e.g. "pools[1].tensor_parallel"
  std::string value;    ///< the offending value as written ("" when missing)
  std::string message;  ///< what was expected, in a sentence
  std::string hint;     ///< optional, e.g. "did you mean 'tensor_parallel'?"

  /// "file:line:col: key 'k' = 'v': message (hint)"
  std::string format() const;
};

/// Thrown when an input cannot be used. `what()` lists every diagnostic, one per line.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  explicit InputError(Diagnostic diagnostic);
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

/// `text` made safe to print in a message: printable ASCII and valid UTF-8 pass, every other byte
/// (NUL, control characters, binary garbage) becomes `\xNN`, and text longer than `max_bytes` is
/// cut there and ends with "… (N bytes in all)". A NUL would otherwise cut a C-string message
/// short, and raw binary would be sent to the user's terminal.
std::string printable(std::string_view text, std::size_t max_bytes = 200);

/// The largest scenario, catalog, grid, profile or measured-data file Jevons reads (64 MiB; the
/// largest shipped is 124 KB). A larger one is refused before it is read, so a wrong path (a
/// disk image, a 2 GB log) fails at once instead of filling memory. Traces are read in blocks
/// with bounded lines instead (simulator/workload/trace.h).
inline constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t{64} << 20;

/// Throws InputError naming `path` when the file is larger than kMaxInputFileBytes (`what`
/// names the kind of file in the message). Missing or special files pass: the caller's open
/// reports those.
void check_input_file_size(const std::string& path, const std::string& what);

/// The longest line an input file (YAML, JSON, CSV) may hold: 1 MiB. No hand-written or
/// generated input of Jevons comes near it (the longest shipped line is under 1 KB), and a
/// longer one is a binary or minified file given by mistake; refusing it names the line instead
/// of feeding a parser megabytes of one token.
inline constexpr std::size_t kMaxInputLineBytes = std::size_t{1} << 20;

/// Throws InputError naming `path`, the first line longer than kMaxInputLineBytes, its length
/// and the limit (`what` names the kind of file).
void check_input_lines(const std::string& path, std::string_view text, const std::string& what);

/// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word` when it is close enough to be a plausible typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace jevons
