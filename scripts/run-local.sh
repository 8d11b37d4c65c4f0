#!/usr/bin/env bash
# The main job on the local backend (the embedded default: no config file needed):
# install dependencies, build, and attach USER's storage at /mnt/pus/USER.
# usage: sudo scripts/run-local.sh [USER]   (default: a demo user, created if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0 $*" >&2; exit 77; }
scripts/setup-deps.sh >/dev/null
user=${1:-pusdemo}
if [ $# -eq 0 ] && ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
fi
swift build -c release --product pus-mount
bin=.build/release/pus-mount
"$bin" attach "$user"
"$bin" status "$user"
echo "detach with: sudo $bin detach $user"
