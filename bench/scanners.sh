#!/usr/bin/env bash
# Every scanner of `holdfast scan image` on a large image, side by side with the I/O floor
# and Trivy, in one run: whole-process wall, CPU and peak RSS, medians of N runs, with the
# layer cache cold (removed before each run) unless the case says warm. The image file is
# read once first, so every case starts with it in the page cache.
#
#   bench/scanners.sh [IMAGE...]          default: big deb12-python
#
# Environment: BENCH_DIR (the shared bench scripts; default ../shared/bench beside the
# repo), BENCH_IMAGES (default /var/tmp/bench-images), TRIVY (default
# /opt/peers/bin/trivy), N (runs per case, default 5), CASES (default: all below),
# HF_DB (a holdfast DB from `holdfast db build --from OSV_DIR`), TRIVY_DB (a Trivy cache
# dir built from the same OSV files by the shared trivydb/osv2trivydb, with an empty
# Java DB from make-empty-javadb.py), HF_FLAGS (extra flags for every holdfast run, such
# as `--parallel 1`).
#
# Cases: floor (every layer tar read and parsed, one pass, nothing kept), sbom, all (every
# default scanner), one case per scanner (vuln, secret, malware, webshell, backdoor,
# weak-password, escape, history, suid), vuln-secret, warm-all, trivy-vuln-secret.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/time-case.sh"
HF_DB=${HF_DB:?set HF_DB to a holdfast DB built from the OSV files}
TRIVY_DB=${TRIVY_DB:-}
HF_FLAGS=${HF_FLAGS:-}
CASES=${CASES:-"floor sbom all vuln secret malware webshell backdoor weak-password escape history suid vuln-secret warm-all trivy-vuln-secret"}

cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
HF=$ROOT/target/release/holdfast
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(big deb12-python)
work=$(mktemp -d /var/tmp/holdfast-bench.XXXX)
trap 'rm -rf "$work"' EXIT


# One cold holdfast scan: the cache directory is removed first, inside the timed command.
hf_scan() {
  local scanners=$1 tar=$2
  time_case "$3" sh -c "rm -rf '$work/hf' && exec '$HF' scan image -q $HF_FLAGS --cache-dir '$work/hf' --db '$HF_DB' --no-plugins --scanners $scanners -f json -o /dev/null '$tar'"
}

all=vuln,secret,malware,webshell,weak-password,backdoor,escape,history,suid
for image in "${images[@]}"; do
  tar=$IMG/$image.tar
  echo "== $image ($(du -h "$tar" | cut -f1) docker-archive), N=$N"
  cat "$tar" >/dev/null
  for c in $CASES; do
    case $c in
      floor) time_case "$c" sh -c "tar -xOf '$tar' --wildcards '*layer.tar' | tar -tif - >/dev/null" ;;
      sbom) time_case "$c" sh -c "rm -rf '$work/hf' && exec '$HF' sbom -q $HF_FLAGS -f cyclonedx --cache-dir '$work/hf' -o /dev/null '$tar'" ;;
      all) hf_scan "$all" "$tar" "$c" ;;
      vuln-secret) hf_scan vuln,secret "$tar" "$c" ;;
      vuln|secret|malware|webshell|backdoor|weak-password|escape|history|suid) hf_scan "$c" "$tar" "$c" ;;
      warm-all)
        "$HF" scan image -q $HF_FLAGS --cache-dir "$work/hfw" --db "$HF_DB" --no-plugins --scanners "$all" -f json -o /dev/null "$tar"
        time_case "$c" "$HF" scan image -q $HF_FLAGS --cache-dir "$work/hfw" --db "$HF_DB" --no-plugins --scanners "$all" -f json -o /dev/null "$tar" ;;
      trivy-vuln-secret)
        if [ -z "$TRIVY_DB" ]; then echo "$c: skipped (no TRIVY_DB)"; continue; fi
        time_case "$c" sh -c "rm -rf '$TRIVY_DB/fanal' && exec '$TRIVY' image --cache-dir '$TRIVY_DB' $TFLAGS --scanners vuln,secret --format json -o /dev/null --input '$tar'" ;;
      *) echo "unknown case $c" >&2; exit 2 ;;
    esac
  done
done
