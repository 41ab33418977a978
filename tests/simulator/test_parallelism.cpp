// Pipeline parallelism, expert parallelism with all-to-all, DP-attention and MXFP4 weights in the
// step time and the replica's memory (docs/latency-model.md, "Parallelism" and "MXFP4").
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "jevons/core/catalog.h"
#include "jevons/core/error.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/published.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/scenario.h"
#include "jevons/simulator/simulate.h"
#include "sim_fixture.h"
#include "timing/latency_model.h"

using namespace jevons;
using namespace jevons::sim;

namespace {

const Catalog& cat() {
  static const Catalog c = Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

LatencyModel model_of(const std::string& gpu, const std::string& model, WeightPrecision w,
                      std::uint32_t tp, const ParallelSpec& par, const std::string& kv = "fp8") {
  const ModelSpec& m = cat().model(model);
  const KvFootprint fp(m, KvConfig::parse(kv), tp);
  return LatencyModel(cat().gpu(gpu), m, fp, w, tp, AnalyticalParams{}, TimingSpec{}, PowerSpec{},
                      std::nullopt, nullptr, 20000, nullptr, &cat().latency(), par);
}

StepShape decode(std::uint32_t batch, std::uint64_t context) {
  StepShape s;
  s.decode_seqs = batch;
  s.decode_kv_tokens = std::uint64_t{batch} * context;
  return s;
}

double ms(const LatencyModel& lm, const StepShape& s) {
  return static_cast<double>(lm.step(s).time_ns) * 1e-6;
}

}  // namespace

TEST_CASE("GEMM ramp: T tokens run at T / (T + T½) of the large-T rate, per pipeline microbatch",
          "[parallelism][pipeline]") {
  // A compute-bound prefill of T tokens on one H100: with T½ = T the GEMMs take twice as long,
  // and nothing else moves, so the step grows by exactly the ramp-free GEMM time.
  Catalog c = cat();
  auto with_half = [&](double half) {
    c.latency().defaults().gemm_half_tokens = LatencyFigure{half, "fitted"};
    const ModelSpec& m = c.model("llama-2-70b");
    const KvFootprint fp(m, KvConfig::parse("fp8"), 1);
    return LatencyModel(c.gpu("h100-sxm"), m, fp, WeightPrecision::kFp8, 1, AnalyticalParams{},
                        TimingSpec{}, PowerSpec{}, std::nullopt, nullptr, 20000, nullptr,
                        &c.latency(), ParallelSpec{});
  };
  StepShape s;
  s.prefill_seqs = 1;
  s.prefill_tokens = 4096;
  const LatencyModel none = with_half(0), ramp = with_half(4096), ramp2 = with_half(8192);
  const double gemm = ms(ramp, s) - ms(none, s);
  CHECK(gemm > 0);
  // Linear in T½: doubling it adds the same GEMM time again.
  CHECK(ms(ramp2, s) - ms(none, s) == Approx(2 * gemm).epsilon(1e-3));
  // The ramp-free GEMM time is the step's FLOPs at the fitted rate: 2 × active parameters (less
  // the embedding lookup) × T at the H100's fp8 peak × GEMM efficiency.
  const ModelSpec& m = c.model("llama-2-70b");
  const LatencyParams lp = c.latency().resolve("h100-sxm", "fp8");
  const double flops =
      2.0 * (m.params_active_b * 1e9 - double(m.vocab_size) * m.hidden_size) * 4096;
  CHECK(gemm ==
        Approx(flops / (c.gpu("h100-sxm").dense_tflops("fp8") * 1e12 * lp.gemm_efficiency) * 1e3)
            .epsilon(1e-3));
}

TEST_CASE(
    "pipeline: one microbatch through two stages costs the whole model plus one more "
    "overhead and the sends (the bubble)",
    "[parallelism][pipeline]") {
  // Stage work is exactly half the model's (layers, weights, FLOPs, KV all split evenly), so
  // pp × (overhead + half the rest + send) = one GPU's step + one more overhead + 2 sends.
  const LatencyModel one = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, {});
  ParallelSpec par;
  par.pipeline_parallel = 2;
  par.microbatches = 1;
  const LatencyModel two = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, par);
  for (std::uint32_t b : {1u, 64u, 1024u}) {
    const StepShape s = decode(b, 500);
    const double overhead_ms = one.params().step_overhead_us * 1e-3;
    const double send_ms =
        2 * (two.params().allreduce_latency_us * 1e-3 +
             b * 8192 * 2.0 / (900e9 * two.params().allreduce_bandwidth_efficiency / 2) * 1e3);
    INFO("batch " << b);
    CHECK(ms(two, s) == Approx(ms(one, s) + overhead_ms + send_ms).epsilon(1e-6));
  }
}

