#include "timing/latency_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace jevons::sim {

LatencyModel::LatencyModel(const GpuSpec& gpu, const ModelSpec& model, const KvFootprint& kv,
                           WeightPrecision weights, std::uint32_t tensor_parallel,
                           const AnalyticalParams& params, const TimingSpec& timing,
                           const PowerSpec& power, const std::optional<Profile>& profile,
                           const GpuSpec* profile_gpu, std::uint32_t max_step_tokens,
                           const DeviceStepCalibration* steps,
                           const LatencyCalibration* calibration, const ParallelSpec& parallel)
    : par_(parallel) {
  constant_ = timing.model == TimingSpec::Model::kConstant;
  constant_ns_ = timing.constant_step_ns;
  const double tp = tensor_parallel;
  // A pipeline stage holds layers / pp of every per-layer quantity: every term below is per GPU
  // of one stage (docs/latency-model.md, "Parallelism").
  const double pp = std::max<std::uint32_t>(1, par_.pipeline_parallel);
  // The precision the GEMMs run at: MXFP4 on a part without FP4 tensor cores runs at bf16.
  const std::string prec = gemm_precision(gpu, weights);

  // The physical parameters: data/latency-model.yaml for this GPU and weight type when the
  // scenario asks for the calibrated model, the flat roofline defaults otherwise. A key the
  // scenario's `analytical:` section gives always wins.
  const bool calibrated = calibration != nullptr && !calibration->empty() && params.calibrated;
  if (calibrated) {
    lp_ = calibration->resolve(gpu.id, prec);
  } else {
    lp_.description = "roofline defaults";
  }
  using AP = AnalyticalParams;
  if (!calibrated || (params.given & AP::kGivenBandwidth))
    lp_.bandwidth_efficiency = params.bandwidth_efficiency;
  if (!calibrated || (params.given & AP::kGivenCompute)) {
    lp_.gemm_efficiency = params.compute_efficiency;
    if (!calibrated) lp_.attention_efficiency = params.compute_efficiency;
  }
  if (!calibrated || (params.given & AP::kGivenOverhead))
    lp_.step_overhead_us = params.step_overhead_us;
  if (!calibrated || (params.given & AP::kGivenAllreduceLatency))
    lp_.allreduce_latency_us = params.allreduce_latency_us;
  if (!calibrated || (params.given & AP::kGivenAllreduceBandwidth))
    lp_.allreduce_bandwidth_efficiency = params.allreduce_bandwidth_efficiency;

  const double hbm_bytes_per_s = gpu.hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e12;
  const double eff_bw = hbm_bytes_per_s * lp_.bandwidth_efficiency;
  ns_per_weight_byte_ = 1e9 / eff_bw;
  ns_per_flop_ = 1e9 / (gpu.dense_tflops(prec) * 1e12 * lp_.gemm_efficiency);
  // Attention runs in bf16 tensor cores whatever the weight format (cause 1 of issue 12: the
  // roofline ran it at the weight format's peak, 2× at fp8 and 4× at fp4).
  attention_flop_scale_ =
      calibrated
          ? (1e9 / (gpu.dense_tflops("bf16") * 1e12 * lp_.attention_efficiency)) / ns_per_flop_
          : 1.0;
  overhead_ns_ = lp_.step_overhead_us * 1e3;
  // The GEMM ramp applies per microbatch (pass_ns gets each microbatch's tokens), so pipeline
  // microbatches and small decode batches pay for their partly filled tiles.
  gemm_half_tokens_ = lp_.gemm_half_tokens;
  const double stage_layers = model.layers / pp;
  layer_fixed_ns_ =
      stage_layers * lp_.layer_fixed_us * 1e3 + stage_layers * lp_.attention_kernel_us * 1e3;
  if (model.is_mla()) layer_fixed_ns_ += stage_layers * lp_.mla_layer_us * 1e3;
  if (model.is_moe()) {
    moe_dispatch_ns_ = stage_layers * lp_.moe_dispatch_us * 1e3;
    // Per expert touched: each distinct expert a step routes tokens to is one more group of the
    // grouped GEMMs (tile setup, a partly filled tile, its weights' first touch), on the GPUs
    // holding it: all tp ranks (a slice each) under TP-MoE, one of ep ranks under EP.
    // Per routed token: the token's bf16 hidden state is gathered into its experts' order and
    // scattered back (top-k weighted), `moe_permute_passes` HBM passes over it per MoE layer, on
    // every rank under TP-MoE (each holds every token), on 1/ep of them under EP.
    moe_experts_ = model.experts;
    moe_k_ = model.experts_per_token;
    moe_ep_ = std::max<std::uint32_t>(1, par_.expert_parallel);
    moe_expert_ns_ = stage_layers * lp_.moe_expert_us * 1e3 / moe_ep_;
    moe_routed_token_ns_ = stage_layers * lp_.moe_permute_passes * model.hidden_size * 2.0 *
                           moe_k_ / moe_ep_ / eff_bw * 1e9;
  }

  moe_ = model.is_moe();
  if (moe_) {
    weight_bytes_by_tokens_.resize(static_cast<std::size_t>(max_step_tokens) + 1);
    for (std::uint32_t t = 0; t <= max_step_tokens; ++t) {
      weight_bytes_by_tokens_[t] =
          weight_bytes_read_per_gpu(model, weights, tensor_parallel, t) / pp;
    }
  } else {
    dense_weight_bytes_ = weight_bytes_read_per_gpu(model, weights, tensor_parallel, 1) / pp;
  }
  if (par_.dp_attention && tensor_parallel > 1) {
    // Each DP-attention rank holds (and streams every step) its attention projections whole.
    dense_weight_bytes_ += attention_weight_bytes(model, weights) / pp * (1.0 - 1.0 / tp);
  }
  linear_flops_per_token_ = 2.0 * model.params_active_b * 1e9 / tp / pp;
  if (calibrated) {
    // The input embedding is a row lookup, not a GEMM or a weight stream (cause 5 of issue 12):
    // neither its FLOPs nor its bytes count. The LM head is kept at 16 bits by real narrow-weight
    // checkpoints (ModelOpt FP8/NVFP4, gpt-oss MXFP4), so it streams 2 bytes per weight.
    // Per stage: the embedding sits on the first stage and the LM head on the last; the step is
    // charged their mean (a pipeline of Llama-2-70B has under 1 % of a stage's weights in them).
    const double embed = static_cast<double>(model.vocab_size) * model.hidden_size;
    linear_flops_per_token_ -= 2.0 * embed / tp / pp;
    // weight_bytes_read_per_gpu counts both at the format's bytes, except MXFP4, which stores
    // them in bf16 already.
    const double bpw = weights == WeightPrecision::kMxfp4 ? 2.0 : bytes_per_weight(weights);
    const double head_extra = embed * std::max(0.0, 2.0 - bpw) / tp;
    embedding_bytes_adjust_ = (-embed * bpw / tp + head_extra) / pp;
  }
  if (moe_) {
    // Routed experts run as grouped GEMMs at moe_gemm_efficiency of the dense rate (calibrated
    // model only), and under expert parallelism at the pace of the busiest rank, which receives
    // expert_imbalance times the mean share of the routed tokens.
    const double k_over_e =
        static_cast<double>(model.experts_per_token) / static_cast<double>(model.experts);
    const double routed_active = model.routed_expert_params() * k_over_e;
    // MXFP4 experts where the GPU has no FP4 tensor cores (gemm_precision ran them at bf16) are
    // dequantized inside the grouped GEMMs: moe_dequant_efficiency of that rate.
    const bool dequant = weights == WeightPrecision::kMxfp4 && prec != "fp4";
    const double moe_eff =
        calibrated ? lp_.moe_gemm_efficiency * (dequant ? lp_.moe_dequant_efficiency : 1.0) : 1.0;
    const double imbalance = par_.expert_parallel > 1 ? par_.expert_imbalance : 1.0;
    linear_flops_per_token_ += 2.0 * routed_active * (imbalance / moe_eff - 1.0) / tp / pp;
  }
  // Attention FLOPs per (query, key) pair: QKᵀ and PV, 2 FLOPs per multiply-add. MLA with
  // absorbed projections attends over the latent (kv_lora_rank) plus the rope part.
  const double per_layer =
      model.is_mla() ? 2.0 * model.q_heads * (2.0 * model.kv_lora_rank + model.qk_rope_head_dim)
                     : 4.0 * model.q_heads * model.head_dim;
  // Sliding-window and chunked layers attend at most window_tokens keys: their attention FLOPs
  // and KV reads are charged on min(KV, W) per sequence, the other layers' on the whole KV.
  std::uint32_t full_layers = 0, window_layers = 0;
  std::uint64_t full_bytes = 0, window_bytes = 0;  // per GPU and token
  for (LayerAttention k : model.layer_attention) {
    const std::uint64_t b = kv.bytes_per_token_layer(k) / kv.tensor_parallel();
    if ((k == LayerAttention::kSliding || k == LayerAttention::kChunked) &&
        model.window_tokens > 0) {
      ++window_layers;
      window_bytes += b;
    } else {
      ++full_layers;
      full_bytes += b;
    }
  }
  window_tokens_ = window_layers > 0 ? model.window_tokens : 0;
  if (par_.dp_attention && tensor_parallel > 1) {
    // DP-attention: each rank holds all heads (an MLA latent whole) of its own sequences only,
    // so a rank reads 1/tp of the replica's KV, not a head shard of all of it. Under plain TP an
    // MLA latent is replicated on every rank (KvFootprint) and each rank reads all of it.
    const KvFootprint one(model, kv.kv(), 1);
    full_bytes = window_bytes = 0;
    for (LayerAttention k : model.layer_attention) {
      const std::uint64_t b = one.bytes_per_token_layer(k);
      ((k == LayerAttention::kSliding || k == LayerAttention::kChunked) && model.window_tokens > 0
           ? window_bytes
           : full_bytes) += b;
    }
    full_kv_bytes_per_token_ = static_cast<double>(full_bytes) / tp / pp;
    window_kv_bytes_per_token_ = static_cast<double>(window_bytes) / tp / pp;
  } else {
    full_kv_bytes_per_token_ = static_cast<double>(full_bytes) / pp;
    window_kv_bytes_per_token_ = static_cast<double>(window_bytes) / pp;
  }
  attn_flops_per_pair_ = per_layer * full_layers / tp / pp;
  attn_flops_per_window_pair_ = per_layer * window_layers / tp / pp;
  kv_bytes_per_token_ = static_cast<double>(kv.bytes_per_token_per_gpu());

  // Collectives on the scale-up link, at the collective constants (latency, share of the link).
  const double link_gbps =
      gpu.scaleup_link_gbps.value.value_or(64.0) * lp_.allreduce_bandwidth_efficiency;
  const bool a2a = par_.dp_attention && moe_ && par_.expert_parallel > 1;
  if (tensor_parallel > 1) {
    // All-reduces of the step's activations (bf16) on a ring, each GPU sending and receiving
    // 2(tp−1)/tp of the buffer: one after attention (none under DP-attention, where each rank
    // owns its sequences) and one after the MLP (none when DP-attention ranks reach their experts
    // by all-to-all; with TP attention every rank already holds every token, so expert
    // parallelism there still ends in an all-reduce).
    const double per_layer_reduces = (par_.dp_attention ? 0.0 : 1.0) + (a2a ? 0.0 : 1.0);
    allreduce_fixed_ns_ = per_layer_reduces * stage_layers * lp_.allreduce_latency_us * 1e3;
    allreduce_ns_per_token_ =
        per_layer_reduces * stage_layers *
        ring_allreduce_ns(model.hidden_size * 2.0, tensor_parallel, link_gbps, 0.0);
  }
  if (a2a) {
    // Expert parallelism over DP-attention ranks: each rank sends each of its tokens' hidden
    // state (bf16) to the k ranks of its chosen experts, (ep−1)/ep of them remote (dispatch),
    // and receives the expert outputs back (combine): two all-to-alls per MoE layer, each
    // costing the collective latency plus the bytes over one direction of the link.
    const double ep = par_.expert_parallel;
    const double bytes_per_token = model.experts_per_token * model.hidden_size * 2.0 * (ep - 1) /
                                   ep / tp;  // per GPU, per token of the replica
    alltoall_fixed_ns_ = 2.0 * stage_layers * lp_.allreduce_latency_us * 1e3;
    alltoall_ns_per_token_ = 2.0 * stage_layers * bytes_per_token / (link_gbps * 1e9 / 2.0) * 1e9;
  }
  if (pp > 1) {
    // One bf16 hidden state per token from stage to stage, one direction of the link.
    p2p_fixed_ns_ = lp_.allreduce_latency_us * 1e3;
    p2p_ns_per_token_ = model.hidden_size * 2.0 / (link_gbps * 1e9 / 2.0) * 1e9;
  }
  // PCIe Gen5 x16 practical ~50 GB/s when the catalog has no figure (BLIS #806).
  host_ns_per_byte_ = 1e9 / (gpu.host_link_gbps.value.value_or(50.0) * 1e9);
  tdp_w_ = gpu.tdp_w.value.value_or(700.0);
  idle_w_ = tdp_w_ * power.idle_fraction;
  memory_weight_ = power.memory_bound_weight;

  // KV-read cost of the format: measured decode-attention bandwidth when profiled, else the
  // measured slowdown against bf16, else bytes over effective HBM bandwidth.
  kv_cal_.seconds_per_byte = 1.0 / eff_bw;
  kv_cal_.source = "roofline";
  if (profile) {
    const std::string fmt = kv.kv().name();
    const std::uint32_t hd =
        model.is_mla() ? model.kv_lora_rank + model.qk_rope_head_dim : model.head_dim;
    double scale = 1.0;
    if (profile_gpu != nullptr && profile_gpu->id != gpu.id &&
        profile_gpu->hbm_bandwidth_tbps.known()) {
      scale = hbm_bytes_per_s / (profile_gpu->hbm_bandwidth_tbps.get("hbm_bandwidth_tbps") * 1e12);
      kv_cal_.projected = true;
    }
    if (auto bw = profile->decode_bandwidth(fmt, hd); bw && *bw > 0) {
      kv_cal_.seconds_per_byte = 1.0 / (*bw * scale);
      kv_cal_.source = "profile:bandwidth";
    } else if (auto ratio = profile->decode_time_ratio_vs_bf16(fmt, hd); ratio && *ratio > 0) {
      const KvFootprint bf16(model, KvConfig::parse("bf16"), tensor_parallel);
      const double bf16_bytes = static_cast<double>(bf16.bytes_per_token_per_gpu());
      kv_cal_.seconds_per_byte = *ratio * bf16_bytes / kv_bytes_per_token_ / eff_bw;
      kv_cal_.source = "profile:ratio";
    } else {
      kv_cal_.projected = false;
    }
  }
  if (kv_cal_.source == "roofline" && calibrated) {
    // No GPU profile of this format: its decode-attention time relative to bf16 from the
    // latency-model file (public integrations' measured speed), never silently the byte floor.
    const std::string fmt = kv.kv().name();
    if (auto sp = calibration->kv_speed(fmt)) {
      const KvFootprint bf16(model, KvConfig::parse("bf16"), tensor_parallel);
      const double bf16_bytes = static_cast<double>(bf16.bytes_per_token_per_gpu());
      kv_cal_.seconds_per_byte = sp->time_vs_bf16 * bf16_bytes / kv_bytes_per_token_ / eff_bw;
      char buf[160];
      std::snprintf(buf, sizeof buf, "latency-model.yaml: %.3g x bf16 time (%s)", sp->time_vs_bf16,
                    sp->source.c_str());
      kv_cal_.source = buf;
    } else {
      kv_cal_.source = "roofline:byte floor (no speed entry for " + fmt + ")";
    }
  }
  if (calibrated) calibration_source_ = "latency-model.yaml: " + lp_.description;
  if (steps != nullptr) apply_step_calibration(gpu, weights, *steps);
}

