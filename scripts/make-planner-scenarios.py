#!/usr/bin/env python3
"""Writes the bundled planner scenarios (scenarios/planner-*.yaml) from one commented body.

Each scenario is the same world fleet and demand with one thing changed, so their results compare
directly. Edit the body or a variant here and re-run; the files are committed so that a user needs
no Python. Sources for every default are in the comments of the body below and in docs/planner.md.
"""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

BODY = """\
horizon: {start: 2026Q1, quarters: 20}

planner:
  # Counterfactual KV format, and the format adoption moves fleets to. fp8 is today's serving
  # default (vLLM/TensorRT-LLM; Red Hat's study recommends it, hardware-and-models.md §6).
  baseline_format: %(baseline)s
  compressed_format: %(compressed)s
  # Logistic adoption: 1 %% of the ceiling at `start`. vLLM merged TurboQuant in 2026Q2 (PR
  # #38479); a 0.6/quarter speed reaches half the ceiling ~8 quarters later.
  adoption: {start: %(adoption_start)s, speed_per_quarter: %(adoption_speed)s, ceiling: 0.9}

  # Demand classes. tokens_per_s is the 2026Q1 average (prompt + output). Scale: Google served
  # 3.2 quadrillion tokens/month in May 2026 (1.2e9 tokens/s) and China ~140T/day in Mar 2026
  # (1.6e9 tokens/s) (hardware-and-models.md §3b); we take ~3.0e9 tokens/s worldwide, split by
  # use. Baseline growth excludes the rebound the planner adds: x2/yr against Google's x7 and
  # Microsoft's x5 observed, which mix price, capability and new products (§3a-3b).
  # Elasticities: OpenRouter-based estimate ~1.1; short run 0.5-1.2, long run 1.0-2.0 (§3a).
  classes:
    - name: chat
      model: llama-3.1-70b          # stand-in for a dense frontier-minus chat model
      tokens_per_s: %(chat)s
      growth_per_year: 2.0
      input_tokens: {dist: lognormal, mean: 1500, cv: 1.5, max: 32000}
      output_tokens: {dist: lognormal, mean: 350, cv: 1.0, max: 4000}
      slo: {ttft_ms: 2000, tpot_ms: 50}
      elasticity: {short_run: %(eps_short)s, long_run: %(eps_long)s, low: %(eps_low)s, high: 2.0}
      context_elasticity: %(ctx_el_chat)s
      peak_to_average: 1.6
      shared_prefix: {groups: 50, tokens: 1024}   # system prompts per product/tenant
    - name: code
      model: qwen3-235b-a22b
      tokens_per_s: %(code)s
      growth_per_year: 2.5
      input_tokens: {dist: lognormal, mean: 6000, cv: 1.2, max: 100000}
      output_tokens: {dist: lognormal, mean: 500, cv: 1.0, max: 8000}
      slo: {ttft_ms: 3000, tpot_ms: 40}
      elasticity: {short_run: %(eps_short)s, long_run: %(eps_long)s, low: %(eps_low)s, high: 2.0}
      context_elasticity: %(ctx_el)s
      peak_to_average: 1.8
    - name: agents
      model: deepseek-v3
      tokens_per_s: %(agents)s
      growth_per_year: %(agents_growth)s
      input_tokens: {dist: lognormal, mean: %(agents_prompt)s, cv: 1.0, max: 120000}
      output_tokens: {dist: lognormal, mean: 800, cv: 1.2, max: 8000}
      slo: {ttft_ms: 5000, tpot_ms: 60}
      elasticity: {short_run: %(eps_short)s, long_run: %(eps_long_agents)s, low: %(eps_low_agents)s, high: 2.5}
      context_elasticity: %(ctx_el_agents)s
      peak_to_average: 1.4
      shared_prefix: {groups: 20, tokens: 4096}   # tool definitions and agent instructions
    - name: rag
      model: llama-4-scout
      tokens_per_s: %(rag)s
      growth_per_year: 2.0
      input_tokens: {dist: lognormal, mean: 24000, cv: 0.8, max: 120000}
      output_tokens: {dist: lognormal, mean: 300, cv: 1.0, max: 4000}
      slo: {ttft_ms: 8000, tpot_ms: 60}
      elasticity: {short_run: %(eps_short)s, long_run: %(eps_long)s, low: %(eps_low)s, high: 2.0}
      context_elasticity: %(ctx_el)s
      peak_to_average: 1.5
    - name: batch
      model: gpt-oss-120b
      tokens_per_s: %(batch)s
      growth_per_year: 1.8
      input_tokens: {dist: lognormal, mean: 2000, cv: 1.0, max: 32000}
      output_tokens: {dist: lognormal, mean: 600, cv: 1.0, max: 8000}
      slo: {ttft_ms: 60000, tpot_ms: 200}
      elasticity: {short_run: %(eps_short)s, long_run: %(eps_long)s, low: %(eps_low)s, high: 2.0}
      context_elasticity: 0
      peak_to_average: 1.1
  fleet:
    # Facility power for inference fleets, MW (PUE included); 0 = unlimited. Power, not chips,
    # limits deployment (Nadella, late 2025; hardware-and-models.md §4c).
    power_budget_mw: %(power_mw)s
    power_growth_per_year: %(power_growth)s
    pue: 1.25
    # AWS has "never retired an A100 server" (Garman, Feb 2026): keep every GPU by default.
    retirement: %(retirement)s
    # Installed inference base at 2026Q1 and deliveries per quarter: Jevons assumptions sized to
    # the demand above (no public census of inference GPUs exists); launch dates and parts from
    # data/gpus.yaml. Rubin arrives H2 2026, Rubin Ultra H2 2027.
    generations:
      - {gpu: a100-80gb, installed: 400000, weights: bf16}
      - {gpu: h100-sxm, installed: 1500000, weights: fp8}
      - {gpu: h200, installed: 800000, weights: fp8}
      - {gpu: b200, installed: 600000, deliveries_per_quarter: 100000, weights: fp8}
      - {gpu: gb200, installed: 500000, deliveries_per_quarter: 150000, weights: fp8}
      - {gpu: gb300, installed: 200000, deliveries_per_quarter: %(gb300_supply)s, weights: fp8}
      - {gpu: rubin, available_from: %(rubin_from)s, deliveries_per_quarter: %(rubin_supply)s, delivery_growth_per_year: %(rubin_growth)s, weights: fp4}
      - {gpu: rubin-ultra, available_from: 2027Q3, deliveries_per_quarter: %(rubin_ultra_supply)s, delivery_growth_per_year: 1.5, weights: fp4}
  economics:
    gpu_lifetime_years: 5               # straight-line, the hyperscalers' server depreciation
    server_cost_multiplier: 1.6         # server, network, facility per GPU dollar (GB200 NVL72 ~$3M/72 GPUs vs ~$35k B200)
    power_usd_per_kwh: 0.08             # US industrial average (EIA, 2025)
    average_utilization: 0.6
    default_price_usd: 40000            # parts without a published price (B300, Rubin): GB200-class
  capacity:
    method: simulate                    # bisection on discrete-event runs of one replica
    duration_s: 20                      # floor; each probe simulates at least 1,500 requests
    tolerance: 0.02
    slo_attainment: 0.95
    max_tensor_parallel: 8
    # Serving as vLLM can: swap preempted KV to host DRAM over the host link, and keep a prefix
    # cache whose second tier lives in host DRAM (a real driver of DRAM demand). 64 GiB per GPU
    # is a quarter of a DGX-class server's 256 GiB per GPU (data/gpus.yaml).
    preemption: swap
    prefix_cache: {enabled: true, host_tier_gib_per_gpu: 64}
"""

