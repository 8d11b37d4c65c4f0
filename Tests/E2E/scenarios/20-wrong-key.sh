# A wrong key in the key file: attach fails with 73 and the error-13 hint, leaving no mount, no lease and
# no credentials file. alice's share is already known to the ledger (scenario 10), so the mount is the
# first thing to use the key (as on a node whose REST endpoint is not consulted for known shares).
SHARE=$(share_of alice)
MP=/mnt/pus/alice
cp "$KEYFILE" /root/good.key
# The good key comes back however this scenario ends: a failed check here must not fail every later one.
trap 'cp /root/good.key "$KEYFILE"' EXIT
head -c 64 /dev/urandom | base64 -w0 > "$KEYFILE"
set +e
$PUS attach alice --session bad > /tmp/bad.out 2> /tmp/bad.err
rc=$?
set -e
cat /tmp/bad.err
check "exit status 73" [ "$rc" -eq 73 ]
check "the error-13 hint" grep -q "error 13" /tmp/bad.err
check "no mount" [ -z "$(mountinfo_line "$MP")" ]
check "no lease" sh -c "! grep -q '\"bad\"' /var/lib/pus-mount/ledger.json"
check "no credentials file" [ ! -e "/etc/pus-mount/credentials/$SHARE.cred" ]
check "the key is not in the error output" sh -c "! grep -qF \"\$(cat $KEYFILE)\" /tmp/bad.err /tmp/bad.out"
cp /root/good.key "$KEYFILE"
check "with the right key attach works again" $PUS attach alice --session good
check "and detaches" $PUS detach alice --session good