StepShape LatencyModel::shape_of(const StepPoint& p) const {
  StepShape s;
  if (p.phase == "decode") {
    s.decode_seqs = p.batch;
    s.decode_kv_tokens = p.batch * (p.context_tokens + 1);
    s.decode_window_kv_tokens =
        p.batch * std::min<std::uint64_t>(p.context_tokens + 1, window_tokens_);
  } else {
    const double c = static_cast<double>(p.tokens) / p.batch;
    const double o = std::max(0.0, static_cast<double>(p.context_tokens) - c);
    s.prefill_seqs = p.batch;
    s.prefill_tokens = p.tokens;
    s.prefill_attention_pairs = p.batch * c * (o + (c + 1) / 2);
    s.prefill_window_attention_pairs =
        p.batch * windowed_attention_pairs(c, o, static_cast<double>(window_tokens_));
  }
  return s;
}

void LatencyModel::apply_step_calibration(const GpuSpec& gpu, WeightPrecision weights,
                                          const DeviceStepCalibration& cal) {
  // A CPU profile's steps check the method (docs/validation.md); they say nothing of a GPU.
  if (cal.device_kind != "gpu" || cal.gpu == nullptr) return;
  const std::string prec = to_string(weights);
  // Another GPU or weight type: scale the measured rates by the catalog roofline ratios.
  const StepRates r = project_rates(cal.fit.rates, *cal.gpu, cal.weights, gpu, prec);
  ns_per_flop_ = r.ns_per_flop;
  ns_per_weight_byte_ = r.ns_per_weight_byte;
  overhead_ns_ = r.overhead_ns;
  // The measured steps' fitted overhead already holds the per-layer and per-kernel costs.
  layer_fixed_ns_ = 0;
  moe_dispatch_ns_ = 0;
  moe_expert_ns_ = 0;
  moe_routed_token_ns_ = 0;
  attention_flop_scale_ = 1;
  gemm_half_tokens_ = r.gemm_half_tokens;
  step_calibrated_ = true;
  const bool projected = cal.gpu->id != gpu.id || cal.weights != prec;
  char buf[256];
  std::snprintf(
      buf, sizeof buf, "profile steps: %zu points on %s (%s), mean error %.1f %%%s", cal.fit.points,
      cal.gpu->id.c_str(), cal.weights.c_str(), 100 * cal.fit.mean_abs_rel_error,
      projected ? (", projected to " + gpu.id + " " + prec + " by catalog ratios").c_str() : "");
  calibration_source_ = buf;
}

