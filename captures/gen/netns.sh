# Shared by the capture generator and the training lab: two network namespaces joined by a veth pair.
#   client namespace $CLI: 10.77.0.1/24, fd77::1/64 on $VC
#   server namespace $SRV: 10.77.0.2/24, fd77::2/64 on $VS
# Nothing leaves these namespaces: they have no route anywhere else.
PREFIX=${PREFIX:-psg}
SRV="${PREFIX}-srv"; CLI="${PREFIX}-cli"; VS="${PREFIX}-vs"; VC="${PREFIX}-vc"
C="ip netns exec $CLI"
S="ip netns exec $SRV"

netns_up() {
    netns_down
    ip netns add "$SRV"; ip netns add "$CLI"
    ip link add "$VS" type veth peer name "$VC"
    ip link set "$VS" netns "$SRV"; ip link set "$VC" netns "$CLI"
    ip -n "$SRV" addr add 10.77.0.2/24 dev "$VS"; ip -n "$CLI" addr add 10.77.0.1/24 dev "$VC"
    ip -n "$SRV" addr add fd77::2/64 dev "$VS" nodad; ip -n "$CLI" addr add fd77::1/64 dev "$VC" nodad
    for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
    ip -n "$SRV" link set "$VS" up; ip -n "$CLI" link set "$VC" up
    # Checksums are filled by nobody on a veth: have the stack compute them, so captures look real.
    $S ethtool -K "$VS" tx off >/dev/null 2>&1 || true
    $C ethtool -K "$VC" tx off >/dev/null 2>&1 || true
}

netns_drain() { # every process in both namespaces stopped and waited for (10 s at most): nothing still
                # runs from a temporary directory when the caller removes it
    local ns pids
    for ns in "$SRV" "$CLI"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; done
    for _ in $(seq 1 100); do
        pids="$(ip netns pids "$SRV" 2>/dev/null)$(ip netns pids "$CLI" 2>/dev/null)"
        [[ -z $pids ]] && return 0
        sleep 0.1
    done
}

netns_down() {
    ip netns pids "$SRV" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$CLI" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
}

wait_http() { # url [curl args]
    for _ in $(seq 1 100); do $C curl -s -o /dev/null "$@" && return 0; sleep 0.05; done
    echo "server did not come up: $*" >&2; return 1
}
