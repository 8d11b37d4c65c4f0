#!/usr/bin/env python3
"""Builds a node with N ledger users for the reconcile benchmark: a local-backend config, the ledger (each
user with one lease held by a live process, recorded with its pid, start time and this boot), the users'
directories, and one real bind mount per user (mount(2) through ctypes: 10,000 mount(8) runs would take
minutes). Run inside a private mount namespace (unshare -m). Usage: reconcile_setup.py WORKDIR N HOLDER_PID"""
import ctypes, hashlib, json, os, sys, time

work, n, holder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL("libc.so.6", use_errno=True)
MS_BIND = 4096
boot = open("/proc/sys/kernel/random/boot_id").read().strip()
start = int(open(f"/proc/{holder}/stat").read().rsplit(")", 1)[1].split()[19])
digest = hashlib.sha256(b"bind").hexdigest()[:16]
now = int(time.time())
for d in ("local", "mnt", "state"):
    os.makedirs(f"{work}/{d}", mode=0o755, exist_ok=True)
entries = {}
for i in range(n):
    u = f"u{i:05d}"
    src, mp = f"{work}/local/{u}", f"{work}/mnt/{u}"
    os.makedirs(src, exist_ok=True)
    os.makedirs(mp, exist_ok=True)
    if libc.mount(src.encode(), mp.encode(), None, MS_BIND, None) != 0:
        sys.exit(f"mount {src} on {mp}: errno {ctypes.get_errno()}")
    entries[u] = {"account": None, "backend": "local", "createdAt": now, "credentialsPath": None, "gid": 100,
                  "leases": [{"bootID": boot, "createdAt": now, "pid": holder, "pidStartTime": start, "session": f"s-{u}"}],
                  "mounted": True, "mountpoint": mp, "optionsDigest": digest, "share": None, "source": src,
                  "uid": 42000 + (i % 1000), "updatedAt": now, "user": u}
with open(f"{work}/state/ledger.json", "w") as f:
    json.dump({"entries": entries, "version": 2, "volumes": {}}, f, indent=2, sort_keys=True)
os.chmod(f"{work}/state/ledger.json", 0o600)
with open(f"{work}/pus-mount.toml", "w") as f:
    f.write(f'backend = "local"\n[local]\nroot = "{work}/local"\n[mount]\nroot = "{work}/mnt"\n'
            f'[paths]\nstate_dir = "{work}/state"\ncredentials_dir = "{work}/creds"\naudit_log = "{work}/audit.jsonl"\n')
os.chmod(f"{work}/pus-mount.toml", 0o644)
