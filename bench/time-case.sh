# Sourced by the bench scripts: `time_case LABEL CMD...` runs CMD N times under the shared
# bench timer (ptime.py in $BENCH_DIR) and prints one line: median wall, CPU, peak RSS.
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
