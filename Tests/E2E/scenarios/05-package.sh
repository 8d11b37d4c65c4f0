# The Debian package as an operator meets it: installed by dpkg -i (guest_setup), no Swift library linked,
# pus-mount's directories created with their modes, the PAM module and its pam-auth-update profile (changing
# no stack until enabled), dpkg -V; a session through the module attaches and detaches over cifs; removing
# and reinstalling never touches a live mount or the ledger; a later build upgrades.
check "dpkg lists pus-mount as installed" sh -c "dpkg-query -W -f '\${Status}' pus-mount | grep -qx 'install ok installed'"
version=$(dpkg-query -W -f '${Version}' pus-mount)
echo "installed version $version"
check "the version carries the commit time and hash" sh -c "echo '$version' | grep -Eq '^[0-9.]+\\+git[0-9]{14}\\.[0-9a-f]{10}(\\.dirty)?$'"
ldd /usr/sbin/pus-mount > /tmp/ldd.out
cat /tmp/ldd.out
check "ldd /usr/sbin/pus-mount lists no Swift library" sh -c "! grep -Eiq 'swift|Foundation|icu' /tmp/ldd.out"
check "pus-mount version runs" sh -c "/usr/sbin/pus-mount version | grep -q '^pus-mount '"
check "/var/lib/pus-mount is 0700 root" [ "$(stat -c '%a %U' /var/lib/pus-mount)" = "700 root" ]
check "/etc/pus-mount/credentials is 0700 root" [ "$(stat -c '%a %U' /etc/pus-mount/credentials)" = "700 root" ]
check "/mnt/pus is 0755 root" [ "$(stat -c '%a %U' /mnt/pus)" = "755 root" ]
MODULE=/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/security/pam_pus_mount.so
check "the PAM module is installed" [ -s "$MODULE" ]
check "its pam-auth-update profile is installed" grep -qx 'Default: no' /usr/share/pam-configs/pus-mount
check "no shell hook any more" sh -c "[ ! -e /usr/lib/pus-mount/pam-session ] && [ ! -e /etc/pam.d/pus-mount ]"
check "installing changed no PAM stack" sh -c "! grep -rq pam_pus_mount /etc/pam.d"
check "logrotate for the audit log" grep -q '/var/log/pus-mount/audit.jsonl' /etc/logrotate.d/pus-mount
check "pus-mount(8) is installed" [ -s /usr/share/man/man8/pus-mount.8.gz ]
check "pus-mount.toml(5) is installed" [ -s /usr/share/man/man5/pus-mount.toml.5.gz ]
check "the example config is where the hints say" [ -s /usr/share/doc/pus-mount/pus-mount.toml.example ]
check "the callers' recipes are in the examples, the scripts executable" sh -c '
  d=/usr/share/doc/pus-mount/examples/recipes
  [ -x $d/slurm/prolog.sh ] && [ -x $d/slurm/epilog.sh ] && [ -x $d/container/launch.sh ] && [ -s $d/jupyterhub/pus_mount_hooks.py ]'
check "dpkg -V: every installed file as packaged" sh -c "dpkg -V pus-mount > /tmp/dpkg-V.out 2>&1 && [ ! -s /tmp/dpkg-V.out ]"
echo '# an edit' >> /usr/share/pam-configs/pus-mount
dpkg -V pus-mount > /tmp/dpkg-V.out 2>&1 || true
cat /tmp/dpkg-V.out
check "dpkg -V names a changed file" grep -q ' /usr/share/pam-configs/pus-mount$' /tmp/dpkg-V.out
sed -i '$d' /usr/share/pam-configs/pus-mount
$PUS doctor && doctor_rc=0 || doctor_rc=$?
check "doctor passes in the guest (cifs module, samba on 445, the emulator, clock, namespace)" [ "$doctor_rc" = 0 ]

