#!/usr/bin/env bash
# Benchmarks, side by side in one run (these machines are noisy): prints figures and ratios for BENCHMARKS.md.
#  1. provision of an existing user: pus-mount vs the Azure SDK doing the same create-if-missing, whole
#     process, against the same emulator; REST requests per provision.
#  2. warm attach (mounted user, new lease) of the static release build vs an empty static Swift program.
#  3. the 200-process storm with and without the mount step (libmount fake mode skips mount(2)).
#  4. reconcile with nothing drifted at 1,000 and 10,000 ledger users (real bind mounts, a live lease each),
#     next to the empty static program; REST requests sent.
# usage: scripts/bench.sh      (as root; needs hyperfine and the oracle venv; Tests/run.sh creates the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
scripts/setup-deps.sh >/dev/null
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
venv=${PUS_ORACLE_VENV:-.build-oracle-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q azure-storage-file-share==12.27.1 azure-core==1.41.0; }
swift build -c release --static-swift-stdlib --disable-local-rpath --product pus-mount >/dev/null
swift build -c release --static-swift-stdlib --disable-local-rpath --product azfiles-emulator >/dev/null
bin=$PWD/.build/release/pus-mount
emu=$PWD/.build/release/azfiles-emulator
work=$(mktemp -d /tmp/pus-bench.XXXXXX)
trap 'kill $(cat $work/emu.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
swiftc -O -static-stdlib scripts/bench/empty.swift -o "$work/empty" 2>/dev/null
id -u pusu01 >/dev/null 2>&1 || useradd --no-create-home --no-user-group --uid 42001 --gid 100 pusu01
for i in $(seq -w 1 50); do id -u "pusu$i" >/dev/null 2>&1 || useradd --no-create-home --no-user-group --uid "420$i" --gid 100 "pusu$i"; done

