#!/usr/bin/env python3
"""Turns the JSON files of bench/run_kernels.sh into the markdown tables of
bench/README.md: ns/element (median CPU time / elements, over every
repetition of every round) and ratios between medians of the same binary,
plus the kernel-layer targets, met or not.

usage: bench/summarize_kernels.py OUT_DIR        (files <variant>.<round>.json)
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

SIZES = [4096, 65536, 1 << 20, 1 << 24]
SIZE_NAMES = {4096: "4Ki", 65536: "64Ki", 1 << 20: "1Mi", 1 << 24: "16Mi"}
OPS = ["quantize", "dequantize", "fake_quantize", "fake_quantize_mask", "ste_backward"]
SCHEMES = ["per-tensor", "per-axis-first", "per-axis-last", "per-axis-last-c64", "blocked32-last", "blocked128-last",
           "per-element"]
# The loop that moves the same bytes as each op.
LOOP = {
    "quantize": "truncate_f32_s8",
    "dequantize": "widen_s8_f32",
    "fake_quantize": "copy_f32",
    "fake_quantize_mask": "copy_f32_u8",
    "ste_backward": "multiply_f32",
    "ste_backward_masked": "copy_f32_u8",
}
PEER = {"quantize": "xnnpack/convert_f32_qs8", "dequantize": "xnnpack/convert_qs8_f32"}
VARIANTS = ["O2_baseline", "O3_baseline", "O2_native", "O3_native"]
MAIN = "O2_baseline"


def load(out_dir):
    """{variant: {(name, n): median ns/element}}, and the context of one file."""
    samples = defaultdict(lambda: defaultdict(list))
    context = {}
    for path in sorted(glob.glob(os.path.join(out_dir, "*.json"))):
        variant = os.path.basename(path).split(".")[0]
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration" or "error_occurred" in b:
                continue
            prefix, n = b["run_name"].rsplit("/", 1)
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
            samples[variant][(prefix, int(n))].append(b["cpu_time"] * scale / int(n))
    medians = {v: {k: statistics.median(s) for k, s in d.items()} for v, d in samples.items()}
    counts = {v: max((len(s) for s in d.values()), default=0) for v, d in samples.items()}
    return medians, counts, context


def fmt(v):
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def ratio(a, b):
    return None if a is None or b is None else a / b


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    med, counts, context = load(sys.argv[1])
    if MAIN not in med:
        sys.exit(f"no {MAIN} results in {sys.argv[1]}")
    m = med[MAIN]
    get = lambda variant, name, n: med.get(variant, {}).get((name, n))
    auto_path = context.get("eigenq_auto_path", "?")
    print(f"Samples per benchmark: {', '.join(f'{v} {c}' for v, c in sorted(counts.items()))}. "
          f"Path::kAuto ran `{auto_path}`. CPU: {context.get('num_cpus', '?')} x "
          f"{context.get('mhz_per_cpu', '?')} MHz; load average at the start of one run: "
          f"{context.get('load_avg', '?')}.\n")
    targets = []

    print("#### Per-tensor, -O2, baseline flags (what a distribution build runs): ns/element\n")
    print("| op | size | auto | avx2 (forced) | scalar | AVX-512 same-bytes loop | auto / loop | XNNPACK | auto / XNNPACK |")
    print("|---|---|---|---|---|---|---|---|---|")
    for op in OPS + ["ste_backward_masked"]:
        scheme = "any" if op == "ste_backward_masked" else "per-tensor"
        for n in SIZES:
            auto = m.get((f"{op}/{scheme}/auto", n))
            avx2 = m.get((f"{op}/{scheme}/avx2", n))
            scalar = m.get((f"{op}/{scheme}/scalar", n))
            loop = m.get((f"baseline/{LOOP[op]}/avx512", n))
            peer = m.get((PEER[op], n)) if op in PEER else None
            print(f"| {op} | {SIZE_NAMES[n]} | {fmt(auto)} | {fmt(avx2)} | {fmt(scalar)} | {fmt(loop)} ({LOOP[op]}) | "
                  f"{fmt_ratio(ratio(auto, loop))} | {fmt(peer)} | {fmt_ratio(ratio(auto, peer))} |")
            r = ratio(auto, loop)
            if op in ("quantize", "dequantize"):
                targets.append((f"{op} {SIZE_NAMES[n]}: within 10% of the AVX-512 same-bytes loop", r, 1.10))
                if n in (4096, 65536):
                    targets.append((f"{op} {SIZE_NAMES[n]}: at most XNNPACK's time", ratio(auto, peer), 1.00))
            elif op == "fake_quantize":
                targets.append((f"fake_quantize {SIZE_NAMES[n]}: within 15% of the AVX-512 copy", r, 1.15))
            elif op in ("fake_quantize_mask", "ste_backward_masked", "ste_backward"):
                targets.append((f"{op} {SIZE_NAMES[n]}: within 20% of its same-bytes loop", r, 1.20))
    print()

    for path in ("auto", "avx2"):
        print(f"#### Schemes ({path}, -O2 baseline): ns/element, and ratio to per-tensor at the same size\n")
        print("| op | scheme | " + " | ".join(SIZE_NAMES[n] for n in SIZES) + " |")
        print("|---|---|" + "---|" * len(SIZES))
        for op in OPS:
            for s in SCHEMES:
                cells = []
                for n in SIZES:
                    v = m.get((f"{op}/{s}/{path}", n))
                    base = m.get((f"{op}/per-tensor/{path}", n))
                    cells.append(fmt(v) if s == "per-tensor" else f"{fmt(v)} ({fmt_ratio(ratio(v, base))}x)")
                print(f"| {op} | {s} | " + " | ".join(cells) + " |")
        print()

    present = [v for v in VARIANTS if v in med]
    print("#### Builds: per-tensor on the default path, ns/element (kernel / AVX-512 loop of the same binary)\n")
    print("| op | size | " + " | ".join(present) + " | O2 / O3 | baseline / native |")
    print("|---|---|" + "---|" * (len(present) + 2))
    for op in OPS:
        for n in SIZES:
            cells, norm = [], {}
            for v in present:
                k = get(v, f"{op}/per-tensor/auto", n)
                loop = get(v, f"baseline/{LOOP[op]}/avx512", n)
                norm[v] = ratio(k, loop)
                cells.append(f"{fmt(k)} ({fmt_ratio(norm[v])})")
            o2o3 = ratio(get("O2_baseline", f"{op}/per-tensor/auto", n), get("O3_baseline", f"{op}/per-tensor/auto", n))
            bn = ratio(get("O2_baseline", f"{op}/per-tensor/auto", n), get("O2_native", f"{op}/per-tensor/auto", n))
            print(f"| {op} | {SIZE_NAMES[n]} | " + " | ".join(cells) + f" | {fmt_ratio(o2o3)} | {fmt_ratio(bn)} |")
            if o2o3 is not None:
                targets.append((f"{op} {SIZE_NAMES[n]}: -O2 within 5% of -O3 (baseline flags)", o2o3, 1.05))
            if bn is not None:
                targets.append((f"{op} {SIZE_NAMES[n]}: baseline within 5% of -march=native (-O2)", bn, 1.05))
    print()

    extra = [v for v in med if v not in VARIANTS]
    for old in extra:
        print(f"#### Forced AVX2 in the dispatched -O2 build against `{old}`'s AVX2 path, ns/element\n")
        print("| op | size | this build, avx2 | " + old + " avx2 | ratio |")
        print("|---|---|---|---|---|")
        for op in OPS:
            for n in SIZES:
                new = m.get((f"{op}/per-tensor/avx2", n))
                ref = get(old, f"{op}/per-tensor/avx2", n)
                print(f"| {op} | {SIZE_NAMES[n]} | {fmt(new)} | {fmt(ref)} | {fmt_ratio(ratio(new, ref))} |")
                targets.append((f"{op} {SIZE_NAMES[n]}: forced AVX2 no slower than {old}", ratio(new, ref), 1.05))
        print()

    print("#### Targets\n")
    print("| target | measured | limit | met |")
    print("|---|---|---|---|")
    for name, value, limit in targets:
        met = "—" if value is None else ("yes" if value <= limit else "**no**")
        print(f"| {name} | {fmt_ratio(value)} | {limit:.2f} | {met} |")


if __name__ == "__main__":
    main()
