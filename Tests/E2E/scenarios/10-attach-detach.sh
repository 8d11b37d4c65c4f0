# attach provisions and really mounts over cifs; the user's files land in samba's backing folder;
# another user cannot read them; detach unmounts and keeps the data; a second attach sees it.
SHARE=$(share_of alice)
MP=/mnt/pus/alice

# Sample every process's argv while attach mounts: the key must never appear.
( while [ ! -e /tmp/stop-sampling ]; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' >> /tmp/argv.samples; echo >> /tmp/argv.samples; done ) &
sampler=$!
out=$($PUS attach alice --session s1) || fail "attach alice exited $?"
touch /tmp/stop-sampling; wait $sampler 2>/dev/null || true
check "attach prints the mountpoint" [ "$out" = "$MP" ]
check "argv was sampled while mounting" [ "$(wc -l < /tmp/argv.samples)" -gt 5 ]
check "the key is in no process argv" sh -c "! grep -qF '$KEY' /tmp/argv.samples"
check "attach provisioned through the emulator" grep -q "PUT /$ACCOUNT/$SHARE?restype=share -> 201" /tmp/emu.log

line=$(mountinfo_line "$MP")
echo "mountinfo: $line"
check "a cifs mount at $MP" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/$SHARE '"
for opt in vers=3.0 uid=1001 gid=1001 file_mode=0600 dir_mode=0700; do
  check "mount option $opt" sh -c "echo '$line' | tr ' ,' '\n\n' | grep -qx '$opt'"
done
check "sec=ntlmssp" sh -c "echo '$line' | tr ' ,' '\n\n' | grep -qx 'sec=ntlmssp'"
check "only one mount at $MP" [ "$(mountinfo_line "$MP" | wc -l)" -eq 1 ]

setpriv --reuid=1001 --regid=1001 --clear-groups sh -c "echo 'written by alice' > $MP/hello.txt"
check "alice's file is in samba's backing folder" grep -qx 'written by alice' "/srv/emulator/$ACCOUNT/$SHARE/hello.txt"
check "bob cannot list alice's mountpoint" sh -c "! setpriv --reuid=1002 --regid=1002 --clear-groups ls $MP >/dev/null 2>&1"
check "bob cannot read alice's file" sh -c "! setpriv --reuid=1002 --regid=1002 --clear-groups cat $MP/hello.txt >/dev/null 2>&1"

check "a second session adds a lease, not a mount" $PUS attach alice --session s2
check "still one mount" [ "$(mountinfo_line "$MP" | wc -l)" -eq 1 ]
check "status --json shows 2 leases" sh -c "$PUS --json status alice | grep -o '\"session\"' | wc -l | grep -qx 2"
check "detach of one session keeps the mount" $PUS detach alice --session s1
check "mount still there" [ -n "$(mountinfo_line "$MP")" ]
check "last detach" $PUS detach alice --session s2
check "last detach unmounts" [ -z "$(mountinfo_line "$MP")" ]
check "the credentials file is gone" [ ! -e "/etc/pus-mount/credentials/$SHARE.cred" ]
check "the data remains in the share" grep -qx 'written by alice' "/srv/emulator/$ACCOUNT/$SHARE/hello.txt"
check "a second attach" $PUS attach alice
check "it sees the data" sh -c "setpriv --reuid=1001 --regid=1001 --clear-groups cat $MP/hello.txt | grep -qx 'written by alice'"
check "detach again" $PUS detach alice
