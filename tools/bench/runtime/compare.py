#!/usr/bin/env python3
"""Pair `go.X` and `blood.X` sample lines from raw.txt; print medians and the ratio as a
markdown table. "better" is Go/Blood for times and sizes, Blood/Go for throughputs, so > 1
always means Blood is better."""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import samples as samples_file  # noqa: E402

samples, units, header, _ = samples_file.read(sys.argv[1])

GOALS = {
    "yield.P1.switch": "≤ 20 ns",
    "spawn_join.P1.per_task": "≥ 2× Go",
    "spawn_join.P2.per_task": "≥ 2× Go",
    "pingpong.P1.round_trip": "≥ 1.5× Go",
    "pingpong.P2.round_trip": "≥ 1.5× Go",
    "chan_mpmc_4x4.P2.throughput": "≥ 1× Go",
    "idle_mem.P2.rss_per_task": "≤ 4.5 KB",
    "timers_100k_10ms.P2.wall": "≤ Go",
    "preempt_lateness_spinner.P1.p99": "≤ 20 ms",
}

for h in header:
    print(h)
print()
print("| figure | unit | Go median | Blood median | better (>1: Blood wins) | goal | n |")
print("|---|---|---:|---:|---:|---|---:|")
seen = set()
for name in samples:
    kind, _, rest = name.partition(".")
    if rest in seen:
        continue
    seen.add(rest)
    go, bl = samples.get("go." + rest), samples.get("blood." + rest)
    med = lambda xs: statistics.median(xs) if xs else None
    g, b = med(go), med(bl)
    unit = units.get("blood." + rest) or units.get("go." + rest)
    ratio = ""
    if g and b:
        higher_is_better = unit.endswith("/s")
        ratio = f"{(b / g if higher_is_better else g / b):.2f}"
    f = lambda x: "" if x is None else (f"{x:.1f}" if x < 1e4 else f"{x:.0f}")
    n = len(bl or go or [])
    print(f"| {rest} | {unit} | {f(g)} | {f(b)} | {ratio} | {GOALS.get(rest, '')} | {n} |")
