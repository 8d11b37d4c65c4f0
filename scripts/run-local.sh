#!/usr/bin/env bash
# The main job on the local backend (the embedded default: no config file needed): install the Debian
# packages, build the binary operators deploy (release, Swift runtime linked statically, no RUNPATH; the
# same one scripts/package-deb.sh packages), and attach USER's storage at /mnt/pus/USER.
# usage (as root, from the repository): scripts/run-local.sh [USER]   (default: a demo user, created if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run-local: pus-mount mounts file systems: run this as root" >&2; exit 77; }
command -v swift >/dev/null || { echo "run-local: no swift on PATH: install a Swift 6.2 or later toolchain (swift.org) and put its usr/bin on PATH" >&2; exit 69; }
scripts/setup-deps.sh >/dev/null
user=${1:-pusdemo}
if [ $# -eq 0 ] && ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
fi
release="-c release --static-swift-stdlib --disable-local-rpath"
swift build $release --product pus-mount
bin="$(swift build $release --show-bin-path)/pus-mount"
"$bin" attach "$user"
"$bin" status "$user"
echo "built $bin ($(du -h "$bin" | cut -f1); no Swift library linked: copy it to nodes, or build the package: scripts/package-deb.sh)"
echo "detach with: $bin detach $user"
