#!/usr/bin/env python3
"""Instruction and bytes-in-flight budget of the decode and append kernels, read from their SASS.

A benchmark that runs on the CPU (no GPU): it disassembles the compiled kernels with
`cuobjdump -sass` / `-res-usage` and, for each decode split-kernel instance, finds the per-token
loop (the backward branch whose body issues the K/V global loads), counts its SASS instructions,
and divides by the compressed K+V bytes one warp consumes per iteration. Bytes in flight per SM
assume one loop iteration's loads in flight per resident warp (what the kernel issues before it
first waits on them), with residency from registers and shared memory at H100/H200 limits
(65,536 registers, 2,048 threads, 32 CTAs, 228 KB shared memory per SM).

Targets (issue 16, docs/kernels.md): 3 TB/s at 1.98 GHz × 132 SMs × 4 issue slots affords about
0.35 warp-instructions per byte; ≥ 32 KB in flight per SM covers ~1 µs of HBM latency at the
SM's share of bandwidth. A figure over budget is reported, not failed: this is a measurement.

The pipelined kernel (decode_pipelined_kernel<D, BITS, QJL, BITS1>, one 16-token slice of K and V
per warp per loop iteration; BITS1 > 0: the outlier split, tq-3.5 = <D, 4, false, 3> and tq-2.5 =
<D, 3, false, 2>, D/4 channels at BITS and 3D/4 at BITS1 with two fp16 norms) is read the same way; its bytes in flight per SM are the slices its
cp.async ring keeps outstanding while one is consumed: (stages − 1) × slice bytes × warps per CTA ×
resident CTAs, the stage count, tile and warps read from decode_pipelined_kernel.cuh and the
residency from `cuobjdump -res-usage` registers and static shared memory plus the ring.

  bench/kernels/sass_budget.py [--check] [BUILD_DIR]      (default build/)
--check: exit 1 when the pipelined tq-mse-4 or tq-3.5 kernel at head_dim 128 (the B = 32 / L = 16k
benchmark point's kernels) misses either target, when an append_tq_kernel instance falls under
70 % of HBM bandwidth by design (issue 16's target, met by all 12), when an append_mma_kernel
instance falls under its floor (MMA_CHECK_PCT: 70 % at d = 64 and d = 128, which all six meet:
77.0-82.9 % and 70.0-74.4 %), or when an append_split_kernel instance (tq-3.5, tq-2.5) falls
under its floor (SPLIT_CHECK_PCT: 70 % for tq-3.5 at d = 64 and 128, which meet it; regression
guards just under the others, 64.0-68.8 %); exit 77 (CTest: skipped) without cuobjdump.

The append kernels (append_tq_kernel<D, BITS>, tq-mse-b with a Hadamard rotation) are read the
same way: the loop holds one or more (unrolled) groups of 256/D vectors per warp, counted by
its 16-byte loads; instructions on IEEE slow paths (subroutine CALLs a forward branch skips) are
not counted; bytes are the bf16 input plus the codes
and norm written; in flight are the kAppendDepth groups of loads the loop keeps outstanding per
warp (read from append_tq_kernel.cuh).
The estimate is min(issue cap 0.35/instr-per-byte, Little's cap in-flight/32 KB) of HBM.
The tensor-core tq-prod append (append_mma_kernel<D, BITS>) is read per 32-vector tile (one vector
per lane, two mma m-tiles; its mma k-tile loop counted for the k-tiles it runs: D/16 less any
peeled); its rows also print the
tensor-pipe and shared-memory caps.
The warp-cooperative split append (append_split_kernel<D, B0, B1>: the catalog's tq-3.5 = <D, 4, 3>
and tq-2.5 = <D, 3, 2>, D/4 outliers at B0 bits and 3D/4 at B1 with kBlockHadamard) is
append_tq_kernel's loop with a permutation table read per group; its groups are counted by their
three 16-byte loads (input and two table loads), its residency from its own registers.
cuobjdump and nvdisasm: the CUDA toolkit's, or `pip install nvidia-cuda-cuobjdump
nvidia-cuda-nvdisasm` (found in <site-packages>/nvidia/cu13/bin).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig

REGS_PER_SM, THREADS_PER_SM, CTAS_PER_SM, SMEM_PER_SM = 65536, 2048, 32, 228 * 1024
BUDGET_INSTR_PER_BYTE, BUDGET_INFLIGHT = 0.35, 32 * 1024
APPEND_TARGET_PCT = 70  # issue 16: the append kernel at >= 70 % of HBM bandwidth by design
APPEND_CHECK_PCT = 70  # --check's floor for every append_tq_kernel instance (the target)
# --check's floor for append_mma_kernel (tq-prod) per head_dim: every instance meets the issue's
# 70 % (77.0-82.9 % at d = 64, 70.0-74.4 % at d = 128: tq-prod-3 exactly at 0.500 instr/B, so any
# instruction added to its tile fails this), so it is held there at both.
MMA_CHECK_PCT = {64: 70, 128: 70}
# --check's floor for append_split_kernel per (D, B0, B1): tq-3.5 at d = 64 and 128 meets the
# issue's 70 % (71.9 / 70.9 %) and is held there; the others reach 64.0-68.8 % (tq-3.5 at d = 256
# 66.7 %, tq-2.5 68.8 / 68.3 / 64.0 %; docs/kernels.md says where the instructions go) and the
# floors are regression guards just under them.
SPLIT_CHECK_PCT = {(64, 4, 3): 70, (128, 4, 3): 70, (256, 4, 3): 66.5,
                   (64, 3, 2): 68.5, (128, 3, 2): 68, (256, 3, 2): 63.5}


def tool_dir():
    if shutil.which("cuobjdump") and shutil.which("nvdisasm"):
        return None
    cands = ["/usr/local/cuda/bin"]
    for base in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        cands += glob.glob(os.path.join(base, "nvidia", "cu1*", "bin"))
        cands.append(os.path.join(base, "nvidia", "cuda_cuobjdump", "bin"))
    for c in cands:
        if os.path.exists(os.path.join(c, "cuobjdump")) and os.path.exists(os.path.join(c, "nvdisasm")):
            return c
    print("SKIPPED: cuobjdump/nvdisasm not found: install the CUDA toolkit or "
          "`pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm`")
    sys.exit(77)


def run(args, extra_path):
    env = dict(os.environ)
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env["PATH"]
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def functions(sass):
    out = {}
    for chunk in re.split(r"\n\s*Function : ", sass)[1:]:
        name = chunk.split("\n", 1)[0].strip()
        ins = []
        for line in chunk.split("\n"):
            m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)
            if m:
                ins.append((int(m.group(1), 16), m.group(2)))
        out[name] = ins
    return out


def resources(text):
    res = {}
    for m in re.finditer(r"Function (\S+):\s*\n\s*REG:(\d+) STACK:(\d+) SHARED:(\d+) LOCAL:(\d+)", text):
        res[m.group(1)] = dict(reg=int(m.group(2)), stack=int(m.group(3)), smem=int(m.group(4)),
                               local=int(m.group(5)))
    return res


def ctas_per_sm(reg, smem, threads):
    warps = threads // 32
    regs_per_warp = -(-reg * 32 // 256) * 256  # allocation unit: 256 registers per warp
    by_regs = REGS_PER_SM // (regs_per_warp * warps)
    by_threads = THREADS_PER_SM // threads
    by_smem = SMEM_PER_SM // max(smem + 1024, 1)  # +1 KB the runtime reserves per CTA
    return max(0, min(by_regs, by_threads, by_smem, CTAS_PER_SM))


def main_loop(ins):
    """Body [start, end] of the backward branch whose body has the most global loads."""
    best = None
    for addr, text in ins:
        m = re.search(r"\bBRA\b(?!\.DIV).*?0x([0-9a-f]+)", text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target >= addr:
            continue
        body = [t for a, t in ins if target <= a <= addr]
        loads = sum(1 for t in body if re.search(r"\bLDG", t) or re.search(r"\bLDGSTS", t))
        if loads and (best is None or loads > best[2] or (loads == best[2] and len(body) > len(best[3]))):
            best = (target, addr, loads, body)
    return best


def common_path(ins, start, end, max_region=40):
    """Loop-body instruction count without the online-softmax rescale blocks: short regions a
    forward branch skips that hold an exp2 (MUFU.EX2), taken only when a running max moves."""
    skipped = set()
    for addr, text in ins:
        if not (start <= addr <= end):
            continue
        m = re.search(r"@!?P\d\s+BRA\b(?!\.DIV).*?0x([0-9a-f]+)", text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if not (addr < target <= end) or target - addr > max_region * 16:
            continue
        region = [(a, t) for a, t in ins if addr < a < target]
        if any("MUFU.EX2" in t for _, t in region) and not any("LDG" in t for _, t in region):
            skipped.update(a for a, _ in region)
    return sum(1 for a, _ in ins if start <= a <= end and a not in skipped)


def load_width(text):
    m = re.search(r"\b(LDG|LDGSTS)\.E(?:\.(?:EL|EF|LU|NA|CONSTANT|STRONG\.\w+|BYPASS|LTC\d+B))*\.?(U8|S8|U16|S16|64|128)?", text)
    if not m:
        return None
    return {"U8": 1, "S8": 1, "U16": 2, "S16": 2, "64": 8, "128": 16}.get(m.group(2), 4)


def decode_bytes_per_token(head_dim, mode):
    """K+V bytes per token·KV head for the format a decode instance serves."""
    if mode == 16:  # bf16
        return 2 * 2 * head_dim
    if mode in (2, 3, 4):  # tq-mse-b: b·d/8 code bytes + fp16 norm
        return 2 * (mode * head_dim // 8 + 2)
    return None  # generic: any format, no single figure


def pipe_constants():
    """kWarps, kTile, kStages of the pipelined kernel, read from its header (one source of truth)."""
    hdr = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels",
                       "decode_attention", "decode_pipelined_kernel.cuh")
    text = open(hdr).read()
    get = lambda k: int(re.search(k + r"\s*=\s*(\d+)", text).group(1))
    return get("kWarps"), get("kTile"), get("kStages")


def pipe_label(d, bits, qjl, bits1):
    if bits1:
        return f"pipe<{d},tq-{bits - 0.5}>"  # tq-3.5 = (4, 3), tq-2.5 = (3, 2)
    return f"pipe<{d},{'prod-' + str(bits + 1) if qjl else 'mse-' + str(bits)}>"


def pipe_report(sass, res):
    """Rows for every decode_pipelined_kernel instance; returns
    {(D, bits, qjl, bits1): (ipb, inflight)} (bits1: the outlier split's second segment, 0 for
    the single-segment formats; tq-3.5 = (4, 3), tq-2.5 = (3, 2), both with D/4 outliers)."""
    warps, tile, stages = pipe_constants()
    out = {}
    print(f"# pipelined split-KV kernel: {warps} warps/CTA, {tile}-token slices, {stages}-stage "
          f"cp.async ring per warp; in flight = ({stages}-1) slices x warps x CTAs/SM")
    print(f"{'kernel':34} {'regs':>4} {'CTA/SM':>6} {'loop instr':>10} {'HMMA':>5} {'LDS':>4} "
          f"{'B/warp-iter':>11} {'instr/B':>8} {'KB in flight/SM':>15}")
    for name, ins in sorted(functions(sass).items()):
        m = re.search(r"decode_pipelined_kernelILi(\d+)ELi(\d+)ELb([01])E(?:Li(\d+)E)?", name)
        if not m:
            continue
        d, bits, qjl = int(m.group(1)), int(m.group(2)), m.group(3) == "1"
        bits1 = int(m.group(4) or 0)
        if bits1:  # outlier split: D/4 channels at `bits`, 3D/4 at `bits1`, two fp16 norms
            code = (d // 4 * bits + 3 * d // 4 * bits1) // 8
        else:
            code = bits * d // 8 + (d // 8 if qjl else 0)
        meta = 4 if qjl or bits1 else 2
        slice_bytes = 2 * tile * (code + meta)
        ring = warps * stages * slice_bytes
        dyn = max(ring, 4 * (warps * 16 + 16 * d))
        r = res.get(name, dict(reg=0, smem=0, stack=0, local=0))
        ctas = ctas_per_sm(r["reg"], r["smem"] + dyn, 32 * warps)
        label = pipe_label(d, bits, qjl, bits1)
        loop = main_loop(ins)
        if not loop:
            print(f"{label:34} no loop with global loads found")
            continue
        start, end, _, body = loop
        common = common_path(ins, start, end, max_region=160)
        hmma = sum(1 for t in body if "HMMA" in t)
        lds = sum(1 for t in body if re.search(r"\bLDS", t))
        ipb = common / slice_bytes
        inflight = (stages - 1) * slice_bytes * warps * ctas
        out[(d, bits, qjl, bits1)] = (ipb, inflight)
        print(f"{label:34} {r['reg']:>4} {ctas:>6} {common:>4}/{len(body):<5} {hmma:>5} {lds:>4} "
              f"{slice_bytes:>11} {ipb:>8.3f} {inflight / 1024:>15.1f}"
              f"{'  over budget' if ipb > BUDGET_INSTR_PER_BYTE or inflight < BUDGET_INFLIGHT else ''}")
    return out


def slow_path_free(ins, start, end):
    """Loop-body instruction count without the IEEE slow paths: regions a forward branch skips that
    CALL a subroutine (__fdiv_rn / __fsqrt_rn's slow path and the division fallback a range guard
    selects), which inputs in the normal range never take."""
    skipped = set()
    for addr, text in ins:
        # A branch inside a region already skipped belongs to that slow path (it may jump over
        # the fast path, which nvcc places after the slow one).
        if not (start <= addr <= end) or addr in skipped:
            continue
        m = re.search(r"\bBRA\b(?!\.DIV).*?0x([0-9a-f]+)", text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if not (addr < target <= end):
            continue
        region = [(a, t) for a, t in ins if addr < a < target]
        if any("CALL" in t for _, t in region) and not any("LDG" in t for _, t in region):
            skipped.update(a for a, _ in region)
    return sum(1 for a, _ in ins if start <= a <= end and a not in skipped)


def append_constants():
    """kAppendWarps and kAppendDepth (vector groups whose loads a warp keeps in flight) of the
    warp-cooperative append kernel, read from its header."""
    hdr = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels",
                       "append", "append_tq_kernel.cuh")
    text = open(hdr).read()
    get = lambda k: int(re.search(k + r"\s*=\s*(\d+)", text).group(1))
    return get("kAppendWarps"), get("kAppendDepth")


def append_report(sass, res):
    """Rows for every append_tq_kernel<D, BITS> instance; returns {(D, BITS): (ipb, inflight)}.

    A group is one warp's 256/D vectors (a loop iteration holds kAppendDepth + 1): bf16 input 2·D
    bytes each, written back as D·BITS/8 code bytes and a 2-byte fp16 norm. The loop issues the
    loads of the group kAppendDepth strides ahead before it encodes the current one, so
    kAppendDepth groups' inputs (kAppendDepth × 512 B per warp) are in flight per resident warp."""
    warps, depth = append_constants()
    out = {}
    print(f"# append_tq_kernel (tq-mse-b, Hadamard): {warps} warps/CTA, a warp = 256/D vectors "
          f"(8 channels, one 16-B bf16 load per lane), loads of the next {depth} groups in flight")
    print(f"{'kernel':34} {'regs':>4} {'CTA/SM':>6} {'loop instr':>10} {'LDG (widths)':>18} "
          f"{'B/warp-iter':>11} {'instr/B':>8} {'KB in flight/SM':>15} {'% of HBM':>8}"
          "  (loop instr and B/warp-iter: per loop iteration, which may hold several groups)")
    for name, ins in sorted(functions(sass).items(), key=lambda kv: kv[0]):
        m = re.search(r"append_tq_kernelILi(\d+)ELi(\d+)E", name)
        if not m:
            continue
        d, bits = int(m.group(1)), int(m.group(2))
        r = res.get(name, dict(reg=0, smem=0, stack=0, local=0))
        ctas = ctas_per_sm(r["reg"], r["smem"], 32 * warps)
        label = f"append_tq<{d},mse-{bits}>"
        loop = main_loop(ins)
        if not loop:
            print(f"{label:34} no loop with global loads found")
            continue
        start, end, loads, body = loop
        common = slow_path_free(ins, start, end)
        widths = sorted({w for w in (load_width(t) for t in body) if w})
        vpw = 256 // d
        # A loop iteration may encode several groups (the kernel unrolls by four so its load
        # buffers rotate by name); each group is exactly one 16-byte bf16 load per lane.
        groups = max(1, sum(1 for t in body if load_width(t) == 16))
        per_iter = groups * vpw * (2 * d + d * bits // 8 + 2)
        ipb = common / per_iter
        inflight = depth * 512 * warps * ctas
        # Little's law and the issue rate each cap the bandwidth; the lower cap is the estimate.
        pct = 100 * min(1.0, BUDGET_INSTR_PER_BYTE / ipb, inflight / BUDGET_INFLIGHT)
        out[(d, bits)] = (ipb, inflight, pct)
        print(f"{label:34} {r['reg']:>4} {ctas:>6} {common:>4}/{len(body):<5} {loads:>5} "
              f"({','.join(map(str, widths))} B) {per_iter:>11} {ipb:>8.3f} {inflight / 1024:>15.1f} "
              f"{pct:>7.0f}%{'  under 70 %' if pct < APPEND_TARGET_PCT else ''}")
    return out


def split_report(sass, res):
    """Rows for every append_split_kernel<D, B0, B1> instance (tq-3.5: B0 = 4, B1 = 3; tq-2.5: 3,
    2; D/4 outlier channels at B0 bits with a Hadamard rotation, 3D/4 at B1 with kBlockHadamard);
    returns {(D, B0, B1): (ipb, inflight, pct)}.

    The kernel is append_tq_kernel's loop (kAppendWarps, kAppendDepth, four groups per iteration)
    with the per-head permutation table read per group: each group issues three 16-byte loads per
    lane, its input (bf16, one contiguous 512-byte run per warp) and the lane's 8 scatter entries
    (two loads of a table of kv_heads x D words that stays in L1), so a loop iteration's groups are
    its 16-byte loads / 3. Bytes: bf16 input 2·D per vector, written back as D/4·(B0 + 3·B1)/8 code
    bytes and the two fp16 norms. In flight: the kAppendDepth groups' input loads per warp (the
    table loads hit L1 and are not counted), with the CTAs per SM its registers allow (2)."""
    warps, depth = append_constants()
    out = {}
    print(f"# append_split_kernel (tq-3.5 / tq-2.5: d/4 Hadamard at B0 + 3d/4 kBlockHadamard at B1 bits): "
          f"{warps} warps/CTA, a warp = 256/D vectors, the permutation folded into the first "
          f"shared-memory round trip, loads of the next {depth} groups in flight")
    print(f"{'kernel':34} {'regs':>4} {'CTA/SM':>6} {'loop instr':>10} {'LDG (widths)':>18} "
          f"{'B/warp-iter':>11} {'instr/B':>8} {'KB in flight/SM':>15} {'% of HBM':>8}")
    for name, ins in sorted(functions(sass).items(), key=lambda kv: kv[0]):
        m = re.search(r"append_split_kernelILi(\d+)ELi(\d+)ELi(\d+)E", name)
        if not m:
            continue
        d, b0, b1 = int(m.group(1)), int(m.group(2)), int(m.group(3))
        r = res.get(name, dict(reg=0, smem=0, stack=0, local=0))
        ctas = ctas_per_sm(r["reg"], r["smem"], 32 * warps)
        label = f"append_split<{d},{'tq-3.5' if b0 == 4 else 'tq-2.5'}>"
        loop = main_loop(ins)
        if not loop:
            print(f"{label:34} no loop with global loads found")
            continue
        start, end, loads, body = loop
        common = slow_path_free(ins, start, end)
        widths = sorted({w for w in (load_width(t) for t in body) if w})
        wide = sum(1 for t in body if load_width(t) == 16)
        if wide % 3:
            print(f"{label:34} {wide} 16-byte loads in the loop: not 3 per group, layout changed?")
            continue
        groups = max(1, wide // 3)
        vpw = 256 // d
        per_iter = groups * vpw * (2 * d + d // 4 * (b0 + 3 * b1) // 8 + 4)
        ipb = common / per_iter
        inflight = depth * 512 * warps * ctas
        pct = 100 * min(1.0, BUDGET_INSTR_PER_BYTE / ipb, inflight / BUDGET_INFLIGHT)
        out[(d, b0, b1)] = (ipb, inflight, pct)
        print(f"{label:34} {r['reg']:>4} {ctas:>6} {common:>4}/{len(body):<5} {loads:>5} "
              f"({','.join(map(str, widths))} B) {per_iter:>11} {ipb:>8.3f} {inflight / 1024:>15.1f} "
              f"{pct:>7.1f}%  ({common / groups:.0f} instr per group){'  under 70 %' if pct < APPEND_TARGET_PCT else ''}")
    return out


def mma_constants():
    """Warps per CTA at d = 64 and at larger d, and the tile size of the tensor-core append,
    read from its header."""
    hdr = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels",
                       "append", "append_mma_kernel.cuh")
    text = open(hdr).read()
    m = re.search(r"kWarps\s*=\s*D\s*==\s*64\s*\?\s*(\d+)\s*:\s*(\d+)", text)
    tile = int(re.search(r"kMmaTile\s*=\s*(\d+)", text).group(1))
    return int(m.group(1)), int(m.group(2)), tile


def smem_wavefronts(text):
    """Shared-memory wavefronts of one warp-instruction, conflict-free (128 B per wavefront)."""
    if not re.search(r"\b(LDS|STS|LDSM)\b", text):
        return 0
    if "LDSM" in text:
        return 4 if ".X4" in text else (2 if ".X2" in text else 1)
    if ".128" in text:
        return 4
    if ".64" in text:
        return 2
    return 1


def mma_report(sass, res):
    """Rows for every append_mma_kernel<D, BITS> instance (tq-prod-(BITS+1)); returns
    {(D, BITS): (ipb, inflight, pct)}.

    A loop iteration is one 32-vector tile per warp: bf16 input 2·D bytes per vector, written back
    as D·(BITS+1)/8 code and sign bytes and 4 bytes of (norm, gamma). The mma k-tile loop inside it
    runs the D/16 k-tiles less those peeled out of it (a peeled one's HMMA are in the tile body),
    so its body counts (2·3·(D/8)·(D/16) − HMMA outside it) / its HMMA times (two m-tiles). In
    flight: the warp's cp.async of its next tile (64·D bytes) is outstanding while it works on the
    current one, with one CTA per SM (S fills its shared memory).
    Beyond the issue and Little caps, two more are printed, not checked: the tensor pipe (one
    m16n8k16 HMMA per SM-clock, the fp16 dense peak; mma.sync reaches less on Hopper) and shared
    memory (one 128-byte wavefront per SM-clock, every access counted conflict-free), each
    against the HBM clocks of a tile at 3.0 TB/s over 132 SMs at 1.98 GHz (11.5 B per SM-clock)."""
    warps64, warps, tile = mma_constants()
    hbm_b_per_clk = 3.0e12 / (132 * 1.98e9)
    out = {}
    print(f"# append_mma_kernel (tq-prod-b, Hadamard, QJL on tensor cores): {tile}-vector tiles per "
          f"warp, {warps64} warps/CTA at d=64 and {warps} above, the next tile's cp.async in flight per warp")
    print(f"{'kernel':34} {'regs':>4} {'CTA/SM':>6} {'loop instr':>10} {'HMMA':>5} {'smem wf':>7} "
          f"{'B/warp-iter':>11} {'instr/B':>8} {'KB in flight/SM':>15} {'% of HBM':>8} "
          f"{'tensor cap':>10} {'smem cap':>8}")
    for name, ins in sorted(functions(sass).items(), key=lambda kv: kv[0]):
        m = re.search(r"append_mma_kernelILi(\d+)ELi(\d+)E", name)
        if not m:
            continue
        d, bits = int(m.group(1)), int(m.group(2))
        w = warps64 if d == 64 else warps
        # S, then per warp two input stages and the A lo rows (32 rows of d + 8 halves each; the A
        # hi rows overwrite the current stage) and the sign rows.
        dyn = d * d * 4 + w * (3 * tile * (d + 8) * 2 + tile * (d // 8))
        tile_hmma = 3 * (d // 8) * (d // 16) * (tile // 16)  # two m-tiles per 32-vector tile
        r = res.get(name, dict(reg=0, smem=0, stack=0, local=0))
        ctas = ctas_per_sm(r["reg"], r["smem"] + dyn, 32 * w)
        label = f"append_mma<{d},prod-{bits + 1}>"
        # The tile loop: the largest backward branch whose body holds both the 16-byte input
        # loads and the mma (the prologue's loop that fills S also loads, but has no HMMA).
        loop = None
        for addr, text in ins:
            mb = re.search(r"\bBRA\b(?!\.DIV).*?0x([0-9a-f]+)", text)
            if not mb or int(mb.group(1), 16) >= addr:
                continue
            target = int(mb.group(1), 16)
            body = [t for a, t in ins if target <= a <= addr]
            if any("HMMA" in t for t in body) and any(load_width(t) == 16 for t in body):
                if loop is None or len(body) > len(loop[2]):
                    loop = (target, addr, body)
        if not loop:
            print(f"{label:34} no loop with input loads and mma found")
            continue
        start, end, body = loop
        common = slow_path_free(ins, start, end)
        hmma = sum(1 for t in body if "HMMA" in t)
        wf = sum(smem_wavefronts(t) for t in body)
        # Inner loops (the mma k-tiles): backward branches inside the body. Their trip count is
        # what the tile's 3·(D/8)·(D/16) HMMA need beyond those outside them (a peeled k-tile).
        for addr, text in ins:
            mb = re.search(r"\bBRA\b(?!\.DIV).*?0x([0-9a-f]+)", text)
            if not mb or not (start < addr < end):
                continue
            target = int(mb.group(1), 16)
            if not (start < target < addr):
                continue
            inner = [t for a, t in ins if target <= a <= addr]
            inner_hmma = sum(1 for t in inner if "HMMA" in t)
            if inner_hmma:
                trips = (tile_hmma - (hmma - inner_hmma)) // inner_hmma
                extra = trips - 1
                common += extra * len(inner)
                hmma += extra * sum(1 for t in inner if "HMMA" in t)
                wf += extra * sum(smem_wavefronts(t) for t in inner)
        per_iter = tile * (2 * d + d * (bits + 1) // 8 + 4)
        ipb = common / per_iter
        inflight = tile * 2 * d * w * ctas
        pct = 100 * min(1.0, BUDGET_INSTR_PER_BYTE / ipb, inflight / BUDGET_INFLIGHT)
        hbm_clk = per_iter / hbm_b_per_clk  # SM-clocks of HBM time per tile
        tensor = 100 * min(1.0, hbm_clk / max(hmma, 1))
        smem = 100 * min(1.0, hbm_clk / max(wf, 1))
        out[(d, bits)] = (ipb, inflight, pct)
        print(f"{label:34} {r['reg']:>4} {ctas:>6} {common:>10} {hmma:>5} {wf:>7} {per_iter:>11} "
              f"{ipb:>8.3f} {inflight / 1024:>15.1f} {pct:>7.0f}% {tensor:>9.0f}% {smem:>7.0f}%"
              f"{'  under 70 %' if pct < APPEND_TARGET_PCT else ''}")
    return out


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    build = args[0] if args else "build"
    extra = tool_dir()
    objs = {
        "decode": glob.glob(os.path.join(build, "**", "decode_attention_launch.cu.o"), recursive=True),
        "pipelined": glob.glob(os.path.join(build, "**", "decode_pipelined_launch.cu.o"), recursive=True),
        "append": glob.glob(os.path.join(build, "**", "quant_launch.cu.o"), recursive=True),  # store_kernel
        "append_tq": glob.glob(os.path.join(build, "**", "append_tq_launch.cu.o"), recursive=True),
        "append_mma": glob.glob(os.path.join(build, "**", "append_mma_launch.cu.o"), recursive=True),
        "append_split": glob.glob(os.path.join(build, "**", "append_split_launch.cu.o"), recursive=True),
    }
    if not objs["decode"]:
        sys.exit(f"no decode_attention_launch.cu.o under {build}: build jevons_kernels with CUDA")
    print(f"# SASS budget (sm_90): {BUDGET_INSTR_PER_BYTE} warp-instr/byte, "
          f"{BUDGET_INFLIGHT // 1024} KB in flight per SM")
    print("# loop instr: common path / static body (the difference: online-softmax rescale blocks)")
    print(f"{'kernel':34} {'regs':>4} {'CTA/SM':>6} {'loop instr':>10} {'LDG (widths)':>18} "
          f"{'B/warp-iter':>11} {'instr/B':>8} {'KB in flight/SM':>15}")
    obj = objs["decode"][0]
    sass = run(["cuobjdump", "-sass", obj], extra)
    res = resources(run(["cuobjdump", "-res-usage", obj], extra))
    for name, ins in sorted(functions(sass).items()):
        m = re.search(r"decode_split_kernelILi(\d+)ELi(\d+)ELi(\d+)E", name)
        if not m:
            continue
        head_dim, mode, gmax = map(int, m.groups())
        r = res.get(name, dict(reg=0, smem=0, stack=0, local=0))
        ctas = ctas_per_sm(r["reg"], r["smem"], 128)
        loop = main_loop(ins)
        label = f"split<{head_dim},{'bf16' if mode == 16 else 'generic' if mode == 0 else f'mse-{mode}'},G{gmax}>"
        if not loop:
            print(f"{label:34} no loop with global loads found")
            continue
        start, end, loads, body = loop
        common = common_path(ins, start, end)
        widths = sorted({w for w in (load_width(t) for t in body) if w})
        bpt = decode_bytes_per_token(head_dim, mode)
        tokens_per_warp_iter = 32 // (head_dim // 8)  # HEAD_DIM/8 lanes own one token
        if mode == 0:
            continue  # generic: any format through runtime branches, no single budget
        if bpt:
            per_iter = bpt * tokens_per_warp_iter
            ipb = common / per_iter
            inflight = per_iter * ctas * 4  # one iteration's loads per resident warp
            print(f"{label:34} {r['reg']:>4} {ctas:>6} {common:>4}/{len(body):<5} {loads:>5} ({','.join(map(str, widths))} B) "
                  f"{per_iter:>11} {ipb:>8.2f} {inflight / 1024:>15.1f}"
                  f"{'  over budget' if ipb > BUDGET_INSTR_PER_BYTE or inflight < BUDGET_INFLIGHT else ''}")
        else:
            print(f"{label:34} {r['reg']:>4} {ctas:>6} {len(body):>10} {loads:>5} ({','.join(map(str, widths))} B) "
                  f"{'(any format)':>11}")
    pipe = {}
    if objs["pipelined"]:
        obj = objs["pipelined"][0]
        pipe = pipe_report(run(["cuobjdump", "-sass", obj], extra),
                           resources(run(["cuobjdump", "-res-usage", obj], extra)))
    append = {}
    if objs["append_tq"]:
        obj = objs["append_tq"][0]
        append = append_report(run(["cuobjdump", "-sass", obj], extra),
                               resources(run(["cuobjdump", "-res-usage", obj], extra)))
    append_mma = {}
    if objs["append_mma"]:
        obj = objs["append_mma"][0]
        append_mma = mma_report(run(["cuobjdump", "-sass", obj], extra),
                                resources(run(["cuobjdump", "-res-usage", obj], extra)))
    append_split = {}
    if objs["append_split"]:
        obj = objs["append_split"][0]
        append_split = split_report(run(["cuobjdump", "-sass", obj], extra),
                                    resources(run(["cuobjdump", "-res-usage", obj], extra)))
    if objs["append"]:
        obj = objs["append"][0]
        sass = run(["cuobjdump", "-sass", obj], extra)
        res = resources(run(["cuobjdump", "-res-usage", obj], extra))
        print("# store_kernel (every other format and fp32 input: tq-prod at d = 256, dense rotations, baselines): "
              "one thread per channel, 256/HEAD_DIM vectors per CTA; global loads of the whole kernel:")
        for name, ins in sorted(functions(sass).items()):
            m = re.search(r"store_kernelILi(\d+)E", name)
            if not m:
                continue
            r = res.get(name, dict(reg=0, smem=0))
            widths = {}
            for _, t in ins:
                w = load_width(t)
                if w:
                    widths[w] = widths.get(w, 0) + 1
            ctas = ctas_per_sm(r['reg'], r['smem'], 256)
            # Each thread loads one bf16 element of its channel, then works through CTA barriers:
            # that element is all a thread has in flight.
            print(f"store<{m.group(1)}>  regs {r['reg']}  smem {r['smem']} B  CTA/SM {ctas}  "
                  f"instructions {len(ins)}  LDG by width {dict(sorted(widths.items()))}  "
                  f"in flight/SM ~{ctas * 256 * 2 / 1024:.1f} KB (bf16 input, 2 B per thread)"
                  f"{'  under 32 KB' if ctas * 256 * 2 < BUDGET_INFLIGHT else ''}")

    if check:
        # The pipelined kernel at the B = 32 / L = 16k point: tq-mse-4, and the project's default
        # compressed format tq-3.5 (outlier split: D/4 channels at 4 bits, 3D/4 at 3), against the
        # same two targets.
        ok = True
        for key, label, name in (((128, 4, False, 0), "mse-4", "<128, 4, false>"),
                                 ((128, 4, False, 3), "tq-3.5", "<128, 4, false, 3> (tq-3.5)")):
            if key not in pipe:
                sys.exit(f"--check: no decode_pipelined_kernel{name} in "
                         "decode_pipelined_launch.cu.o")
            ipb, inflight = pipe[key]
            met = ipb <= BUDGET_INSTR_PER_BYTE and inflight >= BUDGET_INFLIGHT
            ok = ok and met
            print(f"check pipe<128,{label}>: {ipb:.3f} instr/B (<= {BUDGET_INSTR_PER_BYTE}), "
                  f"{inflight / 1024:.1f} KB in flight/SM (>= {BUDGET_INFLIGHT // 1024}): "
                  f"{'met' if met else 'MISSED'}")
        # Every append_tq_kernel instance (tq-mse-1..4 at d = 64/128/256) must reach the issue's
        # 70 % by design (docs/kernels.md: 70.1-86.5 %), so a change that costs it instructions,
        # registers or loads in flight fails here.
        if not append:
            sys.exit("--check: no append_tq_kernel in append_tq_launch.cu.o")
        for key in sorted(append):
            a_ipb, a_inflight, pct = append[key]
            a_ok = pct >= APPEND_CHECK_PCT
            ok = ok and a_ok
            print(f"check append_tq<{key[0]},mse-{key[1]}>: {pct:.0f} % of HBM by design "
                  f"(>= {APPEND_CHECK_PCT} %: {'met' if a_ok else 'MISSED'}; "
                  f"{APPEND_TARGET_PCT} % target: {'met' if pct >= APPEND_TARGET_PCT else 'not met'})")
        # Every append_mma_kernel instance (tq-prod-2/3/4 at d = 64/128) too.
        if not append_mma:
            sys.exit("--check: no append_mma_kernel in append_mma_launch.cu.o")
        for key in sorted(append_mma):
            _, _, pct = append_mma[key]
            floor = MMA_CHECK_PCT[key[0]]
            a_ok = pct >= floor
            ok = ok and a_ok
            print(f"check append_mma<{key[0]},prod-{key[1] + 1}>: {pct:.1f} % of HBM by design "
                  f"(>= {floor} %: {'met' if a_ok else 'MISSED'}; "
                  f"{APPEND_TARGET_PCT} % target: {'met' if pct >= APPEND_TARGET_PCT else 'not met'})")
        # Every append_split_kernel instance (tq-3.5, tq-2.5 at d = 64/128/256) too.
        if not append_split:
            sys.exit("--check: no append_split_kernel in append_split_launch.cu.o")
        for key in sorted(append_split):
            _, _, pct = append_split[key]
            floor = SPLIT_CHECK_PCT[key]
            a_ok = pct >= floor
            ok = ok and a_ok
            print(f"check append_split<{key[0]},{'tq-3.5' if key[1] == 4 else 'tq-2.5'}>: {pct:.1f} % "
                  f"of HBM by design (>= {floor} %: {'met' if a_ok else 'MISSED'}; "
                  f"{APPEND_TARGET_PCT} % target: {'met' if pct >= APPEND_TARGET_PCT else 'not met'})")
        sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
