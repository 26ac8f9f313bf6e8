#!/usr/bin/env bash
# Secret scanning with archives opened (jar, war, ear, whl, egg, zip, tar, tar.gz, tgz)
# against a build without archive scanning, cold caches, on the docker-archive images the
# shared bench scripts build ($IMG/NAME.tar).
#
#   bench/secrets-archives.sh [IMAGE...]          default: deb12-python
#
# Environment: HF_BASE (a holdfast binary without archive scanning; when unset, BASE_REV
# is exported with `git archive` (no change to the repository's state) into a temporary
# directory and built there, in release mode), BASE_REV (default HEAD), BENCH_DIR (the
# shared bench scripts: ptime.py; default ../shared/bench beside the repo), BENCH_IMAGES
# (default /var/tmp/bench-images), N (runs per case, default 5).
# Prints one line per case (median wall s, CPU s, peak MiB), then the findings and warnings
# each build reports, and the findings only the archive build has (nested paths, `!/`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
N=${N:-5}
BASE_REV=${BASE_REV:-HEAD}

work=$(mktemp -d /var/tmp/holdfast-bench-archives.XXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
HF=$ROOT/target/release/holdfast
if [ -z "${HF_BASE:-}" ]; then
  mkdir -p "$work/base"
  git -C "$ROOT" archive "$BASE_REV" | tar -x -C "$work/base"
  cargo build --release --locked -q --manifest-path "$work/base/Cargo.toml" -p holdfast
  HF_BASE=$work/base/target/release/holdfast
fi

images=("$@"); [ ${#images[@]} -gt 0 ] || images=(deb12-python)

. "$ROOT/bench/time-case.sh"

summary() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
fs = [f for t in r["targets"] for f in t.get("findings", [])]
ws = [w for t in r["targets"] for w in t.get("warnings", [])] + r.get("warnings", [])
print("  findings", len(fs), "in archives", sum("!/" in (f.get("path") or "") for f in fs),
      "warnings", len(ws), "bound", sum(w.get("kind") == "bound-reached" for w in ws))
for f in fs:
    print("   ", f["severity"], f["id"], f.get("path", "-"), f.get("line", ""), file=sys.stderr)
'
}

for image in "${images[@]}"; do
  tar=$IMG/$image.tar
  echo "== $image ($(du -h "$tar" | cut -f1) docker-archive)"
  cat "$tar" >/dev/null
  time_case base-secret-cold sh -c "rm -rf '$work/c0' && exec '$HF_BASE' scan image -q --scanners secret --cache-dir '$work/c0' -f json -o /dev/null '$tar'"
  time_case archives-secret-cold sh -c "rm -rf '$work/c1' && exec '$HF' scan image -q --scanners secret --cache-dir '$work/c1' -f json -o /dev/null '$tar'"
  echo "-- base"
  "$HF_BASE" scan image -q --no-cache --scanners secret -f json "$tar" | summary 2>"$work/base.txt"
  echo "-- archives"
  "$HF" scan image -q --no-cache --scanners secret -f json "$tar" | summary 2>"$work/new.txt"
  echo "-- findings only with archives"
  sort "$work/base.txt" >"$work/base.sorted"; sort "$work/new.txt" >"$work/new.sorted"
  comm -13 "$work/base.sorted" "$work/new.sorted"
done
