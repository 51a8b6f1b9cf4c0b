#!/usr/bin/env python3
"""Runs a command N times and prints one JSON line: median wall seconds and
peak resident memory (the largest of the runs), or that it timed out.

    bench/measure.py --runs 5 --timeout 600 --label "vigil files 150k" -- cmd args...

Peak RSS comes from wait4's rusage of each run (the process tree's largest
resident set), so nothing beyond Python is needed. Output goes to /dev/null;
a non-zero exit status is recorded but not treated as a failure (vigil exits
1 when tests fail, which they do on generated clusters).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def run_once(cmd, timeout, env):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = start + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            wall = time.monotonic() - start
            code = os.waitstatus_to_exitcode(status)
            return {"wall": wall, "rss_kb": rusage.ru_maxrss, "exit": code}
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, _, rusage = os.wait4(proc.pid, 0)
            return {"timeout": True, "rss_kb": rusage.ru_maxrss}
        time.sleep(0.01)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--label", required=True)
    p.add_argument("--budget", type=float, default=120,
                   help="stop repeating once the runs so far took this many seconds")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    results = []
    for _ in range(a.runs):
        r = run_once(cmd, a.timeout, os.environ.copy())
        if r.get("timeout"):
            print(json.dumps({"label": a.label, "timeout": a.timeout, "peak_mb_at_kill": round(r["rss_kb"] / 1024)}))
            return
        results.append(r)
        if sum(x["wall"] for x in results) > a.budget:
            break
    print(json.dumps({
        "label": a.label,
        "runs": len(results),
        "median_s": round(statistics.median(r["wall"] for r in results), 3),
        "min_s": round(min(r["wall"] for r in results), 3),
        "max_s": round(max(r["wall"] for r in results), 3),
        "peak_mb": round(max(r["rss_kb"] for r in results) / 1024),
        "exit": sorted({r["exit"] for r in results}),
    }))


if __name__ == "__main__":
    sys.exit(main())
