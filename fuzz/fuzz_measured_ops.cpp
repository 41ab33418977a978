// libFuzzer harness: the readers of a measured-ops set (data/measured/<set>/): the per-layer
// operator CSV, the all-reduce CSV and the decode-attention JSON. The input's first byte picks
// the reader; then the latency-model work is built from what was read, as `jevons calibrate` does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "jevons/core/error.h"
#include "jevons/core/measured_ops.h"
#include "timing/profile_calibration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<jevons::Diagnostic> errors;
  switch (data[0] % 3) {
    case 0: {
      jevons::MeasuredOpsDataset ds;
      ds.file = "fuzz.csv";
      ds.hidden_size = 64, ds.heads = 4, ds.kv_heads = 2, ds.intermediate_size = 128;
      jevons::MeasuredOpsSet::parse_ops_csv(text, ds, errors);
      const auto samples = jevons::sim::ops_samples(ds, "bf16");
      (void)samples;
      break;
    }
    case 1: {
      std::vector<jevons::MeasuredAllReduce> rows;
      jevons::MeasuredOpsSet::parse_all_reduce_csv(text, "fuzz.csv", rows, errors);
      for (std::uint32_t n : {2u, 4u, 8u}) {
        try {
          (void)jevons::sim::fit_all_reduce(rows, n);
        } catch (const std::invalid_argument&) {
        }
      }
      break;
    }
    default: {
      std::vector<jevons::MeasuredDecodeAttention> rows;
      jevons::MeasuredOpsSet::parse_decode_attention_json(text, "fuzz.json", rows, errors);
      for (const auto& r : rows) (void)r.kv_bytes();
    }
  }
  return 0;
}
