# where and deprovision against a share in use on "another node" (a cifs mount the ledger does not know, a file held
# open there): refused with the open handle named; once closed it deletes, says the share is recoverable for
# the emulator's soft-delete days, and undelete brings the data back. Its own user: 40-reboot leaves alice
# attached for the second boot.
useradd -m -u 1005 dave
SHARE=$(share_of dave)
check "attach dave" $PUS attach dave --session d1
echo "precious" > /mnt/pus/dave/keep.txt
check "detach dave (this node holds no lease now)" $PUS detach dave --session d1
# Node B: the same share mounted by hand, a file held open there.
mkdir -p /mnt/nodeb
printf 'username=%s\npassword=%s\n' "$ACCOUNT" "$KEY" > /tmp/nodeb.cred; chmod 600 /tmp/nodeb.cred
check "node B mounts the share" mount -t cifs "//127.0.0.1/$SHARE" /mnt/nodeb -o "credentials=/tmp/nodeb.cred,vers=3.0"
exec 3< /mnt/nodeb/keep.txt
echo "samba reports open: $(/host/handles-hook pusacct "$SHARE" | tr '\t\n' ' ;')"
# where: the samba-backed List Handles shows the guest's own mount (node B is this guest: 127.0.0.1).
where=$($PUS --json where dave --no-resolve)
echo "$where"
check "where lists the client holding the file, marked as this node" sh -c "echo '$where' | grep -q '\"address\":\"127.0.0.1\".*\"this_node\":true'"
rc=0; $PUS deprovision dave --yes 2> /tmp/deprov.err || rc=$?
cat /tmp/deprov.err
check "deprovision with an open handle exits 1" [ "$rc" = 1 ]
check "the message names the open handle and the client it came from" grep -q "open handle(s) (/keep.txt from 127.0.0.1" /tmp/deprov.err
check "the share is still there" [ -f "/srv/emulator/pusacct/$SHARE/keep.txt" ]
exec 3<&-
umount /mnt/nodeb
rc=0; out=$($PUS --json deprovision dave --yes) || rc=$?
echo "$out"
check "deprovision exits 0 once nothing is open" [ "$rc" = 0 ]
check_json "it is recoverable" "$out" recoverable true
check_json "for the emulator's 7 days" "$out" retention_days 7
check "the share is gone from samba's exports" sh -c "! grep -q '\\[$SHARE\\]' /etc/samba/pus-shares.conf"
rc=0; $PUS undelete dave || rc=$?
check "undelete exits 0" [ "$rc" = 0 ]
check "attach dave again" $PUS attach dave --session d2
check "the data came back" grep -qx precious /mnt/pus/dave/keep.txt
check "detach" $PUS detach dave --session d2
