#!/usr/bin/env bash
# Quick start, step 1: install libpcap if missing, build plainsight, analyse the bundled demo capture.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --release --locked --quiet
exec target/release/plainsight read "$@" captures/demo.pcap
