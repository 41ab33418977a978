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
      # Multi-turn: 37 %% of a prompt is the previous turns' context (Mooncake's conversation
      # trace: 36.6 %% of 512-token blocks reused, kvcache-ai/Mooncake FAST25, simulators.md),
      # its KV kept for the 60 s a user takes to answer (assumption, U).
      sessions: {reuse_share: 0.37, gap_s: 60}
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
      # Agent loops resend the whole context each step: 80 %% reused, kept for a 10 s tool call
      # (assumptions, U; Mooncake's synthetic trace reuses 64 %% of blocks).
      sessions: {reuse_share: 0.8, gap_s: 10}
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
    # Retire after the hyperscalers' 6-year server life (data/world.yaml assumptions); the
    # installed base counts its age from installed_since, the shipment-weighted mean date it
    # entered service.
    retirement: age
    max_age_years: 6
    # The first quarter's demand and fleet agree: the classes' tokens_per_s (the stated volume)
    # is scaled so that its peak keeps this share of the installed base busy. NVIDIA's CFO called
    # the installed base "fully utilized" (Nov 2025); 0.9 is our reading of "fully".
    initial_utilization: 0.9
    # The HBM market layer: the inference fleet's share of HBM supply, TrendForce's 2026
    # shipments (3.75 EB) x the inference share, growing 30 %%/yr (SK hynix). data/world.yaml.
    hbm_supply_eb_per_year: %(hbm_supply_eb)s
    hbm_supply_growth_per_year: %(hbm_supply_growth)s
    # Committed deliveries: the 2026 shipments below were contracted in 2025 (NVIDIA's $500 B of
    # Blackwell and Rubin bookings through 2026; 2026 HBM sold out under volume agreements;
    # data/world.yaml assumptions.committed_through). Through this quarter every generation's
    # deliveries_per_quarter arrive in every variant, so compression cannot cancel them; after
    # it, purchases follow demand.
    committed_through: %(committed_through)s
    # Software gains per GPU on a fixed model: MLPerf's same-part gains were x%(software_measured)s a
    # year (data/world.yaml assumptions.software_efficiency_growth_per_year). The scenarios hold
    # them at 1: their classes' models stay at 2026's while served models grow heavier per token,
    # which spends such gains; planner-software-gains keeps them (docs/planner.md, "Software
    # gains").
    software_efficiency_growth_per_year: %(software_growth)s
    # Host DRAM kept for the OS and the serving runtime (engine process, CUDA/XLA context, pinned
    # staging buffers, page cache of weight files), a quarter of each server's (assumption, U);
    # the KV tiers below live in the rest and add DRAM only beyond it.
    host_dram_reserved_share: 0.25
    # The installed inference base at 2026Q1 and deliveries per quarter come from the world
    # back-cast (`jevons backcast`: shipments 2022-25 by vendor and part, 6-year life) times the
    # inference share of accelerators (%(inference_share)s, data/world.yaml). Deliveries are the
    # 2026 shipments of each part x that share, per quarter from the part's launch, growing as
    # the vendor's published 2027 figure over 2026 (1.3/yr where none is published, an
    # assumption). Prices: catalog where sourced; otherwise the assumption noted beside it.
    generations:
%(generations)s  economics:
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
    # Multi-turn sessions' KV written through to host DRAM by policy, not only when HBM runs
    # short: SGLang HiCache (--hicache-write-policy write_through, as its best-practices guide
    # sets it), NVIDIA Dynamo's KVBM and LMCache in vLLM copy KV blocks to the CPU tier as they
    # are produced, so a returning turn finds its context whatever the HBM did meanwhile
    # (docs/planner.md, "Host DRAM"). `overflow` keeps only what free HBM cannot.
    session_tier: write-through
