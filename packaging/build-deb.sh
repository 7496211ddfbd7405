#!/usr/bin/env bash
# Build the Debian package: the release binary, its manual pages and completions (generated from the
# binary itself), then `cargo deb` with the metadata in Cargo.toml. Prints the .deb's path.
#   packaging/build-deb.sh          (needs: cargo install cargo-deb)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || { echo "needs cargo-deb (cargo install cargo-deb)" >&2; exit 1; }
cargo build --release --locked
OUT=target/packaging
rm -rf "$OUT"; mkdir -p "$OUT/man" "$OUT/completions"
target/release/plainsight manpage --dir "$OUT/man"
gzip -9n "$OUT"/man/*.1
target/release/plainsight completions bash > "$OUT/completions/plainsight"
target/release/plainsight completions zsh > "$OUT/completions/_plainsight"
target/release/plainsight completions fish > "$OUT/completions/plainsight.fish"
cargo deb --no-build --locked "$@"