StepWork LatencyModel::work(const StepShape& s) const {
  const std::uint64_t tokens = s.decode_seqs + s.prefill_tokens;
  // Full-attention layers attend every KV token, windowed layers min(KV, W) of them; for a
  // model without windowed layers the second terms are exactly 0 (and the results unchanged).
  StepWork w;
  w.flops = linear_flops_per_token_ * static_cast<double>(tokens);
  w.attention_flops =
      attn_flops_per_pair_ * (static_cast<double>(s.decode_kv_tokens) + s.prefill_attention_pairs) +
      attn_flops_per_window_pair_ *
          (static_cast<double>(s.decode_window_kv_tokens) + s.prefill_window_attention_pairs);
  w.weight_bytes = weight_bytes(tokens);
  w.tokens = static_cast<double>(tokens);
  w.kv_ns = (static_cast<double>(s.decode_kv_tokens) * full_kv_bytes_per_token_ +
             static_cast<double>(s.decode_window_kv_tokens) * window_kv_bytes_per_token_) *
            kv_cal_.seconds_per_byte * 1e9;
  return w;
}

double LatencyModel::weight_bytes(std::uint64_t tokens) const {
  if (!moe_) return dense_weight_bytes_ + embedding_bytes_adjust_;
  if (tokens < weight_bytes_by_tokens_.size())
    return weight_bytes_by_tokens_[tokens] + embedding_bytes_adjust_;
  return weight_bytes_by_tokens_.back() + embedding_bytes_adjust_;
}

