# The key-rotation scenario, run on Debian 12's kernel (70-rotate-key.sh) and on bookworm-backports' 6.12
# (70-rotate-key.bpo.sh). samba stands in for Azure Files' SMB side; it knows one password per account, so
# "regenerate the old key" is samba's password changing from KEY to KEY2. The emulator accepts both keys.
# Its own users: earlier scenarios leave alice and bob attached for the reboot.
id erin >/dev/null 2>&1 || useradd -m -u 1006 erin
id frank >/dev/null 2>&1 || useradd -m -u 1007 frank
CRED=/etc/pus-mount/credentials/$(share_of erin).cred
release=$(uname -r)
case "$release" in 6.1[0-9]*|6.[2-9][0-9]*|[7-9].*) password2=yes ;; *) password2=no ;; esac
echo "kernel $release, cifs password2: $password2, mount.cifs $(mount.cifs -V 2>&1 | head -1)"
check "attach erin with key1" $PUS attach erin --session rk
echo before > /mnt/pus/erin/rk.txt

# 1. The new key as key2.
printf '%s\n%s\n' "$KEY" "$KEY2" > "$KEYFILE"
rc=0; out=$($PUS --json rotate-key) || rc=$?; echo "$out"
check "rotate-key with the new key as key2 exits 0" [ "$rc" = 0 ]
check "the credentials file holds both keys, password2 before password" sh -c "sed -n 2p $CRED | grep -q '^password2=' && sed -n 3p $CRED | grep -q '^password='"
check "the credentials file is root 0600" [ "$(stat -c '%a %U' "$CRED")" = "600 root" ]
check "erin's mount is already on key1" grep -q '"current":\[[^]]*"/mnt/pus/erin"' /dev/stdin <<EOF2
$out
EOF2

# 2. Swapped: the new key leads.
printf '%s\n%s\n' "$KEY2" "$KEY" > "$KEYFILE"
rc=0; out=$($PUS --json rotate-key) || rc=$?; echo "$out"
check "rotate-key after the swap exits 0" [ "$rc" = 0 ]
if [ "$password2" = yes ]; then
  check "erin's live mount got the new key as password2" grep -q '"refreshed":\[[^]]*"/mnt/pus/erin"' /dev/stdin <<EOF2
$out
EOF2
else
  check "the report names erin's mount as one to remount" grep -q '"must_remount":\[[^]]*{"mountpoint":"/mnt/pus/erin"' /dev/stdin <<EOF2
$out
EOF2
fi
for k in "$KEY" "$KEY2"; do check "no key in the report" sh -c "! printf '%s' '$out' | grep -qF -- '$k'"; done

# 3. The old key regenerated.
printf '%s\n%s\n' "$KEY2" "$KEY2" | smbpasswd -s "$ACCOUNT" >/dev/null
check "erin's existing mount keeps working on its established session" sh -c "echo after >> /mnt/pus/erin/rk.txt && grep -q after /mnt/pus/erin/rk.txt"
check "a new attach mounts with the new key" $PUS attach frank --session rk
check "frank's share is usable" sh -c "echo hi > /mnt/pus/frank/rk.txt && grep -q hi /mnt/pus/frank/rk.txt"

# 4. A forced reconnect with the old key gone.
pkill -x smbd; sleep 1; smbd -D
if [ "$password2" = yes ]; then
  # The refreshed mount falls back to password2.
  ok=no
  for i in $(seq 60); do if timeout -k 5 10 cat /mnt/pus/erin/rk.txt 2>/dev/null | grep -q after; then ok=yes; break; fi; sleep 1; done
  check "after smbd restarted, erin's refreshed mount reconnects with the new key" [ "$ok" = yes ]
else
  # Without password2 the old session cannot come back: why the report listed the mount.
  sleep 3
  check "after smbd restarted, the unrefreshed mount fails (the reason the report lists it)" sh -c "! timeout -k 5 15 cat /mnt/pus/erin/rk.txt >/dev/null 2>&1"
fi

check "detach frank" $PUS detach frank --session rk
check "detach erin" $PUS detach erin --session rk
printf '%s\n' "$KEY" > "$KEYFILE"
printf '%s\n%s\n' "$KEY" "$KEY" | smbpasswd -s "$ACCOUNT" >/dev/null
