#!/usr/bin/env python3
"""Compares secret findings on the fixture tree of secret-fixtures.py.

    secrets-compare.py TREE HOLDFAST.json DETECT_SECRETS.json TRIVY.json

Prints, per planted kind, which tools found it, then recall per tool and the number of
findings each tool made on the near-miss files (false positives).
"""
import json
import os
import sys

tree, hf_path, ds_path, trivy_path = sys.argv[1:5]


def norm(p):
    p = p.replace(tree, "")
    while p.startswith(("./", "/")):
        p = p[2:] if p.startswith("./") else p[1:]
    return p


def hf_paths():
    data = json.load(open(hf_path))
    return [norm(f.get("path", "")) for t in data["targets"] for f in t.get("findings", [])]


def ds_paths():
    data = json.load(open(ds_path))
    return [norm(p) for p, items in data.get("results", {}).items() for _ in items]


def trivy_paths():
    data = json.load(open(trivy_path))
    return [norm(r["Target"]) for r in data.get("Results") or [] for _ in r.get("Secrets") or []]


tools = {"holdfast": hf_paths(), "detect-secrets": ds_paths(), "trivy": trivy_paths()}
kinds = sorted(os.listdir(os.path.join(tree, "planted")))
print(f"{'planted kind':<26}" + "".join(f"{t:>16}" for t in tools))
found = {t: 0 for t in tools}
for k in kinds:
    row = f"{k:<26}"
    for t, paths in tools.items():
        hit = any(p.startswith(f"planted/{k}/") for p in paths)
        found[t] += hit
        row += f"{'yes' if hit else '-':>16}"
    print(row)
print(f"{'recall':<26}" + "".join(f"{found[t]}/{len(kinds):>3}".rjust(16) for t in tools))
print(f"{'near-miss findings':<26}" + "".join(
    f"{sum(p.startswith('negatives/') for p in tools[t])}".rjust(16) for t in tools))
for t, paths in tools.items():
    fp = sorted(p for p in paths if p.startswith("negatives/"))
    if fp:
        print(f"  {t} on near misses: {', '.join(fp)}")
