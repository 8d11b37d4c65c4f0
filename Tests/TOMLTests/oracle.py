#!/usr/bin/env python3
"""The TOML oracle for Tests/TOMLTests: Python's tomllib (3.11+), independent of pus-mount's parser.

  oracle.py files PATH...          one JSON line per file: {"file", "ok", "value"} or {"file", "ok": false, "error"}
  oracle.py random DIR SEED N      writes N generated documents to DIR (pus-mount configurations with random
                                   formatting, and random mutations of them), then prints the lines as above

Values are tagged so that types survive JSON: {"s": str}, {"i": "123"}, {"f": repr}, {"b": bool}, {"a": [...]},
{"t": {...}}, {"dt": str} for date-times (which pus-mount refuses on purpose).
"""
import datetime, json, os, random, sys, tomllib


def tag(v):
    if isinstance(v, bool):
        return {"b": v}
    if isinstance(v, int):
        return {"i": str(v)}
    if isinstance(v, float):
        return {"f": repr(v)}
    if isinstance(v, str):
        return {"s": v}
    if isinstance(v, list):
        return {"a": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"t": {k: tag(x) for k, x in v.items()}}
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return {"dt": v.isoformat()}
    raise TypeError(type(v))


def judge(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return {"file": path, "ok": True, "value": tag(tomllib.loads(data.decode("utf-8")))}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return {"file": path, "ok": False, "error": str(e)}
    except RecursionError:
        # tomllib recurses without a bound of its own: a deep document exhausts Python's stack.
        return {"file": path, "ok": False, "error": "RecursionError"}


KEYS = {
    "": [("backend", ["azure", "local"])],
    "azure": [("endpoint_suffix", ["core.windows.net", "core.chinacloudapi.cn"])],
    "local": [("root", ["/srv/pus-mount", "/data/users"])],
    "shares": [("prefix", ["pus", "lab"]), ("quota_gib", [1, 100, 102400])],
    "mount": [("root", ["/mnt/pus"]), ("vers", ["3.0", "3.1.1"]), ("file_mode", ["0600"]), ("dir_mode", ["0700"]),
              ("timeout_seconds", [60, 5]), ("linger_seconds", [0, 30]), ("options", [["serverino", "actimeo=30"], []])],
    "users": [("min_uid", [1000]), ("deny", [["root"], ["root", "nobody"]])],
    "sas": [("max_expiry_hours", [24, 1])],
    "paths": [("state_dir", ["/var/lib/pus-mount"]), ("credentials_dir", ["/etc/pus-mount/credentials"])],
    "retry": [("max_attempts", [5]), ("initial_delay_ms", [250]), ("total_seconds", [20])],
}


def lit(rng, v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        style = rng.randrange(4)
        if style == 1 and v > 999:
            s = str(v)
            return s[:-3] + "_" + s[-3:]
        if style == 2 and v < 4096:
            return hex(v)
        if style == 3:
            return "+" + str(v)
        return str(v)
    if isinstance(v, str):
        style = rng.randrange(4)
        if style == 0:
            return json.dumps(v)
        if style == 1 and "'" not in v:
            return "'" + v + "'"
        if style == 2:
            return '"""' + ("\n" if rng.random() < .5 else "") + v + '"""'
        return '"' + "".join("\\u%04x" % ord(c) if rng.random() < .2 else c for c in json.dumps(v)[1:-1]) + '"'
    if isinstance(v, list):
        sep = rng.choice([", ", ",", ",\n  ", " , "])
        body = sep.join(lit(rng, x) for x in v)
        return "[" + (rng.choice(["", " ", "\n  "])) + body + (rng.choice(["", ",", " ", "\n"]) if v else "") + "]"
    raise TypeError(v)


def key(rng, k):
    r = rng.randrange(5)
    return k if r < 3 else ('"' + k + '"' if r == 3 else "'" + k + "'")


def config(rng):
    out = []
    ws = lambda: rng.choice(["", " ", "  ", "\t"])
    comment = lambda: rng.choice(["", "", " # note", "  #", " # ünïcode"])
    sections = list(KEYS)
    rng.shuffle(sections)
    for sect in sections:
        if rng.random() < .2:
            continue
        pairs = [(k, rng.choice(vals)) for k, vals in KEYS[sect] if rng.random() < .8]
        if sect and rng.random() < .3:
            # dotted keys at the top level instead of a table
            out += [ws() + key(rng, sect) + ws() + "." + ws() + key(rng, k) + ws() + "=" + ws() + lit(rng, v) + comment() for k, v in pairs]
            continue
        if sect and rng.random() < .2:
            out.append(key(rng, sect) + " = { " + ", ".join(key(rng, k) + " = " + lit(rng, v).replace("\n", " ") for k, v in pairs
                                                           if not isinstance(v, str) or "\n" not in lit(rng, v)) + " }")
            continue
        if sect:
            out.append(ws() + "[" + ws() + key(rng, sect) + ws() + "]" + comment())
        out += [ws() + key(rng, k) + ws() + "=" + ws() + lit(rng, v) + comment() for k, v in pairs]
        if rng.random() < .3:
            out.append("")
    if rng.random() < .7:
        for i in range(rng.randrange(1, 3)):
            out.append("[[azure.accounts]]")
            out.append('name = "acct%d"' % i)
            out.append('key_file = "/etc/pus-mount/keys/acct%d.key"' % i)
            out.append("weight = %d" % rng.randrange(0, 5))
    nl = "\r\n" if rng.random() < .1 else "\n"
    return nl.join(out) + (nl if rng.random() < .8 else "")


def mutate(rng, text):
    b = bytearray(text.encode())
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            del b[min(i, len(b) - 1)]
        elif op == 1:
            b[i:i] = rng.choice([b"[", b"]", b"=", b'"', b"'", b".", b",", b"\n", b"#", b"{", b"}", b"\\", b"1", b"_", b"\x00", b"e", b" "])
        elif op == 2 and b:
            b[min(i, len(b) - 1)] = rng.randrange(32, 127)
        else:
            j = rng.randrange(len(b) + 1)
            b[i:i] = b[j:j + rng.randrange(1, 12)]
    return bytes(b)


if __name__ == "__main__":
    if sys.argv[1] == "files":
        for p in sys.argv[2:]:
            print(json.dumps(judge(p)))
    elif sys.argv[1] == "random":
        d, seed, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        rng = random.Random(seed)
        os.makedirs(d, exist_ok=True)
        paths = []
        for i in range(n):
            text = config(rng)
            data = text.encode() if i % 2 == 0 else mutate(rng, text)
            p = os.path.join(d, "r%05d.toml" % i)
            with open(p, "wb") as f:
                f.write(data)
            paths.append(p)
        for p in paths:
            print(json.dumps(judge(p)))
