#!/usr/bin/env python3
"""The concept note's own code path, azure-storage-blob 2.1.0 (BlockBlobService), against the emulator.

usage: blob_seed_legacy.py BLOB_URL ACCOUNT KEYFILE CONTAINER [PUS_MOUNT_SAS]
Verbatim apart from the endpoint (custom_domain, never is_emulated: that drops the SAS and signs with the dev
key, azure-blob-protocol.md 1.1): create_container, create_blob_from_path with ContentSettings(image/png),
list_blobs, generate_container_shared_access_signature READ for one hour, then get_blob_to_path with only that
token; byte-identical. CONTAINER is the one `pus-mount provision --blob` made (create_container answers False);
PUS_MOUNT_SAS, when given, is a read SAS `pus-mount sas --blob` printed: the same download works with it too.
"""
import filecmp, os, sys, tempfile
from datetime import datetime, timedelta
from azure.storage.blob import BlockBlobService, ContainerPermissions, ContentSettings

url, account_name, keyfile, container_name = sys.argv[1:5]
pus_mount_sas = sys.argv[5] if len(sys.argv) > 5 else None
account_key = open(keyfile).read().strip()
work = tempfile.mkdtemp()
local_path = os.path.join(work, "sunset.png")
with open(local_path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(150000))

block_blob_service = BlockBlobService(account_name=account_name, account_key=account_key, custom_domain=url)
created = block_blob_service.create_container(container_name)
print("ok create_container (created=%s)" % created, flush=True)

block_blob_service.create_blob_from_path(
    container_name, "myblockblob3", local_path, content_settings=ContentSettings(content_type="image/png"))
print("ok create_blob_from_path", flush=True)

names = [blob.name for blob in block_blob_service.list_blobs(container_name)]
assert "myblockblob3" in names, names
print("ok list_blobs", names, flush=True)

token = block_blob_service.generate_container_shared_access_signature(
    container_name, ContainerPermissions.READ, datetime.utcnow() + timedelta(hours=1))
print("ok generate_container_shared_access_signature", flush=True)

sas_service = BlockBlobService(account_name=account_name, sas_token=token, custom_domain=url)
out_path = os.path.join(work, "downloaded.png")
blob = sas_service.get_blob_to_path(container_name, "myblockblob3", out_path)
assert filecmp.cmp(local_path, out_path, shallow=False), "downloaded bytes differ"
assert blob.properties.content_settings.content_type == "image/png", blob.properties.content_settings.content_type
print("ok get_blob_to_path with only the SAS: byte-identical, image/png", flush=True)

if pus_mount_sas:
    other = os.path.join(work, "via-pus-mount.png")
    BlockBlobService(account_name=account_name, sas_token=pus_mount_sas, custom_domain=url).get_blob_to_path(
        container_name, "myblockblob3", other)
    assert filecmp.cmp(local_path, other, shallow=False), "download with pus-mount's SAS differs"
    print("ok get_blob_to_path with pus-mount's SAS: byte-identical", flush=True)

try:
    sas_service.create_blob_from_bytes(container_name, "nope", b"x")
    raise AssertionError("a READ-only SAS must not write")
except Exception as e:
    assert "403" in str(e) or getattr(e, "status_code", 0) == 403, e
print("ok a write with the READ SAS is refused (403)", flush=True)
