#!/usr/bin/env bash
# Install the system packages plainsight needs, only those missing (Debian/Ubuntu, apt-get).
#   scripts/deps.sh          build and run: libpcap
#   scripts/deps.sh --test   also what the test suite drives: tcpdump, tmux, iproute2 (ip, ss), curl,
#                            python3, util-linux (setpriv), libcap2-bin (setcap: tests/hostile/privileges.rs),
#                            and the real servers and clients of tests/live.rs: pyftpdlib (FTP), redis-server
#                            and redis-cli, snmpd and snmpget, systemd (systemd-analyze verify: tests/deploy.rs).
#                            Under CI a test
#                            whose prerequisite is missing fails (tests/common::missing), so everything a test
#                            needs is listed here.
# Runs apt-get directly as root, through sudo otherwise. Idempotent and quiet when nothing is missing.
set -euo pipefail

pkgs=(libpcap-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    pkgs+=(tcpdump tmux iproute2 curl python3 openssl util-linux libcap2-bin python3-pyftpdlib redis-server redis-tools snmpd snmp systemd)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "plainsight: please install: ${missing[*]} (no apt-get on this system)" >&2
    exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then SUDO=(sudo); else
        echo "plainsight: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
    fi
fi
echo "plainsight: installing ${missing[*]}" >&2
# The test servers (redis-server, snmpd) are started by the tests themselves, in namespaces: keep
# Debian's maintainer scripts from starting them as system services (policy-rc.d exit 101), and
# remove that policy again afterwards when it was ours.
PRC=/usr/sbin/policy-rc.d
if [[ ! -e $PRC ]]; then
    "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $PRC && chmod 755 $PRC"
    trap '"${SUDO[@]}" rm -f "$PRC"' EXIT
fi
"${SUDO[@]}" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
