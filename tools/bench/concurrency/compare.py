#!/usr/bin/env python3
"""Pairs `go.X` and `blood.X` sample lines (`name value unit`) of a raw file and prints, per
figure, the Go and Blood medians and the ratio Blood / Go as a markdown table. For times and
latencies (ns, us, ms) a ratio below 1 means Blood is faster; for throughputs (…/s) above 1.
Lines starting with `#` are copied above the table; `# skip …` notes are listed below it."""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import samples as samples_file  # noqa: E402

samples, units, header, skips = samples_file.read(sys.argv[1])

for h in header:
    print(h)
print()
print("| figure | unit | Go median | Blood median | Blood / Go | better | n (Go, Blood) |")
print("|---|---|---:|---:|---:|---|---|")
seen = set()
for name in samples:
    _, _, rest = name.partition(".")
    if rest in seen:
        continue
    seen.add(rest)
    go, bl = samples.get("go." + rest), samples.get("blood." + rest)
    g = statistics.median(go) if go else None
    b = statistics.median(bl) if bl else None
    unit = units.get("blood." + rest) or units.get("go." + rest)
    ratio, better = "–", ""
    if g and b:
        ratio = f"{b / g:.2f}"
        blood_wins = (b > g) if unit.endswith("/s") else (b < g)
        better = "Blood" if blood_wins else "Go"
    f = lambda x: "–" if x is None else (f"{x:.1f}" if x < 1e4 else f"{x:.0f}")
    print(f"| {rest} | {unit} | {f(g)} | {f(b)} | {ratio} | {better} | {len(go or [])}, {len(bl or [])} |")
if skips:
    print()
    for s in skips:
        print(f"- skipped: {s}")
