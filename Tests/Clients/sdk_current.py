"""The current Azure SDK (azure-storage-file-share 12.27.1) against a live emulator: share with quota and
metadata, directories, files, ranges, HTTP headers and SMB properties, metadata, rename, copy, listings with
every include, a SAS with response-header overrides, snapshots, an empty file, version echo, delete.
Usage: sdk_current.py URL ACCOUNT KEYFILE DATA_DIR"""
import datetime
import hashlib
import os
import sys

import checklib
from checklib import check
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.fileshare import (ContentSettings, FileSasPermissions, NTFSAttributes, ShareClient,
                                     ShareServiceClient, generate_file_sas)

url, account, keyfile, data = sys.argv[1:5]
key = open(keyfile).read().strip()
cred = {"account_name": account, "account_key": key}
svc = ShareServiceClient(url, credential=cred)


share = svc.create_share("sdkcur", quota=7, metadata={"owner": "alice"})
sc = svc.get_share_client("sdkcur")
props = sc.get_share_properties()
check(props.quota == 7 and props.metadata == {"owner": "alice"}, "create share with quota and metadata")
sc.set_share_quota(9)
sc.set_share_metadata({"Owner": "bob", "k2": "v2"})
props = sc.get_share_properties()
check(props.quota == 9 and props.metadata == {"Owner": "bob", "k2": "v2"}, "set quota and metadata, name case kept")
try:
    svc.create_share("sdkcur")
    check(False, "create share twice")
except ResourceExistsError:
    check(True, "a second create share is ResourceExistsError")

d = sc.get_directory_client("dir")
d.create_directory(metadata={"m": "1"})
check(d.get_directory_properties().metadata == {"m": "1"}, "directory with metadata")
d.set_directory_metadata({"m": "2"})
check(d.get_directory_properties().metadata == {"m": "2"}, "set directory metadata")
sub = d.create_subdirectory("sub")
check(sub.exists() and not sc.get_directory_client("nope").exists(), "subdirectory exists, a missing one does not")

# One-character and Unicode names at the share root and below (the emulator once crashed on these).
for name in ["x", "a", "é", "日本", "z" * 255]:
    sc.get_file_client(name).upload_file(name.encode())
    check(sc.get_file_client(name).download_file().readall() == name.encode(), f"file named {name[:12]!r} ({len(name)} chars)")
sc.get_directory_client("y").create_directory()
check(sc.get_directory_client("y").exists(), "a one-character directory at the root")

f = d.get_file_client("a.txt")
body = os.urandom(3 * 1024 * 1024 + 17)
f.upload_file(body, content_settings=ContentSettings(content_type="text/plain", content_md5=bytearray(hashlib.md5(body).digest())),
              metadata={"Owner": "alice"})
p = f.get_file_properties()
check(p.size == len(body) and p.content_settings.content_type == "text/plain", "upload with content type: size and type")
check(bytes(p.content_settings.content_md5) == hashlib.md5(body).digest(), "Content-MD5 stored and returned")
check(p.metadata == {"Owner": "alice"} and p.etag and p.last_modified, "metadata, ETag and Last-Modified on HEAD")
check(p.file_attributes and p.creation_time and p.last_write_time and p.file_id, "SMB properties on HEAD")
check(f.download_file().readall() == body, "download of 3 MiB + 17 bytes")
check(f.download_file(offset=1000, length=5000).readall() == body[1000:6000], "ranged download")
f.upload_range(b"Z" * 512, offset=4096, length=512)
body = body[:4096] + b"Z" * 512 + body[4608:]
check(f.download_file().readall() == body, "upload_range in the middle")
f.clear_range(offset=0, length=512)
body = b"\0" * 512 + body[512:]
check(f.download_file().readall() == body, "clear_range")
ranges = f.get_ranges()
check(ranges and ranges[-1]["end"] == len(body) - 1 and all(r["start"] <= r["end"] for r in ranges), "get_ranges covers the file's data")
etag1 = f.get_file_properties().etag

wt = datetime.datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)
f.set_http_headers(content_settings=ContentSettings(content_type="application/json", cache_control="no-cache",
                                                    content_disposition="attachment", content_language="en-US",
                                                    content_encoding="identity"),
                   file_attributes=NTFSAttributes(read_only=True, archive=True), file_last_write_time=wt)
p = f.get_file_properties()
cs = p.content_settings
check((cs.content_type, cs.cache_control, cs.content_disposition, cs.content_language, cs.content_encoding)
      == ("application/json", "no-cache", "attachment", "en-US", "identity"), "set_http_headers: all five content headers")
check("ReadOnly" in p.file_attributes and "Archive" in p.file_attributes, "set_http_headers: attributes")
check(p.last_write_time.replace(tzinfo=datetime.timezone.utc) == wt, "set_http_headers: last write time kept to the microsecond")
check(p.etag != etag1, "the ETag changes with the properties")
f.resize_file(1024)
check(f.get_file_properties().size == 1024 and f.download_file().readall() == body[:1024], "resize_file")
f.set_http_headers(ContentSettings(content_type="application/json"), file_attributes="none")
p = f.get_file_properties()
check(p.content_settings.cache_control is None and p.content_settings.content_type == "application/json"
      and "ReadOnly" not in p.file_attributes, "set_http_headers again: unsent content headers cleared, attributes none")
