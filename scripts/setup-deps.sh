#!/usr/bin/env bash
# Installs what building, running and testing pus-mount needs on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  libmount-dev libcurl4-openssl-dev libssl-dev pkg-config \
  cifs-utils util-linux mount ca-certificates python3 python3-venv time \
  gcc make libc6-dev libpam0g-dev pamtester
