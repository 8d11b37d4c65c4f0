#!/usr/bin/env bash
# The test command (README): regenerate the SDK signing vectors, then swift test.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PUS_ORACLE_VENV:-.build-oracle-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet azure-storage-file-share==12.27.1 azure-core==1.41.0
fi
mkdir -p .build
"$venv/bin/python" Tests/Oracle/make_vectors.py .build/oracle-vectors.json
export PUS_ORACLE_VECTORS="$PWD/.build/oracle-vectors.json"
export PUS_ORACLE_PYTHON="$PWD/$venv/bin/python"
swift build --build-tests
swift test --skip-build
