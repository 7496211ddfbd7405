#!/usr/bin/env bash
# Quick start, step 2 (and CI): install what the tests drive if missing, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
cargo test --locked --workspace --all-targets "$@"
