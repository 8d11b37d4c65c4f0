#!/usr/bin/env python3
"""A /dev/log stand-in for tests: binds a Unix datagram socket at argv[1] and appends each message, one per
line, to argv[2]. Writes argv[1] + ".ready" once it listens. Exits after argv[3] seconds (default 300), so
a test that forgets it leaves nothing behind for long."""
import os, socket, sys, time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
s.settimeout(0.2)
open(path + ".ready", "w").close()
end = time.time() + limit
with open(out, "ab", buffering=0) as f:
    while time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        f.write(data.rstrip(b"\0\n") + b"\n")
