#!/usr/bin/env bash
# Concurrency benchmarks: Blood programs built with `blood` against the Go peers in go/ (copies of
# ../shared/peers/go), and the cost of the preemption safepoints in generated code.
#
#   tools/bench/concurrency/run.sh                        # everything, REPS=5
#   REPS=3 ONLY="spawn safepoint" tools/bench/concurrency/run.sh
#
# | name      | Blood program                                   | peer                         | workers / GOMAXPROCS |
# |-----------|-------------------------------------------------|------------------------------|----------------------|
# | spawn     | spawn.blood: spawn + join 1M fibers             | go/spawn                     | 1, 2                 |
# | pingpong  | pingpong.blood: 1M round trips, rendezvous chans | go/pingpong (unbuffered)     | 1, 2                 |
# | chanthru  | chanthru.blood: 4 prod × 4 cons, cap 1024, 10M  | go/chanthru                  | 1, 2                 |
# | preempt   | preempt.blood: call-free spinner vs 1 ms sleeper | go/preempt                   | 1                    |
# | safepoint | ../codegen/{fib,nbody,sieve}.blood, default build vs --no-preempt, CPU time (goal: ratio ≤ 1.03) | – | – |
#
# Every Go/Blood pair runs REPS times, interleaved, within this one run; the tables give medians
# and Blood/Go ratios (figures drift 20–40% between runs on shared machines: compare only within
# a run). tools/bench/runtime/run.sh builds its spawn, pingpong, chanthru and preempt peers from
# the same go/ copies, so both scripts run identical Go programs; Go's spawn + join at
# GOMAXPROCS=2 is the most load-sensitive figure (200–900 ns per goroutine on the 2-core machine
# depending on other load), which is why the two scripts' Go figures could differ 3×. A Blood program that does not compile is skipped with the compiler's first error; a run
# that fails or takes more than TIMEOUT seconds is reported and that figure is not repeated.
# Environment: REPS (5), ONLY, TIMEOUT (120 s per run), MIN_BATCH (0.5 s, safepoint batches),
# ALIGNS ("16 32 64": the function alignments each safepoint program is built at),
# BLOOD (the compiler; built with cargo if missing), OUT (raw samples; default a temp dir).
# Needs python3, cc, go (installed with apt-get if missing), cargo if `blood` must be built.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REPS=${REPS:-5}
ONLY=${ONLY:-"spawn pingpong chanthru preempt safepoint"}
TIMEOUT=${TIMEOUT:-120}
MIN_BATCH=${MIN_BATCH:-0.5}
ALIGNS=${ALIGNS:-"16 32 64"}
BLOOD=${BLOOD:-${CARGO_TARGET_DIR:-$ROOT/target}/release/blood}
OUT=${OUT:-$(mktemp -d /tmp/blood-concurrency-bench.XXXXXX)}
RAW="$OUT/raw.txt"
mkdir -p "$OUT/go" "$OUT/blood" "$OUT/safepoint"
: > "$RAW"
wants() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if [ ! -x "$BLOOD" ]; then
  echo "# building $BLOOD" >&2
  (cd "$ROOT" && cargo build --release -p bloodc >&2)
fi
PEERS=""
for b in spawn pingpong chanthru preempt; do
  if wants "$b"; then PEERS="$PEERS $b"; fi
done
if [ -n "$PEERS" ] && ! command -v go >/dev/null; then
  echo "# installing golang-go" >&2
  apt-get install -y golang-go >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y golang-go >/dev/null; }
fi

{
  echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $("$BLOOD" --version 2>/dev/null | head -1) (commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))$( [ -n "$PEERS" ] && echo "; $(go version)")"
  echo "# REPS=$REPS, interleaved Go/Blood; P = BLOOD_NUM_WORKERS = GOMAXPROCS"
} >> "$RAW"

# Build: Go peers and Blood programs. A Blood program that does not compile is skipped.
declare -A BLOOD_OK=() FAILED=()
export GOCACHE=${GOCACHE:-$OUT/gocache} GOPATH=${GOPATH:-$OUT/gopath} GO111MODULE=off GOFLAGS=
for b in $PEERS; do
  echo "# building go/$b and $b.blood" >&2
  (cd "$HERE/go/$b" && go build -o "$OUT/go/$b" main.go)
  if "$BLOOD" build "$HERE/$b.blood" -o "$OUT/blood/$b" 2> "$OUT/blood/$b.err"; then
    BLOOD_OK[$b]=1
  else
    msg="$(grep -m1 -o 'error[^:]*: .*' "$OUT/blood/$b.err" | head -c 100 || true)"
    echo "# skip $b.blood does not compile (${msg:-see $OUT/blood/$b.err}); Go figures only" >> "$RAW"
    echo "# $b.blood does not compile, Blood side skipped: ${msg:-see $OUT/blood/$b.err}" >&2
  fi
