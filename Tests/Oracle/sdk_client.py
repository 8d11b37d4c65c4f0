#!/usr/bin/env python3
"""The official Azure SDK as a second client against our emulator.

usage: PUS_ORACLE_KEY=KEY sdk_client.py ENDPOINT ACCOUNT   (the key stays out of argv)
ENDPOINT is the path-style account URL, e.g. http://127.0.0.1:PORT/ACCOUNT.
Each step asserts; the script prints one line per step and exits non-zero at the first failure.
"""
import base64, datetime as dt, os, sys
import requests
from azure.core.exceptions import HttpResponseError, ClientAuthenticationError, ResourceExistsError
from azure.storage.fileshare import (ShareServiceClient, ShareClient, ShareFileClient, generate_share_sas,
                                     ShareSasPermissions)

endpoint, account = sys.argv[1:3]
key = os.environ["PUS_ORACLE_KEY"]
cred = {"account_name": account, "account_key": key}
fast = dict(retry_total=0)


def step(name):
    print("ok", name, flush=True)


svc = ShareServiceClient(endpoint, credential=cred, **fast)
share = svc.get_share_client("sdk-oracle")
share.create_share(quota=7, metadata={"pus_user": "oracle", "i_": "1", "i0": "2"})
props = share.get_share_properties()
assert props.quota == 7, props.quota
assert props.metadata.get("pus_user") == "oracle", props.metadata
step("create share with quota and metadata")

try:
    share.create_share()
    raise AssertionError("second create must fail")
except ResourceExistsError as e:
    assert e.error_code == "ShareAlreadyExists", e.error_code
step("409 ShareAlreadyExists")

payload = os.urandom(5 * 1024 * 1024 + 123)
share.create_directory("dir one")
f = share.get_file_client("dir one/Résumé 2026.bin")
f.upload_file(payload)
step("upload %d bytes" % len(payload))

names = sorted(x["name"] for x in share.get_directory_client("dir one").list_directories_and_files())
assert names == ["Résumé 2026.bin"], names
for i in range(7):
    share.get_file_client("dir one/p%02d.txt" % i).upload_file(b"x" * i)
paged = list(share.get_directory_client("dir one").list_directories_and_files(results_per_page=3).by_page())
flat = [x["name"] for page in paged for x in page]
assert len(flat) == 8 and len(paged) == 3, (len(flat), len(paged))
step("list with paging (%d pages)" % len(paged))

assert f.download_file().readall() == payload
assert f.download_file(offset=4194300, length=10).readall() == payload[4194300:4194310]
step("download whole and ranged")

stats = share.get_share_stats()
assert stats >= len(payload), stats
snap = share.create_snapshot()
assert snap["snapshot"], snap
step("stats and snapshot")

listed = [s.name for s in svc.list_shares(name_starts_with="sdk-", include_metadata=True)]
assert "sdk-oracle" in listed, listed
step("list shares")

expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
sas = generate_share_sas(account, "sdk-oracle", key, permission=ShareSasPermissions(read=True, list=True), expiry=expiry)
ro = ShareFileClient(endpoint, "sdk-oracle", "dir one/Résumé 2026.bin", credential=sas, **fast)
assert ro.download_file().readall() == payload
try:
    ShareFileClient(endpoint, "sdk-oracle", "dir one/new.txt", credential=sas, **fast).upload_file(b"no")
    raise AssertionError("write with a read-only SAS must fail")
except HttpResponseError as e:
    assert e.status_code == 403 and e.error_code == "AuthorizationPermissionMismatch", (e.status_code, e.error_code)
step("SAS read allowed, write refused")

forged = base64.b64encode(b"\x01" * 64).decode()
bad = ShareClient(endpoint, "sdk-oracle", credential={"account_name": account, "account_key": forged}, **fast)
try:
    bad.get_share_properties()
    raise AssertionError("forged key must fail")
except (ClientAuthenticationError, HttpResponseError) as e:
    assert e.status_code == 403 and e.error_code == "AuthenticationFailed", (e.status_code, e.error_code)
step("forged signature refused")

share.delete_share(delete_snapshots=True)
step("delete share with snapshots")
print("sdk oracle: all steps passed")
