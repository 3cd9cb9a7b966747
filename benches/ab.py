#!/usr/bin/env python3
"""Interleaved timing of whole commands: `python3 benches/ab.py ROUNDS CMD_A CMD_B ...`.

Runs each command once to warm up, then ROUNDS rounds that run every command once, in
alternating order, and prints the min and median wall time of each and the ratio of the
first command's median to each one's. On a shared 2-core machine timings drift by 10-30%
over minutes; back-to-back blocks (hyperfine's) then compare two different machines, while
interleaved rounds see the same drift. Used for the build figures of docs/figures.md
(e.g. a baseline binary built in its own worktree against target/release/opcat).
"""
import statistics
import subprocess
import sys
import time


def run(cmd: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds, cmds = int(sys.argv[1]), sys.argv[2:]
    times: dict[str, list[float]] = {c: [] for c in cmds}
    for c in cmds:
        run(c)
    for r in range(rounds):
        for c in cmds if r % 2 == 0 else cmds[::-1]:
            times[c].append(run(c))
    base = statistics.median(times[cmds[0]])
    for c in cmds:
        m = statistics.median(times[c])
        print(f"{min(times[c]) * 1e3:9.1f} ms min {m * 1e3:9.1f} ms median  x{base / m:5.2f}  {c}")


if __name__ == "__main__":
    main()
