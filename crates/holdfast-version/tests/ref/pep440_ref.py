"""Reference for PEP 440 ordering: packaging.version.Version.

Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (invalid version).
"""
import sys

from packaging.version import InvalidVersion, Version

out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t", 1)
    try:
        va, vb = Version(a), Version(b)
        out.append(str((va > vb) - (va < vb)))
    except InvalidVersion:
        out.append("E")
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
