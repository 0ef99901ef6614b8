#!/usr/bin/env python3
"""Times two programs alternately: `pairtime.py REPS MIN_BATCH_S PROG_A PROG_B`.

The measure is the CPU time (user + system, from wait4) of each run, all threads included: on a
shared machine it is far less sensitive than wall time to other processes competing for the
cores. After one warm-up run of each, a batch size k is chosen so that k runs of the slower
program take about MIN_BATCH_S seconds (short programs such as fib(35) run in ~25 ms, where one
run is mostly noise); then REPS batches of A and B are timed alternately (A, B, A, B, …), so
drift hits both sides alike. Prints `MEDIAN_A MEDIAN_B K`: seconds per run (median over the REPS
batches of the per-run mean of each batch) and the batch size. Output of the programs is
discarded; a failing run aborts with its status."""
import os
import statistics
import subprocess
import sys


def run(prog, k):
    total = 0.0
    for _ in range(k):
        p = subprocess.Popen([prog], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"{prog} exited with status {p.returncode}")
        total += ru.ru_utime + ru.ru_stime
    return total / k


def main():
    reps, min_batch, a, b = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
    warm = max(run(a, 1), run(b, 1))
    k = max(1, round(min_batch / max(warm, 1e-4)))
    ta, tb = [], []
    for _ in range(reps):
        ta.append(run(a, k))
        tb.append(run(b, k))
    print(f"{statistics.median(ta):.6f} {statistics.median(tb):.6f} {k}")


if __name__ == "__main__":
    main()
