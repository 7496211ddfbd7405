#!/usr/bin/env bash
# Live throughput: replay a capture (tcpreplay) onto a veth pair in two private network namespaces while
# `plainsight live` analyses the other end, at increasing rates, with 1 and then 2 fanout workers; print
# the drops at each rate and, per worker count, the highest rate at which nothing was dropped (kernel,
# interface or analysis).
#   sudo scripts/live-bench.sh [CAPTURE=target/bench/http-300.pcap] [RATES_MBPS="250 500 1000 2000 4000"]
#   FANOUTS="1 2" (worker counts to measure), BUFFER_MIB=128 (kernel ring per handle), LOOPS=1 (tcpreplay -l)
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${1:-target/bench/http-300.pcap}
RATES=${2:-"250 500 1000 2000 4000"}
FANOUTS=${FANOUTS:-"1 2"}
command -v tcpreplay >/dev/null || { echo "needs tcpreplay (apt-get install tcpreplay)" >&2; exit 1; }
cargo build --release --quiet
if [[ ! -f "$CAP" ]]; then
    # The capture scripts/bench.sh uses (generated once, with ground truth), without the offline timings.
    cargo build --release --quiet --example gen_capture
    mkdir -p "$(dirname "$CAP")"
    target/release/examples/gen_capture http "$CAP" 300 6400
fi
PREFIX=psbench
source captures/gen/netns.sh
trap netns_down EXIT
netns_up
$S ip link set "$VS" mtu 9000; $C ip link set "$VC" mtu 9000
for fanout in $FANOUTS; do
    best=0
    for rate in $RATES; do
        OUT=$(mktemp)
        $S target/release/plainsight live -i "$VS" --no-tui --user root --fanout "$fanout" --stats \
            --buffer-mib "${BUFFER_MIB:-128}" --duration 600 >/dev/null 2>"$OUT" &
        LP=$!
        for _ in $(seq 100); do grep -q "capturing on" "$OUT" && break; sleep 0.1; done
        ACTUAL=$($C tcpreplay -i "$VC" -l "${LOOPS:-1}" --mbps "$rate" "$CAP" 2>&1 | grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps' | grep -o '[0-9.]* Mbps' || true)
        sleep 1
        kill -INT $LP; wait $LP || true
        SUMMARY=$(grep 'packets captured' "$OUT" | head -1 | sed 's/^plainsight: //')
        # "N packets captured, K dropped by the kernel, I by the interface, A by analysis; ..."
        DROPS=$(echo "$SUMMARY" | awk -F'[ ,;]+' '{print $4 + $9 + $13}')
        echo "fanout $fanout: asked $rate Mbit/s, replayed at ${ACTUAL:-?}: $SUMMARY"
        grep '^  worker' "$OUT" | sed 's/^ */    /' || true
        if [[ "$DROPS" == 0 ]]; then best=$rate; fi
        rm -f "$OUT"
    done
    echo "fanout $fanout: no drop up to $best Mbit/s asked (of: $RATES)"
done
