"""Reference for RPM ordering: rpm's Python binding (python3-rpm).

rpm.ver() splits each string into epoch, version and release as rpm's
parseEVR does; rpm.labelCompare() compares the (e, v, r) triples.
Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (rpm refused).
"""
import sys

import rpm


def evr(s):
    v = rpm.ver(s)
    return (v.e, v.v, v.r)


out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t", 1)
    try:
        r = rpm.labelCompare(evr(a), evr(b))
        out.append(str((r > 0) - (r < 0)))
    except Exception:  # noqa: BLE001 - any refusal is an "E"
        out.append("E")
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