"""

def world_fleet():
    """Generations of the world inference fleet at 2026Q1, from data/world.yaml and gpus.yaml.

    Mirrors planner/src/backcast.cpp: a part shipped in year y serves year ends y .. y+life-1.
    tests/planner/test_backcast.cpp checks default.yaml's installed counts against the back-cast.
    """
    import yaml  # python3-yaml (Debian)
    world = yaml.safe_load((ROOT / "data" / "world.yaml").read_text())
    gpus = {g["id"]: g for g in yaml.safe_load((ROOT / "data" / "gpus.yaml").read_text())["gpus"]}
    num = lambda f: float(f[0])  # PyYAML reads 2.64e6 as a string (YAML 1.1)
    life = round(num(world["assumptions"]["service_life_years"]))
    share = num(world["series"]["inference_share"]["points"]["2025"])
    installed, since, ship26, ship27, growth = {}, {}, {}, {}, {}
    for v in world["vendors"]:
        packages = {int(y): num(f) for y, f in v["packages"].items()}
        g = packages[2027] / packages[2026] if 2027 in packages and 2026 in packages else 1.3
        for y, total in packages.items():
            for part, sh in v["mix"][str(y)].items():
                n = total * num(sh)
                growth[part] = g
                if y <= 2025 and 2025 - y < life:
                    installed[part] = installed.get(part, 0) + n
                    since[part] = since.get(part, 0) + n * (y + 0.5)  # mid-year
                if y == 2026:
                    ship26[part] = ship26.get(part, 0) + n
                if y == 2027:
                    ship27[part] = ship27.get(part, 0) + n
    # Prices where the catalog has none: Jevons assumptions (docs/planner.md lists them).
    prices = {
        "tpu-v4": (4000, "MS TPU sales $8.9B / ~2.2M TPUs in 2024 = ~$4k per chip (derived, U)"),
        "tpu-v5e": (4000, "as tpu-v4 (derived, U)"),
        "tpu-v5p": (4000, "as tpu-v4 (derived, U)"),
        "tpu-v6e": (4000, "as tpu-v4 (derived, U)"),
        "tpu-v7": (21000, "Anthropic's $21B Broadcom TPU orders for ~1M TPUs (derived, U)"),
        "trainium2": (12000, "assumption (U): no published price; an MI300X-class part"),
        "trainium3": (20000, "assumption (U): no published price"),
        "mi355x": (25000, "assumption (U): no published price"),
        "mi455x": (35000, "assumption (U): no published price"),
        "rubin-ultra": (160000, "assumption (U): 4 Rubin dies at the $40k default each"),
    }
    lines, supply, first_quarter = [], {}, {}
    order = sorted(set(installed) | set(ship26) | set(ship27), key=lambda p: (gpus[p]["launch"], p))
    for part in order:
        gpu = gpus[part]
        y, m = (int(x) for x in gpu["launch"].split("-"))
        launch_q = (y - 2026) * 4 + (m - 1) // 3  # quarters after 2026Q1
        fields = [f"gpu: {part}"]
        inst = installed.get(part, 0) * share
        if inst > 0:
            fields.append(f"installed: {inst:.0f}")
            # The shipment-weighted mean date the installed units entered service.
            mean = since[part] / installed[part]
            fields.append(f"installed_since: {int(mean)}Q{min(4, int((mean % 1) * 4) + 1)}")
        key = part.replace("-", "_") + "_supply"
        if part in ship26:
            first_q = max(0, launch_q)
            supply[key] = f"{ship26[part] * share / (4 - first_q):.0f}"
            if launch_q <= 0:  # delivered (committed) in the first quarter
                first_quarter[part] = float(supply[key])
            fields.append(f"deliveries_per_quarter: %({key})s")
            fields.append(f"delivery_growth_per_year: {growth[part]:.3g}")
        elif part in ship27:
            first_q = max(4, launch_q)
            supply[key] = f"{ship27[part] * share / (8 - first_q):.0f}"
            fields.append(f"deliveries_per_quarter: %({key})s")
        fp4 = gpu.get("fp4_dense_tflops", [None])[0]
        fp8 = gpu.get("fp8_dense_tflops", [None])[0]
        weights = "fp4" if part in ("rubin", "rubin-ultra") and fp4 else "fp8" if fp8 else "bf16"
        fields.append("weights: " + weights)
        comment = ""
        if part in prices and gpu["price_usd"][0] is None:
            fields.append(f"price_usd: {prices[part][0]}")
            comment = f"   # price: {prices[part][1]}"
        lines.append("      - {" + ", ".join(fields) + "}" + comment)
    # The first quarter's fleet: the installed base and that quarter's committed deliveries.
    fleet = {p: installed.get(p, 0) * share + first_quarter.get(p, 0)
             for p in set(installed) | set(first_quarter)}
    power_mw = sum(n * gpus[p]["tdp_w"][0] * 1.25 for p, n in fleet.items()) / 1e6
    committed = int(num(world["assumptions"]["committed_through"]))
    software = num(world["assumptions"]["software_efficiency_growth_per_year"])
    return "\n".join(lines) + "\n", share, supply, power_mw, f"{committed}Q4", software


(GENERATIONS, INFERENCE_SHARE, SUPPLY, FLEET_POWER_MW, COMMITTED_THROUGH,
 SOFTWARE_GROWTH) = world_fleet()

BASE = dict(
    baseline="fp8", compressed="tq-3.5", adoption_start="2026Q3", adoption_speed="0.6",
    chat="1.2e9", code="4.5e8", agents="6.0e8", rag="3.0e8", batch="4.5e8",
    agents_growth="3.0", agents_prompt="12000",
    eps_short="0.5", eps_long="1.1", eps_long_agents="1.4", eps_low="0.5", eps_low_agents="0.8",
    ctx_el="0.2", ctx_el_chat="0.1", ctx_el_agents="0.4",
    power_mw="0", power_growth="1.0",
    hbm_supply_eb=f"{3.75 * INFERENCE_SHARE:.4g}", hbm_supply_growth="1.3",
    inference_share=f"{INFERENCE_SHARE:g}", committed_through=COMMITTED_THROUGH,
    software_growth="1.0", software_measured=f"{SOFTWARE_GROWTH:.2f}",
    **SUPPLY,
)

VARIANTS = {
    "planner-baseline": ("No compression: bf16 KV everywhere, the reference every other scenario is measured against.",
                         dict(baseline="bf16", compressed="bf16")),
    "planner-fp8": ("fp8 KV: what serving stacks adopted before TurboQuant (2x capacity, ~BF16 speed).",
                    dict(baseline="bf16", compressed="fp8")),
    "planner-tq25": ("TurboQuant at 2.5 bits (paper: marginal quality loss) replacing fp8, with ε = 1.1.",
                     dict(compressed="tq-2.5")),
    "planner-market-reading": ("'The market's reading' (March 2026): demand does not react, ε = 0, so compression can only shrink memory.",
                               dict(eps_short="0", eps_long="0", eps_long_agents="0", eps_low="0", eps_low_agents="0", ctx_el="0", ctx_el_chat="0", ctx_el_agents="0")),
    "planner-jevons": ("'Jevons': ε = 1.1 (OpenRouter-based estimate), agents 1.4, with context-length elasticity.",
                       dict()),
    "planner-jevons-high": ("High elasticity: long-run ε = 2.0 (top of the published long-run range), agents 2.5.",
                            dict(eps_short="1.0", eps_long="2.0", eps_long_agents="2.5")),
    "planner-rubin-ramp": ("A fast Rubin ramp: twice the Rubin and Rubin Ultra deliveries of the world baseline.",
                           dict(rubin_supply=str(2 * int(SUPPLY["rubin_supply"])),
                                rubin_ultra_supply=str(2 * int(SUPPLY["rubin_ultra_supply"])))),
    "planner-power-constrained": ("Power-constrained: the inference fleet's 2026Q1 draw plus 5 %, growing 15 %/yr (IEA: data-centre electricity 415 TWh in 2024 to ~945 TWh in 2030).",
                                  dict(power_mw=f"{FLEET_POWER_MW * 1.05:.0f}", power_growth="1.15")),
    "planner-software-gains": ("Software gains kept: tokens/s per GPU on the fixed 2026 models grow x%s a year (MLPerf's same-part mean, data/world.yaml) instead of being spent on heavier models." % f"{SOFTWARE_GROWTH:.2f}",
                               dict(software_growth=f"{SOFTWARE_GROWTH:g}")),
    "planner-long-context-agents": ("Long-context agents shift: agents grow x4/yr from 20k-token prompts and lengthen their contexts as tokens cheapen.",
                                    dict(agents_growth="4.0", agents_prompt="20000", ctx_el_agents="0.8", eps_long_agents="1.8")),
}


def write(name, title, overrides, extra_header=""):
    params = dict(BASE, **overrides)
    text = f"# {title}\n#\n# Generated by scripts/make-planner-scenarios.py; edit that script, not this file.\n"
    text += "# Every default is sourced in the comments below and in docs/planner.md.\n"
    text += extra_header
    text += f"name: {name}\ndescription: \"{title}\"\nseed: 20260324\n"
    text += BODY.replace("%(generations)s", GENERATIONS) % params
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


DEFAULT_UNCERTAINTY = r'''# Uncertainty (`jevons band`): stated distributions for the inputs nobody has measured well, and
# the Latin-hypercube sample over them. Each range is argued in docs/uncertainty.md.
uncertainty:
  samples: 1000
  method: lhs
  seed: 7
  break_even: {low: 0, high: 5}
  inputs:
    # Long-run market elasticity per class: the ranges of docs/elasticity.md (0.5-2.0; agents
    # 0.8-2.5), peaked at the scenario's values (1.1 from Demirer et al.; 1.4 for agents).
    elasticity.chat: {dist: triangular, low: 0.5, mode: 1.1, high: 2.0}
    elasticity.code: {dist: triangular, low: 0.5, mode: 1.1, high: 2.0}
    elasticity.agents: {dist: triangular, low: 0.8, mode: 1.4, high: 2.5}
    elasticity.rag: {dist: triangular, low: 0.5, mode: 1.1, high: 2.0}
    elasticity.batch: {dist: triangular, low: 0.5, mode: 1.1, high: 2.0}
    # Baseline token growth per year, excluding the rebound: centred on the scenario's values,
    # sigma 0.2 in the log (x0.67-x1.49 at 2 sigma); observed totals grew x5-x7 a year with price,
    # capability and new products mixed in (shared/reference/world.md).
    growth.chat: {dist: lognormal, median: 2.0, sigma: 0.2}
    growth.code: {dist: lognormal, median: 2.5, sigma: 0.2}
    growth.agents: {dist: lognormal, median: 3.0, sigma: 0.25}
    growth.rag: {dist: lognormal, median: 2.0, sigma: 0.2}
    growth.batch: {dist: lognormal, median: 1.8, sigma: 0.2}
    # Adoption of the compressed format: how far (ceiling) and how fast it spreads.
    adoption.ceiling: {dist: triangular, low: 0.5, mode: 0.9, high: 1.0}
    adoption.speed_per_quarter: {dist: triangular, low: 0.3, mode: 0.6, high: 1.2}
    # GPU prices (many are confidence U in the catalog), deliveries (vendors' plans slip or beat),
    # the HBM supply the inference fleet receives, and HBM per package on parts not yet shipped.
    gpu_price_factor: {dist: triangular, low: 0.7, mode: 1.0, high: 1.3}
    deliveries_factor: {dist: triangular, low: 0.7, mode: 1.0, high: 1.2}
    hbm_supply_factor: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
    hbm_per_package_factor: {dist: uniform, low: 0.9, high: 1.1}
    # Software gains per GPU a year on the fixed 2026 models: from none (heavier models spend
    # them, the scenario's value) up to MLPerf's fastest same-part pair (1.47, H100 server, Mar
    # 2024 -> Apr 2025; the mean of its pairs is 1.30); data/world.yaml, docs/planner.md.
    software_efficiency_growth: {dist: triangular, low: 1.0, mode: 1.0, high: 1.47}
    # Decode-attention time of tq-3.5 relative to bf16: from the byte floor (3.5/16 = 0.219, a
    # fused kernel reading packed KV at full bandwidth) through public fused kernels (1.0x, SGLang
    # #23134) to unfused integrations (1.25-1.5x, vLLM); data/latency-model.yaml. It changes
    # capacity, so capacity is searched at the grid speeds and interpolated in between.
    compressed_attention_time: {dist: triangular, low: 0.219, mode: 1.0, high: 1.5, grid: [0.219, 0.6, 1.0, 1.5]}
'''


def write_default():
    """default.yaml: the static capacity question plus the 'Jevons' projection."""
    text = DEFAULT_STATIC.rstrip("\n") + "\n\n"
    text += "# The projection: the world fleet of planner-jevons.yaml (generated by\n"
    text += "# scripts/make-planner-scenarios.py; edit that script, not this section).\n"
    text += BODY.replace("%(generations)s", GENERATIONS) % BASE
    text += "\n" + DEFAULT_UNCERTAINTY
    (ROOT / "scenarios" / "default.yaml").write_text(text)


for name, (title, overrides) in VARIANTS.items():
    write(name, title, overrides)
write_default()
