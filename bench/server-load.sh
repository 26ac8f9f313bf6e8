#!/usr/bin/env bash
# Service load figures (issue 18), on loopback only, once on SQLite and once on PostgreSQL:
#  1. COUNT images queued at once through the API (variants of fixtures/demo/demo-image.tar,
#     each with a small top layer of its own) until every scan finished; the time it took
#     and the server's peak RSS (VmHWM from /proc/PID/status) when they are done.
#  2. wrk -t2 -cCONNS -dDURATION --latency with a read token against
#     GET /api/v1/scans/{id} (one finished result) and GET /api/v1/scans (the list);
#     p50, p99, requests/s and errors (socket errors and non-2xx answers) of each.
# PostgreSQL is a private cluster (initdb and postgres from /usr/lib/postgresql/*/bin, run
# as the `postgres` user when root) on its own port and socket directory, stopped by its
# PID at the end, like the tests' helper.
#
#   bench/server-load.sh
#
# Environment: HF (a holdfast binary; default target/release/holdfast when it is newer than
# the sources, else target/debug/holdfast, saying so), COUNT (50), CONNS (200),
# DURATION (30s), WORKERS (scans at once, 2), STORES ("sqlite postgres").
set -euo pipefail
export NO_COLOR=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${COUNT:-50}
CONNS=${CONNS:-200}
DURATION=${DURATION:-30s}
WORKERS=${WORKERS:-2}
STORES=${STORES:-sqlite postgres}
for t in wrk curl python3; do
  command -v "$t" >/dev/null || { echo "server-load.sh: needs $t" >&2; exit 1; }
done

# The binary: the release one only when it is newer than every source file.
newer_than_sources() {
  [ -x "$1" ] || return 1
  [ -z "$(find "$ROOT/crates" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" \
          \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name '*.sql' \) \
          -newer "$1" -print -quit)" ] && "$1" server --help >/dev/null 2>&1
}
if [ -z "${HF:-}" ]; then
  if newer_than_sources "$ROOT/target/release/holdfast"; then
    HF=$ROOT/target/release/holdfast; build=release
  else
    HF=$ROOT/target/debug/holdfast; build="DEBUG (target/release/holdfast is missing or older than the sources)"
    "$HF" server --help >/dev/null 2>&1 || { echo "server-load.sh: build holdfast first (cargo build -p holdfast)" >&2; exit 1; }
  fi
else
  build="given ($HF)"
fi
echo "binary: $build"
echo "machine: $(nproc) cores; wrk -t2 -c$CONNS -d$DURATION runs on the same cores as the server"

work=$(mktemp -d /var/tmp/holdfast-srvload.XXXX)
srv_pid=
pg_pid=
stop_server() {
  if [ -n "$srv_pid" ]; then
    kill -TERM "$srv_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
  fi
}
stop_pg() {
  if [ -n "$pg_pid" ]; then
    kill -INT "$pg_pid" 2>/dev/null || true   # fast shutdown
    for _ in $(seq 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pg_pid" 2>/dev/null || true
    wait "$pg_pid" 2>/dev/null || true
    pg_pid=
  fi
}
cleanup() { stop_server; stop_pg; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP_WORK:-}" ] && trap 'stop_server; stop_pg; echo "kept $work"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# COUNT variants of the demo image: its layers plus one small layer naming the variant.
mkdir -p "$work/images"
python3 - "$ROOT/fixtures/demo/demo-image.tar" "$work/images" "$COUNT" <<'PY'
import hashlib, io, json, sys, tarfile
src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with tarfile.open(src) as t:
    members = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
manifest = json.loads(members["manifest.json"])[0]
config = json.loads(members[manifest["Config"]])
def add(tar, name, data):
    info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 1700000000
    tar.addfile(info, io.BytesIO(data))
for i in range(count):
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as lt:
        add(lt, "etc/variant", f"variant {i}\n".encode())
    layer = layer.getvalue()
    cfg = json.loads(json.dumps(config))
    cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(layer).hexdigest())
    cfg.setdefault("history", []).append({"created_by": f"COPY variant {i}"})
    cfg_bytes = json.dumps(cfg).encode()
    cfg_name = hashlib.sha256(cfg_bytes).hexdigest() + ".json"
    m = dict(manifest, Config=cfg_name, Layers=manifest["Layers"] + ["variant/layer.tar"],
             RepoTags=[f"bench/variant:{i}"])
    with tarfile.open(f"{out}/variant-{i}.tar", "w", format=tarfile.GNU_FORMAT) as t:
        add(t, cfg_name, cfg_bytes)
        for name in manifest["Layers"]:
            add(t, name, members[name])
        add(t, "variant/layer.tar", layer)
        add(t, "manifest.json", json.dumps([m]).encode())
PY

# Prints "p50 p99 req/s errors" from wrk's --latency output.
wrk_figures() {
  awk '
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /^ +Non-2xx or 3xx responses:/ { err += $NF }
    END { printf "p50 %s  p99 %s  %s req/s  errors %d\n", p50, p99, rps, err }
  ' "$1"
}

