#!/usr/bin/env python3
"""Signing vectors from the official Azure SDK (azure-storage-file-share), our independent referee.

Two kinds of Shared Key vectors:
  * "raw": hand-written requests (method, URL, headers) signed by the SDK's SharedKeyCredentialPolicy;
  * "sdk": the exact requests the SDK's own clients build for real operations, captured by a transport
    that never sends them (the stray bare `x-ms-meta` header the SDK adds is stripped before signing,
    see ../shared/azure-files-protocol.md section 1.9: the service ignores it and we never send it).
and SAS vectors (share, file, account) with the string-to-sign from the SDK's sts_hook.
Output: one JSON document on stdout (or the file named by argv[1]).
"""
import base64, datetime as dt, json, sys
from azure.core.pipeline import PipelineRequest, PipelineContext
from azure.core.pipeline.transport import HttpTransport, HttpRequest
from azure.core.rest import HttpRequest as RestRequest
from azure.storage.fileshare import (ShareServiceClient, ShareClient, ShareDirectoryClient, ShareFileClient,
    generate_share_sas, generate_file_sas, generate_account_sas, ShareSasPermissions, FileSasPermissions,
    AccountSasPermissions, ResourceTypes)
from azure.storage.fileshare._shared.authentication import SharedKeyCredentialPolicy
from azure.storage.fileshare._shared.constants import X_MS_VERSION

ACCOUNT = "myaccount"
KEY = base64.b64encode(bytes(range(7, 71))).decode()   # 64 fixed bytes
DATE = "Tue, 01 Dec 2026 12:00:00 GMT"


def sign(method, url, headers):
    captured = {}
    policy = SharedKeyCredentialPolicy(ACCOUNT, KEY)
    orig = policy._add_authorization_header
    def grab(request, sts):
        captured["sts"] = sts
        orig(request, sts)
    policy._add_authorization_header = grab
    req = HttpRequest(method, url, headers=dict(headers))
    policy.on_request(PipelineRequest(req, PipelineContext(None)))
    return captured["sts"], req.headers["Authorization"]


RAW = [
    ("raw-empty-put", "PUT", "https://myaccount.file.core.windows.net/pus-alice?restype=share",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION}),
    ("raw-metadata-collation", "PUT", "https://myaccount.file.core.windows.net/pus-alice?restype=share",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-share-quota": "100",
      "x-ms-meta-i0": "a", "x-ms-meta-i_": "b", "x-ms-meta-I1": "c", "x-ms-meta-a_b": "d", "x-ms-meta-ab": "e",
      "x-ms-meta-Zeta": "f", "x-ms-meta-pus_user": "alice", "x-ms-meta-pus_uid": "1001",
      "x-ms-meta-pus_created_by": "pus-mount", "x-ms-client-request-id": "00000000-0000-0000-0000-000000000001"}),
    ("raw-body-put-range", "PUT", "https://myaccount.file.core.windows.net/pus-alice/docs/R%C3%A9sum%C3%A9%202026.txt?comp=range",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-range": "bytes=0-16", "x-ms-write": "update",
      "Content-Length": "17", "Content-Type": "application/octet-stream"}),
    ("raw-zero-length", "PUT", "https://myaccount.file.core.windows.net/pus-alice/a%20b.txt?comp=range",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-range": "bytes=0-511", "x-ms-write": "clear",
      "Content-Length": "0"}),
    ("raw-list-query", "GET",
     "https://myaccount.file.core.windows.net/?comp=list&prefix=pus-&include=metadata,snapshots&maxresults=2&marker=%2Fmyaccount%2Fpus-carol",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION}),
    ("raw-list-dir-encoded", "GET",
     "https://myaccount.file.core.windows.net/pus-alice/home%20dir/sub-%CE%A9?restype=directory&comp=list&prefix=a%20b&marker=x%21y%3D",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-file-extended-info": "true"}),
    ("raw-standard-headers", "PUT", "https://myaccount.file.core.windows.net/pus-alice/f.bin?comp=range",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "Content-Encoding": "gzip", "Content-Language": "en",
      "Content-Length": "4", "Content-MD5": "Q2hlY2sgSW50ZWdyaXR5IQ==", "Content-Type": "text/plain",
      "If-Match": "\"0x1\"", "If-None-Match": "*", "If-Modified-Since": DATE, "If-Unmodified-Since": DATE,
      "x-ms-range": "bytes=0-3", "x-ms-write": "update"}),
    ("raw-empty-header-value", "PUT", "https://myaccount.file.core.windows.net/pus-alice?restype=share&comp=metadata",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-meta-empty": ""}),
    ("raw-path-style", "PUT", "http://127.0.0.1:10000/myaccount/pus-alice?restype=share",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION, "x-ms-share-quota": "5"}),
    ("raw-account-root", "GET", "https://myaccount.file.core.windows.net/?comp=list",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION}),
    ("raw-snapshot-query", "GET",
     "https://myaccount.file.core.windows.net/pus-alice?restype=share&sharesnapshot=2026-12-01T11:59:59.0000000Z",
     {"x-ms-date": DATE, "x-ms-version": X_MS_VERSION}),
]