TEST_CASE("pipeline: balanced microbatches halve a compute-bound step but not a weight-bound one",
          "[parallelism][pipeline]") {
  ParallelSpec par;
  par.pipeline_parallel = 2;  // two microbatches by default
  const LatencyModel one = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, {});
  const LatencyModel two = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, par);
  // 2,048 tokens of prefill-sized work in 16 chunks: compute-bound, and the two GPUs share it.
  StepShape big;
  big.prefill_seqs = 16;
  big.prefill_tokens = 2048;
  big.prefill_attention_pairs = 16 * 128.0 * (128 + 1) / 2;
  CHECK(ms(two, big) < 0.6 * ms(one, big));
  // Batch 2 decode is weight-bound: each stage streams its weights once per microbatch, so the
  // iteration reads the whole model twice and is no faster than one GPU.
  CHECK(ms(two, decode(2, 500)) > ms(one, decode(2, 500)));
  // One sequence cannot be split: a pipeline of one decoder is the one-microbatch bubble.
  ParallelSpec one_mb = par;
  one_mb.microbatches = 1;
  const LatencyModel bubble = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, one_mb);
  CHECK(ms(two, decode(1, 500)) == ms(bubble, decode(1, 500)));
  // A prefill chunk is indivisible too: one chunk of 2,000 tokens with 48 decoders leaves the
  // second stage waiting, slower than the same tokens spread evenly.
  StepShape lumpy;
  lumpy.prefill_seqs = 1;
  lumpy.prefill_tokens = 2000;
  lumpy.decode_seqs = 48;
  lumpy.decode_kv_tokens = 48 * 500;
  StepShape even = lumpy;
  even.prefill_seqs = 8;
  CHECK(ms(two, lumpy) > ms(two, even));
}

TEST_CASE(
    "pipeline with the step's microbatches given: balanced ones cost what the token-share split "
    "does, and a prefill chunk in one of them stalls the other for the pipeline's length",
    "[parallelism][pipeline]") {
  ParallelSpec par;
  par.pipeline_parallel = 2;
  const LatencyModel two = model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, par);
  REQUIRE(two.microbatches() == 2);
  CHECK(model_of("h100-sxm", "llama-2-70b", WeightPrecision::kFp8, 1, {}).microbatches() == 1);
  // Two equal microbatches of 300 decoders: the same time as the whole step split by token
  // share (both are pp × (one microbatch's pass + its send)).
  const StepShape half = decode(300, 400);
  const StepShape whole = decode(600, 400);
  StepShape given = whole;
  const StepShape parts[2] = {half, half};
  given.microbatch_shapes = parts;
  given.microbatch_shape_count = 2;
  CHECK(ms(two, given) == Approx(ms(two, whole)).epsilon(1e-9));
  // Add 512 prompt tokens. Split by token share, each microbatch carries half of them; pinned
  // to one microbatch (as engines pin sequences), that microbatch's pass sets the pace:
  // iteration = pp × (its pass + send), the other stage idle for the difference.
  StepShape chunk = half;
  chunk.prefill_seqs = 4;
  chunk.prefill_tokens = 512;
  chunk.prefill_attention_pairs = 4 * 128.0 * (128 + 1) / 2;
  StepShape mixed = whole;
  mixed.prefill_seqs = chunk.prefill_seqs;
  mixed.prefill_tokens = chunk.prefill_tokens;
  mixed.prefill_attention_pairs = chunk.prefill_attention_pairs;
  const StepShape lumpy_parts[2] = {chunk, half};
  StepShape lumpy = mixed;
  lumpy.microbatch_shapes = lumpy_parts;
  lumpy.microbatch_shape_count = 2;
  const double t_lumpy = ms(two, lumpy), t_share = ms(two, mixed);
  CHECK(t_lumpy > 1.05 * t_share);
  // ... and exactly the microbatch's own pipeline pass: the same microbatch alone (the other
  // empty: an empty microbatch is not run) costs the same.
  const StepShape alone_parts[2] = {chunk, StepShape{}};
  StepShape alone = chunk;
  alone.microbatch_shapes = alone_parts;
  alone.microbatch_shape_count = 2;
  CHECK(t_lumpy == Approx(ms(two, alone)).epsilon(1e-9));
  // The compute and memory parts add up over the microbatches.
  const StepCost c = two.step(lumpy);
  CHECK(c.compute_ns > 0);
  CHECK(c.memory_ns > 0);
}

