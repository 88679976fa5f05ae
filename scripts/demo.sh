#!/usr/bin/env bash
# Build everything and run the demo: a collector on the embedded store plus an agent shipping
# this host's metrics to it. Extra arguments go to `hostwatch demo` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bins
exec target/release/hostwatch demo "$@"
