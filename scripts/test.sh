#!/usr/bin/env bash
# Runs every test suite, the heavy ones included (Docker daemon, debootstrap, rpm tools,
# reference version comparators), after installing what they need.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-deps.sh
export HOLDFAST_FULL_TESTS=1
cargo test --workspace --locked
