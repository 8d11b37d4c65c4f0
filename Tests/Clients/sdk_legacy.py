"""The legacy Azure SDK (azure-storage-file 2.1.0, x-ms-version 2019-02-02) against a live emulator. The SDK
only builds host-style URLs (https://ACCOUNT.file.core.windows.net), so it reaches the emulator through its
own request session's HTTP proxy setting; the emulator takes the account from the Host header.
Round trips: share with quota and metadata, directories, files, ranges, SAS with overrides, snapshots, delete.
Usage: sdk_legacy.py EMULATOR_URL ACCOUNT KEYFILE"""
import datetime
import os
import sys

import checklib
from checklib import check
import requests
from azure.common import AzureConflictHttpError, AzureMissingResourceHttpError
from azure.storage.file import ContentSettings, FilePermissions, FileService, SharePermissions

emulator, account, keyfile = sys.argv[1:4]
key = open(keyfile).read().strip()
session = requests.Session()
session.proxies = {"http": emulator}
fs = FileService(account_name=account, account_key=key, protocol="http", request_session=session)


check(fs.create_share("legacy", metadata={"owner": "alice"}, quota=5), "create share with quota and metadata")
check(fs.create_share("legacy") is False, "a second create share answers False (409 ShareAlreadyExists)")
p = fs.get_share_properties("legacy")
check(p.properties.quota == 5 and p.metadata == {"owner": "alice"}, "share properties")
fs.set_share_properties("legacy", 8)
fs.set_share_metadata("legacy", {"k": "v"})
check(fs.get_share_properties("legacy").properties.quota == 8, "set quota")
check(fs.get_share_metadata("legacy") == {"k": "v"}, "get_share_metadata (comp=metadata)")
check(fs.get_share_stats("legacy") == 0, "share stats of an empty share")

check(fs.create_directory("legacy", "d1", metadata={"m": "1"}), "create directory")
check(fs.create_directory("legacy", "d1/d2"), "create a nested directory")
check(fs.exists("legacy", "d1/d2"), "the directory exists")
check(fs.get_directory_metadata("legacy", "d1") == {"m": "1"}, "get_directory_metadata")
fs.set_directory_metadata("legacy", "d1", {"m": "2"})
check(fs.get_directory_properties("legacy", "d1").metadata == {"m": "2"}, "set_directory_metadata")

body = os.urandom(5 * 1024 * 1024 + 3)
fs.create_file_from_bytes("legacy", "d1", "big.bin", body, content_settings=ContentSettings(content_type="application/x-test"),
                          metadata={"Owner": "alice"})
check(fs.get_file_to_bytes("legacy", "d1", "big.bin").content == body, "5 MiB + 3 bytes round trip")
p = fs.get_file_properties("legacy", "d1", "big.bin")
check(p.properties.content_length == len(body) and p.properties.content_settings.content_type == "application/x-test",
      "file properties: length and content type")
check(p.metadata == {"Owner": "alice"} and p.properties.etag, "file metadata and ETag")
part = fs.get_file_to_bytes("legacy", "d1", "big.bin", start_range=100, end_range=199)
check(part.content == body[100:200], "ranged get")
fs.update_range("legacy", "d1", "big.bin", b"Q" * 512, start_range=1024, end_range=1535)
fs.clear_range("legacy", "d1", "big.bin", start_range=0, end_range=511)
body = b"\0" * 512 + body[512:1024] + b"Q" * 512 + body[1536:]
check(fs.get_file_to_bytes("legacy", "d1", "big.bin").content == body, "update_range and clear_range")
ranges = fs.list_ranges("legacy", "d1", "big.bin")
check(ranges and ranges[-1].end == len(body) - 1, "list_ranges")
fs.set_file_properties("legacy", "d1", "big.bin", ContentSettings(content_type="text/plain", cache_control="no-cache"))
p = fs.get_file_properties("legacy", "d1", "big.bin").properties.content_settings
check((p.content_type, p.cache_control) == ("text/plain", "no-cache"), "set_file_properties")
fs.set_file_metadata("legacy", "d1", "big.bin", {"a": "b"})
check(fs.get_file_metadata("legacy", "d1", "big.bin") == {"a": "b"}, "set/get file metadata (comp=metadata)")
fs.resize_file("legacy", "d1", "big.bin", 2048)
check(fs.get_file_to_bytes("legacy", "d1", "big.bin").content == body[:2048], "resize_file")

fs.create_file_from_bytes("legacy", None, "empty.txt", b"")
check(fs.get_file_to_bytes("legacy", None, "empty.txt").content == b"", "an empty file (416 on the ranged GET, then a plain GET)")
fs.create_file_from_text("legacy", "d1/d2", "t.txt", "héllo")
names = sorted(f.name for f in fs.list_directories_and_files("legacy", "d1"))
check(names == ["big.bin", "d2"], "list directories and files")

copy = fs.copy_file("legacy", None, "copied.bin", fs.make_file_url("legacy", "d1", "big.bin"))
check(copy.status == "success", "copy_file: success")
check(fs.get_file_to_bytes("legacy", None, "copied.bin").content == body[:2048], "copied bytes")

exp = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
sas = fs.generate_file_shared_access_signature("legacy", "d1", "big.bin", permission=FilePermissions.READ, expiry=exp,
                                               cache_control="max-age=9", content_disposition="inline",
                                               content_encoding="identity", content_language="fr", content_type="text/x-legacy")
resp = session.get(fs.make_file_url("legacy", "d1", "big.bin", sas_token=sas))
check(resp.status_code == 200 and resp.content == body[:2048], "download with a SAS (legacy signing, sv=2019-02-02)")
check((resp.headers["Cache-Control"], resp.headers["Content-Disposition"], resp.headers["Content-Encoding"],
       resp.headers["Content-Language"], resp.headers["Content-Type"]) == ("max-age=9", "inline", "identity", "fr", "text/x-legacy"),
      "the SAS's overrides answered")
check(resp.headers["x-ms-version"] == "2019-02-02", "the legacy version is echoed")
sas_fs = FileService(account_name=account, sas_token=fs.generate_share_shared_access_signature(
    "legacy", permission=SharePermissions(read=True, list=True), expiry=exp), protocol="http", request_session=session)
check(sorted(f.name for f in sas_fs.list_directories_and_files("legacy")) == ["copied.bin", "d1", "empty.txt"], "a share SAS lists")

snap = fs.snapshot_share("legacy")
fs.create_file_from_bytes("legacy", None, "copied.bin", b"new")
check(fs.get_file_to_bytes("legacy", None, "copied.bin", snapshot=snap.snapshot).content == body[:2048], "a snapshot keeps the old bytes")
check(any(s.snapshot == snap.snapshot for s in fs.list_shares(include_snapshots=True)), "list_shares shows the snapshot")

fs.delete_file("legacy", "d1/d2", "t.txt")
check(fs.delete_directory("legacy", "d1/d2"), "delete a directory")
try:
    fs.delete_directory("legacy", "d1", fail_not_exist=True)
    check(False, "deleting a non-empty directory")
except AzureConflictHttpError:
    check(True, "a non-empty directory is not deleted (409)")
check(fs.delete_share("legacy", delete_snapshots="include"), "delete the share with its snapshots")
check(not fs.exists("legacy"), "the share is gone")
try:
    fs.get_file_properties("legacy", None, "copied.bin")
    check(False, "a file of a deleted share")
except AzureMissingResourceHttpError:
    check(True, "a file of a deleted share: 404")
print(f"sdk_legacy: {checklib.count} checks passed")
