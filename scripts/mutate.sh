#!/usr/bin/env bash
# The mutation check (not in CI): see scripts/mutate.py and Tests/Mutants/mutants.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/mutate.py "$@"
