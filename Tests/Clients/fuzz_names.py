"""Fuzzed names and paths against a live emulator, signed with Shared Key (raw HTTP, so nothing is cleaned up
on the way): every operation on names of 1 to 1,100 characters, any Unicode, dots, encoded slashes and NULs,
backslashes, control characters, deep paths, and rename/copy sources built the same way. Passes when no request
hangs (10 s each), the emulator answers after every request, no answer is a 5xx, and nothing appears outside
the emulator's data directory. Time-boxed.
Usage: fuzz_names.py URL ACCOUNT KEYFILE DATA_DIR SECONDS [SEED]"""
import base64
import hashlib
import hmac
import os
import random
import sys
import time
import urllib.parse
from email.utils import formatdate

import requests

url, account, keyfile, data, seconds = sys.argv[1:6]
seed = int(sys.argv[6]) if len(sys.argv) > 6 else random.randrange(1 << 30)
rng = random.Random(seed)
key = base64.b64decode(open(keyfile).read().strip())
base = urllib.parse.urlsplit(url)
parent = os.path.dirname(os.path.abspath(data))
before = set(os.listdir(parent))
print(f"fuzz_names: seed {seed}, {seconds} s")


def sign(method, path, query, headers):
    h = {k.lower(): v for k, v in headers.items()}
    std = [h.get(n, "") for n in ["content-encoding", "content-language", "content-length", "content-md5", "content-type",
                                    "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]]
    if std[2] == "0":
        std[2] = ""
    xms = "".join(f"{k}:{h[k]}\n" for k in sorted(h) if k.startswith("x-ms-"))
    params = {}
    for part in query.split("&") if query else []:
        k, _, v = part.partition("=")
        params.setdefault(urllib.parse.unquote(k).lower(), []).append(urllib.parse.unquote(v))
    res = f"/{account}{path}" + "".join(f"\n{k}:{','.join(sorted(v))}" for k, v in sorted(params.items()))
    sts = f"{method}\n" + "\n".join(std) + "\n" + xms + res
    return base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()


def send(method, path, query="", headers=None, body=b""):
    headers = dict(headers or {})
    headers["x-ms-date"] = formatdate(usegmt=True)
    headers["x-ms-version"] = "2026-10-06"
    headers["Content-Length"] = str(len(body))
    headers["Authorization"] = f"SharedKey {account}:{sign(method, path, query, headers)}"
    target = f"{base.scheme}://{base.netloc}{path}" + (f"?{query}" if query else "")
    r = requests.request(method, target, headers=headers, data=body, timeout=10)
    if r.status_code >= 500:
        raise SystemExit(f"FAIL: {method} {path}?{query} -> {r.status_code}: {r.text[:300]} (seed {seed})")
    return r


pieces = ["a", "x", "é", "日本語", "😀", "..", ".", " ", "%2F", "%2e%2e", "%00", "%5C", "\\", "/", "//", "~", "#", "?", "&",
          "=", "+", "%", "\u200b", "\u202e", "\ufeff", "a" * 255, "b" * 256, "c" * 1100, "\x01", "\x7f", "CON", "nul",
          "trailing.", "trailing ", "'", '"', "<", ">", "|", ":", "*", "\ud7ff", "\U0010fffd"]


def name():
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))


def path():
    depth = rng.choice([1, 1, 2, 3, 8, 40])
    return "/".join(urllib.parse.quote(name(), safe="%/") if rng.random() < 0.8 else name() for _ in range(depth))


def quoted(p):
    return "".join(c if c.isascii() and c.isprintable() and c not in " #?" else urllib.parse.quote(c, safe="") for c in p)


share = "fuzz"
send("PUT", f"/{account}/{share}", "restype=share")
deadline = time.time() + float(seconds)
n = 0
statuses = {}
while time.time() < deadline:
    p = quoted(path())
    full = f"/{account}/{share}/{p}"
    op = rng.randrange(9)
    try:
        if op == 0:
            r = send("PUT", full, "restype=directory")
        elif op == 1:
            r = send("PUT", full, "", {"x-ms-type": "file", "x-ms-content-length": "3"})
        elif op == 2:
            r = send("PUT", full, "comp=range", {"x-ms-range": "bytes=0-2", "x-ms-write": "update"}, b"abc")
        elif op == 3:
            r = send(rng.choice(["GET", "HEAD"]), full)
        elif op == 4:
            r = send("GET", full, "restype=directory&comp=list&include=Timestamps,Etag,Attributes,PermissionKey")
        elif op == 5:
            src = f"{url}/{share}/{quoted(path())}"
            r = send("PUT", full, "comp=rename", {"x-ms-file-rename-source": src, "x-ms-file-rename-replace-if-exists": "true"})
        elif op == 6:
            src = rng.choice([f"{url}/{share}/{quoted(path())}", f"/{share}/../../{quoted(path())}", quoted(path()), "http://x"])
            r = send("PUT", full, "", {"x-ms-copy-source": src})
        elif op == 7:
            r = send("PUT", full, "comp=properties", {"x-ms-content-type": name()[:50].encode("utf-8", "replace").decode("latin-1"),
                                                      "x-ms-file-last-write-time": rng.choice(["now", "2026-12-01T12:00:00.1234567Z", "junk"])})
        else:
            r = send("DELETE", full, rng.choice(["", "restype=directory"]))
    except (ValueError, UnicodeEncodeError):
        continue  # a name requests itself cannot send
    except requests.exceptions.Timeout:
        raise SystemExit(f"FAIL: a request hung (over 10 s): op {op} on {full} (seed {seed})")
    except requests.exceptions.ConnectionError as e:
        raise SystemExit(f"FAIL: the emulator dropped or died: op {op} on {full}: {e} (seed {seed})")
    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    n += 1
    if n % 200 == 0:
        send("GET", f"/{account}/", "comp=list")  # still answering
after = set(os.listdir(parent))
if after != before:
    raise SystemExit(f"FAIL: something appeared beside the data directory: {sorted(after - before)} (seed {seed})")
for root, dirs, files in os.walk(data):
    for f in dirs + files:
        real = os.path.realpath(os.path.join(root, f))
        if not real.startswith(os.path.realpath(data) + os.sep):
            raise SystemExit(f"FAIL: {os.path.join(root, f)} resolves outside the data directory (seed {seed})")
print(f"ok: {n} fuzzed requests, no crash, hang or 5xx, nothing outside the data directory; statuses {dict(sorted(statuses.items()))}")
