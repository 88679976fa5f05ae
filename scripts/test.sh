#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs
# formatting and lint checks, every unit/integration/end-to-end test, the doc tests, and the
# package checks (scripts/package-check.sh: one release build, both .debs, lintian, install).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/.."

# openssl makes the TLS test's certificate; it is on Debian's base image, but make sure.
if ! command -v openssl >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq openssl
fi
# Independent host agents the end-to-end comparison test and the host_agents bench run beside
# the agent.
if ! command -v prometheus-node-exporter >/dev/null 2>&1 || ! command -v collectd >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus-node-exporter collectd-core
fi
# The dashboard's browser tests: Debian's chromium, driven by playwright-core from npm (which
# must never download a browser of its own).
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium
fi
if ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm
fi
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
if ! command -v cargo-nextest >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked --profile ci
cargo test --workspace --doc --locked
# Builds the .deb packages from one release build and checks them; the release build is most of
# its time (see README, "Packages").
./scripts/package-check.sh