StepWork LatencyModel::share_of(const StepShape& s, double f) const {
  StepWork w = work(s);
  if (f == 1.0) return w;
  const double tokens = static_cast<double>(s.decode_seqs + s.prefill_tokens) * f;
  w.flops *= f;
  w.attention_flops *= f;
  w.kv_ns *= f;
  w.tokens = tokens;
  w.weight_bytes = weight_bytes(static_cast<std::uint64_t>(std::llround(tokens)));
  return w;
}

double LatencyModel::pass_ns(const StepWork& work_in, double tokens, double* compute_ns,
                             double* memory_ns) const {
  StepWork w = work_in;
  w.attention_flops *= attention_flop_scale_;
  const StepRates rates{0, ns_per_flop_, ns_per_weight_byte_, gemm_half_tokens_};
  const StepParts parts = step_parts(w, rates);
  *compute_ns = parts.gemm_compute_ns + parts.attention_compute_ns;
  *memory_ns = parts.weight_ns + parts.kv_ns;
  const double body = parts.body_ns();
  const double comm = tokens > 0 ? allreduce_fixed_ns_ + allreduce_ns_per_token_ * tokens +
                                       alltoall_fixed_ns_ + alltoall_ns_per_token_ * tokens
                                 : 0;
  const double fixed = tokens > 0 ? layer_fixed_ns_ + moe_dispatch_ns_ + moe_tokens_ns(tokens) : 0;
  return overhead_ns_ + fixed + body + comm;
}

