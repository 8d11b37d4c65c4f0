# Removal and purge as the last step of the first boot: every PAM stack keeps working (pamtester), no unit
# link dangles, the audit log stays (a security record), and an upgrade is refused while a stack still
# includes the old /etc/pam.d/pus-mount of versions before 0.2.0, which would refuse every login once gone.
grep -q pam_pus_mount /etc/pam.d/common-session || pam-auth-update --enable pus-mount
systemctl enable pus-mount-reconcile.timer pus-mount-bootstrap.service > /dev/null 2>&1 || true
check "dpkg -r" sh -c "dpkg -r pus-mount > /tmp/dpkg-r.log 2>&1"
check "dpkg -P" sh -c "dpkg -P pus-mount > /tmp/dpkg-P.log 2>&1"
cat /tmp/dpkg-P.log
check "pus-mount is gone" sh -c "! dpkg-query -W -f '\${Status}' pus-mount 2>/dev/null | grep -q 'install ok'"
check "pamtester: a service that had the profile opens and closes sessions" pamtester pus-sshd alice open_session close_session
printf 'auth required pam_unix.so nullok\naccount required pam_unix.so\nsession required pam_env.so\n@include common-session\n' > /etc/pam.d/pus-login
passwd -d alice > /dev/null
check "pamtester: authenticate, account, sessions through pam_unix after the purge" pamtester pus-login alice authenticate acct_mgmt open_session close_session
check "no PAM file names pus-mount" sh -c "! grep -rqE 'pam_pus_mount|@include[[:space:]]+pus-mount' /etc/pam.d"
check "no unit link of pus-mount remains" [ -z "$(find /etc/systemd/system -name 'pus-mount*')" ]
check "the audit log is kept on purge" [ -s /var/log/pus-mount/audit.jsonl ]
check "the ledger is kept on purge" [ -e /var/lib/pus-mount/ledger.json ]

# The old snippet still included somewhere: the install stops before it changes anything.
printf 'session optional pam_permit.so\n' > /etc/pam.d/pus-mount
printf 'session required pam_permit.so\n@include pus-mount\n' > /etc/pam.d/pus-old
rc=0; dpkg -i /host/pus-mount.deb > /tmp/dpkg-old.log 2>&1 || rc=$?
cat /tmp/dpkg-old.log
check "install refused while /etc/pam.d/pus-old includes pus-mount" [ "$rc" -ne 0 ]
check "the refusal names the stack and the fix" grep -q '/etc/pam.d/pus-old still @include pus-mount.*pam-auth-update --enable pus-mount' /tmp/dpkg-old.log
check "the old stack still works" pamtester pus-old alice open_session close_session
dpkg -P pus-mount > /dev/null 2>&1 || true
sed -i '/@include pus-mount/d' /etc/pam.d/pus-old
check "with the include gone, the install goes through" sh -c "dpkg -i /host/pus-mount.deb > /tmp/dpkg-i2.log 2>&1"
