#!/usr/bin/env bash
# Training lab: watch a token being stolen from the wire. Needs root (network namespaces).
#
#   lab/run.sh            victim uses plain HTTP and FTP: plainsight shows every password and token, live
#   lab/run.sh --https    the same victim over HTTPS and FTP over TLS: plainsight sees only TLS
#   lab/run.sh --clean    remove what a killed lab left behind (namespaces, key material), and say what
#   lab/run.sh --help     this text
#   lab/run.sh --fixed    the same victim while the seed's fixes are turned on one by one (tokens out of
#                         URLs, Secure cookies, FTP over TLS, HTTP -> HTTPS redirect, HSTS), each for a
#                         step (12 s, or a sixth of --duration); after each, what still crossed in clear
#                         and what is gone. After the last, nothing leaks.
#   lab/run.sh --no-tui --duration N [--https|--fixed]   the same as lines, for N seconds (scripted, tests)
#   Other arguments go to plainsight (e.g. --alerts FILE).
#
# The lab's attacker (lab/attacker.py, in the victim's namespace) replays each newly stolen token or
# session cookie once against the shop and prints what came back (`replay <kind> <user> -> HTTP
# <status>: ...`). With the terminal UI, the lab runs in tmux (installed if missing): plainsight's
# screen on top, the attacker's replays in a pane below it as they happen (inside a tmux session
# already, the current window is split); they are printed again when the UI is quit. Over --https
# there is nothing to replay, and the lab says so.
#
# A private network in two namespaces joined by a veth pair (nothing leaves the machine): the shop
# (lab/shop.py, issues a JWT at login) and its FTP server for order reports (lab/ftpd.py, pyftpdlib)
# on 10.77.0.2, the victim (lab/victim.py) on 10.77.0.1, and
# plainsight's terminal UI sniffing the link with --reveal, so students see the secrets in full.
# Quit the UI with q; everything is torn down on exit.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PREFIX=pslab
source "$ROOT/captures/gen/netns.sh"
case "${1:-}" in
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --clean)
        if [[ $(id -u) -ne 0 ]]; then exec sudo "$0" "$@"; fi
        removed=()
        for ns in "$SRV" "$CLI"; do
            ip netns list 2>/dev/null | grep -qw "$ns" && removed+=("network namespace $ns")
        done
        netns_down
        # A killed run leaves its temporary directory (the TLS key among others) behind.
        for d in /tmp/plainsight-lab.*; do
            [[ -d $d ]] || continue
            rm -rf "$d" && removed+=("temporary files and key material $d")
        done
        if ((${#removed[@]} == 0)); then echo "lab: nothing to remove"; else printf 'lab: removed %s\n' "${removed[@]}"; fi
        exit 0
        ;;
esac
if [[ $(id -u) -ne 0 ]]; then exec sudo "$0" "$@"; fi
# The UI's run lives in tmux, so the attacker's replays can be on screen beside the sniffer's: outside
# tmux, the lab restarts itself inside a new session (closed when the lab ends).
if [[ " $* " != *" --no-tui "* && -z ${TMUX:-} && -t 1 ]]; then
    command -v tmux >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null 2>&1 || true
    if command -v tmux >/dev/null; then
        quoted="$(printf '%q ' "$0" "$@")"
        exec tmux new-session -s "plainsight-lab-$$" "$quoted; echo; read -r -p 'lab over: Enter closes this window ' _"
    fi
fi
MODE=http; FIXED=0; TUI=1; DURATION=""; ALERTS=""; EXTRA=()
while (($#)); do
    case "$1" in
        --https) MODE=https ;;
        --fixed) FIXED=1 ;;
        http) ;;
        --no-tui) TUI=0 ;;
        --duration) DURATION="$2"; shift ;;
        --alerts) ALERTS="$2"; shift ;;
        *) EXTRA+=("$1") ;;
    esac
    shift
done

"$ROOT/captures/gen/setup.sh"
"$ROOT/scripts/deps.sh"
# The FTP server and FTP over TLS: Debian's pyftpdlib and pyOpenSSL, run with Debian's python3.
source "$ROOT/captures/gen/packages.sh"
install_missing python3-pyftpdlib python3-openssl
# PLAINSIGHT_BIN: a binary already built (the tests pass theirs); otherwise the release build.
BIN="${PLAINSIGHT_BIN:-$ROOT/target/release/plainsight}"
[[ -x "$BIN" ]] || (cd "$ROOT" && cargo build --release --quiet)

WORK="$(mktemp -d /tmp/plainsight-lab.XXXXXX)"
REPLAY_PANE=""
NARRATOR=""
trap 'if [[ -n $REPLAY_PANE ]]; then tmux kill-pane -t "$REPLAY_PANE" 2>/dev/null || true; fi; [[ -z $NARRATOR ]] || kill "$NARRATOR" 2>/dev/null || true; netns_down; rm -rf "$WORK"' EXIT
netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=shop.lab" -addext "subjectAltName=DNS:shop.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
echo "10.77.0.2 shop.lab" > "$WORK/hosts"
# --fixed: the fixes in force, a word each in this file, which lab/fixes.py fills one step at a time; the
# shop and its FTP server read it at every request and connection.
FIXES_FILE="$WORK/fixes"; : > "$FIXES_FILE"
SHOP_FIX=(); ((FIXED)) && SHOP_FIX=(--fixes-file "$FIXES_FILE")
$S python3 "$HERE/shop.py" --host 10.77.0.2 --port 80 "${SHOP_FIX[@]}" >/dev/null 2>&1 &
$S python3 "$HERE/shop.py" --host 10.77.0.2 --port 443 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" "${SHOP_FIX[@]}" >/dev/null 2>&1 &
if ((FIXED)); then
    $S /usr/bin/python3 "$HERE/ftpd.py" --host 10.77.0.2 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --fixes-file "$FIXES_FILE" >/dev/null 2>&1 &