BASE = dict(
    baseline="fp8", compressed="tq-3.5", adoption_start="2026Q3", adoption_speed="0.6",
    chat="1.2e9", code="4.5e8", agents="6.0e8", rag="3.0e8", batch="4.5e8",
    agents_growth="3.0", agents_prompt="12000",
    eps_short="0.5", eps_long="1.1", eps_long_agents="1.4", eps_low="0.5", eps_low_agents="0.8",
    ctx_el="0.2", ctx_el_chat="0.1", ctx_el_agents="0.4",
    power_mw="0", power_growth="1.0", retirement="none",
    gb300_supply="400000", rubin_from="2026Q3", rubin_supply="300000", rubin_growth="1.6",
    rubin_ultra_supply="100000",
)

VARIANTS = {
    "planner-baseline": ("No compression: bf16 KV everywhere, the reference every other scenario is measured against.",
                         dict(baseline="bf16", compressed="bf16")),
    "planner-fp8": ("fp8 KV: what serving stacks adopted before TurboQuant (2x capacity, ~BF16 speed).",
                    dict(baseline="bf16", compressed="fp8")),
    "planner-tq35": ("TurboQuant at 3.5 bits (paper: quality-neutral on LongBench) replacing fp8, with ε = 1.1.",
                     dict()),
    "planner-tq25": ("TurboQuant at 2.5 bits (paper: marginal quality loss) replacing fp8, with ε = 1.1.",
                     dict(compressed="tq-2.5")),
    "planner-market-reading": ("'The market's reading' (March 2026): demand does not react, ε = 0, so compression can only shrink memory.",
                               dict(eps_short="0", eps_long="0", eps_long_agents="0", eps_low="0", eps_low_agents="0", ctx_el="0", ctx_el_chat="0", ctx_el_agents="0")),
    "planner-jevons": ("'Jevons': ε = 1.1 (OpenRouter-based estimate), agents 1.4, with context-length elasticity.",
                       dict()),
    "planner-jevons-high": ("High elasticity: long-run ε = 2.0 (top of the published long-run range), agents 2.5.",
                            dict(eps_short="1.0", eps_long="2.0", eps_long_agents="2.5")),
    "planner-rubin-ramp": ("A fast Rubin ramp: Rubin from 2026Q3 at 500k/quarter doubling yearly, Rubin Ultra at 200k/quarter.",
                           dict(rubin_supply="500000", rubin_growth="2.0", rubin_ultra_supply="200000")),
    "planner-power-constrained": ("Power-constrained: 4 GW for inference growing 30 %/yr; GPUs beyond it sit idle.",
                                  dict(power_mw="4000", power_growth="1.3")),
    "planner-long-context-agents": ("Long-context agents shift: agents grow x4/yr from 20k-token prompts and lengthen their contexts as tokens cheapen.",
                                    dict(agents_growth="4.0", agents_prompt="20000", ctx_el_agents="0.8", eps_long_agents="1.8")),
}


