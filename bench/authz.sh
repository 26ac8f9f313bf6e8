#!/bin/sh
# The authorization plugin's answer time at its socket, for a cached verdict: the
# target is under 5 ms. Starts `holdfast authz` with one container_create policy
# (weak-password, blocking) against the local Docker daemon, imports a tiny image whose
# root password is 123456, asks once (the scan fills the cache), then asks N times more
# over the unix socket and prints the median and p99: (1) on one kept-alive connection,
# as dockerd's plugin client talks (a small Python client), (2) with curl, a new
# connection each time (curl's time_total). An uncovered request (GET /info: no policy,
# no daemon lookup) is timed the same way for reference. The cached path still asks the
# daemon for the image id each time (a tag may have moved since the verdict).
#
#   cargo build --release -p holdfast     # or HF=target/debug/holdfast
#   bench/authz.sh                        # N=1000 by default; needs docker, curl, openssl
set -eu
cd "$(dirname "$0")/.."
HF=${HF:-$PWD/target/release/holdfast}
N=${N:-1000}
IMAGE=holdfast-bench/authz-weak:1
for t in docker curl openssl python3; do
  command -v "$t" >/dev/null || { echo "bench/authz.sh: needs $t" >&2; exit 2; }
done
[ -x "$HF" ] || { echo "bench/authz.sh: no holdfast binary at $HF (set HF)" >&2; exit 2; }

W=$(mktemp -d /tmp/holdfast-bench-authz.XXXXXX)
PLUGIN_PID=
cleanup() {
  [ -n "$PLUGIN_PID" ] && kill "$PLUGIN_PID" 2>/dev/null && wait "$PLUGIN_PID" 2>/dev/null
  docker rmi -f "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

# A tiny image with a weak root password.
mkdir -p "$W/rootfs/etc"
printf 'ID=debian\nVERSION_ID="12"\n' > "$W/rootfs/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$W/rootfs/etc/passwd"
printf 'root:%s:19700:0:99999:7:::\n' "$(openssl passwd -6 123456)" > "$W/rootfs/etc/shadow"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
docker import "$W/rootfs.tar" "$IMAGE" >/dev/null

SOCK=$W/authz.sock
cat > "$W/authz.toml" <<EOF
[log]
plugin_log_path = "$W/plugin.log"
auth_log_path = "$W/auth.log"
[listener]
listener_addr = "$SOCK"
[[policies]]
action = "container_create"
enabled_plugins = ["weak-password"]
block = true
[holdfast]
cache_dir = "$W/cache"
EOF
"$HF" -q authz -c "$W/authz.toml" &
PLUGIN_PID=$!
i=0
while [ ! -S "$SOCK" ]; do
  i=$((i + 1)); [ $i -lt 200 ] || { echo "the plugin did not listen" >&2; exit 1; }
  sleep 0.05
done

body=$(printf '{"Image":"%s"}' "$IMAGE" | base64 | tr -d '\n')
printf '{"User":"bench","RequestMethod":"POST","RequestUri":"/v1.41/containers/create","RequestBody":"%s","RequestHeaders":{"Content-Type":"application/json"}}' "$body" > "$W/create.json"
printf '{"RequestMethod":"GET","RequestUri":"/v1.41/info"}' > "$W/info.json"

ask() { curl -s -o "$W/answer" -w '%{time_total}\n' --unix-socket "$SOCK" \
  -H 'Content-Type: application/json' --data-binary "@$1" http://plugin/AuthZPlugin.AuthZReq; }

first=$(ask "$W/create.json")
grep -q '"Allow":false' "$W/answer" || { echo "expected a denial, got: $(cat "$W/answer")" >&2; exit 1; }
echo "first request (scan): ${first}s -> $(cut -c1-160 "$W/answer")"

cat > "$W/client.py" <<'PY'
import http.client, socket, sys, time
class Conn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("plugin")
        self.unix = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix)
sock, body, n = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
c = Conn(sock)
for _ in range(n):
    t = time.perf_counter()
    c.request("POST", "/AuthZPlugin.AuthZReq", body, {"Content-Type": "application/json"})
    c.getresponse().read()
    print("%.6f" % (time.perf_counter() - t))
PY

stats() { # label file
  sort -n "$2" | awk -v label="$1" '{ v[NR] = $1 * 1000 } END {
    m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.99 + 0.999)]; if (p == "") p = v[NR];
    printf "%-34s n=%d  median %.2f ms  p99 %.2f ms  max %.2f ms\n", label, NR, m, p, v[NR] }'
}
python3 "$W/client.py" "$SOCK" "$W/create.json" "$N" > "$W/ka-cached.txt"
python3 "$W/client.py" "$SOCK" "$W/info.json" "$N" > "$W/ka-info.txt"
: > "$W/cached.txt"; : > "$W/info.txt"
n=0
while [ $n -lt "$N" ]; do
  ask "$W/create.json" >> "$W/cached.txt"
  ask "$W/info.json" >> "$W/info.txt"
  n=$((n + 1))
done
grep -q '"Allow":false' "$W/answer" && { echo "an uncovered request was denied" >&2; exit 1; }
echo "one kept-alive connection (as dockerd):"
stats "  cached verdict (container_create)" "$W/ka-cached.txt"
stats "  uncovered request (GET /info)" "$W/ka-info.txt"
echo "curl, a new connection per request:"
stats "  cached verdict (container_create)" "$W/cached.txt"
stats "  uncovered request (GET /info)" "$W/info.txt"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