TEST_CASE(
    "pipelined replica: every request finishes, deterministically, and a smaller token budget "
    "per microbatch never takes fewer steps",
    "[parallelism][pipeline][des]") {
  // Offline: 600 requests at t = 0 on one H100 TP1 × PP2 replica of Llama-2-70B, long prompts.
  auto run = [](std::uint32_t max_tokens) {
    const std::string text =
        "name: pp\nseed: 7\nkv_formats: [fp8]\nworkload: {context_tokens: [2048]}\n"
        "pools:\n  - {name: p, gpu: h100-sxm, model: llama-2-70b, weights: fp8, gpus: 2, "
        "pipeline_parallel: 2}\n"
        "simulation:\n  duration_s: 1\n  max_drain_s: 100000\n  batching: {max_num_seqs: 512, "
        "max_batched_tokens: " +
        std::to_string(max_tokens) +
        "}\n  workload:\n    classes:\n      - {name: c, arrival: {offline_requests: 600}, "
        "input_tokens: {dist: lognormal, mean: 600, cv: 1.0, max: 2048}, output_tokens: 64}\n"
        "  metrics: {interval_s: 100000}\n";
    return simulate(Scenario::parse(text, "pp.yaml", cat()), cat(), std::nullopt);
  };
  const SimulationReport a = run(2048), b = run(2048);
  REQUIRE(a.groups.size() == 1);
  CHECK(a.groups[0].finished == 600);
  CHECK(a.groups[0].output_tokens == 600u * 64u);
  CHECK(a.fingerprint == b.fingerprint);
  const SimulationReport small = run(1024);
  CHECK(small.groups[0].finished == 600);
  CHECK(small.pools[0].steps >= a.pools[0].steps);
}

TEST_CASE("pipeline memory: each GPU holds 1/pp of the weights and of every sequence's KV",
          "[parallelism][pipeline][memory]") {
  const GpuSpec& h100 = cat().gpu("h100-sxm");
  const ModelSpec& m = cat().model("llama-2-70b");
  ParallelSpec par;
  par.pipeline_parallel = 2;
  const MemoryPolicy policy;
  const ReplicaMemory tp1 = plan_replica_memory(h100, m, 1, WeightPrecision::kFp8, policy);
  const ReplicaMemory pp2 = plan_replica_memory(h100, m, 1, WeightPrecision::kFp8, policy, par);
  CHECK(std::abs(static_cast<double>(pp2.weight_bytes_per_gpu) - tp1.weight_bytes_per_gpu / 2.0) <=
        1);
  CHECK(pp2.tensor_parallel == 2);
  // A TP1 × PP2 pool of 8 GPUs is 4 replicas of 2.
  const std::string text =
      "name: t\nseed: 1\nkv_formats: [fp8]\nworkload: {context_tokens: [1024]}\n"
      "pools:\n  - {name: p, gpu: h100-sxm, model: llama-2-70b, weights: fp8, gpus: 8, "
      "pipeline_parallel: 2}\n";
  const Scenario sc = Scenario::parse(text, "t.yaml", cat());
  CHECK(sc.pools[0].replicas() == 4);
  CHECK(sc.pools[0].gpus_per_replica() == 2);
}

