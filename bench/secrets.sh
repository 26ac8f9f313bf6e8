#!/usr/bin/env bash
# Secret scanning, holdfast against Trivy, cold caches for both, on the docker-archive
# images the shared bench scripts build ($IMG/NAME.tar).
#
#   bench/secrets.sh [IMAGE...]           default: deb12-python
#
# Environment: BENCH_DIR (the shared bench scripts: ptime.py; default ../shared/bench
# beside the repo), BENCH_IMAGES (default /var/tmp/bench-images), TRIVY (default
# /opt/peers/bin/trivy), N (runs per case, default 5).
# Prints one line per case (median wall s, CPU s, peak MiB) and then each tool's findings
# (rule id and path) on the image, for the precision review.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/time-case.sh"

cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
HF=$ROOT/target/release/holdfast
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(deb12-python)
work=$(mktemp -d /var/tmp/holdfast-bench-secrets.XXXX)
trap 'rm -rf "$work"' EXIT

for image in "${images[@]}"; do
  tar=$IMG/$image.tar
  echo "== $image ($(du -h "$tar" | cut -f1) docker-archive)"
  cat "$tar" >/dev/null
  time_case hf-secret-cold sh -c "rm -rf '$work/hf' && exec '$HF' scan image -q --scanners secret --cache-dir '$work/hf' -f json -o /dev/null '$tar'"
  time_case trivy-secret-cold sh -c "rm -rf '$work/trivy' && exec '$TRIVY' image --cache-dir '$work/trivy' $TFLAGS --scanners secret --format json -o /dev/null --input '$tar'"

  echo "-- holdfast findings"
  "$HF" scan image -q --no-cache --scanners secret -f json "$tar" |
    python3 -c 'import json,sys; [print(" ", f["severity"], f["id"], f.get("path", "-"), f.get("line", "")) for t in json.load(sys.stdin)["targets"] for f in t.get("findings", [])]'
  echo "-- trivy findings"
  rm -rf "$work/trivy"
  "$TRIVY" image --cache-dir "$work/trivy" $TFLAGS --scanners secret --format json --input "$tar" |
    python3 -c 'import json,sys; [print(" ", s["Severity"], s["RuleID"], r["Target"], s.get("StartLine", "")) for r in json.load(sys.stdin).get("Results") or [] for s in r.get("Secrets") or []]'
done
