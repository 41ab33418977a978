#include "workload/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "jevons/core/error.h"

namespace jevons::sim {
namespace {

constexpr std::uint64_t kMaxTokens = 0xFFFFFFFFull;
// Arrival times are int64 ns; bounding every absolute time by ±4e18 ns (about 126 years) keeps
// the conversion to ns, the rebasing on the first row (a difference of two times) and later
// scaling arithmetic free of overflow, which is undefined behaviour for signed integers.
constexpr double kMaxTimeNs = 4e18;
constexpr std::int64_t kMaxTimeS = 4'000'000'000;
// Every line and every field a reader parses is bounded, so a corrupt file (a field of 2 GB of
// digits, a binary file without newlines) fails fast, in little memory, with a short message.
// The longest real lines are Mooncake's: a 128k-token prompt lists 256 hash ids (a few KiB).
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxFieldBytes = 256;
// How much of an offending line or field a message quotes.
constexpr std::size_t kQuoteBytes = 80;

std::string quote(std::string_view s) {
  return printable(s, kQuoteBytes);
}

struct LineError {
  std::string key;
  std::string value;
  std::string expected;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits `line` at `sep` into trimmed fields, into `out` (cleared first). The caller keeps `out`
// across lines, so after the first line no field list allocates (a fresh vector per line was
// ~15 % of trace parsing). Same fields as before: only the storage is reused.
void split(std::string_view line, char sep, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = line.find(sep, start);
    out.push_back(
        trim(line.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start)));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
}

// Accepts exactly what std::from_chars(unsigned) accepts when it must consume the whole field:
// one or more decimal digits, no sign, no spaces. Fields of up to 19 digits cannot overflow
// 2^64 − 1, so they are summed inline (the timestamp's seven small fields were the single
// largest cost of trace parsing through from_chars); longer ones keep from_chars and its
// overflow check. Results are therefore identical.
bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  if (s.size() <= 19) {
    std::uint64_t v = 0;
    for (const char c : s) {
      const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
      if (d > 9) return false;
      v = v * 10 + d;
    }
    out = v;
    return true;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && std::isfinite(out);
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "2023-11-16 18:15:46.6805900" (Azure) → ns since the epoch. Also accepts a 'T' separator.
bool parse_timestamp(std::string_view s, TimeNs& out) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return false;
  }
  // The six fixed-width fields are digit runs at known offsets (s.size() >= 19 is checked
  // above): the same test parse_u64 applies to each substring, without building substrings.
  const auto digits = [&s](std::size_t pos, std::size_t n, std::uint64_t& v) {
    v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      const auto d = static_cast<unsigned>(static_cast<unsigned char>(s[i]) - '0');
      if (d > 9) return false;
      v = v * 10 + d;
    }
    return true;
  };
  std::uint64_t y, mo, d, h, mi, se;
  if (!digits(0, 4, y) || !digits(5, 2, mo) || !digits(8, 2, d) || !digits(11, 2, h) ||
      !digits(14, 2, mi) || !digits(17, 2, se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  std::int64_t frac_ns = 0;
  if (s.size() > 19) {
    if (s[19] != '.') return false;
    std::string_view f = s.substr(20);
    if (f.empty() || f.size() > 9) return false;
    std::uint64_t v;
    if (!parse_u64(f, v)) return false;
    frac_ns = static_cast<std::int64_t>(v);
    for (std::size_t i = f.size(); i < 9; ++i) frac_ns *= 10;
  }
  const std::int64_t days = days_from_civil(static_cast<std::int64_t>(y), static_cast<unsigned>(mo),
                                            static_cast<unsigned>(d));
  out = ((days * 24 + static_cast<std::int64_t>(h)) * 60 + static_cast<std::int64_t>(mi)) * 60 +
        static_cast<std::int64_t>(se);
  if (out > kMaxTimeS || out < -kMaxTimeS) return false;  // years outside 1844..2096
  out = out * 1'000'000'000 + frac_ns;
  return true;
}

bool tokens(std::string_view s, std::uint32_t& out) {
  std::uint64_t v;
  if (!parse_u64(s, v) || v == 0 || v > kMaxTokens) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

class Reader {
 public:
  Reader(std::string label, MalformedPolicy policy) : policy_(policy) {
    trace_.path = std::move(label);
  }

  // Reports a malformed line: throws (kError) or counts it (kSkip).
  void bad(std::uint64_t line, const LineError& e) {
    if (policy_ == MalformedPolicy::kError) {
      Diagnostic d;
      d.file = trace_.path;
      d.line = static_cast<int>(line);
      d.key = e.key;
      d.value = e.value;
      d.message = e.expected;
      d.hint = "set `malformed: skip` in the trace section to skip and count such lines";
      throw InputError(d);
    }
    if (trace_.skipped_lines++ == 0) trace_.first_skipped_line = line;
  }
  void add(TimeNs t, std::uint32_t in, std::uint32_t out,
           const std::vector<std::uint64_t>& h = {}) {
    TraceRow r;
    r.arrival_ns = t;
    r.input_tokens = in;
    r.output_tokens = out;
    r.hash_offset = static_cast<std::uint32_t>(trace_.hashes.size());
    r.hash_count = static_cast<std::uint32_t>(h.size());
    trace_.hashes.insert(trace_.hashes.end(), h.begin(), h.end());
    trace_.rows.push_back(r);
  }
  Trace finish() {
    // A trace without one usable request would "run" an idle fleet and exit 0: refuse it.
    if (trace_.rows.empty()) {
      Diagnostic d;
      d.file = trace_.path;
      d.message = trace_.skipped_lines > 0
                      ? fmt::format(
                            "the trace has no usable request: all {} non-blank lines were "
                            "malformed and skipped (the first at line {})",
                            trace_.skipped_lines, trace_.first_skipped_line)
                      : "the trace has no requests (the file is empty, blank or only a header)";
      throw InputError(d);
    }
    // Recorded traces are almost always already in time order; a stable sort of a sorted
    // sequence is the identity, so checking first only skips the merge sort's buffer and passes.
    const auto by_time = [](const TraceRow& a, const TraceRow& b) {
      return a.arrival_ns < b.arrival_ns;
    };
    const auto first_unsorted =
        std::is_sorted_until(trace_.rows.begin(), trace_.rows.end(), by_time);
    if (first_unsorted != trace_.rows.end()) {
      trace_.first_unsorted_row = static_cast<std::uint64_t>(first_unsorted - trace_.rows.begin());
      trace_.resorted = true;
      std::stable_sort(trace_.rows.begin(), trace_.rows.end(), by_time);
    }
    if (!trace_.rows.empty()) {
      const TimeNs t0 = trace_.rows.front().arrival_ns;
      for (auto& r : trace_.rows) {
        r.arrival_ns -= t0;
        trace_.input_tokens += r.input_tokens;
        trace_.output_tokens += r.output_tokens;
      }
    }
    return std::move(trace_);
  }

 private:
  MalformedPolicy policy_;
  Trace trace_;
};

// Lines of a trace, without their "\n" or "\r\n". A line longer than kMaxLineBytes is not
// returned whole: `line` holds its first kQuoteBytes and `length` its full length, so a file
// without newlines is never held in memory as one line.
class LineSource {
 public:
  virtual ~LineSource() = default;
  virtual bool next(std::string_view& line, std::uint64_t& length) = 0;
};

class TextLines final : public LineSource {
 public:
  explicit TextLines(const std::string& text) : text_(text) {}
  bool next(std::string_view& line, std::uint64_t& length) override {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    line = std::string_view(text_.data() + pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    length = line.size();
    if (length > kMaxLineBytes) line = line.substr(0, kQuoteBytes);
    pos_ = end + 1;
    return true;
  }

 private:
  const std::string& text_;
  std::size_t pos_ = 0;
};

// Reads a file in 1 MiB blocks: memory stays at a block plus the longest (bounded) line.
class FileLines final : public LineSource {
 public:
  explicit FileLines(std::istream& in) : in_(in), buf_(std::size_t{1} << 20) {}
  bool next(std::string_view& line, std::uint64_t& length) override {
    line_.clear();
    length = 0;
    bool any = false;
    for (;;) {
      if (pos_ == end_ && !fill()) {
        if (!any) return false;
        break;
      }
      any = true;
      const char* b = buf_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(b, '\n', end_ - pos_));
      const std::size_t n = nl ? static_cast<std::size_t>(nl - b) : end_ - pos_;
      if (nl && length == 0) {
        // The whole line lies in this block (nothing of it came from an earlier one): hand out
        // a view, no copy (the common case).
        pos_ += n + 1;
        line = std::string_view(b, n);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        length = line.size();
        if (length > kMaxLineBytes) line = line.substr(0, kQuoteBytes);
        return true;
      }
      // Keep at most kMaxLineBytes + 1 bytes: enough to tell an overlong line and quote it.
      if (line_.size() <= kMaxLineBytes)
        line_.append(b, std::min(n, kMaxLineBytes + 1 - line_.size()));
      length += n;
      pos_ += n;
      if (nl) {
        ++pos_;
        break;
      }
    }
    if (!line_.empty() && line_.back() == '\r' && length <= kMaxLineBytes) {
      line_.pop_back();
      --length;
    }
    line = line_;
    if (length > kMaxLineBytes) line = line.substr(0, kQuoteBytes);
    return true;
  }

 private:
  bool fill() {
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    pos_ = 0;
    end_ = static_cast<std::size_t>(in_.gcount());
    return end_ > 0;
  }
  std::istream& in_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::string line_;
};

// Calls fn(line_number, line) for each line within the length bound; overlong lines are
// reported to the reader (an error, or skipped and counted) and never parsed.
template <typename Fn>
void for_each_line(LineSource& src, Reader& rd, Fn&& fn) {
  std::uint64_t line = 0, length = 0;
  std::string_view l;
  while (src.next(l, length)) {
    ++line;
    if (length > kMaxLineBytes) {
      rd.bad(line, {"", quote(l),
                    fmt::format("a line of {} bytes; lines are limited to {} bytes (is this a "
                                "trace file?)",
                                length, kMaxLineBytes)});
      continue;
    }
    fn(line, l);
  }
}

// A field the reader parses, checked against kMaxFieldBytes first; false (and reported) if
// longer.
bool field_ok(Reader& rd, std::uint64_t line, const char* key, std::string_view f) {
  if (f.size() <= kMaxFieldBytes) return true;
  rd.bad(line, {key, quote(f),
                fmt::format("a field of {} bytes; fields are limited to {} bytes", f.size(),
                            kMaxFieldBytes)});
  return false;
}

bool blank(std::string_view l) {
  return trim(l).empty();
}

void read_azure(LineSource& src, Reader& rd) {
  bool header = true;
  std::vector<std::string_view> f;
  for_each_line(src, rd, [&](std::uint64_t line, std::string_view l) {
    if (blank(l)) return;
    if (header) {
      header = false;
      if (l.find("TIMESTAMP") != std::string_view::npos) return;
    }
    split(l, ',', f);
    if (f.size() != 3) {
      rd.bad(line, {"", quote(l), "expected 3 fields: TIMESTAMP,ContextTokens,GeneratedTokens"});
      return;
    }
    if (!field_ok(rd, line, "TIMESTAMP", f[0]) || !field_ok(rd, line, "ContextTokens", f[1]) ||
        !field_ok(rd, line, "GeneratedTokens", f[2])) {
      return;
    }
    TimeNs t;
    std::uint32_t in, out;
    if (!parse_timestamp(f[0], t)) {
      rd.bad(line, {"TIMESTAMP", quote(f[0]),
                    "expected a time like 2023-11-16 18:15:46.6805900 (years 1844 to 2096)"});
    } else if (!tokens(f[1], in)) {
      rd.bad(line, {"ContextTokens", quote(f[1]), "expected a positive integer"});
    } else if (!tokens(f[2], out)) {
      rd.bad(line, {"GeneratedTokens", quote(f[2]), "expected a positive integer"});
    } else {
      rd.add(t, in, out);
    }
  });
}

// A JSON value for a message. dump() recurses once per nesting level, so a line nested a few
// hundred thousand levels deep would overflow the stack: containers are summarised instead.
std::string describe(const nlohmann::json& v) {
  if (v.is_array()) return "[a list of " + std::to_string(v.size()) + "]";
  if (v.is_object()) return "{an object}";
  return quote(v.dump());
}

void read_mooncake(LineSource& src, Reader& rd) {
  for_each_line(src, rd, [&](std::uint64_t line, std::string_view l) {
    if (blank(l)) return;
    const auto j = nlohmann::json::parse(l.begin(), l.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      rd.bad(line, {"", quote(l), "expected one JSON object per line"});
      return;
    }
    auto num = [&](const char* key, double& out) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_number()) return false;
      out = it->get<double>();
      return std::isfinite(out);
    };
    double ts, in, out;
    if (!num("timestamp", ts) || ts < 0 || ts * 1e6 > kMaxTimeNs) {
      rd.bad(line,
             {"timestamp", j.contains("timestamp") ? describe(j["timestamp"]) : "",
              "expected a non-negative time in milliseconds, at most 4e12 (about 126 years)"});
      return;
    }
    if (!num("input_length", in) || in < 1 || in > kMaxTokens || in != std::floor(in)) {
      rd.bad(line, {"input_length", j.contains("input_length") ? describe(j["input_length"]) : "",
                    "expected a positive integer"});
      return;
    }
    if (!num("output_length", out) || out < 1 || out > kMaxTokens || out != std::floor(out)) {
      rd.bad(line,
             {"output_length", j.contains("output_length") ? describe(j["output_length"]) : "",
              "expected a positive integer"});
      return;
    }
    std::vector<std::uint64_t> hashes;
    if (auto it = j.find("hash_ids"); it != j.end()) {
      if (!it->is_array()) {
        rd.bad(line, {"hash_ids", describe(*it), "expected a list of integers"});
        return;
      }
      for (const auto& h : *it) {
        if (!h.is_number_integer()) {
          rd.bad(line, {"hash_ids", describe(h), "expected a list of integers"});
          return;
        }
        hashes.push_back(h.get<std::uint64_t>());
      }
    }
    rd.add(static_cast<TimeNs>(std::llround(ts * 1e6)), static_cast<std::uint32_t>(in),
           static_cast<std::uint32_t>(out), hashes);
  });
}

void read_csv(LineSource& src, Reader& rd, const std::string& label) {
  int time_col = -1, in_col = -1, out_col = -1;
  double time_to_ns = 1;
  std::size_t fields = 0;
  bool header = true;
  std::vector<std::string_view> f;
  for_each_line(src, rd, [&](std::uint64_t line, std::string_view l) {
    if (blank(l) || trim(l).front() == '#') return;
    split(l, ',', f);
    if (header) {
      header = false;
      fields = f.size();
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::string c(f[i]);
        const int ci = static_cast<int>(i);
        if (c == "time_s" || c == "arrival_time_s" || c == "timestamp_s" || c == "arrived_at") {
          time_col = ci, time_to_ns = 1e9;
        } else if (c == "time_ms" || c == "timestamp_ms" || c == "timestamp") {
          time_col = ci, time_to_ns = 1e6;
        } else if (c == "time_ns") {
          time_col = ci, time_to_ns = 1;
        } else if (c == "input_tokens" || c == "num_prefill_tokens" || c == "prompt_tokens" ||
                   c == "input_length" || c == "ContextTokens") {
          in_col = ci;
        } else if (c == "output_tokens" || c == "num_decode_tokens" || c == "completion_tokens" ||
                   c == "output_length" || c == "GeneratedTokens") {
          out_col = ci;
        }
      }
      if (time_col < 0 || in_col < 0 || out_col < 0) {
        Diagnostic d;
        d.file = label;
        d.line = static_cast<int>(line);
        d.value = quote(l);
        d.message =
            "expected a header naming a time column (time_s, time_ms, time_ns or arrived_at), "
            "input_tokens and output_tokens";
        throw InputError(d);  // a missing header is never a per-line problem
      }
      return;
    }
    if (f.size() != fields) {
      rd.bad(line,
             {"", quote(l), "expected " + std::to_string(fields) + " fields as in the header"});
      return;
    }
    if (!field_ok(rd, line, "time", f[static_cast<std::size_t>(time_col)]) ||
        !field_ok(rd, line, "input_tokens", f[static_cast<std::size_t>(in_col)]) ||
        !field_ok(rd, line, "output_tokens", f[static_cast<std::size_t>(out_col)])) {
      return;
    }
    double t;
    std::uint32_t in, out;
    if (!parse_double(f[static_cast<std::size_t>(time_col)], t) || t < 0 ||
        t * time_to_ns > kMaxTimeNs) {
      rd.bad(line, {"time", quote(f[static_cast<std::size_t>(time_col)]),
                    "expected a non-negative number, at most 4e18 ns (about 126 years)"});
    } else if (!tokens(f[static_cast<std::size_t>(in_col)], in)) {
      rd.bad(line, {"input_tokens", quote(f[static_cast<std::size_t>(in_col)]),
                    "expected a positive integer"});
    } else if (!tokens(f[static_cast<std::size_t>(out_col)], out)) {
      rd.bad(line, {"output_tokens", quote(f[static_cast<std::size_t>(out_col)]),
                    "expected a positive integer"});
    } else {
      rd.add(static_cast<TimeNs>(std::llround(t * time_to_ns)), in, out);
    }
  });
}

}  // namespace

