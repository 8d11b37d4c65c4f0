# Second half of the simulated reboot: a new boot of the pristine image with the first boot's ledger,
# credentials and config restored. bootstrap leaves no lease of the first boot, no stale credentials file,
# and the [[volumes]] share mounted read-only, refusing writes. Safe to run twice.
tar -C / -xf /host/out/reboot/state.tar var/lib/pus-mount etc/pus-mount
VOL=$(share_of dlsamples)
check "the restored ledger holds the first boot's leases" grep -q '"boot1"' /var/lib/pus-mount/ledger.json
check "and their credentials files" [ -e "/etc/pus-mount/credentials/$(share_of alice).cred" ]
check "nothing is mounted after the reboot" [ -z "$(mountinfo_line /mnt/pus/alice)$(mountinfo_line /mnt/datasets/dlsamples)" ]
useradd -M -u 1003 -s /usr/sbin/nologin dlsamples
rc=0; out=$($PUS --json bootstrap) || rc=$?
echo "$out"
check "bootstrap exit 0" [ "$rc" -eq 0 ]
check_json "drift dead_lease: 2 (alice's and bob's)" "$out" dead_lease 2
check "no lease of the first boot is left" sh -c "! grep -q '\"boot1' /var/lib/pus-mount/ledger.json"
check "no lease at all" sh -c "! grep -q '\"session\"' /var/lib/pus-mount/ledger.json"
check "no stale credentials file: only the volume's" [ "$(ls /etc/pus-mount/credentials)" = "volume.dlsamples.cred" ]
check "the volume's credentials file is root:root 0600" [ "$(stat -c %u:%g:%a /etc/pus-mount/credentials/volume.dlsamples.cred)" = "0:0:600" ]
line=$(mountinfo_line /mnt/datasets/dlsamples)
echo "mountinfo: $line"
check "the volume is mounted over cifs" sh -c "echo '$line' | grep -q ' - cifs //127.0.0.1/$VOL '"
check "read-only" sh -c "echo '$line' | grep -q '^[^ ]* [^ ]* [^ ]* / /mnt/datasets/dlsamples ro,'"
check "file_mode 0444" sh -c "echo '$line' | tr ' ,' '\n\n' | grep -qx file_mode=0444"
check "alice reads the dataset" sh -c "setpriv --reuid=1001 --regid=1001 --clear-groups cat /mnt/datasets/dlsamples/readme.txt | grep -qx 'dataset v1'"
check "root cannot write to it" sh -c "! touch /mnt/datasets/dlsamples/new 2>/dev/null"
check "alice cannot write to it" sh -c "! setpriv --reuid=1001 --regid=1001 --clear-groups sh -c 'echo x > /mnt/datasets/dlsamples/readme.txt' 2>/dev/null"
rc=0; again=$($PUS --json bootstrap) || rc=$?
check "bootstrap a second time: exit 0" [ "$rc" -eq 0 ]
check_json "and nothing to do" "$again" actions '\[\]'
check "alice attaches again in the new boot" $PUS attach alice
check "and detaches" $PUS detach alice
