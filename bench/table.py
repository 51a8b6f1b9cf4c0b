#!/usr/bin/env python3
"""Prints bench/run's results as one Markdown table, with vigil's ratio to
each peer measured on the same input (time: peer / vigil; memory: vigil /
peer)."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
vigil = {}
for r in rows:
    tool, mode, size = r["label"].split("|")
    r["tool"], r["mode"], r["size"] = tool, mode, int(size)
    if tool == "vigil" and "median_s" in r:
        vigil[(mode, r["size"])] = r

print("| tool | input | pods | median time | peak memory | vigil is faster by | vigil's memory is |")
print("|---|---|---:|---:|---:|---:|---:|")
# Peers reading the API server are compared with vigil's default way of
# reading it (protobuf in pages of 5000).
SAME_INPUT = {"live": "live protobuf"}

for r in rows:
    v = vigil.get((SAME_INPUT.get(r["mode"], r["mode"]), r["size"]))
    if "timeout" in r:
        mem = f"{r['peak_mb_at_kill']:,} MB when stopped" if "peak_mb_at_kill" in r else "–"
        ratio = f"> {r['timeout'] / v['median_s']:.0f}x" if v else "–"
        print(f"| {r['tool']} | {r['mode']} | {r['size']:,} | did not finish in {r['timeout']:.0f} s | {mem} | {ratio} | – |")
        continue
    time_ratio = mem_ratio = "–"
    if v and r["tool"] != "vigil":
        time_ratio = f"{r['median_s'] / v['median_s']:.1f}x"
        mem_ratio = f"{100 * v['peak_mb'] / r['peak_mb']:.0f}% of it"
    print(f"| {r['tool']} | {r['mode']} | {r['size']:,} | {r['median_s']:.2f} s | {r['peak_mb']:,} MB | {time_ratio} | {mem_ratio} |")