done

# run_one SIDE NAME P: one run of one side, samples appended to RAW; a failure is noted once and
# that side/figure is not run again.
run_one() {
  local side=$1 name=$2 p=$3 key="$1.$2.P$3" status=0
  if [ -n "${FAILED[$key]:-}" ]; then return 0; fi
  if [ "$side" = go ]; then
    GOMAXPROCS=$p timeout "$TIMEOUT" "$OUT/go/$name" >> "$OUT/run.txt" 2>> "$OUT/stderr.txt" || status=$?
  else
    BLOOD_NUM_WORKERS=$p timeout "$TIMEOUT" "$OUT/blood/$name" "$p" >> "$OUT/run.txt" 2>> "$OUT/stderr.txt" || status=$?
  fi
  cat "$OUT/run.txt" >> "$RAW"
  : > "$OUT/run.txt"
  if [ "$status" -ne 0 ]; then
    FAILED[$key]=1
    local why="exit status $status"
    if [ "$status" -eq 124 ]; then why="timed out after $TIMEOUT s"; fi
    echo "# skip $side $name at P=$p: $why (stderr: $(tail -c 120 "$OUT/stderr.txt" | tr '\n' ' '))" >> "$RAW"
    echo "# $side $name at P=$p: $why" >&2
  fi
}

# bench NAME PROCS...: REPS rounds of Go then Blood for each P.
bench() {
  local name=$1; shift
  echo "# running $name (REPS=$REPS)" >&2
  for _ in $(seq "$REPS"); do
    for p in "$@"; do
      run_one go "$name" "$p"
      if [ -n "${BLOOD_OK[$name]:-}" ]; then run_one blood "$name" "$p"; fi
    done
  done
}

for b in $PEERS; do
  case $b in
    preempt) bench preempt 1 ;;
    *) bench "$b" 1 2 ;;
  esac
done

if [ -n "$PEERS" ]; then
  echo "## Blood vs Go"
  echo
  python3 "$HERE/compare.py" "$RAW"
  echo
fi

# (e) Safepoint cost: the same program built by default (safepoints on loop back-edges and
# function entries) and with --no-preempt, timed alternately (CPU time per run, pairtime.py).
if wants safepoint; then
  echo "## Safepoint cost (default build / --no-preempt; CPU time per run, median of REPS batches)"
  echo
  echo "Each program is built at every function alignment of ALIGNS (\`--align-functions\`): where"
  echo "hot loops fall against the CPU's fetch blocks moves run times by several per cent whatever"
  echo "the code, so one layout alone says little. The goal applies to the geometric mean."
  echo
  echo "| program | align | default build | --no-preempt | ratio | goal | met | runs per batch |"
  echo "|---|---:|---:|---:|---:|---|---|---:|"
  for prog in fib nbody sieve; do
    ratios=""
    for align in $ALIGNS; do
      echo "# safepoint: $prog, functions aligned to $align bytes" >&2
      src="$ROOT/tools/bench/codegen/$prog.blood"
      on="$OUT/safepoint/$prog.a$align"
      off="$OUT/safepoint/$prog.a$align.no-preempt"
      if ! "$BLOOD" build --align-functions="$align" "$src" -o "$on" 2> "$on.err" \
        || ! "$BLOOD" build --align-functions="$align" --no-preempt "$src" -o "$off" 2>> "$on.err"; then
        echo "| $prog | $align | does not compile ($(grep -m1 -o 'error[^:]*: .*' "$on.err" | head -c 80)) | | | ≤ 1.03 | | |"
        continue
      fi
      if [ "$("$on")" != "$("$off")" ]; then
        echo "| $prog | $align | outputs differ between the two builds | | | ≤ 1.03 | | |"
        continue
      fi
      read -r t_on t_off k < <(python3 "$HERE/pairtime.py" "$REPS" "$MIN_BATCH" "$on" "$off")
      ratios="$ratios $(python3 -c "print($t_on / $t_off)")"
      python3 - "$prog" "$align" "$t_on" "$t_off" "$k" <<'PY'
import sys
prog, align, on, off, k = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
f = lambda s: f"{s * 1000:.1f} ms"
print(f"| {prog} | {align} | {f(on)} | {f(off)} | {on / off:.3f} | | | {k} |")
PY
    done
    if [ -n "$ratios" ]; then
      python3 - "$prog" $ratios <<'PY'
import math, sys
prog, rs = sys.argv[1], [float(r) for r in sys.argv[2:]]
g = math.exp(sum(math.log(r) for r in rs) / len(rs))
print(f"| **{prog}** | geomean | | | **{g:.3f}** | ≤ 1.03 | {'yes' if g <= 1.03 else 'no'} | |")
PY
    fi
  done
  echo
fi
echo "# raw samples: $RAW" >&2
