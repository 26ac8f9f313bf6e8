#!/usr/bin/env bash
# Latency of the admission webhook answering from its verdict cache: one image pushed to a
# local docker-registry, `holdfast admission` over TLS on loopback, one warm-up review
# (the scan), then wrk POSTs the same AdmissionReview for 10 s. wrk runs flat out, so the
# requests per second it reaches is the ceiling and its p99 the latency there.
#
#   HF=target/release/holdfast bench/admission.sh [IMAGE_TAR]   default: deb12-python's
#
# Needs docker-registry, skopeo, openssl, curl and wrk. Environment: BENCH_IMAGES (default
# /var/tmp/bench-images), CONNECTIONS (default 16), DURATION (default 10s).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HF=${HF:-$ROOT/target/release/holdfast}
IMG=${BENCH_IMAGES:-/var/tmp/bench-images}
tar=${1:-$IMG/deb12-python.tar}
work=$(mktemp -d /var/tmp/holdfast-admission.XXXX)
reg_pid=
hook_pid=
cleanup() {
  [ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null || true
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

reg_port=$(free_port)
cat > "$work/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: 127.0.0.1:$reg_port}
EOF
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$reg_port/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy --quiet --dest-tls-verify=false "docker-archive:$tar" "docker://127.0.0.1:$reg_port/bench/app:1"

( cd "$work" && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null )
cat > "$work/policy.toml" <<EOF
[log]
plugin_log_path = "$work/plugin.log"
report_log_path = "$work/auth.log"

[[policies]]
action = "container_create"
enabled_plugins = ["vuln", "secret"]
risk_level_filter = ["Critical"]
block = true

[holdfast]
timeout = "60s"
insecure_registries = ["127.0.0.1:$reg_port"]
cache_dir = "$work/cache"
EOF
hook_port=$(free_port)
"$HF" admission --listen "127.0.0.1:$hook_port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --policy "$work/policy.toml" >"$work/webhook.log" 2>&1 &
hook_pid=$!
for _ in $(seq 100); do curl -sf --cacert "$work/cert.pem" "https://127.0.0.1:$hook_port/healthz" >/dev/null && break; sleep 0.1; done

review=$(cat <<EOF
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"b-1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"bench","operation":"CREATE","userInfo":{"username":"bench"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app-1","namespace":"bench"},"spec":{"containers":[{"name":"app","image":"127.0.0.1:$reg_port/bench/app:1"}]}}}}
EOF
)
start=$(date +%s.%N)
answer=$(curl -s --cacert "$work/cert.pem" -H 'content-type: application/json' --data-binary "$review" "https://127.0.0.1:$hook_port/validate")
echo "first review (scan): $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s, allowed: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["response"]["allowed"])' "$answer")"
printf '%s' "$review" > "$work/review.json"
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/review.json", "r")
wrk.body = f:read("*a")
f:close()
EOF
wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION:-10s}" --latency -s "$work/post.lua" "https://127.0.0.1:$hook_port/validate" |
  grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Non-2xx|Socket errors"
