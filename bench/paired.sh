#!/usr/bin/env bash
# A scan's wall time as a ratio to the I/O floor timed just before it, run after run
# (floor, scan, floor, scan, ...), and the median of those ratios. On a machine whose
# speed drifts (the floor of `big` measured 0.73 s and 1.27 s in two runs of
# bench/scanners.sh, and 0.8-2.0 s from a tmpfs), a floor timed minutes away from the
# scan can be off by two; one timed a second before it mostly is not.
#
#   HF_DB=osv.db bench/paired.sh IMAGE [CASE...]     default cases: sbom all
#
# Cases: sbom, all (every scanner), vuln-secret, or any one scanner. Environment:
# BENCH_IMAGES (default /var/tmp/bench-images), N (pairs per case, default 11), HF (the
# binary, default this tree's release build, built first).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HF_DB=${HF_DB:?set HF_DB to a holdfast DB built from the OSV files}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
N=${N:-11}
image=${1:?usage: paired.sh IMAGE [CASE...]}; shift
cases=("$@"); [ ${#cases[@]} -gt 0 ] || cases=(sbom all)
if [ -z "${HF:-}" ]; then
  cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
  HF=$ROOT/target/release/holdfast
fi
work=$(mktemp -d /var/tmp/holdfast-paired.XXXX)
trap 'rm -rf "$work"' EXIT
tar=$IMG/$image.tar
cat "$tar" >/dev/null

python3 - "$HF" "$HF_DB" "$tar" "$work" "$N" "${cases[@]}" <<'PY'
import shutil, statistics, subprocess, sys, time

hf, db, tar, work, n, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
every = "vuln,secret,malware,webshell,weak-password,backdoor,escape,history,suid"
floor = ["sh", "-c", f"tar -xOf '{tar}' --wildcards '*layer.tar' | tar -tif - >/dev/null"]

def command(case):
    cache = ["--cache-dir", f"{work}/hf"]
    if case == "sbom":
        return [hf, "sbom", "-q", "-f", "cyclonedx", "-o", "/dev/null", *cache, tar]
    scanners = {"all": every, "vuln-secret": "vuln,secret"}.get(case, case)
    return [hf, "scan", "image", "-q", "--no-plugins", "--db", db, "--scanners", scanners,
            "-f", "json", "-o", "/dev/null", *cache, tar]

def wall(cmd):
    shutil.rmtree(f"{work}/hf", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start

print(f"== {tar}, {n} pairs per case")
for case in cases:
    pairs = [(wall(floor), wall(command(case))) for _ in range(n)]
    ratios = [s / f for f, s in pairs]
    floors = [f for f, _ in pairs]
    scans = [s for _, s in pairs]
    print(f"{case:<14} ratio median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})   "
          f"floor median {statistics.median(floors):.3f} s   scan median {statistics.median(scans):.3f} s")
PY