class Capture(HttpTransport):
    """A transport that records the signed request and answers 500 so the SDK stops (retries off)."""
    def __init__(self):
        self.requests = []
    def __enter__(self): return self
    def __exit__(self, *a): pass
    def open(self): pass
    def close(self): pass
    def send(self, request, **kwargs):
        self.requests.append((request.method, request.url, dict(request.headers)))
        raise _Stop()


class _Stop(Exception):
    pass


def strip_bogus_meta(request):
    request.http_request.headers.pop("x-ms-meta", None)


def fixed_date(request):
    request.http_request.headers["x-ms-date"] = DATE
    request.http_request.headers["x-ms-client-request-id"] = "11111111-2222-3333-4444-555555555555"


def sdk_ops(base):
    out = []
    def run(name, make, op):
        t = Capture()
        client = make(t)
        try:
            op(client)
        except _Stop:
            pass
        except Exception as e:  # the SDK wraps transport errors
            if not t.requests:
                raise
        m, url, headers = t.requests[0]
        headers.pop("User-Agent", None)
        out.append({"name": name, "method": m, "url": url, "headers": headers,
                    "authorization": headers.get("Authorization")})
    kw = dict(credential={"account_name": ACCOUNT, "account_key": KEY}, retry_total=0,
              raw_request_hook=lambda r: (strip_bogus_meta(r), fixed_date(r)))
    share = lambda t: ShareClient(base, "pus-alice", transport=t, **kw)
    svc = lambda t: ShareServiceClient(base, transport=t, **kw)
    path = "docs/Résumé 2026.txt"
    run("sdk-create-share", share, lambda c: c.create_share(quota=100, metadata={"pus_user": "alice", "pus_uid": "1001", "pus_created_by": "pus-mount", "Owner": "x"}))
    run("sdk-get-share-properties", share, lambda c: c.get_share_properties())
    run("sdk-set-quota", share, lambda c: c.set_share_quota(250))
    run("sdk-set-metadata", share, lambda c: c.set_share_metadata({"pus_user": "alice", "i_": "1", "i0": "2"}))
    run("sdk-delete-share", share, lambda c: c.delete_share(delete_snapshots=True))
    run("sdk-share-stats", share, lambda c: c.get_share_stats())
    run("sdk-snapshot", share, lambda c: c.create_snapshot())
    run("sdk-list-shares", svc, lambda c: next(iter(c.list_shares(name_starts_with="pus-", include_metadata=True, results_per_page=2))))
    run("sdk-create-directory", lambda t: ShareDirectoryClient(base, "pus-alice", "home/sub dir", transport=t, **kw), lambda c: c.create_directory())
    run("sdk-create-file", lambda t: ShareFileClient(base, "pus-alice", path, transport=t, **kw), lambda c: c.create_file(17))
    run("sdk-put-range", lambda t: ShareFileClient(base, "pus-alice", path, transport=t, **kw), lambda c: c.upload_range(b"hello, azure file", 0, 17))
    run("sdk-list-dir", lambda t: ShareDirectoryClient(base, "pus-alice", "home", transport=t, **kw), lambda c: next(iter(c.list_directories_and_files(name_starts_with="a b", results_per_page=5000))))
    run("sdk-get-range", lambda t: ShareFileClient(base, "pus-alice", path, transport=t, **kw), lambda c: c.download_file(offset=4194304, length=4194304).readall())
    return out


