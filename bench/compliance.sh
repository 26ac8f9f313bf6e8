#!/usr/bin/env bash
# Configuration and compliance checks, timed with hyperfine:
# - `scan config` against checkov and hadolint on the IaC corpus of the tests (the same
#   files, the same rules), and on that corpus copied 20 times (a repository-sized tree);
# - `compliance docker` on this host's daemon with N extra created containers (default
#   50), each removed at the end by name.
#
#   HF=target/release/holdfast bench/compliance.sh
#
# Needs hyperfine, docker (a running daemon), checkov and hadolint on PATH.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HF=${HF:-$ROOT/target/release/holdfast}
N=${CONTAINERS:-50}
CORPUS=$ROOT/crates/holdfast-compliance/tests/fixtures/iac
work=$(mktemp -d /var/tmp/holdfast-compliance.XXXX)
created=()
cleanup() {
  if [ ${#created[@]} -gt 0 ]; then docker rm -f "${created[@]}" >/dev/null 2>&1 || true; fi
  docker rmi holdfast-bench/cis:1 >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for i in $(seq 1 20); do cp -r "$CORPUS" "$work/copy$i"; done
rm -f "$work"/copy*/*.toml
dockerfiles=$(find "$CORPUS" -name '*Dockerfile*' -type f | sort)

echo "== the corpus ($(find "$CORPUS" -type f ! -name '*.toml' | wc -l) files)"
hyperfine -N --warmup 1 --runs 5 \
  -n holdfast "$HF scan config $CORPUS -f json -o /dev/null" \
  -n checkov "checkov -d $CORPUS --framework dockerfile kubernetes -o json --quiet --compact --skip-download --soft-fail" \
  -n hadolint "sh -c 'for f in $(echo $dockerfiles); do hadolint --no-fail \$f >/dev/null; done'"

echo "== the corpus 20 times ($(find "$work" -type f | wc -l) files)"
hyperfine -N --warmup 1 --runs 3 \
  -n holdfast "$HF scan config $work -f json -o /dev/null" \
  -n checkov "checkov -d $work --framework dockerfile kubernetes -o json --quiet --compact --skip-download --soft-fail"

echo "== compliance docker with $N more created containers"
printf 'x\n' > "$work/f"
tar -C "$work" -cf "$work/img.tar" f
docker import "$work/img.tar" holdfast-bench/cis:1 >/dev/null
for i in $(seq 1 "$N"); do
  name=holdfast-bench-$$-$i
  docker create --name "$name" --cap-add NET_ADMIN holdfast-bench/cis:1 /f >/dev/null
  created+=("$name")
done
hyperfine -N --warmup 1 --runs 5 -n "compliance docker" "$HF compliance docker -f json -o /dev/null"