def write(name, title, overrides, extra_header=""):
    params = dict(BASE, **overrides)
    text = f"# {title}\n#\n# Generated by scripts/make-planner-scenarios.py; edit that script, not this file.\n"
    text += "# Every default is sourced in the comments below and in docs/planner.md.\n"
    text += extra_header
    text += f"name: {name}\ndescription: \"{title}\"\nseed: 20260324\n"
    text += BODY % params
    (ROOT / "scenarios" / f"{name}.yaml").write_text(text)


DEFAULT_STATIC = r'''# Jevons default scenario: how many concurrent long-context sequences fit, and how fast do they
# decode, when the KV cache is bf16, fp8, or TurboQuant at 3.5 and 2.5 bits?
#
# The question behind it: "how many concurrent 32k-token sequences fit on a B200 serving
# Llama-3.1-70B with 3.5-bit TurboQuant keys and values, against bf16 and fp8?" — asked of the
# GPUs fleets run today (H100, H200, B200) and one arriving (Rubin, a projection).
#
# Sources: GPU and model figures come from data/gpus.yaml and data/models.yaml (each cited there).
# KV formats: TurboQuant (Zandieh et al., arXiv 2504.19874) §4.3 outlier split for 2.5/3.5 bits;
# fp8 as in vLLM/TensorRT-LLM. Memory policy: vLLM's defaults (gpu_memory_utilization 0.90,
# 16-token blocks, max_num_seqs 256).
name: default
description: Static KV capacity and decode throughput of Llama 3.1 70B/8B across GPU generations
seed: 20260324
models: [llama-3.1-70b, llama-3.1-8b, deepseek-v3, qwen3-235b-a22b, llama-4-scout, gpt-oss-120b]

# Evaluated on every pool unless a pool lists its own.
kv_formats: [bf16, fp8, tq-3.5, tq-2.5]

pools:
  - name: b200-llama70b
    gpu: b200
    model: llama-3.1-70b
    gpus: 512
    tensor_parallel: 1
    weights: fp8
  - name: h100-llama70b
    gpu: h100-sxm
    model: llama-3.1-70b
    gpus: 1024
    tensor_parallel: 4
    weights: bf16
  - name: h200-llama8b
    gpu: h200
    model: llama-3.1-8b
    gpus: 256
    tensor_parallel: 1
    weights: bf16
    # prod keys (unbiased scores) against mse values, as in the paper's Algorithm 2
    kv_formats: [bf16, fp8, tq-mse-4, {key: tq-prod-4, value: tq-mse-3}]
  - name: b200-deepseek
    gpu: b200
    model: deepseek-v3
    gpus: 64
    tensor_parallel: 8
    weights: fp8
  - name: rubin-llama70b
    gpu: rubin
    model: llama-3.1-70b
    gpus: 576
    tensor_parallel: 1
    weights: fp4
    memory: {utilization: 0.92, activation_reserve_gib: 6}

workload:
  context_tokens: [8192, 32768, 131072]
  max_batch_sequences: 256
'''


def write_default():
    """default.yaml: the static capacity question plus the 'Jevons' projection."""
    text = DEFAULT_STATIC.rstrip("\n") + "\n\n"
    text += "# The projection: the world fleet of planner-jevons.yaml (generated by\n"
    text += "# scripts/make-planner-scenarios.py; edit that script, not this section).\n"
    text += BODY % BASE
    (ROOT / "scenarios" / "default.yaml").write_text(text)


for name, (title, overrides) in VARIANTS.items():
    write(name, title, overrides)
write_default()
