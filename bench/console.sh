#!/usr/bin/env bash
# Console speed with history (issue 19), on loopback: a `holdfast server` on SQLite (and on
# a private PostgreSQL when STORES says so) holding SCANS stored results of TARGETS
# targets spread over the last 30 days, filed through POST /api/v1/results; then, signed
# in as a browser is, the time to first byte (curl's time_starttransfer) of each console
# page, RUNS times each, median and worst.
#
#   bench/console.sh [RESULT_JSON]
#
# RESULT_JSON: the holdfast JSON result every stored scan copies (its target renamed, its
# time moved); default: HF's scan of fixtures/demo/demo-image.tar. A real image's result
# (e.g. `holdfast scan image docker-archive:deb12-python.tar --format json` with a full
# database) gives pages the size users see.
# Environment: HF (a holdfast binary; default target/release/holdfast, else
# target/debug/holdfast, saying so), SCANS (500), TARGETS (50), RUNS (30),
# STORES ("sqlite"; "sqlite postgres" also runs a private PostgreSQL as the tests do).
set -euo pipefail
export NO_COLOR=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCANS=${SCANS:-500}
TARGETS=${TARGETS:-50}
RUNS=${RUNS:-30}
STORES=${STORES:-sqlite}
for t in curl python3; do
  command -v "$t" >/dev/null || { echo "console.sh: needs $t" >&2; exit 1; }
done
if [ -z "${HF:-}" ]; then
  if [ -x "$ROOT/target/release/holdfast" ]; then
    HF=$ROOT/target/release/holdfast; echo "binary: release"
  else
    HF=$ROOT/target/debug/holdfast; echo "binary: DEBUG (no target/release/holdfast)"
  fi
fi

