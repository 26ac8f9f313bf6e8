#!/usr/bin/env bash
# Times the same image read from its docker-archive, from containerd's content store (its
# blob files, and streamed through the API) and
# from Podman (its storage read directly, and its API service), cold (empty layer cache),
# every scanner but weak-password. containerd and Podman are started here with roots and
# sockets of their own under a temporary directory, and stopped at the end.
#
#   HF=target/release/holdfast bench/engines.sh [IMAGE]     default: deb12-python
#
# Environment: BENCH_DIR (the shared bench scripts, for ptime.py; default ../shared/bench
# beside the repo), BENCH_IMAGES (default /var/tmp/bench-images), N (runs per case,
# default 5), HF_DB (a database; default: the bundled demo advisories). Prints one line per
# case: median wall, CPU, peak RSS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
N=${N:-5}
HF=${HF:-$ROOT/target/release/holdfast}
SCANNERS=${SCANNERS:-vuln,secret,malware,webshell,backdoor,escape,history,suid}
image=${1:-deb12-python}
tar=$IMG/$image.tar
work=$(mktemp -d /var/tmp/holdfast-engines.XXXX)
ctd_pid=
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null || true
  [ -n "$ctd_pid" ] && kill "$ctd_pid" 2>/dev/null && wait "$ctd_pid" 2>/dev/null || true
  # Podman's overlay mounts, if any, go before the directory does.
  podman_cmd image rm -a -f >/dev/null 2>&1 || true
  umount "$work/p/root/overlay" 2>/dev/null || true
  rm -rf "$work"
}
podman_cmd() {
  CONTAINERS_CONF=$work/containers.conf podman --root "$work/p/root" --runroot "$work/p/run" \
    --tmpdir "$work/p/tmp" --storage-driver overlay "$@"
}
trap cleanup EXIT
. "$ROOT/bench/time-case.sh"

cat > "$work/containerd.toml" <<EOF
version = 2
root = "$work/c/root"
state = "$work/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/c/containerd.sock"
[ttrpc]
  address = "$work/c/containerd.sock.ttrpc"
[debug]
  address = "$work/c/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/c/opt"
EOF
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$work/containers.conf"
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
ctd_pid=$!
sock=$work/c/containerd.sock
for _ in $(seq 100); do ctr -a "$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr -a "$sock" -n bench image import --no-unpack "$tar" >/dev/null
ref=$(ctr -a "$sock" -n bench image ls -q | head -1)
podman_cmd load -i "$tar" >/dev/null
podman_cmd system service --time=0 "unix://$work/podman.sock" >"$work/podman.log" 2>&1 &
svc_pid=$!
for _ in $(seq 100); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
pref=$(podman_cmd images --format '{{.Repository}}:{{.Tag}}' | head -1)

db=()
[ -n "${HF_DB:-}" ] && db=(--db "$HF_DB")
cat "$tar" >/dev/null
echo "== $image ($(du -h "$tar" | cut -f1)), scanners $SCANNERS, cold layer cache"
scan="'$HF' scan image -q -f json -o /dev/null --no-cache --scanners $SCANNERS ${db[*]}"
time_case "docker-archive" sh -c "exec $scan 'docker-archive:$tar'"
time_case "containerd content store" sh -c "exec $scan --containerd-address '$sock' 'containerd:$ref@bench'"
time_case "containerd through the API" sh -c "HOLDFAST_CONTAINERD_CONTENT=api exec $scan --containerd-address '$sock' 'containerd:$ref@bench'"
time_case "podman storage" sh -c "exec $scan --podman-root '$work/p/root' 'podman:$pref'"
time_case "podman service" sh -c "exec $scan --podman-socket 'unix://$work/podman.sock' 'podman:$pref'"
echo "== $image, sbom (inventory only), cold layer cache"
sbom="'$HF' sbom -q -f cyclonedx -o /dev/null --no-cache"
time_case "docker-archive" sh -c "exec $sbom 'docker-archive:$tar'"
time_case "containerd content store" sh -c "exec $sbom --containerd-address '$sock' 'containerd:$ref@bench'"
time_case "podman storage" sh -c "exec $sbom --podman-root '$work/p/root' 'podman:$pref'"
