#!/usr/bin/env python3
# Where a client's instructions per request/event go: callgrind profiles of two run lengths, differenced per function (start-up removed), optionally against a baseline client.
#
# Usage (files written by the load harness into bench/load/results/):
#   bench/load/callgrind_diff.py PHASE CLIENT [BASELINE] [--dir DIR] [--top N] [--inclusive]
#   e.g. bench/load/callgrind_diff.py sub-200k appsync-typed raw
# Prints, per function, instructions per op for CLIENT (and BASELINE, and the difference),
# sorted by the difference: what the client spends beyond the baseline.
import argparse
import glob
import os
import re
import subprocess
import sys

def per_function(path, inclusive):
    """Instructions per function (exclusive, or inclusive) from callgrind_annotate."""
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--auto=no", "--show-percs=no",
         f"--inclusive={'yes' if inclusive else 'no'}", path],
        check=True, capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if not m or ":" not in m.group(2):
            continue
        ir = int(m.group(1).replace(",", ""))
        # "file:function [object]": keep the function, without the object and hashes.
        name = m.group(2).split(":", 1)[1]
        name = re.sub(r"\s*\[[^\]]*\]$", "", name)
        name = re.sub(r"::h[0-9a-f]{16}$", "", name)
        counts[name] = counts.get(name, 0) + ir
    return counts

def per_op(phase, client, d, inclusive):
    files = glob.glob(os.path.join(d, f"callgrind.{phase}.{client}.*.out"))
    runs = sorted((int(f.rsplit(".", 2)[1]), f) for f in files)
    if len(runs) < 2:
        sys.exit(f"need two run lengths of {phase} {client} in {d}")
    (n1, f1), (n2, f2) = runs[0], runs[-1]
    a, b = per_function(f1, inclusive), per_function(f2, inclusive)
    return {k: (b.get(k, 0) - a.get(k, 0)) / (n2 - n1) for k in set(a) | set(b)}

def main():
    p = argparse.ArgumentParser()
    p.add_argument("phase")
    p.add_argument("client")
    p.add_argument("baseline", nargs="?")
    p.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--inclusive", action="store_true")
    o = p.parse_args()
    c = per_op(o.phase, o.client, o.dir, o.inclusive)
    base = per_op(o.phase, o.baseline, o.dir, o.inclusive) if o.baseline else {}
    rows = sorted(((c.get(k, 0) - base.get(k, 0), c.get(k, 0), base.get(k, 0), k)
                   for k in set(c) | set(base)), reverse=True)
    if not o.inclusive:
        print(f"total per op: {o.client} {sum(c.values()):,.0f}"
              + (f", {o.baseline} {sum(base.values()):,.0f}" if o.baseline else ""))
    print(f"{'diff':>9} {o.client:>16} {(o.baseline or ''):>10}  function")
    for d, x, y, k in rows[:o.top]:
        print(f"{d:9.0f} {x:16.0f} {y:10.0f}  {k[:140]}")
    if o.baseline:
        print("... and where the baseline spends more:")
        for d, x, y, k in sorted(rows)[:max(5, o.top // 3)]:
            print(f"{d:9.0f} {x:16.0f} {y:10.0f}  {k[:140]}")

main()
