#!/usr/bin/env bash
# Generated-code speed: Blood (target/release/blood build, default -O2) against C (gcc -O2).
# Usage: tools/bench/codegen/run.sh            (from anywhere; RUNS=N overrides the 5 timed runs)
# Prints a markdown table: benchmark | Blood median | C median | ratio (Blood / C) | peak RSS
# of each side (one extra run each, getrusage of the child), then the geometric mean of the
# ratios of the CLBG kernels (nbody, spectral_norm, mandelbrot, fannkuch_redux, binary_trees).
# A benchmark whose Blood side does not compile yet (e.g. the sieve needs language level L1
# arrays) or prints a different result is reported in the table instead of timed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
RUNS=${RUNS:-5}
BENCHES=${BENCHES:-"nbody spectral_norm mandelbrot fannkuch_redux binary_trees fib sieve nested_loops primes_trial"}
CLBG="nbody spectral_norm mandelbrot fannkuch_redux binary_trees"
BLOOD="$ROOT/target/release/blood"

if ! command -v hyperfine >/dev/null; then
  echo "# installing hyperfine" >&2
  apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
fi
if [ ! -x /usr/bin/time ]; then
  echo "# installing GNU time" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
if [ ! -x "$BLOOD" ]; then
  echo "# building target/release/blood" >&2
  (cd "$ROOT" && cargo build --release -p bloodc >&2)
fi

OUT="$(mktemp -d)"
trap 'rc=$?; if [ $rc -ne 0 ] && [ -f "$OUT/hyperfine.log" ]; then cat "$OUT/hyperfine.log" >&2; fi; rm -rf "$OUT"' EXIT

# median of a hyperfine JSON export, in seconds
median() { python3 -c 'import json,sys,statistics; print(statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$1"; }
fmt() { python3 -c 'import sys; v=float(sys.argv[1]); print(f"{v*1000:.1f} ms" if v < 10 else f"{v:.2f} s")' "$1"; }
# peak resident set of one run of a program, in MB (GNU time: a small C parent, so the figure is
# the program's own, not a forked interpreter's)
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | python3 -c 'import sys; print(f"{int(sys.stdin.read())/1024:.1f} MB")'; }
RATIOS="$OUT/ratios"
: > "$RATIOS"

echo "# $(gcc --version | head -1); $("$BLOOD" --version 2>/dev/null | head -1); $(nproc) cores; hyperfine --warmup 1 --runs $RUNS"
echo
echo "| benchmark | Blood median | C median | ratio (Blood / C) | Blood peak RSS | C peak RSS |"
echo "|---|---:|---:|---:|---:|---:|"
for b in $BENCHES; do
  gcc -O2 -o "$OUT/$b.c.exe" "$HERE/$b.c" -lm
  expected="$("$OUT/$b.c.exe")"
  hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$OUT/$b.c.json" "$OUT/$b.c.exe" >/dev/null 2>>"$OUT/hyperfine.log"
  c_med="$(median "$OUT/$b.c.json")"
  if ! "$BLOOD" build "$HERE/$b.blood" -o "$OUT/$b.blood.exe" 2>"$OUT/$b.err"; then
    echo "| $b | does not compile ($(grep -m1 -o 'error[^:]*: .*' "$OUT/$b.err" | head -c 80)) | $(fmt "$c_med") | – | – | $(peak "$OUT/$b.c.exe") |"
    continue
  fi
  got="$("$OUT/$b.blood.exe" || true)"
  if [ "$got" != "$expected" ]; then
    echo "| $b | wrong output: \`$(echo "$got" | head -c 60)\` | $(fmt "$c_med") | – | – | – |"
    continue
  fi
  hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$OUT/$b.blood.json" "$OUT/$b.blood.exe" >/dev/null 2>>"$OUT/hyperfine.log"
  b_med="$(median "$OUT/$b.blood.json")"
  ratio="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.2f}")' "$b_med" "$c_med")"
  case " $CLBG " in *" $b "*) echo "$ratio" >> "$RATIOS" ;; esac
  echo "| $b | $(fmt "$b_med") | $(fmt "$c_med") | $ratio | $(peak "$OUT/$b.blood.exe") | $(peak "$OUT/$b.c.exe") |"
done
echo
python3 -c 'import math,sys
r=[float(x) for x in open(sys.argv[1]).read().split()]
print(f"geometric mean of the CLBG ratios ({len(r)} of 5 kernels): " + (f"{math.exp(sum(map(math.log,r))/len(r)):.2f}" if r else "–"))' "$RATIOS"