def sas_vectors():
    out = []
    def rec(name, kind, fn, **inputs):
        sts = []
        token = fn(sts_hook=sts.append)
        out.append({"name": name, "kind": kind, "inputs": inputs, "string_to_sign": sts[0], "token": token})
    start, expiry = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc), dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=dt.timezone.utc)
    S, E = "2026-12-01T12:00:00Z", "2026-12-02T12:00:00Z"
    rec("sas-share-rcwdl", "share", lambda **k: generate_share_sas(ACCOUNT, "pus-alice", KEY, permission=ShareSasPermissions(read=True, create=True, write=True, delete=True, list=True), start=start, expiry=expiry, **k),
        share="pus-alice", permissions="rcwdl", start=S, expiry=E)
    rec("sas-share-rl-ip-https", "share", lambda **k: generate_share_sas(ACCOUNT, "pus-alice", KEY, permission=ShareSasPermissions(read=True, list=True), expiry=expiry, ip="10.0.0.1-10.0.0.9", protocol="https", **k),
        share="pus-alice", permissions="rl", expiry=E, ip="10.0.0.1-10.0.0.9", protocol="https")
    rec("sas-file-unicode", "file", lambda **k: generate_file_sas(ACCOUNT, "pus-alice", ["docs", "Résumé 2026.txt"], KEY, permission=FileSasPermissions(read=True), start=start, expiry=expiry, **k),
        share="pus-alice", path="docs/Résumé 2026.txt", permissions="r", start=S, expiry=E)
    rec("sas-file-rw-ip", "file", lambda **k: generate_file_sas(ACCOUNT, "pus-alice", ["a b", "c+d=e;f.txt"], KEY, permission=FileSasPermissions(read=True, write=True), expiry=expiry, ip="127.0.0.1", protocol="https,http", **k),
        share="pus-alice", path="a b/c+d=e;f.txt", permissions="rw", expiry=E, ip="127.0.0.1", protocol="https,http")
    rec("sas-account-rl", "account", lambda **k: generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True), AccountSasPermissions(read=True, list=True), expiry, start=start, **k),
        permissions="rl", resource_types="sco", services="f", start=S, expiry=E)
    rec("sas-account-rwdlc-ip", "account", lambda **k: generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True), AccountSasPermissions(read=True, write=True, delete=True, list=True, create=True), expiry, ip="192.0.2.1-192.0.2.7", protocol="https", **k),
        permissions="rwdlc", resource_types="co", services="f", expiry=E, ip="192.0.2.1-192.0.2.7", protocol="https")
    # Blob (azure-storage-blob 12.x): container, blob and account SAS with ss=b; the blob layout adds sr, the
    # snapshot time and ses to the string-to-sign (azure-blob-protocol.md 3.1).
    from azure.storage.blob import (generate_container_sas, generate_blob_sas,
        generate_account_sas as generate_blob_account_sas, ContainerSasPermissions, BlobSasPermissions,
        AccountSasPermissions as BlobAccountSasPermissions, ResourceTypes as BlobResourceTypes)
    rec("sas-container-rl", "container", lambda **k: generate_container_sas(ACCOUNT, "pus-alice", KEY, permission=ContainerSasPermissions(read=True, list=True), start=start, expiry=expiry, **k),
        container="pus-alice", permissions="rl", start=S, expiry=E)
    rec("sas-container-racwdl-ip-https", "container", lambda **k: generate_container_sas(ACCOUNT, "pus-alice", KEY, permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True), start=start, expiry=expiry, ip="10.0.0.1-10.0.0.9", protocol="https", **k),
        container="pus-alice", permissions="racwdl", start=S, expiry=E, ip="10.0.0.1-10.0.0.9", protocol="https")
    rec("sas-blob-unicode", "blob", lambda **k: generate_blob_sas(ACCOUNT, "pus-alice", "docs/Résumé 2026.txt", account_key=KEY, permission=BlobSasPermissions(read=True), start=start, expiry=expiry, **k),
        container="pus-alice", path="docs/Résumé 2026.txt", permissions="r", start=S, expiry=E)
    rec("sas-blob-rw-ip-https", "blob", lambda **k: generate_blob_sas(ACCOUNT, "pus-alice", "a b/c+d=e;f.txt", account_key=KEY, permission=BlobSasPermissions(read=True, write=True), expiry=expiry, ip="127.0.0.1", protocol="https", **k),
        container="pus-alice", path="a b/c+d=e;f.txt", permissions="rw", expiry=E, ip="127.0.0.1", protocol="https")
    rec("sas-blob-account-rwdlac", "account", lambda **k: generate_blob_account_sas(ACCOUNT, KEY, BlobResourceTypes(service=True, container=True, object=True), BlobAccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True), expiry, start=start, **k),
        permissions="rwdlac", resource_types="sco", services="b", start=S, expiry=E)
    return out


def main():
    raw = []
    for name, method, url, headers in RAW:
        sts, auth = sign(method, url, headers)
        raw.append({"name": name, "method": method, "url": url, "headers": headers,
                    "string_to_sign": sts, "authorization": auth})
    sdk = sdk_ops("https://myaccount.file.core.windows.net") + [
        dict(v, name=v["name"] + "-path-style") for v in sdk_ops("http://127.0.0.1:10000/myaccount")[:3]]
    for v in sdk:
        v["string_to_sign"], check = sign(v["method"], v["url"], {k: x for k, x in v["headers"].items() if k != "Authorization"})
        assert check == v["authorization"], v["name"]
    doc = {"account": ACCOUNT, "key": KEY, "version": X_MS_VERSION, "raw": raw, "sdk": sdk, "sas": sas_vectors()}
    text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True)
    if len(sys.argv) > 1:
        open(sys.argv[1], "w", encoding="utf-8").write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