vm() { awk -v k="$2:" '$1 == k { printf "%.0f MiB", $2 / 1024 }' "/proc/$1/status"; }

# run_case NAME STORE-FLAGS...
run_case() {
  local name=$1; shift
  local dir=$work/$name port url tok read_tok t0 t1 done_n failed_n id
  mkdir -p "$dir"
  port=$(free_port)
  url=http://127.0.0.1:$port
  # No --db file: the bundled demo advisories (what a fresh server matches with).
  "$HF" server --listen "127.0.0.1:$port" --data-dir "$dir/data" --db "$dir/absent.db" \
    --cache-dir "$dir/cache" --workers "$WORKERS" --log-level warn "$@" >"$dir/server.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 300); do
    curl -sf --noproxy '*' "$url/readyz" >/dev/null 2>&1 && break
    kill -0 "$srv_pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  tok=$("$HF" server token create --scope scan --name bench --data-dir "$dir/data" "$@" 2>/dev/null)
  read_tok=$("$HF" server token create --scope read --name bench-read --data-dir "$dir/data" "$@" 2>/dev/null)
  echo "== $name: $COUNT images queued at once, $WORKERS workers"
  echo "   RSS before: $(vm "$srv_pid" VmRSS) (peak $(vm "$srv_pid" VmHWM))"
  t0=$(date +%s.%N)
  for i in $(seq 0 $((COUNT - 1))); do
    curl -sf --noproxy '*' -o /dev/null -X POST -H "Authorization: Bearer $tok" \
      -H 'Content-Type: application/json' \
      --data "{\"target\":\"docker-archive:$work/images/variant-$i.tar\"}" "$url/api/v1/scans"
  done
  local deadline=$((SECONDS + 900))
  while :; do
    done_n=$(curl -sf --noproxy '*' -H "Authorization: Bearer $tok" "$url/api/v1/scans?status=finished&limit=1000" \
      | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["scans"]))')
    failed_n=$(curl -sf --noproxy '*' -H "Authorization: Bearer $tok" "$url/api/v1/scans?status=failed&limit=1000" \
      | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["scans"]))')
    [ $((done_n + failed_n)) -ge "$COUNT" ] && break
    [ $SECONDS -lt $deadline ] || { echo "   timed out: $done_n finished" >&2; exit 1; }
    sleep 0.5
  done
  t1=$(date +%s.%N)
  printf '   %d finished, %d failed in %.1f s; server RSS %s, peak (VmHWM) %s\n' \
    "$done_n" "$failed_n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(vm "$srv_pid" VmRSS)" "$(vm "$srv_pid" VmHWM)"
  id=$(curl -sf --noproxy '*' -H "Authorization: Bearer $read_tok" "$url/api/v1/scans?status=finished&limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["scans"][0]["id"])')
  printf '   one result: %s bytes; the list: %s bytes\n' \
    "$(curl -sf --noproxy '*' -H "Authorization: Bearer $read_tok" "$url/api/v1/scans/$id" | wc -c)" \
    "$(curl -sf --noproxy '*' -H "Authorization: Bearer $read_tok" "$url/api/v1/scans" | wc -c)"
  for path in "/api/v1/scans/$id" "/api/v1/scans"; do
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Bearer $read_tok" \
      "$url$path" >"$dir/wrk.out" 2>&1
    case $path in */scans) label="GET /api/v1/scans     " ;; *) label="GET /api/v1/scans/{id}" ;; esac
    echo "   $label $(wrk_figures "$dir/wrk.out")"
  done
  echo "   server RSS after load: $(vm "$srv_pid" VmRSS) (peak $(vm "$srv_pid" VmHWM))"
  kill -0 "$srv_pid" 2>/dev/null || { echo "   the server died" >&2; cat "$dir/server.log" >&2; exit 1; }
  stop_server
}

# A private PostgreSQL cluster; sets pg_pid and pg_url.
start_pg() {
  local bin dir=$work/pg port as=()
  bin=${HOLDFAST_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$bin/initdb" ] || { echo "server-load.sh: no PostgreSQL server binaries (install postgresql)" >&2; return 1; }
  mkdir -p "$dir/socket"
  if [ "$(id -u)" = 0 ]; then
    chmod 711 "$work"   # mktemp's 0700 would keep the postgres user out
    chown -R postgres:postgres "$dir"
    as=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$dir")
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U holdfast --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  port=$(free_port)
  "${as[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir/socket" \
    -c listen_addresses=127.0.0.1 -c max_connections=300 >"$dir/server.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 300); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U holdfast && break
    sleep 0.1
  done
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U holdfast bench
  pg_url=postgres://holdfast@127.0.0.1:$port/bench
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, PID $pg_pid"
}

for store in $STORES; do
  case $store in
    sqlite) run_case sqlite ;;
    postgres)
      start_pg
      run_case postgres --database-url "$pg_url"
      stop_pg
      ;;
    *) echo "server-load.sh: unknown store $store" >&2; exit 1 ;;
  esac
done
