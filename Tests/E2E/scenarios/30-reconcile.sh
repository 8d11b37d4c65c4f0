# reconcile on real cifs mounts: a mount lazily unmounted behind our back is remounted; with smbd stopped
# (SIGSTOP) the stale mount is reported within the probe deadline and reconcile returns; once the session's
# process is gone its lease is dropped and the mount goes.
SHARE=$(share_of alice)
MP=/mnt/pus/alice
sleep 600 >/dev/null 2>&1 &
holder=$!
check "attach alice with --pid" $PUS attach alice --session r1 --pid $holder
setpriv --reuid=1001 --regid=1001 --clear-groups sh -c "echo reconcile-me > $MP/r.txt"

umount -l "$MP"
check "the mount is gone behind pus-mount's back" [ -z "$(mountinfo_line "$MP")" ]
rc=0; out=$($PUS --json reconcile) || rc=$?
echo "$out"
check "reconcile exit 0" [ "$rc" -eq 0 ]
check_json "drift missing: 1" "$out" missing 1
line=$(mountinfo_line "$MP")
check "a cifs mount is back" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/$SHARE '"
check "alice reads her file through it" sh -c "setpriv --reuid=1001 --regid=1001 --clear-groups cat $MP/r.txt | grep -qx reconcile-me"
rc=0; out=$($PUS --json reconcile) || rc=$?
check "a second reconcile: exit 0" [ "$rc" -eq 0 ]
check_json "and nothing to do" "$out" actions '\[\]'

pkill -STOP -x smbd
t0=$(uptime_s)
rc=0; out=$($PUS --json reconcile) || rc=$?
t1=$(uptime_s)
pkill -CONT -x smbd
echo "$out"
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "reconcile with smbd stopped took $took s (probe deadline 5 s)"
check "with smbd stopped: exit 1, the stale mount reported" [ "$rc" -eq 1 ]
check_json "drift stale: 1" "$out" stale 1
check "it returned within the probe deadline plus 5 s" awk -v t="$took" 'BEGIN { exit !(t < 10) }'
check "the stale mount was left in place (a live session holds it)" [ -n "$(mountinfo_line "$MP")" ]
ok=no
for i in $(seq 30); do
  if $PUS reconcile >/dev/null 2>&1; then ok=yes; break; fi
  sleep 1
done
check "after smbd continues, reconcile converges again" [ "$ok" = yes ]

kill $holder; wait $holder 2>/dev/null || true
rc=0; out=$($PUS --json reconcile) || rc=$?
echo "$out"
check "the session's process is gone: exit 0" [ "$rc" -eq 0 ]
check_json "drift dead_lease: 1" "$out" dead_lease 1
check "the mount went with the last lease" [ -z "$(mountinfo_line "$MP")" ]
check "its credentials file too" [ ! -e "/etc/pus-mount/credentials/$SHARE.cred" ]
check "the data stays in the share" grep -qx reconcile-me "/srv/emulator/$ACCOUNT/$SHARE/r.txt"