elif [[ $MODE == https ]]; then
    $S /usr/bin/python3 "$HERE/ftpd.py" --host 10.77.0.2 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" >/dev/null 2>&1 &
else
    $S /usr/bin/python3 "$HERE/ftpd.py" --host 10.77.0.2 >/dev/null 2>&1 &
fi
wait_http http://10.77.0.2/ready
# The victim resolves shop.lab through its own hosts file (a mount namespace of its own). It starts
# two seconds after the sniffer below, so the class sees its very first login.
(sleep 2; exec $C unshare -m sh -c "mount --bind '$WORK/hosts' /etc/hosts && exec python3 '$HERE/victim.py' '$MODE://shop.lab'") 2>/dev/null &
VICTIM=$!
# The attacker reads what plainsight steals (the alert file, secrets in full) and replays it; its lines
# go to a file, and to the terminal too when there is no UI on it.
ALERTS="${ALERTS:-$WORK/alerts.jsonl}"
REPLAYS="$WORK/replays.txt"; : > "$REPLAYS"
ONCE=(); ((FIXED)) && ONCE=(--once-per-kind)
if ((TUI)); then
    $C python3 "$HERE/attacker.py" "$ALERTS" 10.77.0.2 shop.lab "${ONCE[@]}" >> "$REPLAYS" 2>/dev/null &
else
    ($C python3 "$HERE/attacker.py" "$ALERTS" 10.77.0.2 shop.lab "${ONCE[@]}" | tee -a "$REPLAYS") 2>/dev/null &
fi
ATTACKER=$!
# --fixed: the fixes one by one, and after each what plainsight still saw in clear (in the same pane or
# lines as the replays). A step lasts 12 s, or with --duration D, what lets six steps end before the capture.
if ((FIXED)); then
    STEP=12
    [[ -n $DURATION ]] && STEP=$(((DURATION - 3) / 6 - 2)) && ((STEP < 6)) && STEP=6 &&
        echo "lab: --fixed has six steps of 6 s at least: --duration 51 or more shows them all" >&2
    # With --duration, the capture's end (it starts right after this): a step it cuts short gets no summary.
    END=(); [[ -z $DURATION ]] || END=("$(($(date +%s) + DURATION))")
    if ((TUI)); then
        python3 "$HERE/fixes.py" "$ALERTS" "$FIXES_FILE" "$STEP" "${END[@]}" >> "$REPLAYS" 2>/dev/null &
    else
        python3 "$HERE/fixes.py" "$ALERTS" "$FIXES_FILE" "$STEP" "${END[@]}" > >(tee -a "$REPLAYS") 2>/dev/null &
    fi
    NARRATOR=$!
fi
# In tmux, the attacker's replays get a pane of their own below the UI, for the whole run.
if ((TUI)) && [[ -n ${TMUX:-} ]] && command -v tmux >/dev/null; then
    PANE_LINES=6; PANE_TITLE="The attacker (same LAN) replays what plainsight shows:"
    ((FIXED)) && PANE_LINES=10 && PANE_TITLE="The fixes one by one, and what the attacker replays:"
    REPLAY_PANE="$(tmux split-window -v -d -l "$PANE_LINES" -P -F '#{pane_id}' \
        "echo '$PANE_TITLE'; exec tail -n +1 -f '$REPLAYS'" 2>/dev/null)" || REPLAY_PANE=""
fi
# plainsight in the server's namespace, on the shop's side of the link.
ARGS=(live -i "$VS" --reveal --user root -f 'tcp port 80 or tcp port 443 or tcp port 21' --alerts "$ALERTS")
# --sensor: a leak seen again is written again (an update event), so each step of --fixed sees it.
((FIXED)) && ARGS+=(--sensor shop-lab)
((TUI)) || ARGS+=(--no-tui)
[[ -n $DURATION ]] && ARGS+=(--duration "$DURATION")
$S "$BIN" "${ARGS[@]}" "${EXTRA[@]}" || true
sleep 0.5
# The attacker's last replays are in; stop it quietly (no job notice on the class's terminal).
ip netns pids "$CLI" 2>/dev/null | xargs -r kill 2>/dev/null || true
wait "$ATTACKER" "$VICTIM" 2>/dev/null || true
if [[ -n $NARRATOR ]]; then
    # Without the UI, its last step ends with the capture (5 s more at most); quitting the UI cuts it short.
    if ((!TUI)); then
        for _ in $(seq 50); do kill -0 "$NARRATOR" 2>/dev/null || break; sleep 0.1; done
    fi
    kill "$NARRATOR" 2>/dev/null || true
    wait "$NARRATOR" 2>/dev/null || true
    NARRATOR=""
fi
if [[ -n $REPLAY_PANE ]]; then tmux kill-pane -t "$REPLAY_PANE" 2>/dev/null || true; REPLAY_PANE=""; fi
if ((TUI)) && [[ -s $REPLAYS ]]; then
    echo; if ((FIXED)); then echo "What the attacker replayed, and the fixes one by one:"; else echo "What the attacker replayed:"; fi
    cat "$REPLAYS"
fi
if ! grep -qs '^replay ' "$REPLAYS"; then
    if [[ $MODE == https ]] || ((FIXED)); then
        echo "replay: nothing to replay: every credential crossed inside TLS"
    else
        echo "replay: nothing stolen yet to replay"
    fi
fi
