#!/usr/bin/env python3
# Lists the import circles between the top-level modules of each crate given (its src/ folder):
# an edge a -> b for every `crate::b…` path in a module a (tests excluded); a circle is two
# modules that reach each other. Parents and their children may use each other. Exits 1 when a
# circle exists, so CI keeps the layers of ARCHITECTURE.md one-directional.
# Usage: scripts/module-cycles.py client/src codegen/src local/src types/src [-v]
import collections
import os
import re
import sys


def modules(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            if parts and parts[-1].endswith("_tests"):
                continue  # a module's test file (`#[path = "…_tests.rs"]`)
            src = open(path, encoding="utf-8").read()
            # Comments (doc comments too) name modules without importing them: a line's
            # `//` comment goes, unless the `//` is inside a string (`"https://…"`).
            src = re.sub(r'(?m)^((?:[^"/\n]|"(?:[^"\\\n]|\\.)*"|/(?!/))*)//.*$', r"\1", src)
            # Unit tests may reach anywhere.
            src = re.sub(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod \w+\s*\{.*", "", src, flags=re.S)
            mods["::".join(parts) or "crate"] = src
    return mods


def edges(mods):
    out = set()
    for m, src in mods.items():
        for path in re.findall(r"crate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)", src):
            segs = path.split("::")
            for k in range(len(segs), 0, -1):
                target = "::".join(segs[:k])
                if target in mods:
                    top_a, top_b = m.split("::")[0], target.split("::")[0]
                    if top_a != top_b and m != "crate":
                        out.add((top_a, top_b))
                    break
    return out


def cycles(tedges):
    graph = collections.defaultdict(set)
    for a, b in tedges:
        graph[a].add(b)

    def reaches(a, b):
        seen, todo = set(), [a]
        while todo:
            n = todo.pop()
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(graph[n])
        return False

    return sorted({tuple(sorted((a, b))) for a, b in tedges if reaches(b, a)})


def main():
    verbose = "-v" in sys.argv
    roots = [a for a in sys.argv[1:] if a != "-v"]
    bad = False
    for root in roots:
        tedges = edges(modules(root))
        found = cycles(tedges)
        if verbose:
            for a, b in sorted(tedges):
                print(f"{root}: {a} -> {b}")
        for a, b in found:
            print(f"{root}: {a} and {b} import each other")
        bad |= bool(found)
    if not bad:
        print("no import circles in " + ", ".join(roots))
    sys.exit(1 if bad else 0)


main()
