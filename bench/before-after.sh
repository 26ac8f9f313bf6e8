#!/usr/bin/env bash
# Times two holdfast binaries side by side on the same image: a cold full scan (empty
# layer cache, every scanner, the vulnerability DB from OSV data), a warm one (cache
# filled), and a cold SBOM. For checking that a refactor is no slower and uses no more
# memory, e.g. the last release build of main against this tree's:
#
#   BEFORE=/path/to/old/holdfast AFTER=target/release/holdfast HF_DB=osv.db \
#     bench/before-after.sh [IMAGE...]        default: deb12-python
#
# Environment: BENCH_DIR (the shared bench scripts, for ptime.py; default ../shared/bench
# beside the repo), BENCH_IMAGES (default /var/tmp/bench-images), N (runs per case,
# default 5), SCANNERS (default: every scanner but weak-password, whose cost is a time
# budget, not work). Prints one line per case and binary: median wall, CPU, peak RSS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
N=${N:-5}
SCANNERS=${SCANNERS:-vuln,secret,malware,webshell,backdoor,escape,history,suid}
: "${BEFORE:?set BEFORE to the old binary}" "${AFTER:?set AFTER to the new binary}"
: "${HF_DB:?set HF_DB to a database built with holdfast db build --from OSV_DIR}"
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(deb12-python)
work=$(mktemp -d /var/tmp/holdfast-ba.XXXX)
trap 'rm -rf "$work"' EXIT

. "$ROOT/bench/time-case.sh"

for image in "${images[@]}"; do
  tar=$IMG/$image.tar
  echo "== $image ($(du -h "$tar" | cut -f1) docker-archive), scanners $SCANNERS"
  cat "$tar" >/dev/null
  for side in before after; do
    if [ $side = before ]; then hf=$BEFORE; else hf=$AFTER; fi
    scan=("$hf" scan image -q -f json -o /dev/null --db "$HF_DB" --scanners "$SCANNERS")
    time_case "$side scan cold" sh -c "rm -rf '$work/c' && exec ${scan[*]} --cache-dir '$work/c' '$tar'"
    "${scan[@]}" --cache-dir "$work/w-$side" "$tar"
    time_case "$side scan warm" "${scan[@]}" --cache-dir "$work/w-$side" "$tar"
    time_case "$side sbom cold" sh -c "rm -rf '$work/c' && exec '$hf' sbom -q -f cyclonedx -o /dev/null --cache-dir '$work/c' '$tar'"
  done
done
