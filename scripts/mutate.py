#!/usr/bin/env python3
"""The mutation check (scripts/mutate.sh): applies each mutant of Tests/Mutants/mutants.txt alone, builds, runs
the tests it names, reverts, and prints the kill table. A mutant is "killed" when its tests fail, "survived"
when they pass, "stillborn" when it does not build (a bad mutant: fix the list). The source tree is restored
after every mutant, also on Ctrl-C.

usage: scripts/mutate.sh [--list FILE] [--only ID[,ID...]] [--full] [--check-anchors]
  --full           run the whole suite (swift test) for a mutant its named tests did not kill
  --check-anchors  only check that every mutant's 'from' text occurs exactly once (Tests/run.sh runs this)

The list: blocks separated by blank lines, each
    id: M01
    behaviour: what the tests must pin down
    file: path/from/the/repository/root.swift
    from: the exact original text (\\n for a line break; must occur exactly once in the file)
    to: its replacement
    tests: a swift test --filter regular expression
"""
import argparse, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse(path):
    mutants, cur = [], {}
    for raw in open(path, encoding="utf-8").read().split("\n") + [""]:
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                mutants.append(cur)
                cur = {}
            continue
        key, _, value = line.partition(": ")
        if key not in ("id", "behaviour", "file", "from", "to", "tests"):
            sys.exit(f"mutate: {path}: unknown field in line {line!r}")
        cur[key] = value.replace("\\n", "\n") if key in ("from", "to") else value
    for m in mutants:
        missing = {"id", "file", "from", "to", "tests"} - set(m)
        if missing:
            sys.exit(f"mutate: mutant {m.get('id', '?')} lacks {', '.join(sorted(missing))}")
    return mutants


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return 124, "timed out"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", default=os.path.join(ROOT, "Tests/Mutants/mutants.txt"))
    ap.add_argument("--only", default="")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--check-anchors", action="store_true")
    a = ap.parse_args()
    mutants = parse(a.list)
    if a.check_anchors:
        bad = [(m["id"], open(os.path.join(ROOT, m["file"]), encoding="utf-8").read().count(m["from"])) for m in mutants]
        bad = [(i, n) for i, n in bad if n != 1]
        for i, n in bad:
            print(f"mutate: {i}: its 'from' text occurs {n} times in its file (re-anchor it)", file=sys.stderr)
        sys.exit(1 if bad else 0)
    if a.only:
        keep = set(a.only.split(","))
        mutants = [m for m in mutants if m["id"] in keep]
    rc, out = run(["swift", "build", "--build-tests"], 1800)
    if rc != 0:
        sys.exit("mutate: the unmutated tree does not build:\n" + out[-3000:])
    rows = []
    for m in mutants:
        path = os.path.join(ROOT, m["file"])
        original = open(path, encoding="utf-8").read()
        if original.count(m["from"]) != 1:
            rows.append((m, "bad", f"'from' occurs {original.count(m['from'])} times"))
            continue
        t0 = time.time()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(m["from"], m["to"]))
            rc, out = run(["swift", "build", "--build-tests"], 1800)
            if rc != 0:
                verdict, note = "stillborn", out.strip().splitlines()[-1] if out.strip() else "build failed"
            else:
                rc, out = run(["swift", "test", "--skip-build", "--filter", m["tests"]], 1800)
                if "with 0 tests" in out or "No matching test cases were run" in out and "✔ Test run with" not in out:
                    verdict, note = "bad", "the filter matched no test"
                elif rc != 0:
                    failed = [l for l in out.splitlines() if l.startswith("✘ Test ") and "(" in l and "recorded an issue" not in l]
                    verdict, note = "killed", (failed[0][2:90] if failed else "tests failed")
                elif a.full:
                    rc, out = run(["swift", "test", "--skip-build"], 3600)
                    verdict, note = ("killed", "by the whole suite") if rc != 0 else ("survived", "whole suite passed")
                else:
                    verdict, note = "survived", "its tests passed"
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        rows.append((m, verdict, f"{note} ({time.time() - t0:.0f} s)"))
        print(f"{m['id']:>4} {verdict:<9} {m.get('behaviour', '')[:70]}", flush=True)
    run(["swift", "build", "--build-tests"], 1800)
    killed = sum(1 for _, v, _ in rows if v == "killed")
    print()
    print(f"{'id':>4}  {'verdict':<9}  behaviour / note")
    for m, v, note in rows:
        print(f"{m['id']:>4}  {v:<9}  {m.get('behaviour', '')}")
        print(f"{'':>4}  {'':<9}  {note}")
    print(f"\nkilled {killed} of {len(rows)}")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
