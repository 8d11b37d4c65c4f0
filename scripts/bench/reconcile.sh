#!/usr/bin/env bash
# Reconcile with nothing drifted, at N ledger users with real bind mounts (local backend), side by side with an
# empty static Swift program. Runs inside a private mount namespace (called by scripts/bench.sh as
# `unshare -m --propagation private bash scripts/bench/reconcile.sh BIN EMPTY WORK N`).
# Prints "N median_ms p90_ms empty_median_ms rest_requests" and leaves hyperfine's JSON in WORK/reconcile-N.json.
set -euo pipefail
bin=$1 empty=$2 work=$3 n=$4
here=$(cd "$(dirname "$0")" && pwd)
sleep 3600 >/dev/null 2>&1 &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
rm -rf "$work/r$n"
python3 "$here/reconcile_setup.py" "$work/r$n" "$n" "$holder"
cfg="$work/r$n/pus-mount.toml"
# Nothing drifted: a first pass must report nothing and converge; --verbose would log any REST request.
out=$("$bin" --config "$cfg" --json --verbose reconcile 2>"$work/r$n/verbose.log")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["converged"] and not d["actions"] and d["users"]==int(sys.argv[2]) and d["mounts"]==int(sys.argv[2]), d' "$out" "$n"
rest=$(grep -c -E '^pus-mount: debug: (GET|PUT|HEAD|DELETE) ' "$work/r$n/verbose.log" || true)
hyperfine -N --warmup 3 --runs "${RUNS:-30}" --export-json "$work/reconcile-$n.json" \
  -n empty-static-swift "$empty" -n "reconcile-$n" "$bin --config $cfg reconcile" >/dev/null
python3 - "$work/reconcile-$n.json" "$n" "$rest" <<'PY'
import json, statistics, sys
r = {x["command"]: sorted(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
n = sys.argv[2]
t = r[f"reconcile-{n}"]
p90 = t[int(round(0.9 * (len(t) - 1)))]
print(n, f"{statistics.median(t)*1000:.1f}", f"{p90*1000:.1f}", f"{statistics.median(r['empty-static-swift'])*1000:.2f}", sys.argv[3])
PY
