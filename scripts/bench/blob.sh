#!/usr/bin/env bash
# put --blob and get --blob of one file (default 1 GiB) against the emulator's Blob listener, side by side
# with the current SDK (azure-storage-blob 12.x) uploading and downloading the same file in the same run:
# wall time, MB/s and peak RSS (GNU time) of each, and the ratios. BENCHMARKS.md section 6.
# usage: scripts/bench/blob.sh [SIZE_MIB]     (needs swift build -c release, python3-venv, PyPI once)
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-1024}
bin=$(swift build -c release --show-bin-path)
[ -x "$bin/pus-mount" ] && [ -x "$bin/azfiles-emulator" ] || { echo "swift build -c release first" >&2; exit 69; }
venv=${PUS_BENCH_VENV:-.build-bench-venv}
if ! "$venv/bin/python" -c 'import azure.storage.blob' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet azure-storage-blob==12.31.1 azure-core==1.41.0
fi
work=$(mktemp -d /var/tmp/pus-bench-blob.XXXXXX)
emu_pid=
cleanup() { [ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
account=benchacct
head -c 64 /dev/urandom | base64 -w0 > "$work/key"
printf '%s=%s\n' "$account" "$(cat "$work/key")" > "$work/accounts"
chmod 600 "$work/key" "$work/accounts"
"$bin/azfiles-emulator" --listen 127.0.0.1:0 --blob-listen 127.0.0.1:0 --data "$work/data" \
  --accounts-file "$work/accounts" > "$work/emu.out" 2>/dev/null &
emu_pid=$!
for _ in $(seq 100); do [ "$(grep -c listening "$work/emu.out" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
file_url="$(sed -n 's/^listening on //p' "$work/emu.out")/$account"
blob_url="$(sed -n 's/^blob listening on //p' "$work/emu.out")/$account"
mkdir -m 700 "$work/etc"
install -m 600 "$work/key" "$work/etc/k"
cat > "$work/etc/c.toml" <<EOF
backend = "azure"
[[azure.accounts]]
name = "$account"
key_file = "$work/etc/k"
file_endpoint = "$file_url"
blob_endpoint = "$blob_url"
[paths]
state_dir = "$work/state"
credentials_dir = "$work/creds"
audit_log = "$work/audit.jsonl"
EOF
chmod 600 "$work/etc/c.toml"
pm() { "$bin/pus-mount" --config "$work/etc/c.toml" "$@"; }
user=$(getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 {print $1; exit}')
[ -n "$user" ] || { echo "no user with uid >= 1000 (Tests/run.sh creates pusu01)" >&2; exit 67; }
pm provision "$user" --blob > /dev/null
container=$(pm --json ls "$user" --blob | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["container"])')
head -c $((mib << 20)) /dev/urandom > "$work/src.bin"
sync

measure() {  # label, command...: prints "label seconds rss_kib"
  local label=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null
  echo "$label $(cat "$work/t")"
}
cat > "$work/sdk.py" <<'EOF'
import sys
from azure.storage.blob import BlobServiceClient
url, account, keyfile, container, op, name, path = sys.argv[1:8]
c = BlobServiceClient(url, credential={"account_name": account, "account_key": open(keyfile).read().strip()}).get_container_client(container)
if op == "put":
    with open(path, "rb") as f:
        c.upload_blob(name, f, overwrite=True)
else:
    with open(path, "wb") as f:
        c.download_blob(name).readinto(f)
EOF
sdk=("$venv/bin/python" "$work/sdk.py" "$blob_url" "$account" "$work/key" "$container")
pmc=("$bin/pus-mount" --config "$work/etc/c.toml")
{
  measure put-pus-mount "${pmc[@]}" put "$user" --blob "$work/src.bin" bench/pus.bin
  measure put-sdk "${sdk[@]}" put bench/sdk.bin "$work/src.bin"
  measure get-pus-mount "${pmc[@]}" get "$user" --blob bench/pus.bin "$work/pus.out"
  measure get-sdk "${sdk[@]}" get bench/sdk.bin "$work/sdk.out"
} > "$work/results"
cmp -s "$work/src.bin" "$work/pus.out" || { echo "FAIL: pus-mount get differs" >&2; exit 1; }
cmp -s "$work/src.bin" "$work/sdk.out" || { echo "FAIL: the SDK's download differs" >&2; exit 1; }
echo "blob transfer of $mib MiB against the emulator (same machine, one run; RSS = peak resident set):"
awk -v mib="$mib" '
  { t[$1] = $2; r[$1] = $3; printf "  %-14s %7.2f s  %8.1f MB/s  peak RSS %6.1f MiB\n", $1, $2, mib * 1.048576 / $2, $3 / 1024 }
  END {
    printf "  put: pus-mount/SDK time %.2fx, RSS %.2fx\n", t["put-pus-mount"] / t["put-sdk"], r["put-pus-mount"] / r["put-sdk"]
    printf "  get: pus-mount/SDK time %.2fx, RSS %.2fx\n", t["get-pus-mount"] / t["get-sdk"], r["get-pus-mount"] / r["get-sdk"]
  }' "$work/results"
