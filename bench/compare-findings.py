#!/usr/bin/env python3
"""Compares holdfast's and Trivy's vulnerability findings on one image, finding by finding.

usage: compare-findings.py HOLDFAST.json TRIVY.json

Both scans must use the same advisories (holdfast `db build --from OSV`, Trivy a DB from
the shared osv2trivydb). Findings are compared as (package, installed version, id).
holdfast also reports Go modules of binaries that dpkg owns, which Trivy skips by design;
those are counted apart.
"""
import collections
import json
import sys


def trivy_findings(path):
    out = set()
    for r in json.load(open(path)).get("Results", []):
        for v in r.get("Vulnerabilities") or []:
            out.add((v["PkgName"].lower(), v["InstalledVersion"], v["VulnerabilityID"]))
    return out


def holdfast_findings(path):
    target = json.load(open(path))["targets"][0]
    types = {(p["name"].lower(), p["version"]): p["type"] for p in target["packages"]}
    found = {(f["package"].lower(), f["installed_version"], f["id"]) for f in target["findings"]}
    return found, types


def main():
    hf, types = holdfast_findings(sys.argv[1])
    tv = trivy_findings(sys.argv[2])
    go = {f for f in hf if types.get((f[0], f[1])) == "golang"}
    print(f"holdfast {len(hf)} ({len(go)} Go), trivy {len(tv)}")
    by_type = collections.Counter(types.get((f[0], f[1]), "?") for f in hf)
    print("holdfast by type:", dict(by_type))
    for label, diff in (("trivy-only", tv - hf), ("holdfast-only, not Go", (hf - go) - tv),
                        ("holdfast-only, Go", go - tv)):
        print(f"{label}: {len(diff)}")
        for f in sorted(diff)[:20]:
            print("   ", f)


if __name__ == "__main__":
    main()