f.set_file_metadata({"k": "v"})
check(f.get_file_properties().metadata == {"k": "v"}, "set_file_metadata (with the SDK's stray x-ms-meta header)")

listing = list(d.list_directories_and_files(include=["timestamps", "Etag", "ATTRIBUTES", "PermissionKey"], include_extended_info=True))
names = {i.name: i for i in listing}
check(set(names) == {"a.txt", "sub"}, "listing with every include")
a = names["a.txt"]
check(a.size == 1024 and a.etag and a.last_write_time and a.creation_time and a.permission_key and a.file_id,
      "listed file: size, ETag, times, permission key, id")
check(names["sub"].is_directory, "listed directory")

renamed = f.rename_file("dir/sub/b.txt")
check(renamed.download_file().readall() == body[:1024] and not f.exists(), "rename_file into a subdirectory")
d.get_file_client("c.txt").upload_file(b"ccc")
try:
    d.get_file_client("c.txt").rename_file("dir/sub/b.txt")
    check(False, "rename onto an existing file without overwrite")
except ResourceExistsError:
    check(True, "rename onto an existing file without overwrite: ResourceExistsError")
d.get_file_client("c.txt").rename_file("dir/sub/b.txt", overwrite=True)
check(sc.get_file_client("dir/sub/b.txt").download_file().readall() == b"ccc", "rename with overwrite replaces")
sub.rename_directory("dir/sub2")
check(sc.get_file_client("dir/sub2/b.txt").download_file().readall() == b"ccc", "rename_directory keeps its files")

src = sc.get_file_client("dir/sub2/b.txt")
dst = sc.get_file_client("copy.txt")
r = dst.start_copy_from_url(src.url, metadata={"copied": "yes"})
check(r["copy_status"] == "success" and r["copy_id"], "start_copy_from_url: success at once")
p = dst.get_file_properties()
check(p.copy.status == "success" and p.copy.progress == "3/3" and p.metadata == {"copied": "yes"}, "copy state on HEAD")
check(dst.download_file().readall() == b"ccc", "copied bytes")
try:
    dst.abort_copy(r["copy_id"])
    check(False, "abort a finished copy")
except HttpResponseError as e:
    check(e.status_code == 409, "abort of a finished copy: 409")

# A SAS with response-header overrides: signed lines, applied to the answer.
exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
sas = generate_file_sas(account, "sdkcur", ["dir", "sub2", "b.txt"], key, FileSasPermissions(read=True), expiry=exp,
                        cache_control="max-age=5", content_disposition='attachment; filename="x.txt"',
                        content_encoding="identity", content_language="de", content_type="text/csv")
resp = requests.get(f"{url}/sdkcur/dir/sub2/b.txt?{sas}", headers={"x-ms-version": "2026-10-06"})
check(resp.status_code == 200 and resp.content == b"ccc", "download with an override SAS")
check((resp.headers["Cache-Control"], resp.headers["Content-Disposition"], resp.headers["Content-Encoding"],
       resp.headers["Content-Language"], resp.headers["Content-Type"])
      == ("max-age=5", 'attachment; filename="x.txt"', "identity", "de", "text/csv"), "the five overrides answered")
tampered = sas.replace("rsct=text/csv", "rsct=text/html")
check(requests.get(f"{url}/sdkcur/dir/sub2/b.txt?{tampered}").status_code == 403, "a changed override fails the signature")
minute = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
sas2 = generate_file_sas(account, "sdkcur", ["dir", "sub2", "b.txt"], key, FileSasPermissions(read=True), expiry=minute)
check(requests.get(f"{url}/sdkcur/dir/sub2/b.txt?{sas2}").status_code == 200, "a SAS expiry with minute precision")
frac = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.1234567Z")
sas3 = generate_file_sas(account, "sdkcur", ["dir", "sub2", "b.txt"], key, FileSasPermissions(read=True), expiry=frac)
check(requests.get(f"{url}/sdkcur/dir/sub2/b.txt?{sas3}").status_code == 200, "a SAS expiry with 7 fractional digits")

# Empty file: the SDK's ranged GET gets 416 and falls back to a plain GET.
e = sc.get_file_client("empty")
e.upload_file(b"")
check(e.download_file().readall() == b"", "download of an empty file")
resp = requests.get(f"{url}/sdkcur/empty?{generate_file_sas(account, 'sdkcur', ['empty'], key, FileSasPermissions(read=True), expiry=exp)}",
                    headers={"x-ms-range": "bytes=0-10", "x-ms-version": "2021-06-08"})
check(resp.status_code == 416 and resp.headers["x-ms-error-code"] == "InvalidRange", "a ranged GET of an empty file: 416")
check(resp.headers["x-ms-version"] == "2021-06-08", "the requested version is echoed")

snap = sc.create_snapshot()
sc.get_file_client("copy.txt").upload_file(b"changed")
snapc = ShareClient(url, "sdkcur", snapshot=snap["snapshot"], credential=cred)
check(snapc.get_file_client("copy.txt").download_file().readall() == b"ccc", "a snapshot keeps the old bytes")
check(any(s.snapshot == snap["snapshot"] for s in svc.list_shares(include_snapshots=True)), "list_shares shows the snapshot")

sc.delete_share(delete_snapshots=True)
try:
    sc.get_share_properties()
    check(False, "a deleted share")
except ResourceNotFoundError:
    check(True, "delete share: gone")
print(f"sdk_current: {checklib.count} checks passed")
