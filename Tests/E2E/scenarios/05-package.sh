# The Debian package as an operator meets it: installed by dpkg -i (guest_setup), no Swift library linked,
# pus-mount's directories created with their modes, the PAM hook attaches and detaches over cifs, and
# removing or reinstalling the package never touches a live mount or the ledger.
check "dpkg lists pus-mount as installed" sh -c "dpkg-query -W -f '\${Status}' pus-mount | grep -qx 'install ok installed'"
ldd /usr/sbin/pus-mount > /tmp/ldd.out
cat /tmp/ldd.out
check "ldd /usr/sbin/pus-mount lists no Swift library" sh -c "! grep -Eiq 'swift|Foundation|icu' /tmp/ldd.out"
check "pus-mount version runs" sh -c "/usr/sbin/pus-mount version | grep -q '^pus-mount '"
check "/var/lib/pus-mount is 0700 root" [ "$(stat -c '%a %U' /var/lib/pus-mount)" = "700 root" ]
check "/etc/pus-mount/credentials is 0700 root" [ "$(stat -c '%a %U' /etc/pus-mount/credentials)" = "700 root" ]
check "/mnt/pus is 0755 root" [ "$(stat -c '%a %U' /mnt/pus)" = "755 root" ]
check "the PAM hook is installed executable" [ -x /usr/lib/pus-mount/pam-session ]
check "pus-mount(8) is installed" [ -s /usr/share/man/man8/pus-mount.8.gz ]
check "pus-mount.toml(5) is installed" [ -s /usr/share/man/man5/pus-mount.toml.5.gz ]
check "the example config is where the hints say" [ -s /usr/share/doc/pus-mount/pus-mount.toml.example ]
$PUS doctor && doctor_rc=0 || doctor_rc=$?
check "doctor passes in the guest (cifs module, samba on 445, the emulator, clock, namespace)" [ "$doctor_rc" = 0 ]

cifs_mounted() { mountinfo_line "$1" | grep -q ' cifs '; }
not_mounted() { [ -z "$(mountinfo_line "$1")" ]; }

# A PAM session of bob through the installed hook: pam_exec runs the hook as a child of the session process,
# so the hook's $PPID is that process; here a shell plays it, opening, waiting, closing.
rm -f /tmp/pam-opened /tmp/pam-close /tmp/pam-closed
PAM_USER=bob PAM_SERVICE=sshd sh -c '
  PAM_TYPE=open_session /usr/lib/pus-mount/pam-session; echo $? > /tmp/pam-opened
  while [ ! -e /tmp/pam-close ]; do sleep 0.1; done
  PAM_TYPE=close_session /usr/lib/pus-mount/pam-session; echo $? > /tmp/pam-closed' &
for i in $(seq 300); do [ -e /tmp/pam-opened ] && break; sleep 0.1; done
check "open_session exits 0" [ "$(cat /tmp/pam-opened 2>/dev/null)" = 0 ]
check "bob's share is a cifs mount" cifs_mounted /mnt/pus/bob
ledger_before=$(sha256sum /var/lib/pus-mount/ledger.json | cut -c1-64)

check "dpkg -r pus-mount succeeds with a live mount" sh -c "dpkg -r pus-mount > /tmp/dpkg-r.log 2>&1"
check "the mount is still there after removal" cifs_mounted /mnt/pus/bob
check "the ledger is kept on removal" [ -s /var/lib/pus-mount/ledger.json ]
check "dpkg -i again" sh -c "dpkg -i /host/pus-mount.deb > /tmp/dpkg-i.log 2>&1"
check "the ledger is unchanged by remove and reinstall" [ "$(sha256sum /var/lib/pus-mount/ledger.json | cut -c1-64)" = "$ledger_before" ]
check "the mount survives reinstall" cifs_mounted /mnt/pus/bob

touch /tmp/pam-close
for i in $(seq 300); do [ -e /tmp/pam-closed ] && break; sleep 0.1; done
check "close_session exits 0" [ "$(cat /tmp/pam-closed 2>/dev/null)" = 0 ]
check "bob's share is unmounted after the session closes" not_mounted /mnt/pus/bob
check "the ledger holds no lease for bob" sh -c "! /usr/sbin/pus-mount --json status bob | grep -q '\"session\"'"
