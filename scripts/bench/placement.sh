#!/usr/bin/env bash
# Capacity-aware placement at scale (issue 19): three accounts on the emulator holding 10,000 users' shares
# between them (acca 5,000 of max_shares 5,000: full; accb 4,990 of 5,000; accc 10 of 100,000), weights making
# the full account the first choice of most users. Then `pus-mount provision` of new users one run each: REST
# requests per new user and time, beside the same provision with no caps configured. BENCHMARKS.md section 7.
# usage: scripts/bench/placement.sh [USERS]   (default 10 new users: pusu01..; needs Tests/run.sh's test users)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
bin=$(swift build -c release --show-bin-path)
[ -x "$bin/pus-mount" ] && [ -x "$bin/azfiles-emulator" ] || { echo "swift build -c release first" >&2; exit 69; }
work=$(mktemp -d /var/tmp/pus-bench-placement.XXXXXX)
emu_pid=
cleanup() { [ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
: > "$work/accounts"
for a in acca accb accc; do
  head -c 64 /dev/urandom | base64 -w0 > "$work/$a.key"
  printf '%s=%s\n' "$a" "$(cat "$work/$a.key")" >> "$work/accounts"
done
chmod 600 "$work"/*.key "$work/accounts"
# 10,000 existing users' shares, written straight into the emulator's data directory.
python3 - "$work/data" <<'EOF'
import json, os, sys
data = sys.argv[1]
for account, count in (("acca", 5000), ("accb", 4990), ("accc", 10)):
    meta = os.path.join(data, account, ".emulator", "shares")
    os.makedirs(meta, exist_ok=True)
    for i in range(count):
        name = "pus-old%05d-%s" % (i, account)
        os.makedirs(os.path.join(data, account, name))
        with open(os.path.join(meta, name + ".json"), "w") as f:
            json.dump({"quota": 100, "metadata": [["pus_user", "old%05d" % i]], "etag": "\"0x1\"", "lastModified": 0}, f)
EOF
"$bin/azfiles-emulator" --listen 127.0.0.1:0 --data "$work/data" --accounts-file "$work/accounts" \
  > "$work/emu.out" 2>/dev/null &
emu_pid=$!
for _ in $(seq 100); do grep -q listening "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/emu.out")
config() {  # file (CAPS=yes|no in the environment)
  local file=$1
  {
    echo 'backend = "azure"'
    for a in "acca 1000 5000" "accb 10 5000" "accc 1 100000"; do
      set -- $a
      printf '[[azure.accounts]]\nname = "%s"\nkey_file = "%s"\nfile_endpoint = "%s/%s"\nweight = %s\n' \
        "$1" "$work/$1.key" "$base" "$1" "$2"
      [ "$CAPS" = yes ] && printf 'max_shares = %s\n' "$3"
    done
    printf '[paths]\nstate_dir = "%s/state"\ncredentials_dir = "%s/creds"\naudit_log = "%s/audit.jsonl"\n' \
      "$work" "$work" "$work"
  } > "$file"
  chmod 600 "$file"
}
CAPS=yes config "$work/caps.toml"
CAPS=no config "$work/nocaps.toml"
run() {  # config, first user index: provision n new users, one process each
  local cfg=$1 first=$2 total=0 requests=0 i
  for i in $(seq "$first" $((first + n - 1))); do
    u=$(printf 'pusu%02d' "$i")
    t0=$(date +%s%N)
    out=$("$bin/pus-mount" --config "$cfg" --json provision "$u")
    t1=$(date +%s%N)
    total=$((total + (t1 - t0) / 1000))
    requests=$((requests + $(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rest_requests"])')))
    accounts="${accounts:-} $(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"])')"
  done
  echo "$((total / n / 1000)).$(((total / n) % 1000 / 100)) ms per new user, $((requests * 10 / n / 10)).$((requests * 10 / n % 10)) requests per new user; placed in:$(echo "$accounts" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{printf " %s x%s", $2, $1}')"
  accounts=
}
echo "placement of $n new users over 10,000 existing shares (acca full at 5,000, weights 1000/10/1):"
echo "  with max_shares:    $(run "$work/caps.toml" 1)"
echo "  without max_shares: $(run "$work/nocaps.toml" $((n + 1)))"
