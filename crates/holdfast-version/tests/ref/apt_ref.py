"""Reference for dpkg ordering: apt's apt_pkg.version_compare (python3-apt).

Reads "a<TAB>b" lines on stdin, prints -1, 0 or 1 per line.
"""
import sys

import apt_pkg

apt_pkg.init_system()
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t", 1)
    r = apt_pkg.version_compare(a, b)
    out.append(str((r > 0) - (r < 0)))
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
