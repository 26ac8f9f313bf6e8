# Sourced by the bench scripts, after they set ROOT: the settings they share (each kept
# when the environment or the script already set it), and `time_case LABEL CMD...`, which
# runs CMD N times under the shared bench timer (ptime.py in $BENCH_DIR) and prints one
# line: median wall, CPU, peak RSS.
: "${BENCH_DIR:=$ROOT/../shared/bench}"
IMG=${IMG:-${BENCH_IMAGES:-/var/tmp/bench-images}}
: "${TRIVY:=/opt/peers/bin/trivy}"
: "${N:=5}"
# Trivy offline, on the DB it was given, without its own update checks.
TFLAGS="--skip-db-update --skip-java-db-update --offline-scan --skip-version-check --quiet"
time_case() {
  local label=$1; shift
  local rep
  rep=$(python3 "$BENCH_DIR/ptime.py" -n "$N" -- "$@" 2>&1 || true)
  python3 - "$label" "$rep" <<'PY'
import re, sys
label, rep = sys.argv[1], sys.argv[2]
def med(row):
    m = re.search(r"^A %s\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)" % re.escape(row), rep, re.M)
    return m.group(2) if m else "-"
ok = re.search(r"^A exit ([^\n]*)", rep, re.M)
print(f"{label:<28} wall {med('wall s'):>7} s   cpu {med('cpu s'):>7} s   peak {med('peak MiB'):>7} MiB   exit {ok.group(1) if ok else '?'}")
PY
}