TraceFormat parse_trace_format(const std::string& name) {
  if (name == "mooncake") return TraceFormat::kMooncake;
  if (name == "csv") return TraceFormat::kCsv;
  return TraceFormat::kAzure;
}

namespace {

Trace parse_lines(LineSource& src, const std::string& label, TraceFormat format,
                  MalformedPolicy policy) {
  Reader rd(label, policy);
  switch (format) {
    case TraceFormat::kAzure:
      read_azure(src, rd);
      break;
    case TraceFormat::kMooncake:
      read_mooncake(src, rd);
      break;
    case TraceFormat::kCsv:
      read_csv(src, rd, label);
      break;
  }
  return rd.finish();
}

}  // namespace

Trace parse_trace(const std::string& text, const std::string& label, TraceFormat format,
                  MalformedPolicy policy) {
  TextLines src(text);
  return parse_lines(src, label, format, policy);
}

Trace read_trace(const std::string& path, TraceFormat format, MalformedPolicy policy) {
  std::ifstream in(path, std::ios::binary);
  // A directory opens as a stream on Linux and reads as an empty trace: refuse it by name.
  if (!in || std::filesystem::is_directory(path)) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the trace file";
    throw InputError(d);
  }
  FileLines src(in);
  return parse_lines(src, path, format, policy);
}

}  // namespace jevons::sim
