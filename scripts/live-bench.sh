#!/usr/bin/env bash
# Live throughput: replay a capture (tcpreplay) onto a veth pair in two private network namespaces while
# `plainsight live` analyses the other end, at increasing rates; print the drops at each rate.
#   sudo scripts/live-bench.sh [CAPTURE=target/bench/http-300.pcap] [RATES_MBPS="500 1000 2000 4000"]
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${1:-target/bench/http-300.pcap}
RATES=${2:-"500 1000 2000 4000"}
command -v tcpreplay >/dev/null || { echo "needs tcpreplay (apt-get install tcpreplay)" >&2; exit 1; }
[[ -f "$CAP" ]] || scripts/bench.sh >/dev/null
cargo build --release --quiet
PREFIX=psbench
source captures/gen/netns.sh
trap netns_down EXIT
netns_up
$S ip link set "$VS" mtu 9000; $C ip link set "$VC" mtu 9000
for rate in $RATES; do
    OUT=$(mktemp)
    $S target/release/plainsight live -i "$VS" --no-tui --user root --buffer-mib ${BUFFER_MIB:-128} --duration 600 >/dev/null 2>"$OUT" &
    LP=$!
    for _ in $(seq 50); do grep -q "capturing on" "$OUT" && break; sleep 0.1; done
    ACTUAL=$($C tcpreplay -i "$VC" --mbps "$rate" "$CAP" 2>&1 | grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps' | grep -o '[0-9.]* Mbps' || true)
    sleep 1
    kill -INT $LP; wait $LP || true
    echo "asked $rate Mbit/s, replayed at ${ACTUAL:-?}: $(grep 'packets captured' "$OUT" | sed 's/^plainsight: //')"
    rm -f "$OUT"
done
