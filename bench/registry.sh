#!/usr/bin/env bash
# Fleet benchmark: COUNT images that share deb12-python's layers, each with a small top layer
# of its own, in a local distribution registry (docker-registry on 127.0.0.1, plain HTTP).
# Times `holdfast scan registry` cold (and counts blob downloads and layer analyses per
# distinct layer: each must be 1), one image alone, and `trivy image` on the COUNT
# references one after another, in one run on one machine.
#
#   bench/registry.sh
#
# Environment: BENCH_IMAGES (default /var/tmp/bench-images; needs deb12-python.oci from the
# shared build-images.sh), TRIVY (default /opt/peers/bin/trivy), BENCH_DIR (the shared bench
# scripts, for make-empty-javadb.py), COUNT (20), PARALLEL (images at once, 4), HF (a built
# holdfast binary; default: build the release one).
# HF_DB and TRIVY_DB (a holdfast DB and a Trivy cache dir built from the same OSV files):
# when both are set the scans match vulnerabilities; otherwise both sides inventory only
# (holdfast with its bundled demo advisories, Trivy with --format cyclonedx).
set -euo pipefail
export NO_COLOR=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
TRIVY=${TRIVY:-/opt/peers/bin/trivy}
COUNT=${COUNT:-20}
PARALLEL=${PARALLEL:-4}
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "registry.sh: needs $t" >&2; exit 1; }
done
[ -d "$IMG/deb12-python.oci" ] || { echo "registry.sh: no $IMG/deb12-python.oci" >&2; exit 1; }

if [ -z "${HF:-}" ]; then   # HF=path/to/holdfast skips the build
  cargo build --release --locked -q --manifest-path "$ROOT/Cargo.toml" -p holdfast
  HF=$ROOT/target/release/holdfast
fi
work=$(mktemp -d /var/tmp/holdfast-regbench.XXXX)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP_WORK:-}" ] && trap '[ -n "$reg_pid" ] && kill "$reg_pid"' EXIT

# The registry, on a free port, storage in the work dir.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $host
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# COUNT variants of deb12-python in one OCI layout: the same layers plus one small gzip
# layer each (a file naming the variant and a Python package's metadata).
mkdir -p "$work/layout"
cp -al "$IMG/deb12-python.oci/blobs" "$work/layout/blobs"
cp "$IMG/deb12-python.oci/oci-layout" "$work/layout/"
python3 - "$IMG/deb12-python.oci" "$work/layout" "$COUNT" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def blob(digest):
    return os.path.join(dst, "blobs", *digest.split(":"))
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    p = blob(d)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
    return d, len(data)
def read(d):
    with open(blob(d), "rb") as f:
        return json.load(f)
index = json.load(open(os.path.join(src, "index.json")))
desc = index["manifests"][0]
manifest = read(desc["digest"])
while "manifests" in manifest:
    desc = manifest["manifests"][0]
    manifest = read(desc["digest"])
config = read(manifest["config"]["digest"])
out = []
for k in range(count):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, text in [
            ("etc/bench-variant", f"variant {k}\n"),
            (f"usr/local/lib/python3.11/dist-packages/bench_variant_{k}-1.{k}.dist-info/METADATA",
             f"Metadata-Version: 2.1\nName: bench-variant-{k}\nVersion: 1.{k}\n"),
        ]:
            data = text.encode()
            info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    layer_digest, layer_size = put(gzip.compress(tar, mtime=0))
    cfg = json.loads(json.dumps(config))
    cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
    cfg.setdefault("history", []).append({"created": f"2024-01-{k % 28 + 1:02d}T00:00:00Z", "created_by": f"COPY variant {k}"})
    cfg["created"] = f"2024-01-{k % 28 + 1:02d}T00:00:00Z"
    cfg_digest, cfg_size = put(json.dumps(cfg).encode())
    m = json.loads(json.dumps(manifest))
    m["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg_size}
    m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size})
    m_digest, m_size = put(json.dumps(m).encode())
    out.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m_digest, "size": m_size,
                "annotations": {"org.opencontainers.image.ref.name": f"app-{k:02d}"}})
json.dump({"schemaVersion": 2, "manifests": out}, open(os.path.join(dst, "index.json"), "w"))
print(f"base layers: {len(manifest['layers'])}, images: {count}, distinct layers: {len(manifest['layers']) + count}")
PY
for k in $(seq -f %02g 0 $((COUNT - 1))); do
  skopeo copy --quiet --preserve-digests --dest-tls-verify=false \
    "oci:$work/layout:app-$k" "docker://$host/bench/app-$k:1"
