# provision --adopt (issue 19, item 5) of shares made outside pus-mount, as an fstab-era share is: written
# into the emulator's data (no pus_user metadata, data in it) and exported by samba like any other. attach then
# mounts the adopted share over cifs with the user's uid and the ledger records its name; a share of another
# user is refused with 77 and keeps its metadata; no share is created under the computed name.
useradd -m -u 1009 hana
hand_share() {  # NAME METADATA-JSON-PAIRS: a share made by hand, with one file in it
  mkdir -p "/srv/emulator/$ACCOUNT/.emulator/shares" "/srv/emulator/$ACCOUNT/$1"
  printf 'from the fstab days\n' > "/srv/emulator/$ACCOUNT/$1/old.txt"
  printf '{"quota": 5, "metadata": [%s], "etag": "\\"0x1\\"", "lastModified": 0}\n' "$2" \
    > "/srv/emulator/$ACCOUNT/.emulator/shares/$1.json"
}
hand_share projects-hana '["team","physics"]'
hand_share projects-bob '["pus_user","bob"]'
PUS_E2E_DATA=/srv/emulator /usr/local/sbin/pus-e2e-share-hook
rc=0; $PUS provision hana --adopt projects-bob 2> /tmp/adopt.err || rc=$?
cat /tmp/adopt.err
check "adopting bob's share is refused with 77" [ "$rc" = 77 ]
check "its metadata is unchanged" grep -q '"pus_user","bob"' "/srv/emulator/$ACCOUNT/.emulator/shares/projects-bob.json"
rc=0; out=$($PUS --json provision hana --adopt projects-hana) || rc=$?
echo "$out"
check "provision --adopt exits 0" [ "$rc" = 0 ]
check_json "the share was adopted" "$out" adopted true
check "attach hana" $PUS attach hana --session e1
line=$(mountinfo_line /mnt/pus/hana)
echo "$line"
check "the adopted share is hana's cifs mount" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/projects-hana '"
check "the hand-made data is there, as hana's" sh -c \
  "[ \"\$(stat -c %u /mnt/pus/hana/old.txt)\" = 1009 ] && grep -qx 'from the fstab days' /mnt/pus/hana/old.txt"
check "the ledger records the adopted share" grep -Eq '"share" ?: ?"projects-hana"' /var/lib/pus-mount/ledger.json
check "no share under hana's computed name" [ ! -e "/srv/emulator/$ACCOUNT/$(share_of hana)" ]
check "detach hana" $PUS detach hana --session e1
