# mount(2) with a deadline: with smbd stopped (SIGSTOP: TCP still accepted, nothing answered), a new user's
# attach returns within mount.timeout_seconds plus a few seconds, with exit 75, and leaves no lease, no
# credentials file and no mount; once smbd continues, the same attach works.
useradd -m -u 1004 carol
SHARE=$(share_of carol)
MP=/mnt/pus/carol
cp "$CONFIG" /root/config.before-50
printf '[mount]\ntimeout_seconds = 10\n' >> "$CONFIG"
pkill -STOP -x smbd
t0=$(uptime_s)
rc=0; $PUS attach carol --session hung 2> /tmp/hung.err || rc=$?
t1=$(uptime_s)
pkill -CONT -x smbd
cat /tmp/hung.err
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "attach with smbd stopped returned after $took s (mount.timeout_seconds = 10)"
check "exit 75 (temporary: try again)" [ "$rc" -eq 75 ]
check "the message names the deadline" grep -q "mount.timeout_seconds" /tmp/hung.err
check "within the deadline plus 8 s" awk -v t="$took" 'BEGIN { exit !(t < 18) }'
check "no lease for carol" sh -c "! grep -q '\"hung\"' /var/lib/pus-mount/ledger.json"
check "no credentials file" [ ! -e "/etc/pus-mount/credentials/$SHARE.cred" ]
check "no mount" [ -z "$(mountinfo_line "$MP")" ]
check "after smbd continues, attach works" $PUS attach carol --session later
check "carol's share is mounted" [ -n "$(mountinfo_line "$MP")" ]
check "one mount, not two" [ "$(mountinfo_line "$MP" | wc -l)" -eq 1 ]
check "and detaches" $PUS detach carol --session later
cp /root/config.before-50 "$CONFIG"
