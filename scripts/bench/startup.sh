#!/usr/bin/env bash
# Start-up and request floors, side by side in one run each (issue 17, item 6; BENCHMARKS.md section 2c):
#  a. an empty static Swift program, the least-work program (scripts/bench/leastwork.swift: config, NSS, locks,
#     ledger and mountinfo read, durable ledger write) and pus-mount's warm attach (local backend, private mount
#     namespace), and the warm attach of each extra binary given (an older build, for a before/after);
#  b. provision of a known user (one List Shares) against the emulator vs the curl command line sending the same
#     request (pus-mount's URL, signed once by the Azure SDK's Shared Key policy) through the same libcurl.
# usage: scripts/bench/startup.sh [OLDER_PUS_MOUNT_BINARY...]   (as root; hyperfine, curl, the oracle venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
command -v curl >/dev/null || apt-get install -y curl >/dev/null
venv=${PUS_ORACLE_VENV:-.build-oracle-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q azure-storage-file-share==12.27.1 azure-core==1.41.0; }
swift build -c release --static-swift-stdlib --disable-local-rpath --product pus-mount >/dev/null
swift build -c release --static-swift-stdlib --disable-local-rpath --product azfiles-emulator >/dev/null
bin=$PWD/.build/release/pus-mount
emu=$PWD/.build/release/azfiles-emulator
work=$(mktemp -d /tmp/pus-startup.XXXXXX)
trap 'kill $(cat $work/emu.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
swiftc -O -static-stdlib scripts/bench/empty.swift -o "$work/empty" 2>/dev/null
swiftc -O -static-stdlib scripts/bench/leastwork.swift -o "$work/leastwork" 2>/dev/null
id -u pusu01 >/dev/null 2>&1 || useradd --no-create-home --no-user-group --uid 42001 --gid 100 pusu01

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
chmod 644 "$work/local.toml"

echo "== a. start-up: empty program, least-work program, warm attach =="
{
  echo "set -e"
  echo "$bin --config $work/local.toml attach pusu01 --session first >/dev/null"
  echo "mkdir -p $work/least && cp $work/lstate/ledger.json $work/least/ledger.json"
  printf 'hyperfine -N --warmup 5 --runs 300 --export-json %s' "$work/start.json"
  printf ' -n empty-static-swift %q' "$work/empty"
  printf ' -n least-work %q' "$work/leastwork $work/local.toml $work/least pusu01"
  printf ' -n warm-attach %q' "$bin --config $work/local.toml attach pusu01 --session bench"
  i=0
  for old in "$@"; do
    i=$((i + 1))
    printf ' -n warm-attach-older-%d %q' "$i" "$old --config $work/local.toml attach pusu01 --session older$i"
  done
  echo " >/dev/null"
} > "$work/start.sh"
unshare -m --propagation private bash "$work/start.sh"

echo "== b. provision of a known user vs curl, same emulator, same libcurl =="
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
chmod 644 "$work/azure.toml"
"$bin" --config "$work/azure.toml" provision pusu01 >/dev/null
: > "$work/emu.log"
"$bin" --config "$work/azure.toml" provision pusu01 >/dev/null
# The request a known user's provision sends, as the emulator logged it ("Operation METHOD path?query -> status").
[ "$(grep -ac ' -> ' "$work/emu.log")" = 1 ] || { echo "startup: expected one request per known-user provision" >&2; cat "$work/emu.log" >&2; exit 1; }
read -r _ method target _ < <(grep -a ' -> ' "$work/emu.log")
[ "$method" = GET ] || { echo "startup: a known user's provision sent $method, not GET" >&2; exit 1; }
url="http://127.0.0.1:$port$target"
"$venv/bin/python" - "$url" benchacct "$work/key" > "$work/curl.args" <<'PY'
import sys, datetime
from azure.core.pipeline import PipelineRequest, PipelineContext
from azure.core.pipeline.transport import HttpRequest
from azure.storage.fileshare._shared.authentication import SharedKeyCredentialPolicy
url, account, keyfile = sys.argv[1:]
key = open(keyfile).read().split()[0]
date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
req = HttpRequest("GET", url, headers={"x-ms-date": date, "x-ms-version": "2025-05-05"})
SharedKeyCredentialPolicy(account, key).on_request(PipelineRequest(req, PipelineContext(None)))
for k in ("x-ms-date", "x-ms-version", "Authorization"):
    print(f"-H\n{k}: {req.headers[k]}")
PY
mapfile -t hdrs < "$work/curl.args"
curl -sf -o /dev/null "${hdrs[@]}" "$url" || { echo "startup: the signed curl request was refused" >&2; exit 1; }
printf -v curlcmd '%q ' curl -sf -o /dev/null "${hdrs[@]}" "$url"
hyperfine -N --warmup 5 --runs 200 --export-json "$work/prov.json" \
  -n curl "$curlcmd" \
  -n pus-mount "$bin --config $work/azure.toml provision pusu01" >/dev/null

"$venv/bin/python" - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def load(name):
    return {r["command"]: sorted(r["times"]) for r in json.load(open(f"{work}/{name}.json"))["results"]}
ms = lambda s: f"{s * 1000:.2f} ms"
s = load("start")
e, l = statistics.median(s["empty-static-swift"]), statistics.median(s["least-work"])
for name, ts in s.items():
    m = statistics.median(ts)
    print(f"{name:24} median {ms(m)}  mean {ms(statistics.mean(ts))}  x empty {m / e:.2f}  x least-work {m / l:.2f}")
p = load("prov")
c, q = statistics.median(p["curl"]), statistics.median(p["pus-mount"])
print(f"provision of a known user: pus-mount median {ms(q)}, curl {ms(c)}: {q / c:.2f}x curl (goal <= 1.3x)")
PY