done
echo "registry: $host, $(du -sh "$work/storage" | cut -f1) stored"

if [ -n "${HF_DB:-}" ] && [ -n "${TRIVY_DB:-}" ]; then
  hf_scan=(--scanners vuln --db "$HF_DB"); mode=vulnerabilities
  cp -r "$TRIVY_DB" "$work/trivy"; rm -rf "$work/trivy/fanal"   # its DBs, not its layer cache
  trivy_scan=(--scanners vuln --format json)
else
  hf_scan=(--scanners vuln); mode="inventory (demo advisories / cyclonedx)"
  mkdir -p "$work/trivy"
  python3 "$BENCH_DIR/make-empty-javadb.py" "$work/trivy" >/dev/null
  trivy_scan=(--format cyclonedx)
fi
echo "mode: $mode"
secs() { python3 -c 'import sys,time; print(f"{float(sys.argv[2])-float(sys.argv[1]):.2f}")' "$@"; }
now() { date +%s.%N; }

# holdfast: one image alone, cold.
t0=$(now)
HOLDFAST_PRINT_PEAK_RSS=1 "$HF" scan image -q "${hf_scan[@]}" --insecure-registry "$host" \
  --cache-dir "$work/hf-one" -f json -o "$work/one.json" "registry:$host/bench/app-00:1" 2>"$work/one.err"
t1=$(now); one=$(secs "$t0" "$t1")
echo "holdfast one image (cold):          ${one} s   $(grep -o 'peak RSS.*' "$work/one.err")"

# holdfast: the whole registry, cold, with the fleet debug log.
t0=$(now)
HOLDFAST_LOG=holdfast::fleet=debug HOLDFAST_PRINT_PEAK_RSS=1 "$HF" scan registry -q "${hf_scan[@]}" \
  --insecure-registry "$host" --parallel "$PARALLEL" --cache-dir "$work/hf-all" \
  -f json -o "$work/all.json" "$host" 2>"$work/all.err"
t1=$(now); all=$(secs "$t0" "$t1")
echo "holdfast scan registry (cold, $COUNT images, --parallel $PARALLEL): ${all} s   $(grep -o 'peak RSS.*' "$work/all.err")"
python3 - "$work/all.err" "$work/all.json" "$one" "$all" <<'PY'
import collections, json, re, sys
log = open(sys.argv[1]).read()
down = collections.Counter(re.findall(r"blob download.*?digest=(\S+)", log))
walked = collections.Counter(re.findall(r'layer analysed.*?diff_id=Some\("([^"]+)"\)', log))
res = json.load(open(sys.argv[2]))
s = res["registry"]
print(f"  images scanned {s['images_scanned']}/{s['images_selected']}, failed {len(s['failed'])}, "
      f"packages {sum(len(t['packages']) for t in res['targets'])}, findings {sum(len(t['findings']) for t in res['targets'])}")
print(f"  blob downloads: {sum(down.values())} for {len(down)} distinct blobs (max per blob {max(down.values())})")
print(f"  layer analyses: {sum(walked.values())} for {len(walked)} distinct layers (max per layer {max(walked.values())})")
print(f"  ratio registry/one image: {float(sys.argv[4]) / float(sys.argv[3]):.2f}x (vs {s['images_selected']}x for one at a time, uncached)")
PY

# Trivy: the references one after another, one cache kept across them (its fleet mode).
if [ -x "$TRIVY" ]; then
  t0=$(now)
  for k in $(seq -f %02g 0 $((COUNT - 1))); do
    "$TRIVY" image --cache-dir "$work/trivy" --skip-db-update --skip-java-db-update --offline-scan \
      --skip-version-check --quiet --insecure --image-src remote "${trivy_scan[@]}" \
      -o "$work/trivy-$k.out" "$host/bench/app-$k:1"
  done
  t1=$(now); tr=$(secs "$t0" "$t1")
  python3 - "$work" "$COUNT" <<'PY'
import json, sys
work, count = sys.argv[1], int(sys.argv[2])
pk = vu = 0
for k in range(count):
    d = json.load(open(f"{work}/trivy-{k:02d}.out"))
    pk += len(d.get("components", []))
    vu += sum(len(r.get("Vulnerabilities") or []) for r in d.get("Results", []))
print(f"  trivy: components {pk} (cyclonedx mode), vulnerabilities {vu} (vuln mode)")
PY
  echo "trivy image x $COUNT (one after another, shared cache): ${tr} s   holdfast is $(python3 -c "print(f'{$tr/$all:.1f}')")x faster"
else
  echo "trivy: not found at $TRIVY (install with the shared install-peers.sh)"
fi
