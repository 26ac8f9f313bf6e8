#!/usr/bin/env bash
# Times holdfast against Trivy and Syft, side by side in one run, on the images that the
# shared bench scripts build (docker-archive at $IMG/NAME.tar, OCI layout at $IMG/NAME.oci).
#
#   bench/compare.sh [IMAGE...]           default: deb12-python
#
# Environment: BENCH_DIR (the shared bench scripts: ptime.py, make-empty-javadb.py;
# default ../shared/bench beside the repo), BENCH_IMAGES (default /var/tmp/bench-images),
# TRIVY / SYFT (default /opt/peers/bin/...), N (runs per case, default 5), CASES.
# The vulnerability cases (hf-vuln, trivy-vuln) need HF_DB (from `holdfast db build --from
# ../shared/osv`) and TRIVY_DB (a Trivy cache dir made by the shared trivydb/osv2trivydb
# from the same OSV files); bench/compare-findings.py compares their findings.
# Prints one line per case: median wall seconds, median CPU seconds, median peak MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
TRIVY=${TRIVY:-/opt/peers/bin/trivy}
SYFT=${SYFT:-/opt/peers/bin/syft}
N=${N:-5}
CASES=${CASES:-"hf-cold hf-warm hf-cold-oci hf-os-only trivy-cold trivy-warm trivy-cold-oci syft floor-layers"}
TFLAGS="--skip-db-update --skip-java-db-update --offline-scan --skip-version-check --quiet"
export SYFT_CHECK_FOR_APP_UPDATE=false

cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
HF=$ROOT/target/release/holdfast
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(deb12-python)
work=$(mktemp -d /var/tmp/holdfast-bench.XXXX)
trap 'rm -rf "$work"' EXIT
python3 "$BENCH_DIR/make-empty-javadb.py" "$work/trivy" >/dev/null

. "$ROOT/bench/time-case.sh"

for image in "${images[@]}"; do
  tar=$IMG/$image.tar; oci=$IMG/$image.oci
  echo "== $image ($(du -h "$tar" | cut -f1) docker-archive)"
  cat "$tar" >/dev/null; find "$oci" -type f -exec cat {} + >/dev/null
  for c in $CASES; do
    case $c in
      hf-cold) time_case "$c" sh -c "rm -rf '$work/hf' && exec '$HF' sbom -q -f cyclonedx --cache-dir '$work/hf' -o /dev/null '$tar'" ;;
      hf-warm)
        "$HF" sbom -q -f cyclonedx --cache-dir "$work/hfw" -o /dev/null "$tar"
        time_case "$c" "$HF" sbom -q -f cyclonedx --cache-dir "$work/hfw" -o /dev/null "$tar" ;;
      hf-cold-oci) time_case "$c" sh -c "rm -rf '$work/hf' && exec '$HF' sbom -q -f cyclonedx --cache-dir '$work/hf' -o /dev/null 'oci:$oci'" ;;
      hf-os-only) time_case "$c" sh -c "rm -rf '$work/hf' && exec '$HF' sbom -q -f cyclonedx --pkg-types os --cache-dir '$work/hf' -o /dev/null '$tar'" ;;
      trivy-cold) time_case "$c" sh -c "rm -rf '$work/trivy/fanal' && exec '$TRIVY' image --cache-dir '$work/trivy' $TFLAGS --format cyclonedx -o /dev/null --input '$tar'" ;;
      trivy-warm)
        "$TRIVY" image --cache-dir "$work/trivy" $TFLAGS --format cyclonedx -o /dev/null --input "$tar"
        time_case "$c" "$TRIVY" image --cache-dir "$work/trivy" $TFLAGS --format cyclonedx -o /dev/null --input "$tar" ;;
      trivy-cold-oci) time_case "$c" sh -c "rm -rf '$work/trivy/fanal' && exec '$TRIVY' image --cache-dir '$work/trivy' $TFLAGS --format cyclonedx -o /dev/null --input '$oci'" ;;
      syft) time_case "$c" "$SYFT" -q "docker-archive:$tar" -o cyclonedx-json=/dev/null ;;
      hf-vuln) time_case "$c" sh -c "rm -rf '$work/hf' && exec '$HF' scan image -q --cache-dir '$work/hf' --db '$HF_DB' -f json -o /dev/null '$tar'" ;;
      trivy-vuln) time_case "$c" sh -c "rm -rf '$TRIVY_DB/fanal' && exec '$TRIVY' image --cache-dir '$TRIVY_DB' $TFLAGS --scanners vuln --format json -o /dev/null --input '$tar'" ;;
      floor-layers) time_case "$c" sh -c "tar -xOf '$tar' --wildcards '*layer.tar' | tar -tif - >/dev/null" ;;
      *) echo "unknown case $c" >&2; exit 2 ;;
    esac
  done
done
