#!/usr/bin/env bash
# The test command (README): the style check, regenerate the SDK signing vectors, then swift test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "the tests mount file systems: run them as root" >&2; exit 77; }
# The house style (.swift-format, swift-format from the toolchain): any finding fails the run. Fix with
#   swift format format -i -r --parallel Sources Tests Package.swift
swift format lint --strict -r --parallel Sources Tests Package.swift
# Every mutant of the mutation check (TESTING.md) still finds its text exactly once.
python3 scripts/mutate.py --check-anchors
[ -n "${PUS_SKIP_DEPS:-}" ] || scripts/setup-deps.sh
venv=${PUS_ORACLE_VENV:-.build-oracle-venv}
if ! "$venv/bin/python" -c 'import azure.storage.fileshare, azure.storage.blob' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet azure-storage-file-share==12.27.1 azure-storage-blob==12.31.1 azure-core==1.41.0
fi
mkdir -p .build
"$venv/bin/python" Tests/Oracle/make_vectors.py .build/oracle-vectors.json
export PUS_ORACLE_VECTORS="$PWD/.build/oracle-vectors.json"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
export PUS_ORACLE_PYTHON="$venv/bin/python"
# Test users (NSS): pusu01..pusu50 (uids 42001..42050), pusulow (uid 999, below users.min_uid), pusupam.
for i in $(seq -w 1 50); do
  id -u "pusu$i" >/dev/null 2>&1 || useradd --no-create-home --no-user-group --uid "420$i" --gid 100 --shell /usr/sbin/nologin "pusu$i"
done
id -u pusulow >/dev/null 2>&1 || useradd --no-create-home --no-user-group --uid 999 --gid 100 --shell /usr/sbin/nologin pusulow
# The PAM module's tests plant a hostile ~/.pam_environment: a user with a home (replaced in each test's namespace).
id -u pusupam >/dev/null 2>&1 || useradd --create-home --no-user-group --uid 42099 --gid 100 --shell /bin/sh pusupam
swift build --build-tests
swift test --skip-build
# Real third-party clients against the emulator: rclone, the current and the legacy Python SDK, a name fuzz.
Tests/Clients/run.sh
