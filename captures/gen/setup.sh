#!/usr/bin/env bash
# Install what the capture generator and the training lab drive (Debian/Ubuntu), only what is missing.
set -euo pipefail
source "$(dirname "$0")/packages.sh"
install_missing iproute2 tcpdump curl python3 openssl