key=$(head -c 64 /dev/urandom | base64 -w0)
echo "benchacct=$key" > "$work/accounts"; chmod 600 "$work/accounts"
echo "$key" > "$work/key"; chmod 600 "$work/key"
"$emu" --listen 127.0.0.1:0 --data "$work/data" --accounts-file "$work/accounts" --log > "$work/emu.out" 2> "$work/emu.log" &
echo $! > "$work/emu.pid"
for _ in $(seq 100); do grep -q listening "$work/emu.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/emu.out")
cat > "$work/azure.toml" <<TOML
backend = "azure"
[[azure.accounts]]
name = "benchacct"
key_file = "$work/key"
file_endpoint = "http://127.0.0.1:$port/benchacct"
[paths]
state_dir = "$work/state"
credentials_dir = "$work/creds"
audit_log = "$work/audit.jsonl"
TOML
cat > "$work/local.toml" <<TOML
backend = "local"
[local]
root = "$work/local"
[mount]
root = "$work/mnt"
[paths]
state_dir = "$work/lstate"
credentials_dir = "$work/lcreds"
audit_log = "$work/laudit.jsonl"
TOML
chmod 644 "$work"/*.toml

echo "== 1. provision, existing user (emulator on loopback, whole process) =="
new=$("$bin" --config "$work/azure.toml" --json provision pusu01)
share=$(printf %s "$new" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["share"])')
echo "new user:      $(printf %s "$new" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["rest_requests"])') REST request(s)"
echo "existing user: $("$bin" --config "$work/azure.toml" --json provision pusu01 | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["rest_requests"])') REST request(s)"
before=$(wc -l < "$work/emu.log")
"$venv/bin/python" scripts/bench/sdk_provision.py "http://127.0.0.1:$port/benchacct" benchacct "$work/key" "$share" pusu01
echo "SDK existing:  $(( $(wc -l < "$work/emu.log") - before )) REST request(s)"
hyperfine -N --warmup 3 --runs 40 --export-json "$work/prov.json" \
  -n pus-mount "$bin --config $work/azure.toml provision pusu01" \
  -n azure-sdk "$venv/bin/python scripts/bench/sdk_provision.py http://127.0.0.1:$port/benchacct benchacct $work/key $share pusu01" >/dev/null

echo "== 2. warm attach (static release build, local backend, private mount namespace) =="
unshare -m --propagation private "$bin" --config "$work/local.toml" attach pusu01 --session cold >/dev/null
cat > "$work/warm.sh" <<SH
set -e
$bin --config $work/local.toml attach pusu01 --session first >/dev/null
hyperfine -N --warmup 5 --runs 300 --export-json $work/warm.json \
  -n empty-static-swift "$work/empty" \
  -n warm-attach "$bin --config $work/local.toml attach pusu01 --session bench" \
  -n version "$bin version" >/dev/null
SH
unshare -m --propagation private bash "$work/warm.sh"

echo "== 3. storm: 200 processes, 50 users (100 attach+detach, 100 attach) =="
storm() {  # $1: extra flag ("" or --fake-mount)
  rm -rf "$work/lstate" "$work/mnt" "$work/local"
  local s=""
  for i in $(seq 0 199); do
    if [ "$i" -lt 100 ]; then u=$(printf pusu%02d $((i % 50 + 1)))
      s+="( $bin --config $work/local.toml attach $u --session c$i $1 >/dev/null && $bin --config $work/local.toml detach $u --session c$i $1 >/dev/null ) &"$'\n'
    else u=$(printf pusu%02d $((i % 25 + 1)))
      s+="( $bin --config $work/local.toml attach $u --session k$i $1 >/dev/null ) &"$'\n'
    fi
  done
  s+="wait"
  local t0 t1
  t0=$(date +%s.%N); unshare -m --propagation private bash -c "$s"; t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}
with_mount=$(storm "")
without_mount=$(storm "--fake-mount")

echo "== 4. reconcile, nothing drifted, 1,000 and 10,000 users (local backend, real bind mounts) =="
recon=""
for n in 1000 10000; do
  recon+="$(unshare -m --propagation private bash scripts/bench/reconcile.sh "$bin" "$work/empty" "$work" "$n")"$'\n'
done

PUS_BENCH_BIN="$bin" "$venv/bin/python" - "$work" "$with_mount" "$without_mount" "$recon" <<'PY'
import json, statistics, sys
work, with_mount, without_mount = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def load(name):
    return {r["command"]: sorted(r["times"]) for r in json.load(open(f"{work}/{name}.json"))["results"]}
def p(ts, q): return ts[min(len(ts) - 1, int(round(q * (len(ts) - 1))))]
ms = lambda s: f"{s * 1000:.2f} ms"
prov = load("prov")
a, b = statistics.median(prov["pus-mount"]), statistics.median(prov["azure-sdk"])
print(f"provision (existing user), median of {len(prov['pus-mount'])}: pus-mount {ms(a)}, azure-sdk {ms(b)}, ratio sdk/pus-mount {b / a:.1f}x")
warm = load("warm")
e, w, v = warm["empty-static-swift"], warm["warm-attach"], warm["version"]
print(f"empty static Swift program: median {ms(statistics.median(e))}, p99 {ms(p(e, .99))}")
print(f"pus-mount version:          median {ms(statistics.median(v))}, p99 {ms(p(v, .99))}")
print(f"warm attach:                median {ms(statistics.median(w))}, p99 {ms(p(w, .99))}; "
      f"median ratio to empty {statistics.median(w) / statistics.median(e):.2f}x (target <= 2.5x)")
import os, subprocess, tempfile
binp = os.environ["PUS_BENCH_BIN"]
with tempfile.TemporaryDirectory() as d:
    subprocess.run(["strip", "--strip-unneeded", "-o", f"{d}/s", binp], check=True)
    stripped = os.path.getsize(f"{d}/s")
libs = [l.split()[0] for l in subprocess.run(["ldd", binp], capture_output=True, text=True).stdout.splitlines() if "=>" in l]
print(f"binary: {os.path.getsize(binp) / 1e6:.1f} MB as built, {stripped / 1e6:.1f} MB stripped (the package's; goal < 25 MB); "
      f"links {', '.join(libs)}")
print(f"storm (200 processes, 300 runs): with mount {with_mount:.2f} s, without mount step {without_mount:.2f} s")
rows = [l.split() for l in sys.argv[4].strip().splitlines()]
for n, med, p90, empty, rest in rows:
    print(f"reconcile, {int(n):>6,} users, nothing drifted: median {med} ms, p90 {p90} ms, {rest} REST requests; "
          f"empty program {empty} ms; {float(med) / float(empty):.0f}x; {float(med) * 1000 / int(n):.1f} us per user")
if len(rows) == 2:
    (n1, m1, *_), (n2, m2, *_) = rows
    print(f"reconcile growth {int(n1):,} -> {int(n2):,} users: x{float(m2) / float(m1):.1f} for x{int(n2) // int(n1)} users (goal: 10,000 under 200 ms)")
PY
