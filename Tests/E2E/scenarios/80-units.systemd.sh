# pus-mount's own systemd units, hardened (NoNewPrivileges, CapabilityBoundingSet, SystemCallFilter,
# RestrictAddressFamilies, ...), run by systemd as PID 1: bootstrap mounts a read-only [[volumes]] share,
# reconcile remounts a cifs mount removed behind its back and unmounts it when its session is gone, and
# every mount lands in the host's namespace, where users see it. Then, without a config, both units do
# nothing and succeed.
check "systemd is PID 1" [ "$(cat /proc/1/comm)" = systemd ]
systemctl daemon-reload
systemd-analyze security pus-mount-reconcile.service 2>&1 | tail -1
systemd-analyze security pus-mount-bootstrap.service 2>&1 | tail -1
check "the reconcile unit scores 'OK' or better" sh -c "systemd-analyze security pus-mount-reconcile.service 2>&1 | tail -1 | grep -Eq 'exposure level for pus-mount-reconcile.service: [0-4]\\.[0-9] (OK|SAFE)'"
check "the units carry the measured capability set" sh -c "systemctl show -p CapabilityBoundingSet pus-mount-reconcile.service | grep -qx 'CapabilityBoundingSet=cap_chown cap_dac_override cap_dac_read_search cap_fowner cap_sys_admin'"

useradd -M -u 1003 -s /usr/sbin/nologin dlsamples
check "provision the dataset share" $PUS provision dlsamples
VOL=$(share_of dlsamples)
printf 'dataset v1\n' > "/srv/emulator/$ACCOUNT/$VOL/readme.txt"
add_volume dlsamples "$VOL" /mnt/datasets/dlsamples
check "systemctl start pus-mount-bootstrap.service" systemctl start pus-mount-bootstrap.service
systemctl status --no-pager pus-mount-bootstrap.service 2>&1 | tail -5 || true
line=$(mountinfo_line /mnt/datasets/dlsamples)
echo "mountinfo: $line"
check "bootstrap under the hardened unit mounted the volume over cifs" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/$VOL '"
check "read-only" sh -c "echo '$line' | grep -q '^[^ ]* [^ ]* [^ ]* / /mnt/datasets/dlsamples ro,'"
check "alice reads the dataset (the mount is in the host's namespace)" sh -c "setpriv --reuid=1001 --regid=1001 --clear-groups cat /mnt/datasets/dlsamples/readme.txt | grep -qx 'dataset v1'"

sleep 600 >/dev/null 2>&1 &
holder=$!
check "attach alice with --pid" $PUS attach alice --session u1 --pid $holder
MP=/mnt/pus/alice
SHARE=$(share_of alice)
setpriv --reuid=1001 --regid=1001 --clear-groups sh -c "echo under-systemd > $MP/u.txt"
umount -l "$MP"
check "the mount is gone behind pus-mount's back" [ -z "$(mountinfo_line "$MP")" ]
check "systemctl start pus-mount-reconcile.service" systemctl start pus-mount-reconcile.service
journalctl -u pus-mount-reconcile.service --no-pager 2>/dev/null | tail -5 || true
line=$(mountinfo_line "$MP")
check "reconcile under the hardened unit remounted it over cifs" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/$SHARE '"
check "alice reads her file through it" sh -c "setpriv --reuid=1001 --regid=1001 --clear-groups cat $MP/u.txt | grep -qx under-systemd"
kill $holder; wait $holder 2>/dev/null || true
check "reconcile again once the session is gone" systemctl start pus-mount-reconcile.service
check "the unit unmounted it" [ -z "$(mountinfo_line "$MP")" ]
check "and removed its credentials file" [ ! -e "/etc/pus-mount/credentials/$SHARE.cred" ]
check "the unit's last run succeeded" sh -c "systemctl show -p Result pus-mount-reconcile.service | grep -qx Result=success"

mv "$CONFIG" /root/pus-mount.toml.aside
check "not configured: reconcile unit succeeds" systemctl start pus-mount-reconcile.service
check "and says so in the journal" sh -c "journalctl -u pus-mount-reconcile.service --no-pager | grep -q 'pus-mount is not configured'"
mv /root/pus-mount.toml.aside "$CONFIG"