work=$(mktemp -d /var/tmp/holdfast-console.XXXX)
srv_pid=
pg_pid=
stop_pid() { # stop_pid PID SIGNAL
  [ -n "$1" ] || return 0
  kill -"$2" "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() { stop_pid "$srv_pid" TERM; stop_pid "$pg_pid" INT; rm -rf "$work"; }
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

result=${1:-}
if [ -z "$result" ]; then
  result=$work/demo.json
  "$HF" scan image "docker-archive:$ROOT/fixtures/demo/demo-image.tar" --format json --exit-code 0 \
    --db "$work/absent.db" >"$result" 2>/dev/null || true
fi
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("stored result: %d targets, %d packages, %d findings each" % (len(r["targets"]), sum(len(t["packages"]) for t in r["targets"]), sum(len(t["findings"]) for t in r["targets"])))' "$result"

start_pg() { # prints the URL
  local bin pgdir port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pgdir=$work/pg; port=$(free_port)
  chmod 755 "$work"   # mktemp's 0700 keeps the postgres user out
  mkdir -p "$pgdir/sock"; chown -R postgres "$pgdir" 2>/dev/null || true
  runuser -u postgres -- "$bin/initdb" -D "$pgdir/data" -A trust -U holdfast >/dev/null
  runuser -u postgres -- "$bin/postgres" -D "$pgdir/data" -p "$port" -k "$pgdir/sock" \
    -c listen_addresses=127.0.0.1 >"$pgdir/log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 100); do
    runuser -u postgres -- "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q && break; sleep 0.1
  done
  runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U holdfast holdfast
  echo "postgres://holdfast@127.0.0.1:$port/holdfast"
}

run_case() { # run_case NAME STORE-FLAGS...
  local name=$1; shift
  local dir=$work/$name port url tok
  mkdir -p "$dir"
  port=$(free_port); url=http://127.0.0.1:$port
  "$HF" server --listen "127.0.0.1:$port" --data-dir "$dir/data" --db "$work/absent.db" \
    --cache-dir "$dir/cache" --log-level warn "$@" >"$dir/server.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 300); do
    curl -sf --noproxy '*' "$url/readyz" >/dev/null 2>&1 && break
    kill -0 "$srv_pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  tok=$("$HF" server token create --scope admin --name bench --data-dir "$dir/data" "$@" 2>/dev/null)
  echo "== $name: filing $SCANS results of $TARGETS targets over 30 days"
  python3 - "$url" "$tok" "$result" "$SCANS" "$TARGETS" "$RUNS" <<'PY'
import datetime, json, statistics, sys, time, urllib.parse, urllib.request
url, tok, path, scans, targets, runs = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
base = json.load(open(path))
kinds = ["image", "image", "image", "container", "rootfs"]
now = datetime.datetime.now(datetime.timezone.utc)
opener = urllib.request.build_opener(urllib.request.HTTPHandler())
t0 = time.monotonic()
for i in range(scans):
    t = i % targets
    r = json.loads(json.dumps(base))
    for j, target in enumerate(r["targets"]):
        target["name"] = f"team-{t}/app-{j}"
        target["kind"] = kinds[t % len(kinds)]
        if target["kind"] != "image":
            target.pop("image_id", None)
        else:
            target["image_id"] = "sha256:%064x" % (t * 100 + j)
        if i % 3 == 0 and target["findings"]:
            target["findings"] = target["findings"][: len(target["findings"]) * 2 // 3]
    r["created_at"] = (now - datetime.timedelta(days=30 * (scans - i) / scans)).strftime("%Y-%m-%dT%H:%M:%SZ")
    req = urllib.request.Request(
        f"{url}/api/v1/results?target=" + urllib.parse.quote(f"bench-{t}"),
        data=json.dumps(r).encode(), method="POST",
        headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    opener.open(req).read()
print(f"   filed in {time.monotonic() - t0:.1f} s")

PY
  # Sign in as a browser does: the login form's nonce cookie, then the token.
  local cookie
  cookie=$(python3 - "$url" "$tok" <<'PY'
import sys, urllib.parse, urllib.request, urllib.error
url, tok = sys.argv[1], sys.argv[2]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
plain = urllib.request.build_opener(NoRedirect())
nonce = plain.open(f"{url}/login").headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
body = urllib.parse.urlencode({"token": tok, "csrf": nonce, "next": "/"}).encode()
req = urllib.request.Request(f"{url}/login", data=body, headers={"Cookie": f"holdfast_login={nonce}"})
try:
    plain.open(req)
except urllib.error.HTTPError as e:
    print([c for c in e.headers.get_all("Set-Cookie") if c.startswith("holdfast_session=")][0].split(";")[0])
PY
)
  local image_id advisory
  image_id=$(curl -sf --noproxy '*' -H "Authorization: Bearer $tok" "$url/api/v1/images?kind=image" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["targets"][0]["image_id"])')
  advisory=$(curl -sf --noproxy '*' -H "Authorization: Bearer $tok" "$url/api/v1/vulnerabilities" \
    | python3 -c 'import json,sys; v=json.load(sys.stdin)["vulnerabilities"]; print(v[0]["id"] if v else "none")')
  for page in / /workloads /images "/images/$image_id" /vulnerabilities "/vulnerabilities/$advisory" /trends /policy; do
    local times=() code
    code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url$page")
    [ "$code" = 200 ] || { echo "   $page answered $code" >&2; exit 1; }
    for _ in $(seq "$RUNS"); do
      times+=("$(curl -s --noproxy '*' -o /dev/null -w '%{time_starttransfer}' -H "Cookie: $cookie" "$url$page")")
    done
    printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
page = sys.argv[1]
t = sorted(float(x) * 1000 for x in sys.stdin if x.strip())
print(f"   {page:<40} first byte median {statistics.median(t):6.1f} ms, worst {t[-1]:6.1f} ms")' "$page"
  done
  stop_pid "$srv_pid" TERM; srv_pid=
}

for store in $STORES; do
  case $store in
    sqlite) run_case sqlite ;;
    postgres) pg_url=$(start_pg); run_case postgres --database-url "$pg_url"; stop_pid "$pg_pid" INT; pg_pid= ;;
    *) echo "unknown store $store" >&2; exit 2 ;;
  esac
done
