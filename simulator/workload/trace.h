#pragma once
// Request traces: the Azure LLM inference CSV (TIMESTAMP,ContextTokens,GeneratedTokens), the
// Mooncake JSONL ({timestamp ms, input_length, output_length, hash_ids}) and a plain CSV with a
// header naming a time column (time_s | time_ms | time_ns | arrived_at) and token columns
// (input_tokens | num_prefill_tokens | prompt_tokens, output_tokens | num_decode_tokens |
// completion_tokens). Times are rebased so the first request arrives at 0; rows are stably
// sorted by time.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/event_queue.h"
#include "jevons/core/simulation_spec.h"

namespace jevons::sim {

struct TraceRow {
  TimeNs arrival_ns = 0;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t hash_offset = 0;  // into Trace::hashes
  std::uint32_t hash_count = 0;
};

struct Trace {
  std::string path;
  std::vector<TraceRow> rows;
  std::vector<std::uint64_t> hashes;
  std::uint64_t skipped_lines = 0;       // malformed lines skipped (policy kSkip)
  std::uint64_t first_skipped_line = 0;  // 1-based line number of the first one
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  bool resorted = false;  // rows were not in time order and were sorted
  std::uint64_t first_unsorted_row =
      0;  // 0-based index of the first row earlier than the one before
};

enum class TraceFormat : std::uint8_t { kAzure, kMooncake, kCsv };
TraceFormat parse_trace_format(const std::string& name);  // "azure", "mooncake", "csv"

/// Reads a trace file. A malformed line throws InputError naming file:line and what was
/// expected (policy kError), or is skipped and counted (kSkip). Lines longer than 1 MiB and
/// parsed fields longer than 256 bytes are malformed (the message says so). An unreadable file,
/// or one with no usable request (empty, header only, every line skipped), throws. The file is
/// read in blocks: memory is the rows plus a bounded line, whatever the file holds.
Trace read_trace(const std::string& path, TraceFormat format, MalformedPolicy policy);
/// Same, from text already in memory (`label` names it in messages).
Trace parse_trace(const std::string& text, const std::string& label, TraceFormat format,
                  MalformedPolicy policy);

}  // namespace jevons::sim
