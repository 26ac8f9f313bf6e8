#!/usr/bin/env bash
# Language-package inventory of holdfast against Syft's, by purl, on one image.
#
#   bench/inventory-vs-syft.sh HOLDFAST_BIN IMAGE_TAR [OUT_DIR]
#
# HOLDFAST_BIN: a holdfast binary (debug is fine for counts); IMAGE_TAR: a docker-archive
# (e.g. from ../shared/bench/build-images.sh). SYFT (default: `syft` on PATH, else
# /opt/peers/bin/syft as ../shared/bench/install-peers.sh installs it) is run with
# `-o syft-json`. OUT_DIR (default: a temp dir) keeps both reports and the comparison.
# Prints packages per ecosystem (purl type) for both tools, then every Syft language
# purl that holdfast does not report. Purls are compared without qualifiers, names
# lower-cased, Go versions with a leading `v` (`(devel)` as no version) and Maven
# namespaces as given. Set SYFT_JSON to reuse a Syft report.
set -euo pipefail

bin=${1:?usage: inventory-vs-syft.sh HOLDFAST_BIN IMAGE_TAR [OUT_DIR]}
image=${2:?usage: inventory-vs-syft.sh HOLDFAST_BIN IMAGE_TAR [OUT_DIR]}
out=${3:-$(mktemp -d)}
syft=${SYFT:-$(command -v syft || echo /opt/peers/bin/syft)}
mkdir -p "$out"
name=$(basename "$image" .tar)

"$bin" sbom "docker-archive:$image" --format json >"$out/$name.holdfast.json" 2>"$out/$name.holdfast.err"
if [ -n "${SYFT_JSON:-}" ]; then
  cp "$SYFT_JSON" "$out/$name.syft.json"
fi
if [ ! -s "$out/$name.syft.json" ]; then
  SYFT_CHECK_FOR_APP_UPDATE=false "$syft" scan "docker-archive:$image" -o syft-json \
    -q >"$out/$name.syft.json"
fi

python3 - "$out/$name.holdfast.json" "$out/$name.syft.json" "$out/$name.missing.txt" <<'PY'
import json, sys, collections, urllib.parse

OS = {"deb", "rpm", "apk", "alpm", "generic"}

def norm(purl):
    if not purl:
        return None
    p = purl.split("?")[0].split("#")[0]
    p = urllib.parse.unquote(p)
    typ = p[4:].split("/")[0]
    if typ in OS:
        return None
    name, at, version = p.rpartition("@")
    if not at:
        name, version = p, ""
    if version == "(devel)":  # Syft writes it into the purl; holdfast leaves it out
        version = ""
    if typ == "golang" and version and version[0].isdigit():
        version = "v" + version
    if typ in ("pypi", "npm", "composer"):
        name = name.lower().replace("_", "-") if typ == "pypi" else name.lower()
    return f"{name}@{version}"

hf = json.load(open(sys.argv[1]))
sy = json.load(open(sys.argv[2]))
h = collections.defaultdict(set)
for t in hf.get("targets", []):
    for p in t.get("packages", []):
        n = norm(p.get("purl"))
        if n:
            h[n[4:].split("/")[0]].add(n)
s = collections.defaultdict(set)
for a in sy.get("artifacts", []):
    n = norm(a.get("purl"))
    if n:
        s[n[4:].split("/")[0]].add(n)
print(f"{'ecosystem':<10} {'holdfast':>9} {'syft':>6} {'syft-missed-by-holdfast':>24}")
missing = []
for typ in sorted(set(h) | set(s)):
    miss = sorted(s[typ] - h[typ])
    missing += miss
    print(f"{typ:<10} {len(h[typ]):>9} {len(s[typ]):>6} {len(miss):>24}")
with open(sys.argv[3], "w") as f:
    f.write("\n".join(missing) + ("\n" if missing else ""))
print(f"\n{len(missing)} Syft language purls not in holdfast's inventory:")
for m in missing:
    print("  " + m)
PY
echo "reports in $out"