check "pam-auth-update --enable pus-mount" pam-auth-update --enable pus-mount
grep -n pam_pus_mount /etc/pam.d/common-session
check "common-session runs the module, optional" grep -Eq '^session[[:space:]]+optional[[:space:]]+pam_pus_mount\.so' /etc/pam.d/common-session
check "not in common-session-noninteractive (cron, sudo)" sh -c "! grep -q pam_pus_mount /etc/pam.d/common-session-noninteractive"
# An sshd-like service: pam_env reads the user's ~/.pam_environment, then the common session stack.
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required pam_env.so user_readenv=1\n@include common-session\n' > /etc/pam.d/pus-sshd

cifs_mounted() { mountinfo_line "$1" | grep -q ' cifs '; }
not_mounted() { [ -z "$(mountinfo_line "$1")" ]; }

# A session of bob held open by a session process (as sshd holds one per connection).
rm -f /tmp/bob.in; mkfifo /tmp/bob.in
/host/pam-session pus-sshd bob < /tmp/bob.in > /tmp/bob.out 2>&1 &
session=$!
exec 7>/tmp/bob.in
for i in $(seq 300); do grep -q '^open' /tmp/bob.out 2>/dev/null && break; sleep 0.1; done
check "open_session: PAM_SUCCESS" grep -qx 'open 0' /tmp/bob.out
check "bob's share is a cifs mount" cifs_mounted /mnt/pus/bob
check "the lease holds the session process's pid" sh -c "$PUS --json status bob | grep -q '\"pid\":$session'"
ledger_before=$(sha256sum /var/lib/pus-mount/ledger.json | cut -c1-64)

mkdir -p /etc/systemd/system/timers.target.wants /etc/systemd/system/multi-user.target.wants
systemctl enable pus-mount-reconcile.timer pus-mount-bootstrap.service > /tmp/enable.log 2>&1 || cat /tmp/enable.log
check "the units are enabled (links)" [ -L /etc/systemd/system/timers.target.wants/pus-mount-reconcile.timer ]
check "dpkg -r pus-mount succeeds with a live mount" sh -c "dpkg -r pus-mount > /tmp/dpkg-r.log 2>&1"
check "the mount is still there after removal" cifs_mounted /mnt/pus/bob
check "the ledger is kept on removal" [ -s /var/lib/pus-mount/ledger.json ]
check "no PAM stack names the module any more" sh -c "! grep -rq pam_pus_mount /etc/pam.d"
check "no dangling unit link" sh -c "[ -z \"\$(find /etc/systemd/system -xtype l -name 'pus-mount*')\" ] && [ -z \"\$(find /etc/systemd/system -name 'pus-mount*')\" ]"
check "pamtester: sessions still open and close on the service (removed)" pamtester pus-sshd alice open_session close_session
check "dpkg -i again" sh -c "dpkg -i /host/pus-mount.deb > /tmp/dpkg-i.log 2>&1"
check "reinstalling enables no PAM stack by itself" sh -c "! grep -rq pam_pus_mount /etc/pam.d"
check "pam-auth-update --enable pus-mount again" pam-auth-update --enable pus-mount
check "the ledger is unchanged by remove and reinstall" [ "$(sha256sum /var/lib/pus-mount/ledger.json | cut -c1-64)" = "$ledger_before" ]
check "the mount survives reinstall" cifs_mounted /mnt/pus/bob

echo close >&7; exec 7>&-
wait $session || true
check "close_session: PAM_SUCCESS" grep -qx 'close 0' /tmp/bob.out
check "bob's share is unmounted after the session closes" not_mounted /mnt/pus/bob
check "the ledger holds no lease for bob" sh -c "! /usr/sbin/pus-mount --json status bob | grep -q '\"session\"'"

# A later build upgrades the installed one.
check "dpkg -i of the package from a later commit" sh -c "dpkg -i /host/pus-mount-next.deb > /tmp/dpkg-next.log 2>&1"
newer=$(dpkg-query -W -f '${Version}' pus-mount)
echo "upgraded $version -> $newer"
check "the version went up" dpkg --compare-versions "$newer" gt "$version"
check "the profile stays enabled across the upgrade" grep -q pam_pus_mount /etc/pam.d/common-session
check "dpkg -V after the upgrade" sh -c "dpkg -V pus-mount > /tmp/dpkg-V.out 2>&1 && [ ! -s /tmp/dpkg-V.out ]"
