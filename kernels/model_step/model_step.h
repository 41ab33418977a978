#pragma once
/// \file Synthetic model steps: one transformer layer of a real model's shapes (QKV, O, gate/up
/// and down GEMMs on random weights, SiLU·mul, the KV format's append and attention kernels) and
/// the LM head, timed on the device. The profiler records these as `Profile::steps`; the latency
/// model fits its rates to them (docs/latency-model.md).
///
/// Layer norms, rotary embeddings and residual adds are not run: they are elementwise over
/// T × hidden, and serving engines fuse most of them into neighbouring kernels. Unfused (eager
/// PyTorch) they are 5-23 % of a layer on an H100 (data/measured/h100), so rates fitted
/// to these steps leave them out. The decode query and the
/// attention output use fixed buffers rather than slices of the QKV output (no layout shuffles).
///
/// Two small kernels exist only for these steps; each has its CPU twin here and a GPU test
/// (tests/kernels/test_gpu.cpp):
///  * causal_softmax: column-wise softmax of a (keys × queries) score matrix under a causal mask;
///  * silu_mul: SwiGLU's silu(gate) · up.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "jevons/core/catalog.h"
#include "jevons/core/kv_format.h"
#include "scores/scores.h"

namespace jevons::kernels {

/// Per-GPU layer shapes of `model` under tensor parallelism `tp`: query heads, MLP width and
/// vocabulary are split across the shards; KV heads are split while there are at least `tp`,
/// else replicated (one per shard).
struct LayerDims {
  std::uint32_t hidden = 0;
  std::uint32_t q_heads = 0;
  std::uint32_t kv_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint32_t intermediate = 0;
  std::uint32_t vocab = 0;

  /// Throws std::invalid_argument when the model lacks the shapes (MoE, MLA, no
  /// intermediate_size / vocab_size in data/models.yaml) or tp does not divide the heads.
  static LayerDims of(const ModelSpec& model, std::uint32_t tp);
  std::uint32_t qkv_out() const { return (q_heads + 2 * kv_heads) * head_dim; }
  /// Weights of one layer (QKV, O, gate/up, down), elements.
  std::uint64_t layer_weights() const;
};

/// What one synthetic step does: `batch` sequences, each decoding one token after `context`
/// tokens (decode) or computing a chunk of `chunk` prompt tokens after `context` tokens already
/// in the cache (prefill).
struct StepRequest {
  bool prefill = false;
  std::uint32_t batch = 1;
  std::uint64_t context = 0;
  std::uint32_t chunk = 1;
  std::uint64_t new_tokens() const { return std::uint64_t{batch} * (prefill ? chunk : 1); }
};

/// The paged-KV layout a synthetic step runs over, on the host: each sequence owns
/// `pages_per_seq` consecutive pages (identity block table), its new tokens go to `slots`, and
/// every sequence is `len` tokens long after the step. The CPU and GPU steps share it; the GPU
/// step uploads the three vectors.
struct StepPages {
  std::uint64_t len = 0;
  std::uint32_t pages_per_seq = 0;
  std::uint32_t pages = 0;
  std::vector<std::int32_t> table;
  std::vector<std::int64_t> slots;
  std::vector<std::uint32_t> lens;
};
StepPages step_pages(const StepRequest& r, std::uint32_t page_tokens);

/// The batch descriptor of a step over `table` and `lens` (host or device copies of the
/// StepPages vectors).
PagedBatch step_batch(const LayerDims& d, const StepRequest& r, const StepPages& p,
                      const std::int32_t* table, const std::uint32_t* lens);

struct StepTiming {
  double layers_ns = 0;   ///< median time of `layers_measured` layers run back to back
  double lm_head_ns = 0;  ///< median time of the LM head GEMM (one row per sequence)
  std::uint32_t layers_measured = 0;
  /// The whole step of a model with `model_layers` layers.
  double step_ns(std::uint32_t model_layers) const {
    return layers_ns / layers_measured * model_layers + lm_head_ns;
  }
};

/// Bytes a measurement needs on the device (weights of the measured layers and LM head, KV
/// caches, activations, prefill score matrices), so callers can skip what does not fit.
std::uint64_t step_device_bytes(const LayerDims& dims, const KvConfig& kv, const StepRequest& r,
                                std::uint32_t layers_measured, std::uint32_t page_tokens,
                                std::size_t weight_bytes_per_element);

// ---------------------------------------------------------------------------------------------
// CPU twins

/// `s`: column-major [queries][keys] scores (column q holds its `keys` scores). Query q is token
/// `q % chunk` of its chunk (queries of several heads are stacked); key j is visible to it when
/// j ≤ offset + q % chunk. Writes p = softmax(scale · s) over the visible keys, 0 elsewhere.
void causal_softmax_ref(const float* s, std::uint32_t keys, std::uint32_t queries,
                        std::uint32_t chunk, std::uint32_t offset, float scale, float* p);

/// `gate_up`: column-major [tokens][2·width] (gate then up); `out`: [tokens][width],
/// out = silu(gate) · up with silu(x) = x / (1 + e^−x).
void silu_mul_ref(const float* gate_up, std::uint32_t width, std::uint32_t tokens, float* out);

/// Runs the step on the CPU (Eigen float32 GEMMs, single-threaded; the CPU-twin append and
/// decode attention) and times it.
StepTiming measure_step_cpu(const LayerDims& dims, const KvConfig& kv, const StepRequest& r,
                            std::uint32_t layers_measured, std::uint32_t page_tokens,
                            int iterations);

#if defined(JEVONS_HAVE_CUDA)
namespace gpu {

class Stream;

/// GPU twins of the kernels above, on bf16 data: `s` float, `p` bf16; `gate_up`, `out` bf16.
Status causal_softmax(const float* s, std::uint32_t keys, std::uint32_t queries,
                      std::uint32_t chunk, std::uint32_t offset, float scale, void* p_bf16,
                      const Stream& stream);
Status silu_mul(const void* gate_up_bf16, std::uint32_t width, std::uint32_t tokens, void* out_bf16,
                const Stream& stream);

/// True when cuBLAS could be loaded (it is opened at run time, so the profiler does not link it:
/// $JEVONS_CUBLAS, libcublas.so.13/.12 on the loader path, /usr/local/cuda/lib64, or the
/// nvidia-cublas wheel next to PyTorch). `why` gets the reason when it could not.
bool cublas_available(std::string* why);

/// Runs the step on the GPU (cuBLAS bf16 GEMMs with fp32 accumulation, the fused append and
/// decode-attention kernels of the format; prefill attention as two strided-batched GEMMs around
/// causal_softmax) and times it with CUDA events.
Status measure_step(const LayerDims& dims, const KvConfig& kv, const StepRequest& r,
                    std::uint32_t layers_measured, std::uint32_t page_tokens, int iterations,
                    StepTiming* out);

}  // namespace gpu
#endif

}  // namespace jevons::kernels
