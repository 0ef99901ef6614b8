#!/usr/bin/env bash
# Blood fiber runtime vs Go 1.19 (Debian golang-go): builds both sides, runs each benchmark
# REPS times (default 3) interleaved, prints medians and Blood/Go ratios from this one run.
#
#   tools/bench/runtime/run.sh            # everything
#   REPS=5 tools/bench/runtime/run.sh     # more repetitions
#   ONLY="spawn pingpong" tools/bench/runtime/run.sh
#
# preempt: one worker / GOMAXPROCS=1, a call-free spinner (Blood: testing blood_preempt_flag
# at its back-edge as compiled code does) vs a fiber sleeping 1 ms 1000 times; lateness in µs.
#
# Needs: go (apt-get install -y golang-go), python3, cargo. Go peers: /work/shared/peers/go
# (override with GO_PEERS=dir); spawn, pingpong, chanthru and preempt are built from the copies in
# tools/bench/concurrency/go instead, so that this script and the Blood-program one
# (tools/bench/concurrency/run.sh) run the very same Go programs. Raw samples are kept in $OUT
# (default: a temp dir).
#
# Go's spawn + join figure at 2 workers is the least stable of all: the same binary gives
# 200–900 ns per goroutine depending on what else runs on the 2-core machine (GOMAXPROCS=2 with
# one core taken by another process serialises its two Ps and its GC workers). Figures from
# different runs (or from the two scripts run at different times) are not comparable; only the
# Blood/Go ratio within one run is.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REPS=${REPS:-3}
GO_PEERS=${GO_PEERS:-/work/shared/peers/go}
OUT=${OUT:-$(mktemp -d /tmp/blood-runtime-bench.XXXXXX)}
ONLY=${ONLY:-"spawn pingpong yield chanthru idlemem timers preempt"}
mkdir -p "$OUT/go"

echo "# building Go peers from $GO_PEERS" >&2
export GOCACHE=${GOCACHE:-$OUT/gocache} GOPATH=${GOPATH:-$OUT/gopath} GO111MODULE=off GOFLAGS=
for p in spawn pingpong yield chanthru idlemem timers preempt; do
  src="$GO_PEERS/$p"
  if [ -f "$ROOT/tools/bench/concurrency/go/$p/main.go" ]; then src="$ROOT/tools/bench/concurrency/go/$p"; fi
  (cd "$src" && go build -o "$OUT/go/$p" main.go)
done

echo "# building the Blood runtime benchmark (release)" >&2
BLOOD=$(cd "$ROOT" && cargo bench -p blood-runtime --bench fiberbench --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "fiberbench":
        print(m["executable"])' | tail -1)
[ -x "$BLOOD" ] || { echo "could not build fiberbench" >&2; exit 1; }

RAW="$OUT/raw.txt"
: > "$RAW"
{
  echo "# $(go version)"
  echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
  echo "# blood: $(cd "$ROOT" && git rev-parse --short HEAD)"
} >> "$RAW"

# bench NAME PROCS...: runs Go and Blood alternately, REPS times each.
bench() {
  local name=$1; shift
  for _ in $(seq "$REPS"); do
    for p in "$@"; do
      GOMAXPROCS=$p "$OUT/go/$name" >> "$RAW"
      BLOOD_NUM_WORKERS=$p "$BLOOD" "$name" "$p" >> "$RAW"
    done
  done
}
for b in $ONLY; do
  echo "# running $b" >&2
  case $b in
    spawn|pingpong|yield|chanthru|timers) bench "$b" 1 2 ;;
    idlemem) bench idlemem 2 ;;
    preempt) bench preempt 1 ;;
  esac
done
"$BLOOD" switch >> "$RAW"

python3 "$HERE/compare.py" "$RAW"
echo "# raw samples: $RAW" >&2
