#!/usr/bin/env python3
"""Runs a command N times and prints one JSON line: median wall seconds and
peak resident memory (the largest of the runs), or that it timed out.

    bench/measure.py --runs 5 --timeout 600 --label "vigil files 150k" -- cmd args...

Several commands joined by `--then` are run in turns, one line each: round
r starts with command r (mod their number), so no command always runs right
after the same other one. The live rows need this: the API server's state
after the previous listing (its garbage collector, mostly) moved the same
binary's median between 3.3 s and 5.0 s depending only on its position.

    bench/measure.py --runs 5 --label vigil -- vigil run ... --then --label floor -- raw-list.py ...

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


def groups(argv):
    """Splits `--label L -- cmd... [--then --label L2 -- cmd2...]`."""
    out, cur = [], []
    for tok in argv:
        if tok == "--then":
            out.append(cur)
            cur = []
        else:
            cur.append(tok)
    out.append(cur)
    parsed = []
    for g in out:
        if len(g) < 4 or g[0] != "--label" or g[2] != "--":
            sys.exit(f"measure.py: expected `--label NAME -- command...`, got {' '.join(g)!r}")
        parsed.append((g[1], g[3:]))
    return parsed


def summary(label, results, timeout):
    if results and results[-1].get("timeout"):
        return {"label": label, "timeout": timeout, "peak_mb_at_kill": round(results[-1]["rss_kb"] / 1024)}
    return {
        "label": label,
        "runs": len(results),
        "median_s": round(statistics.median(r["wall"] for r in results), 3),
        "min_s": round(min(r["wall"] for r in results), 3),
        "max_s": round(max(r["wall"] for r in results), 3),
        "peak_mb": round(max(r["rss_kb"] for r in results) / 1024),
        "exit": sorted({r["exit"] for r in results}),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--budget", type=float, default=120,
                   help="stop repeating a command once its runs so far took this many seconds")
    p.epilog = "then: --label NAME -- command... [--then --label NAME -- command...]"
    argv = sys.argv[1:]
    cut = argv.index("--label") if "--label" in argv else len(argv)
    a = p.parse_args(argv[:cut])
    cmds = groups(argv[cut:])
    results = [[] for _ in cmds]

    def done(i):
        rs = results[i]
        return (len(rs) >= a.runs or (rs and rs[-1].get("timeout"))
                or sum(x.get("wall", 0) for x in rs) > a.budget)

    for rnd in range(a.runs):
        for k in range(len(cmds)):
            i = (rnd + k) % len(cmds)
            if not done(i):
                results[i].append(run_once(cmds[i][1], a.timeout, os.environ.copy()))
    for (label, _), rs in zip(cmds, results):
        print(json.dumps(summary(label, rs, a.timeout)))


if __name__ == "__main__":
    sys.exit(main())
