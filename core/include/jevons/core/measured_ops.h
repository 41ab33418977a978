#pragma once
/// \file Per-layer operator times measured on a GPU by a third party (data/measured/<set>/):
/// the independent check of the latency model's GEMM rates on a GPU this project has not
/// profiled itself (docs/validation.md §2).
///
/// A set is a directory with `sources.yaml` (where the numbers come from, the GPU, the weight
/// type, and each file's model dimensions) and one CSV per model. Each CSV row is one
/// (tokens, tensor-parallel degree) point: the mean time of each operator of one transformer
/// layer, in milliseconds, as the source measured it. The loader checks everything and reports
/// bad input by file, line and column name.

#include <cstdint>
#include <string>
#include <vector>

#include "jevons/core/error.h"

namespace jevons {

/// One measured point: the operators of one layer processing `num_tokens` tokens on one GPU of a
/// tensor-parallel group of `tensor_parallel`.
struct MeasuredOpRow {
  std::uint64_t num_tokens = 0;
  std::uint32_t tensor_parallel = 1;
  double gemm_ms = 0;         ///< the QKV, O, gate/up and down projections
  double elementwise_ms = 0;  ///< norms, rotary embedding, activation, residual add
  int line = 0;               ///< 1-based line in the CSV
  double layer_ms() const { return gemm_ms + elementwise_ms; }
};

struct MeasuredOpsDataset {
  std::string file;         ///< path of the CSV
  std::string model;        ///< model name as the source gives it
  std::string source_path;  ///< path in the source repository
  std::string commit;       ///< source repository commit
  std::uint64_t hidden_size = 0, heads = 0, kv_heads = 0, intermediate_size = 0;
  bool gated_mlp = true;
  std::vector<MeasuredOpRow> rows;

  /// Weights of one layer's four projections (QKV, O, MLP), all tensor-parallel shards.
  double projection_params() const;
};

/// One measured all-reduce: `bytes` summed over `workers` GPUs of one node.
struct MeasuredAllReduce {
  std::uint64_t bytes = 0;
  std::uint32_t workers = 0;
  double time_ms = 0;  ///< mean
  int line = 0;
};

/// One measured decode-attention step over a 16-bit KV cache: `batch` sequences of `context`
/// tokens, one query token each, on one layer.
struct MeasuredDecodeAttention {
  std::uint32_t batch = 0;
  std::uint64_t context = 0;
  std::uint32_t q_heads = 0, kv_heads = 0, head_dim = 0;
  double time_ms = 0;
  /// K and V bytes the step reads: batch · context · kv_heads · head_dim · 2 (K, V) · 2 bytes.
  double kv_bytes() const {
    return 4.0 * batch * static_cast<double>(context) * kv_heads * head_dim;
  }
};

struct MeasuredOpsSet {
  std::string dir;
  std::string gpu_catalog_id;  ///< the GPU measured, as a catalog id ("h100-sxm")
  std::string weights;         ///< weight type of the measured GEMMs ("bf16")
  std::string source;          ///< citation (repository, licence)
  std::vector<MeasuredOpsDataset> datasets;
  std::string all_reduce_file;  ///< "" when the set has no collective measurements
  std::string all_reduce_source_path, all_reduce_commit;
  std::vector<MeasuredAllReduce> all_reduce;
  std::string decode_attention_file, decode_attention_source;
  std::vector<MeasuredDecodeAttention> decode_attention;

  /// Loads `dir`/sources.yaml and every CSV it lists. Throws InputError naming the file, line,
  /// key and value on any bad input.
  static MeasuredOpsSet load(const std::string& dir);
  /// `<data dir>/measured/h100` (JEVONS_DATA_DIR honoured, like Catalog::default_dir()).
  static std::string default_dir();

  /// The readers behind load(), on text (tests and the fuzzer use them): each appends what it
  /// reads and adds a diagnostic per problem, never throws on bad input.
  static void parse_ops_csv(const std::string& text, MeasuredOpsDataset& ds,
                            std::vector<Diagnostic>& errors);
  static void parse_all_reduce_csv(const std::string& text, const std::string& file,
                                   std::vector<MeasuredAllReduce>& out,
                                   std::vector<Diagnostic>& errors);
  static void parse_decode_attention_json(const std::string& text, const std::string& file,
                                          std::vector<MeasuredDecodeAttention>& out,
                                          std::vector<Diagnostic>& errors);
};

}  // namespace jevons