TEST_CASE("MLA under TP replicates the latent on every rank; DP-attention divides it by sequence",
          "[parallelism][mla]") {
  // DeepSeek-V3 on 8 H200s: under TP each rank reads every sequence's whole latent; under
  // DP-attention each rank reads its own eighth of the sequences.
  ParallelSpec dp;
  dp.dp_attention = true;
  const LatencyModel tp = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, {}, "bf16");
  const LatencyModel dpa = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, dp, "bf16");
  const StepShape s = decode(256, 4000);
  CHECK(dpa.work(s).kv_ns == Approx(tp.work(s).kv_ns / 8).epsilon(1e-12));
  CHECK(dpa.work(s).attention_flops == Approx(tp.work(s).attention_flops).epsilon(1e-12));
  // Each DP rank holds its attention projections whole: 7/8 of 11.41 B parameters more per GPU.
  const ModelSpec& m = cat().model("deepseek-v3");
  const ReplicaMemory mt =
      plan_replica_memory(cat().gpu("h200"), m, 8, WeightPrecision::kFp8, MemoryPolicy{});
  const ReplicaMemory md =
      plan_replica_memory(cat().gpu("h200"), m, 8, WeightPrecision::kFp8, MemoryPolicy{}, dp);
  CHECK(static_cast<double>(md.weight_bytes_per_gpu - mt.weight_bytes_per_gpu) ==
        Approx(11.41e9 * 7 / 8).epsilon(1e-6));
  // The simulated KV capacity: a DP-attention replica holds 8× the latent tokens (less the
  // replicated attention weights).
  auto capacity = [&](bool dp_attention) {
    const std::string text =
        std::string("name: t\nseed: 1\nkv_formats: [bf16]\nworkload: {context_tokens: [1024]}\n") +
        "pools:\n  - {name: p, gpu: h200, model: deepseek-v3, weights: fp8, gpus: 8, "
        "tensor_parallel: 8" +
        (dp_attention ? ", dp_attention: true" : "") +
        "}\nsimulation:\n  duration_s: 1\n  workload:\n    classes:\n      - name: c\n"
        "        arrival: {offline_requests: 4}\n        input_tokens: 64\n"
        "        output_tokens: 4\n";
    const SimulationReport r =
        simulate(Scenario::parse(text, "t.yaml", cat()), cat(), std::nullopt);
    // Tokens the replica holds: under TP every GPU holds each token's whole latent; under
    // DP-attention a GPU holds 1/8 of the tokens, so a token costs a GPU 1/8 of a latent.
    const double latent =
        static_cast<double>(KvFootprint(m, KvConfig::parse("bf16"), 8).bytes_per_token_per_gpu());
    return static_cast<double>(r.pools.at(0).kv_capacity_bytes_per_gpu) /
           (dp_attention ? latent / 8 : latent);
  };
  const double tokens_tp = capacity(false), tokens_dp = capacity(true);
  CHECK(tokens_dp > 6 * tokens_tp);
  CHECK(tokens_dp < 8 * tokens_tp);
}

TEST_CASE(
    "expert parallelism: all-to-all only between DP-attention ranks, imbalance slows the "
    "grouped GEMMs",
    "[parallelism][moe]") {
  const StepShape s = decode(512, 1000);
  // TP attention: every rank already holds every token, so EP ends in an all-reduce like TP;
  // only the MoE costs per expert touched and per routed token split over the ep ranks (each
  // runs whole experts on the tokens routed to them), so EP is no slower.
  ParallelSpec ep;
  ep.expert_parallel = 8;
  const LatencyModel tp = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, {}, "bf16");
  const LatencyModel tp_ep = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, ep, "bf16");
  CHECK(tp_ep.step(s).time_ns < tp.step(s).time_ns);
  CHECK(tp_ep.work(s).flops == tp.work(s).flops);
  // DP-attention with EP: dispatch and combine all-to-alls replace the MLP all-reduce; their
  // cost grows with the tokens of the step.
  ParallelSpec dp;
  dp.dp_attention = true;
  ParallelSpec dp_ep = dp;
  dp_ep.expert_parallel = 8;
  const LatencyModel a = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, dp, "bf16");
  const LatencyModel b = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, dp_ep, "bf16");
  CHECK(a.step(s).time_ns != b.step(s).time_ns);
  // Imbalance: the busiest rank's extra tokens lengthen a compute-bound MoE step.
  ParallelSpec skew = dp_ep;
  skew.expert_imbalance = 1.5;
  const LatencyModel c = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, skew, "bf16");
  StepShape prefill;
  prefill.prefill_seqs = 8;
  prefill.prefill_tokens = 8192;
  prefill.prefill_attention_pairs = 8 * 1024.0 * 1025 / 2;
  CHECK(c.step(prefill).time_ns > b.step(prefill).time_ns);
  CHECK(c.work(prefill).flops > b.work(prefill).flops);
}

