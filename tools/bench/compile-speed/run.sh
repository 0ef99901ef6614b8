#!/usr/bin/env bash
# Compile speed of `blood` on a generated 10,000-line L0 program (gen.py).
# Usage: tools/bench/compile-speed/run.sh [LINES]      (RUNS=N overrides the 5 timed runs)
# Times `blood check` (front end only) and `blood build` at -O2 and -O0 (full pipeline: code
# generation and linking) with hyperfine, and prints a markdown table of medians.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
RUNS=${RUNS:-5}
LINES=${1:-10000}
BLOOD="$ROOT/target/release/blood"

if ! command -v hyperfine >/dev/null; then
  echo "# installing hyperfine" >&2
  apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
fi
if [ ! -x "$BLOOD" ]; then
  echo "# building target/release/blood" >&2
  (cd "$ROOT" && cargo build --release -p bloodc >&2)
fi

OUT="$(mktemp -d)"
trap 'rc=$?; if [ $rc -ne 0 ] && [ -f "$OUT/hyperfine.log" ]; then cat "$OUT/hyperfine.log" >&2; fi; rm -rf "$OUT"' EXIT
python3 "$HERE/gen.py" "$LINES" > "$OUT/big.blood"
lines=$(wc -l < "$OUT/big.blood")

# The program must compile and run before its compile time means anything.
"$BLOOD" build "$OUT/big.blood" -o "$OUT/big"
"$OUT/big" | tail -1 >&2

median() { python3 -c 'import json,sys,statistics; print(statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$1"; }

echo "# $("$BLOOD" --version | head -1); $lines-line program; $(nproc) cores; hyperfine --warmup 1 --runs $RUNS"
echo
echo "| command | median | lines/s |"
echo "|---|---:|---:|"
i=0
for cmd in "check $OUT/big.blood" "build $OUT/big.blood -o $OUT/big" "build -O0 $OUT/big.blood -o $OUT/big"; do
  i=$((i + 1))
  hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$OUT/$i.json" "$BLOOD $cmd" >/dev/null 2>>"$OUT/hyperfine.log"
  m="$(median "$OUT/$i.json")"
  shown="blood ${cmd//$OUT\//}"
  python3 -c 'import sys; m=float(sys.argv[1]); print(f"| `{sys.argv[2]}` | {m*1000:.0f} ms | {int(sys.argv[3])/m:,.0f} |")' "$m" "$shown" "$lines"
done
