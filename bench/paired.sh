#!/usr/bin/env bash
# A scan's wall time as a ratio to the I/O floors timed just before it, run after run
# (floor, floor+hash, scan, floor, ...), and the medians of those ratios. On a machine whose
# speed drifts (the floor of `big` measured 0.73 s and 1.27 s in two runs of
# bench/scanners.sh, and 0.8-2.0 s from a tmpfs), a floor timed minutes away from the
# scan can be off by two; one timed a second before it mostly is not.
#
#   HF_DB=osv.db bench/paired.sh IMAGE [CASE...]     default cases: sbom all
#
# Two floors are timed before each scan: `floor` reads and parses every layer tar (GNU
# tar listing the layers streamed out of the archive); `floor+hash` also hashes every
# layer with `openssl dgst -sha256`, as a scan must to check each layer's diff_id before
# caching it, layers in parallel on every core (coreutils' sha256sum does not use the
# CPU's SHA instructions and is four times slower than openssl here).
#
# Cases: sbom, all (every scanner), vuln-secret, or any one scanner. Environment:
# BENCH_IMAGES (default /var/tmp/bench-images), N (runs per case, default 11), HF (the
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
import os, shutil, statistics, subprocess, sys, time

hf, db, tar, work, n, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
every = "vuln,secret,malware,webshell,weak-password,backdoor,escape,history,suid"
layers = f"tar -xOf '{tar}' --wildcards '*layer.tar'"
floor = ["sh", "-c", f"{layers} | tar -tif - >/dev/null"]
# floor+hash: each layer, largest first and as many at once as there are cores (as
# holdfast walks them), is extracted once and read by both the listing (through a FIFO,
# so the shell waits for it) and the hash.
one_layer = (f"f=$(mktemp -u {work}/fifo.XXXX); mkfifo $f; tar -tif $f >/dev/null & "
             f"tar -xOf '{tar}' \"$1\" | tee $f | openssl dgst -sha256 >/dev/null; wait $!; rm -f $f")
floor_hash = ["bash", "-c", f"tar -tvf '{tar}' --wildcards '*layer.tar' | sort -k3,3nr | "
              f"awk '{{print $NF}}' | xargs -P {os.cpu_count()} -I@ bash -c '{one_layer}' _ @"]

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

print(f"== {tar}, {n} runs per case")
med = statistics.median
for case in cases:
    runs = [(wall(floor), wall(floor_hash), wall(command(case))) for _ in range(n)]
    plain = [s / f for f, _, s in runs]
    hashed = [s / h for _, h, s in runs]
    print(f"{case:<12} scan/floor {med(plain):.2f} (min {min(plain):.2f}, max {max(plain):.2f})  "
          f"scan/floor+hash {med(hashed):.2f} (min {min(hashed):.2f}, max {max(hashed):.2f})  "
          f"medians: floor {med([r[0] for r in runs]):.3f} s, "
          f"floor+hash {med([r[1] for r in runs]):.3f} s, scan {med([r[2] for r in runs]):.3f} s")
PY
