#!/usr/bin/env bash
# Run every fuzz target for SECS seconds each (default 600), one after the other.
#   scripts/fuzz.sh [SECS] [target...]
# Needs cargo-fuzz (cargo install cargo-fuzz). On a stable toolchain, RUSTC_BOOTSTRAP=1 lets cargo-fuzz
# use the sanitizer flags it needs. Crashes land in fuzz/artifacts/<target>/; each one found becomes a
# named regression test (tests/regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-600}; shift || true
TARGETS=("$@"); [[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(decode capture_file reassembly http ws detect pipeline proto)
export RUSTC_BOOTSTRAP=1
# The whole-engine target starts from the bundled captures (HTTP and the other protocols).
python3 ../scripts/fuzz-seeds.py >/dev/null
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${SECS}s"
    cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 2>&1 | grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs|SUMMARY|ERROR|panicked|crash-" || true
done
