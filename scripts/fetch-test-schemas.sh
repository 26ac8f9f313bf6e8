#!/usr/bin/env bash
# Puts the published JSON schemas the report tests validate against into
# target/test-schemas (or $HOLDFAST_TEST_SCHEMAS), from package registries:
#   cyclonedx/bom-1.6.schema.json (+ spdx.schema.json, jsf-0.82.schema.json it refers to)
#   and spdx/2.3-schema.json: the PyPI package lib4sbom, which ships them;
#   sarif-schema-2.1.0.json: the serde-sarif crate (a dependency) ships the OASIS schema.
# They are other people's files: they stay in target/, out of the repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${HOLDFAST_TEST_SCHEMAS:-$root/target/test-schemas}
if [ -f "$dest/sarif-schema-2.1.0.json" ] && [ -f "$dest/spdx/2.3-schema.json" ] \
   && [ -f "$dest/cyclonedx/bom-1.6.schema.json" ]; then
  exit 0
fi
echo "setup: fetching the CycloneDX, SPDX and SARIF schemas into $dest" >&2
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! python3 -m pip --version >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends python3-pip >/dev/null
fi
python3 -m pip download --quiet --no-deps --only-binary :all: -d "$tmp" "lib4sbom==0.10.4" >/dev/null
python3 - "$tmp" "$dest" <<'PY'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "lib4sbom-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for member, target in [
        ("lib4sbom/schemas/cyclonedx/bom-1.6.schema.json", "cyclonedx/bom-1.6.schema.json"),
        ("lib4sbom/schemas/cyclonedx/spdx.schema.json", "cyclonedx/spdx.schema.json"),
        ("lib4sbom/schemas/cyclonedx/jsf-0.82.schema.json", "cyclonedx/jsf-0.82.schema.json"),
        ("lib4sbom/schemas/spdx/2.3-schema.json", "spdx/2.3-schema.json"),
    ]:
        out = os.path.join(dest, target)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(member) as src, open(out, "wb") as dst:
            dst.write(src.read())
PY
(cd "$root" && cargo fetch --locked --quiet)
manifest=$(cd "$root" && cargo metadata --format-version 1 --locked 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "serde-sarif":
        print(p["manifest_path"]); break')
if [ -z "$manifest" ]; then
  echo "setup: serde-sarif is not in Cargo.lock; cannot find the SARIF schema" >&2
  exit 1
fi
cp "$(dirname "$manifest")/src/schema.json" "$dest/sarif-schema-2.1.0.json"
