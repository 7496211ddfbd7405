# Shared by the service generators (gen_services.sh, gen_more.sh, gen_more_b.sh, gen_h2.sh): waiting for a
# server, running clients that must succeed or fail, recording a scenario with tcpdump and writing its
# truth file. Sourced after netns.sh; uses the caller's $C, $S, $VS, $WORK and $OUT when called.
#   WAIT_TRIES     how many 0.05 s tries wait_tcp makes by default (200)
#   RECORD_FILTER  tcpdump's filter for record (tcp or udp)
#   PY             the python that normalises truth files (python3)

wait_tcp() { # port [tries of 0.05 s]
    for _ in $(seq 1 "${2:-${WAIT_TRIES:-200}}"); do
        $C bash -c "exec 3<>/dev/tcp/10.77.0.2/$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on 10.77.0.2:$1" >&2; return 1
}
ok() { "$@" >>"$WORK/clients.log" 2>&1 || { echo "expected success: $*" >&2; tail -20 "$WORK/clients.log" >&2; exit 1; }; }
ko() { if "$@" >>"$WORK/clients.log" 2>&1; then echo "expected failure: $*" >&2; exit 1; fi; }

record() { # name: runs scenario_NAME under tcpdump, writes $OUT/NAME.pcap
    local name=$1
    rm -f "$WORK/cap.pcap"
    $S tcpdump -i "$VS" -s 0 -U -w "$WORK/cap.pcap" "${RECORD_FILTER:-tcp or udp}" 2>/dev/null &
    local tp=$!
    sleep 1
    "scenario_$name"
    sleep 1
    kill -INT $tp; wait $tp 2>/dev/null || true
    cp "$WORK/cap.pcap" "$OUT/$name.pcap"
    chmod 644 "$OUT/$name.pcap"
    echo "$name.pcap: $(stat -c %s "$OUT/$name.pcap") bytes" >&2
}

truth() { # name; JSON on stdin -> captures/NAME.truth.json (normalised)
    cat >"$WORK/truth.json"
    "${PY:-python3}" - "$WORK/truth.json" "$OUT/$1.truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    json.dump(t, f, indent=1)
    f.write("\n")
PY
    chmod 644 "$OUT/$1.truth.json"
}
