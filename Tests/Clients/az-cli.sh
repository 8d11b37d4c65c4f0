#!/usr/bin/env bash
# az CLI (PyPI azure-cli) against a live emulator; optional (run.sh runs it when PUS_AZ_CLI names an az
# executable): share create with quota, directory, upload, download, upload-batch and download-batch
# byte-identical, a SAS with a minute-precision expiry and a Content-Type override, server-side copy, snapshot,
# delete. Needs AZ, EMU_URL (the account URL), ACCOUNT, KEYFILE.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$(cat "$KEYFILE");FileEndpoint=$EMU_URL"
az() { "$AZ" "$@" --only-show-errors 2> >(grep -v 'Alive\[' >&2); }
[ "$(az storage share create --name azcli --quota 3 --query created -o tsv)" = true ] || fail "share create"
[ "$(az storage share show --name azcli --query properties.quota -o tsv)" = 3 ] || fail "share quota"
ok "share create with quota"
az storage directory create --share-name azcli --name d1 -o none
head -c 300000 /dev/urandom > "$work/blob.bin"
az storage file upload --share-name azcli --source "$work/blob.bin" --path d1/blob.bin -o none
mkdir "$work/dl"
az storage file download --share-name azcli --path d1/blob.bin --dest "$work/dl/blob.bin" -o none
cmp -s "$work/blob.bin" "$work/dl/blob.bin" || fail "download differs"
ok "upload and download byte-identical"
mkdir -p "$work/tree/sub" "$work/tree-back"
for i in 1 2 3; do head -c $((i * 7000)) /dev/urandom > "$work/tree/sub/f$i"; done
az storage file upload-batch --destination azcli --destination-path batch --source "$work/tree" -o none
az storage file download-batch --destination "$work/tree-back" --source azcli --pattern 'batch/*' -o none
diff -r "$work/tree" "$work/tree-back/batch" || fail "batch round trip differs"
ok "upload-batch and download-batch byte-identical"
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%MZ)
sas=$(az storage file generate-sas --share-name azcli --path d1/blob.bin --permissions r --expiry "$exp" --content-type text/csv -o tsv)
hdr=$(curl -s -o "$work/sas.bin" -D - "$EMU_URL/azcli/d1/blob.bin?$sas")
echo "$hdr" | head -1 | grep -q " 200" || fail "SAS download: $hdr"
echo "$hdr" | grep -qi "^content-type: text/csv" || fail "the SAS's content type override: $hdr"
cmp -s "$work/blob.bin" "$work/sas.bin" || fail "SAS download differs"
ok "a SAS with a minute-precision expiry ($exp) and a Content-Type override"
[ "$(az storage file copy start --source-share azcli --source-path d1/blob.bin --destination-share azcli --destination-path copy.bin --query status -o tsv)" = success ] || fail "copy start"
az storage file download --share-name azcli --path copy.bin --dest "$work/dl/copy.bin" -o none
cmp -s "$work/blob.bin" "$work/dl/copy.bin" || fail "copy differs"
ok "server-side copy"
snap=$(az storage share snapshot --name azcli --query snapshot -o tsv)
[ -n "$snap" ] || fail "snapshot"
az storage file delete --share-name azcli --path copy.bin -o none
[ "$(az storage file exists --share-name azcli --path copy.bin --query exists -o tsv)" = false ] || fail "delete file"
[ "$(az storage file exists --share-name azcli --path copy.bin --snapshot "$snap" --query exists -o tsv)" = true ] || fail "the snapshot lost the file"
ok "snapshot keeps a deleted file"
[ "$(az storage share delete --name azcli --delete-snapshots include --query deleted -o tsv)" = true ] || fail "share delete"
ok "share delete"
