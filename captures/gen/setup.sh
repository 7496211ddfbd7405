#!/usr/bin/env bash
# Install what the capture generator and the training lab drive (Debian/Ubuntu), only what is missing.
set -euo pipefail
need=()
for p in iproute2 tcpdump curl python3 openssl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
[[ ${#need[@]} -eq 0 ]] && exit 0
SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
