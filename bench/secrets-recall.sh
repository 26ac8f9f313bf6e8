#!/usr/bin/env bash
# Secret recall and precision on a generated fixture tree: holdfast, detect-secrets and
# Trivy's secret scanner, planted kind by planted kind.
#
#   bench/secrets-recall.sh
#
# Environment: DETECT_SECRETS (default: detect-secrets on PATH; `pip install
# detect-secrets` in a venv), TRIVY (default /opt/peers/bin/trivy), HF (default the
# release build, else the debug build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DS=${DETECT_SECRETS:-detect-secrets}
TRIVY=${TRIVY:-/opt/peers/bin/trivy}
HF=${HF:-$ROOT/target/release/holdfast}
[ -x "$HF" ] || HF=$ROOT/target/debug/holdfast
work=$(mktemp -d /var/tmp/holdfast-recall.XXXX)
trap 'rm -rf "$work"' EXIT

python3 "$ROOT/bench/secret-fixtures.py" "$work/tree"
"$HF" scan rootfs -q --no-cache --scanners secret -f json "$work/tree" >"$work/hf.json"
(cd "$work/tree" && "$DS" scan --all-files . >"$work/ds.json")
"$TRIVY" fs -q --cache-dir "$work/trivy-cache" --skip-db-update --offline-scan --skip-version-check \
  --scanners secret --format json "$work/tree" >"$work/trivy.json"
python3 "$ROOT/bench/secrets-compare.py" "$work/tree" "$work/hf.json" "$work/ds.json" "$work/trivy.json"