double LatencyModel::moe_tokens_ns(double tokens) const {
  if (moe_expert_ns_ == 0 && moe_routed_token_ns_ == 0) return 0;
  // Expected distinct experts touched by T tokens each choosing k of E: E · (1 − (1 − k/E)^T).
  const double touched = moe_experts_ * (1.0 - std::pow(1.0 - moe_k_ / moe_experts_, tokens));
  return moe_expert_ns_ * touched + moe_routed_token_ns_ * tokens;
}

StepCost LatencyModel::step(const StepShape& s) const {
  StepCost c;
  if (constant_) {
    c.time_ns = constant_ns_;
    c.power_w_per_gpu = tdp_w_;
    return c;
  }
  const std::uint64_t tokens = s.decode_seqs + s.prefill_tokens;
  const double host = static_cast<double>(s.host_transfer_bytes_per_gpu) * host_ns_per_byte_;
  double total = 0;
  const std::uint32_t pp = par_.pipeline_parallel;
  if (pp <= 1 || tokens == 0) {
    total = pass_ns(work(s), static_cast<double>(tokens), &c.compute_ns, &c.memory_ns) + host;
  } else if (s.microbatch_shapes != nullptr && s.microbatch_shape_count > 0) {
    // Pipeline with the step's sequences in the microbatches that hold them: each stage runs
    // every microbatch in turn (Σ of their stage times), and a microbatch starts its next
    // token only after crossing all pp stages (pp × its stage time and send). The iteration
    // takes the larger, so a microbatch that carries a prefill chunk the others do not stalls
    // them for the pipeline's length: what TensorRT-LLM's pipelines pay and a split by token
    // share hides. An empty microbatch is not run.
    double sum = 0, slowest = 0;
    c.compute_ns = c.memory_ns = 0;
    for (std::uint32_t i = 0; i < s.microbatch_shape_count; ++i) {
      const StepShape& mb = s.microbatch_shapes[i];
      const double t_mb = static_cast<double>(mb.decode_seqs + mb.prefill_tokens);
      if (t_mb == 0) continue;
      double ci = 0, mi = 0;
      const double ti = pass_ns(work(mb), t_mb, &ci, &mi);
      sum += ti;
      c.compute_ns += ci;
      c.memory_ns += mi;
      slowest = std::max(slowest, ti + p2p_fixed_ns_ + p2p_ns_per_token_ * t_mb);
    }
    total = std::max(sum, pp * slowest) + host;
  } else {
    // Pipeline: the step's sequences split into microbatches that stream through the stages;
    // one step is one pipeline iteration, in which every sequence advances by one token. Each
    // stage runs every microbatch in turn (Σ of their stage times), and a microbatch cannot
    // start its next token before it has crossed all pp stages (pp × its stage time and send):
    // the iteration takes the larger. Balanced microbatches, at least pp of them, keep every
    // stage busy; fewer sequences than stages, or one long prefill chunk, leave a bubble.
    // Sequences are indivisible: the largest microbatch holds at least one whole prefill chunk
    // (the step's mean chunk) and at least 1 / (sequences) of the step.
    const double pieces = static_cast<double>(s.decode_seqs + s.prefill_seqs);
    const double m = std::min<double>(par_.microbatch_count(), std::max(1.0, pieces));
    double f_max = 1.0 / m;
    if (s.prefill_seqs > 0)
      f_max = std::max(f_max, static_cast<double>(s.prefill_tokens) / s.prefill_seqs /
                                  static_cast<double>(tokens));
    f_max = std::min(1.0, f_max);
    double cmax = 0, mmax = 0;
    const double t_max =
        pass_ns(share_of(s, f_max), f_max * static_cast<double>(tokens), &cmax, &mmax);
    double sum = t_max, csum = cmax, msum = mmax;
    if (m > 1 && f_max < 1.0) {
      const double f_rest = (1.0 - f_max) / (m - 1);
      double cr = 0, mr = 0;
      const double t_rest =
          pass_ns(share_of(s, f_rest), f_rest * static_cast<double>(tokens), &cr, &mr);
      sum += (m - 1) * t_rest;
      csum += (m - 1) * cr;
      msum += (m - 1) * mr;
    }
    const double send = p2p_fixed_ns_ + p2p_ns_per_token_ * f_max * static_cast<double>(tokens);
    total = std::max(sum, pp * (t_max + send)) + host;
    c.compute_ns = csum;
    c.memory_ns = msum;
  }
  c.time_ns = static_cast<TimeNs>(total + 0.5);
  const double u = std::max(c.compute_ns, memory_weight_ * c.memory_ns) / total;
  c.power_w_per_gpu = idle_w_ + (tdp_w_ - idle_w_) * std::min(1.0, u);
  return c;
}

}  // namespace jevons::sim
