# First half of a simulated reboot: a session lease with --pid, a second user, and a shared [[volumes]] share
# (created with pus-mount provision for a service user), mounted read-only by reconcile. The state of this
# boot (ledger, credentials, config, the emulator's shares) is saved for the second boot.
useradd -M -u 1003 -s /usr/sbin/nologin dlsamples
check "provision the dataset share" $PUS provision dlsamples
VOL=$(share_of dlsamples)
printf 'dataset v1\n' > "/srv/emulator/$ACCOUNT/$VOL/readme.txt"
sleep 600 >/dev/null 2>&1 &
check "attach alice (--pid)" $PUS attach alice --session boot1 --pid $!
check "attach bob" $PUS attach bob --session boot1b
add_volume dlsamples "$VOL" /mnt/datasets/dlsamples
rc=0; out=$($PUS --json reconcile) || rc=$?
echo "$out"
check "reconcile exit 0" [ "$rc" -eq 0 ]
check_json "it mounts the configured volume (missing: 1)" "$out" missing 1
line=$(mountinfo_line /mnt/datasets/dlsamples)
check "the volume is a read-only cifs mount" sh -c "echo '$line' | grep -q '^[^ ]* [^ ]* [^ ]* / /mnt/datasets/dlsamples ro,.* - cifs '"
check "two credentials files for users, one for the volume" [ "$(ls /etc/pus-mount/credentials | wc -l)" -eq 3 ]
mkdir -p /host/out/reboot
tar -C / -cf /host/out/reboot/state.tar var/lib/pus-mount etc/pus-mount srv/emulator
printf '%s' "$KEY" > /host/out/reboot/key
echo "saved this boot's state ($(cat /proc/sys/kernel/random/boot_id)) for the second boot"
