#!/bin/sh
# Plugin costs, release build: (1) materialising an image's root filesystem for plugins
# against `tar -x` of the same layer tars in order (the floor: tar applies no whiteouts);
# (2) the overhead of one plugin on one target (cached manifest, spawn, request, 1,000
# finding events collected), from `scan rootfs` of a small directory with 0, 1 and 8
# plugins. Prints one line per case (median wall, CPU, peak RSS of N runs).
#
#   cargo build --release -p holdfast -p holdfast-rootfs --example materialize
#   bench/plugins.sh [IMAGE]        # default: deb12-python from the shared bench images
set -eu
cd "$(dirname "$0")/.."
IMAGE=${1:-deb12-python}
IMAGES=${BENCH_IMAGES:-/var/tmp/bench-images}
BENCH_DIR=${BENCH_DIR:-$(cd ../shared/bench && pwd)}
HF=${HF:-$PWD/target/release/holdfast}
MAT=${MAT:-$PWD/target/release/examples/materialize}
N=${N:-5}
export N BENCH_DIR
. bench/time-case.sh

W=$(mktemp -d /var/tmp/holdfast-bench-plugins.XXXXXX)
trap 'rm -rf "$W"' EXIT

# (1) Materialising.
archive=$IMAGES/$IMAGE.tar
mkdir "$W/archive" "$W/out"
tar -xf "$archive" -C "$W/archive"
layers=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$W/archive/manifest.json")
cat > "$W/tarx.sh" <<SH
#!/bin/sh
d=\$(mktemp -d -p "$W/out") && cd "$W/archive" && for l in $layers; do tar -xf "\$l" -C "\$d"; done
SH
cat > "$W/mat.sh" <<SH
#!/bin/sh
d=\$(mktemp -d -p "$W/out") && exec "$MAT" "docker-archive:$archive" "\$d" >/dev/null
SH
chmod +x "$W/tarx.sh" "$W/mat.sh"
sync
echo "$IMAGE: $(du -sh "$archive" | cut -f1) archive, layers: $(echo "$layers" | wc -w)"
time_case "tar -x of the layers" "$W/tarx.sh"
rm -rf "$W/out"/*
time_case "holdfast materialise" "$W/mat.sh"
rm -rf "$W/out"/*

# (2) Overhead per plugin.
mkdir -p "$W/root/etc" "$W/plugins1" "$W/plugins8"
echo 'root:x:0:0::/root:/bin/sh' > "$W/root/etc/passwd"
make_plugin() {
  cat > "$1" <<SH
#!/bin/sh
if [ "\$1" = info ]; then
  echo '{"protocol":1,"name":"$2","version":"1","commands":["scan/rootfs"],"kinds":["misconfiguration"]}'
  exit 0
fi
cat >/dev/null
i=0
while [ \$i -lt 1000 ]; do
  echo '{"type":"finding","finding":{"id":"BENCH-'\$i'","severity":"LOW","title":"bench","path":"/etc/passwd"}}'
  i=\$((i+1))
done
SH
  chmod +x "$1"
}
make_plugin "$W/plugins1/p0" p0
for i in 0 1 2 3 4 5 6 7; do make_plugin "$W/plugins8/p$i" "p$i"; done
export HOLDFAST_CACHE_DIR="$W/cache"
scan() { echo "$HF" scan rootfs "$W/root" -f json -o /dev/null --scanners misconfiguration --no-cache -q "$@"; }
# Fill the manifest cache first: the overhead measured is that of a known plugin.
$(scan --plugin-dir "$W/plugins8") || true
$(scan --plugin-dir "$W/plugins1") || true
time_case "scan rootfs, no plugin" $(scan --no-plugins)
time_case "scan rootfs, 1 plugin" $(scan --plugin-dir "$W/plugins1")
time_case "scan rootfs, 8 plugins" $(scan --plugin-dir "$W/plugins8")
