#!/usr/bin/env bash
# The Blob half against the emulator's Blob listener (issue 18): pus-mount provisions the user's container and
# prints the SAS; then the concept note's legacy code (azure-storage-blob 2.1.0), the current SDK (12.x) and
# rclone's azureblob backend work on that container, the last two also with pus-mount's SAS. Called by run.sh
# with PM, VENV, LEGACY_VENV, WORK, FILE_URL, BLOB_URL, ACCOUNT and KEYFILE.
set -euo pipefail
conf="$WORK/blob-etc/config.toml"
mkdir -m 700 "$WORK/blob-etc" "$WORK/blob-state" "$WORK/blob-creds"
install -m 600 "$KEYFILE" "$WORK/blob-etc/$ACCOUNT.key"
cat > "$conf" <<EOF
backend = "azure"
[[azure.accounts]]
name = "$ACCOUNT"
key_file = "$WORK/blob-etc/$ACCOUNT.key"
file_endpoint = "$FILE_URL"
blob_endpoint = "$BLOB_URL"
[blob]
enabled = true
[sas]
max_expiry_hours = 2
[paths]
state_dir = "$WORK/blob-state"
credentials_dir = "$WORK/blob-creds"
audit_log = "$WORK/blob-state/audit.jsonl"
EOF
chmod 600 "$conf"
json() { "$VENV/bin/python" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
user=pusu07
"$PM" --config "$conf" provision "$user" --blob
container=$("$PM" --config "$conf" status "$user" --json | json '["container"]["name"]')
# pus-mount's tokens say spr=https: run.sh starts the emulator with --treat-http-as-https (loopback for TLS).
sas_rl=$("$PM" --config "$conf" sas "$user" --blob --permissions rl --expiry 1h --json | json '["token"]')
sas_rw=$("$PM" --config "$conf" sas "$user" --blob --permissions racwdl --expiry 1h --json | json '["token"]')
echo "ok: pus-mount provision --blob made $container; sas --blob printed ${sas_rl%%&sig=*}&sig=..."

echo "=== azure-storage-blob 2.1.0 (the concept note's code, verbatim apart from the endpoint)"
"$LEGACY_VENV/bin/python" Tests/Clients/blob_seed_legacy.py "$BLOB_URL" "$ACCOUNT" "$KEYFILE" "$container" "$sas_rl" 2>&1 \
  | grep -v "Retry policy did not allow"

echo "=== azure-storage-blob 12.31.1 (current SDK; SAS from pus-mount)"
"$VENV/bin/python" Tests/Clients/blob_current.py "$BLOB_URL" "$ACCOUNT" "$KEYFILE" "$container" "$sas_rl"

echo "=== rclone $("$VENV/bin/rclone" version | head -1 | cut -d' ' -f2) azureblob (with the key, and with pus-mount's SAS URL)"
cat > "$WORK/rclone-blob.conf" <<EOF
[ab]
type = azureblob
account = $ACCOUNT
key = $(cat "$KEYFILE")
endpoint = $BLOB_URL

[abs]
type = azureblob
sas_url = $BLOB_URL/$container?$sas_rw
EOF
chmod 600 "$WORK/rclone-blob.conf"
RCLONE="$VENV/bin/rclone" RCLONE_CONFIG="$WORK/rclone-blob.conf" CONTAINER=$container \
  bash Tests/Clients/rclone-blob-workflow.sh

echo "=== pus-mount's own Blob commands on what the clients left"
names=$("$PM" --config "$conf" --json ls "$user" --blob --recursive | json '["blobs"]' )
echo "$names" | grep -q "'myblockblob3'" || { echo "FAIL: ls --blob does not list the seed's blob: $names" >&2; exit 1; }
"$PM" --config "$conf" get "$user" --blob myblockblob3 "$WORK/seed.png"
"$LEGACY_VENV/bin/python" - "$BLOB_URL" "$ACCOUNT" "$KEYFILE" "$container" "$WORK/seed.png" <<'EOF'
import sys
from azure.storage.blob import BlockBlobService
url, account, keyfile, container, path = sys.argv[1:6]
s = BlockBlobService(account_name=account, account_key=open(keyfile).read().strip(), custom_domain=url)
assert s.get_blob_to_bytes(container, "myblockblob3").content == open(path, "rb").read(), "pus-mount get differs"
EOF
echo "ok: pus-mount ls --blob lists and get --blob fetches the seed's blob byte-identical"
