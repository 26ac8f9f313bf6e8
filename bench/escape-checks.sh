#!/usr/bin/env bash
# What the escape, history and suid checkers add to a cold image scan: the same image
# scanned with the package inventory only, with the three checkers added, and with the
# checkers alone. The checkers judge entries from their metadata (no file is read), so
# the difference is the cost of `wants` on every entry plus the image-wide steps.
#
#   bench/escape-checks.sh [IMAGE...]     default: deb12-python
#
# Environment: BENCH_IMAGES (default /var/tmp/bench-images, holding NAME.tar),
# HF (the binary; default: a release build of this checkout), N (runs, default 5).
# Prints per case the median wall seconds and the number of findings.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
N=${N:-5}
if [ -z "${HF:-}" ]; then
    cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
    HF=$ROOT/target/release/holdfast
fi
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(deb12-python)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for image in "${images[@]}"; do
    for scanners in vuln vuln,escape,history,suid escape,history,suid; do
        times=()
        for _ in $(seq "$N"); do
            start=$(date +%s.%N)
            "$HF" scan image -q --no-cache -f json --scanners "$scanners" "$IMG/$image.tar" >"$out"
            end=$(date +%s.%N)
            times+=("$(echo "$end - $start" | bc)")
        done
        median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (N + 1) / 2 ))p")
        findings=$(python3 -c 'import json,sys; print(sum(len(t["findings"]) for t in json.load(open(sys.argv[1]))["targets"]))' "$out")
        printf '%-14s %-28s median %6.2fs  findings %s\n' "$image" "$scanners" "$median" "$findings"
    done
done
