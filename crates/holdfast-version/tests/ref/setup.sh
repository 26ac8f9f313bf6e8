#!/usr/bin/env bash
# Install every reference implementation used by the differential tests of
# holdfast-version, on a fresh Debian 12 machine, as root.
#
# Idempotent and quiet: anything already present is left alone.
#
#   dpkg      -> dpkg (always there) and python3-apt (apt_pkg.version_compare)
#   rpm       -> python3-rpm (rpm.labelCompare, rpm >= 4.15 for `^`)
#   PEP 440   -> Python `packaging` (pip, falling back to Debian's python3-packaging)
#   npm       -> node + the npm `semver` package, installed next to this script
#   RubyGems  -> ruby (Gem::Version)
#   Maven     -> maven + a JDK (ComparableVersion from maven-artifact; the
#                JDK runs the single-file MavenRef.java)
#   Go        -> golang-go + golang-golang-x-mod-dev (golang.org/x/mod/semver)
#   Composer  -> php-cli + php-composer-semver (VersionParser, version_compare)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in dpkg python3-apt python3-rpm python3-packaging ruby nodejs npm maven default-jdk-headless \
    golang-go golang-golang-x-mod-dev php-cli php-composer-semver; do
    # Node, npm, Java and Maven may come from elsewhere than Debian's packages:
    # skip those whose command already works.
    case "$pkg" in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
        maven) command -v mvn >/dev/null 2>&1 && continue ;;
        default-jdk-headless) command -v javac >/dev/null 2>&1 && continue ;;
        golang-go) command -v go >/dev/null 2>&1 && continue ;;
    esac
    have_deb "$pkg" || need_apt+=("$pkg")
done
# Run a command silently, showing its output only if it fails.
quiet() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
if ((${#need_apt[@]})); then
    export NEEDRESTART_SUSPEND=1
    quiet apt-get update -qq
    quiet apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# `python3` on PATH may be another interpreter than Debian's (pyenv, say):
# give it `packaging` too, since the tests try it first.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import packaging.version' >/dev/null 2>&1; then
    python3 -m pip install -q --disable-pip-version-check packaging >/dev/null 2>&1 ||
        python3 -m pip install -q --disable-pip-version-check --break-system-packages packaging >/dev/null 2>&1 ||
        true
fi

# npm's `semver`, pinned by package.json, into tests/ref/node_modules.
if ! [ -f "$here/node_modules/semver/package.json" ]; then
    (cd "$here" && quiet npm install --no-audit --no-fund)
fi
