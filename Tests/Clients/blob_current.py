#!/usr/bin/env python3
"""azure-storage-blob 12.x against the emulator's Blob listener (issue 18, item 5).

usage: blob_current.py BLOB_URL ACCOUNT KEYFILE CONTAINER [SAS_TOKEN]
BLOB_URL is the path-style account URL (http://127.0.0.1:PORT/ACCOUNT). CONTAINER exists already (pus-mount
provision --blob made it); SAS_TOKEN, when given, is a read+list container SAS that `pus-mount sas --blob`
printed. Each step asserts and prints one line; the first failure exits non-zero.
"""
import datetime as dt, hashlib, os, sys
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (BlobServiceClient, ContainerClient, ContainerSasPermissions, ContentSettings,
                                generate_container_sas)

url, account, keyfile, container = sys.argv[1:5]
given_sas = sys.argv[5] if len(sys.argv) > 5 else None
key = open(keyfile).read().strip()
fast = dict(retry_total=0)


def step(name):
    print("ok", name, flush=True)


svc = BlobServiceClient(url, credential={"account_name": account, "account_key": key}, **fast)
cc = svc.get_container_client(container)
assert cc.get_container_properties().name == container
step("container %s exists" % container)

sizes = {"zero.bin": 0, "one-kib.bin": 1024, "five-mib.bin": 5 * 1024 * 1024 + 7, "seventy-mib.bin": 70 * 1024 * 1024 + 3}
data = {}
for name, n in sizes.items():
    payload = os.urandom(n)
    data[name] = payload
    cc.upload_blob("up/" + name, payload, content_settings=ContentSettings(content_type="application/x-test"),
                   max_concurrency=2)
    got = cc.download_blob("up/" + name).readall()
    assert got == payload, (name, len(got), n)
    step("upload and download %s (%d bytes)" % (name, n))

props = cc.get_blob_client("up/one-kib.bin").get_blob_properties()
assert props.content_settings.content_type == "application/x-test", props.content_settings.content_type
assert props.content_settings.content_md5 == hashlib.md5(data["one-kib.bin"]).digest()
step("content type and MD5 stored")

try:
    cc.upload_blob("up/one-kib.bin", b"again")
    raise AssertionError("an upload over an existing blob without overwrite must fail")
except ResourceExistsError as e:
    assert e.error_code == "BlobAlreadyExists", e.error_code
step("409 BlobAlreadyExists without overwrite")

for i in range(5):
    cc.upload_blob("tree/a/%d.txt" % i, b"x" * i)
cc.upload_blob("tree/b/deep/x.txt", b"deep")
cc.upload_blob("tree/top.txt", b"top")
names = [b.name for b in cc.walk_blobs(name_starts_with="tree/", delimiter="/")]
assert names == ["tree/a/", "tree/b/", "tree/top.txt"], names
paged = list(cc.list_blobs(name_starts_with="tree/a/", results_per_page=2).by_page())
flat = [b.name for page in paged for b in page]
assert flat == ["tree/a/%d.txt" % i for i in range(5)], flat
step("list with prefix and delimiter (%s), paged by 2 (%d pages)" % (names, len(paged)))

rng = cc.download_blob("up/five-mib.bin", offset=1000, length=4096).readall()
assert rng == data["five-mib.bin"][1000:5096]
step("ranged download")

token = given_sas or generate_container_sas(account, container, account_key=key,
                                            permission=ContainerSasPermissions(read=True, list=True),
                                            expiry=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
ro = ContainerClient(url, container, credential=token, **fast)
assert ro.download_blob("up/one-kib.bin").readall() == data["one-kib.bin"]
assert "up/zero.bin" in [b.name for b in ro.list_blobs(name_starts_with="up/")]
step("container SAS read and list%s" % (" (pus-mount's token)" if given_sas else ""))
try:
    ro.upload_blob("up/forbidden.bin", b"no")
    raise AssertionError("a write with a read-only SAS must fail")
except HttpResponseError as e:
    assert e.status_code == 403 and e.error_code == "AuthorizationPermissionMismatch", (e.status_code, e.error_code)
step("write refused with a read-only SAS (403 AuthorizationPermissionMismatch)")

cc.delete_blob("tree/top.txt")
try:
    cc.get_blob_client("tree/top.txt").get_blob_properties()
    raise AssertionError("deleted blob still there")
except ResourceNotFoundError:
    pass
step("delete blob")