TEST_CASE(
    "MoE decode at batch 1 and 4 stays within the published small-batch TPOTs (the rejected "
    "per-layer MoE constant made a Qwen3-235B token take 60 ms)",
    "[parallelism][moe][published]") {
  // data/published/serving.yaml D4 (gpustack-dsr1-h200): DeepSeek-R1 FP8 on 8 x H200, vLLM
  // 0.11.0 -tp 8, ShareGPT at concurrency 4: mean TPOT 19.36 ms. O5 (gpustack-gptoss-h100):
  // gpt-oss-120b MXFP4 on one H100, vLLM 0.10.2, ShareGPT at concurrency 4: mean TPOT 8.31 ms.
  // ShareGPT context at mid-output: about 230 input + 110 generated tokens.
  const std::uint64_t ctx = 340;
  const LatencyModel ds = model_of("h200", "deepseek-v3", WeightPrecision::kFp8, 8, {}, "bf16");
  CHECK(ms(ds, decode(4, ctx)) > 0.7 * 19.36);
  CHECK(ms(ds, decode(4, ctx)) < 1.3 * 19.36);
  CHECK(ms(ds, decode(1, ctx)) < 19.36);
  const LatencyModel oss =
      model_of("h100-sxm", "gpt-oss-120b", WeightPrecision::kMxfp4, 1, {}, "bf16");
  CHECK(ms(oss, decode(4, ctx)) > 0.7 * 8.31);
  CHECK(ms(oss, decode(4, ctx)) < 1.3 * 8.31);
  CHECK(ms(oss, decode(1, ctx)) < 8.31);
  // Qwen3-235B-A22B (no published single-stream figure found): each of its 94 layers is smaller
  // than DeepSeek-V3's in every term (hidden 4,096 vs 7,168, 8 of 128 experts of 1,536 vs 8 of
  // 256 of 2,048, 22 B vs 37 B active), so on the same 8 x H200 at batch 1 a token can take at
  // most DeepSeek-R1's published batch-4 time per layer: 19.36 ms x 94 / 61 = 29.8 ms.
  const LatencyModel qw = model_of("h200", "qwen3-235b-a22b", WeightPrecision::kFp8, 8, {}, "bf16");
  CHECK(ms(qw, decode(1, ctx)) < 19.36 * 94 / 61);
  CHECK(ms(ds, decode(1, ctx)) < ms(ds, decode(4, ctx)));
}

TEST_CASE("MXFP4 on Hopper: 4.25-bit experts in HBM, GEMMs at the bf16 rate",
          "[parallelism][mxfp4]") {
  const ModelSpec& m = cat().model("gpt-oss-120b");
  CHECK(bytes_per_weight(WeightPrecision::kMxfp4) == 0.53125);
  // gpt-oss-120b as shipped: routed experts in MXFP4, attention, embedding and LM head in bf16:
  // about 65 GB (it fits one 80 GB H100).
  const double bytes = stored_weight_bytes(m, WeightPrecision::kMxfp4);
  CHECK(bytes > 60e9);
  CHECK(bytes < 68e9);
  CHECK(gemm_precision(cat().gpu("h100-sxm"), WeightPrecision::kMxfp4) == "bf16");
  CHECK(gemm_precision(cat().gpu("b200"), WeightPrecision::kMxfp4) == "fp4");
  // Against fp8 weights on the same H100: fewer bytes (a weight-bound decode is faster) but a
  // slower GEMM rate (a compute-bound prefill is slower).
  const LatencyModel mx =
      model_of("h100-sxm", "gpt-oss-120b", WeightPrecision::kMxfp4, 1, {}, "bf16");
  const LatencyModel f8 =
      model_of("h100-sxm", "gpt-oss-120b", WeightPrecision::kFp8, 1, {}, "bf16");
  CHECK(mx.work(decode(1, 100)).weight_bytes < f8.work(decode(1, 100)).weight_bytes);
  StepShape prefill;
  prefill.prefill_seqs = 4;
  prefill.prefill_tokens = 8192;
  prefill.prefill_attention_pairs = 4 * 2048.0 * 2049 / 2;
  CHECK(ms(mx, prefill) > ms(f8, prefill));
  CHECK(mx.params().description.find("bf16") != std::string::npos);
}

TEST_CASE("parallelism keys: bad values name file, line, key and value",
          "[parallelism][bad_input]") {
  auto error_of = [](const std::string& pool) {
    const std::string text =
        "name: t\nseed: 1\nkv_formats: [fp8]\nworkload: {context_tokens: [1024]}\npools:\n  - " +
        pool + "\n";
    try {
      Scenario::parse(text, "par.yaml", cat());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string m = error_of(
      "{name: p, gpu: h100-sxm, model: llama-2-70b, weights: fp8, gpus: 8, expert_parallel: 2}");
  CHECK(m.find("par.yaml") != std::string::npos);
  CHECK(m.find("pools[0].expert_parallel") != std::string::npos);
  CHECK(m.find("no routed experts") != std::string::npos);
  m = error_of(
      "{name: p, gpu: h100-sxm, model: llama-2-70b, weights: fp8, gpus: 6, pipeline_parallel: 4}");
  CHECK(m.find("pools[0].gpus") != std::string::npos);
  m = error_of(
      "{name: p, gpu: h100-sxm, model: llama-2-70b, weights: fp8, gpus: 2, "
      "tensor_parallel: 2, microbatches: 4}");
  CHECK(m.find("pools[0].microbatches") != std::string::npos);
  m = error_of(
      "{name: p, gpu: h200, model: deepseek-v3, weights: fp8, gpus: 8, tensor_parallel: 8, "
      "expert_parallel: 3}");
  CHECK(m.find("expected a divisor") != std::string::npos);
}
