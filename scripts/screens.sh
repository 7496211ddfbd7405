#!/usr/bin/env bash
# The terminal UI's views as text, for README: `scripts/screens.sh [COLSxROWS] [CAPTURE]` runs
# `plainsight read --tui` on a bundled capture in a detached tmux of that size (80x24 by default) and
# prints each view: leaks, detail, follow stream, hosts, story, help. Redacted, as a user sees them.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SIZE="${1:-80x24}"; CAPTURE="${2:-captures/demo.pcap}"
BIN="${PLAINSIGHT_BIN:-$ROOT/target/release/plainsight}"
[[ -x $BIN ]] || (cd "$ROOT" && cargo build --release --quiet)
command -v tmux >/dev/null || { echo "screens.sh needs tmux (scripts/deps.sh --test installs it)" >&2; exit 2; }
S="plainsight-screens-$$"
# A tmux server of its own: nothing of the user's sessions is touched.
tmux() { command tmux -L "$S" "$@"; }
trap 'tmux kill-server 2>/dev/null || true' EXIT
tmux new-session -d -s "$S" -x "${SIZE%x*}" -y "${SIZE#*x}" "cd '$ROOT' && '$BIN' read --tui '$CAPTURE'; sleep 60"
for _ in $(seq 50); do tmux capture-pane -p -t "$S" | grep -q FINISHED && break; sleep 0.1; done
shot() { echo "### $1"; echo; echo '```'; tmux capture-pane -p -t "$S" | sed -e 's/[[:space:]]*$//'; echo '```'; echo; }
key() { tmux send-keys -t "$S" "$@"; sleep 0.4; }
shot "Leaks"
key Enter; shot "Detail (Enter)"
key f; shot "Follow stream (f)"
key Escape Escape Tab; shot "Hosts (Tab)"
key Tab; shot "Story (Tab again)"
key Tab '?'; shot "Help (?)"
