# The login path under attack: bob's ~/.pam_environment sets PATH to a directory of planted tr, env, timeout,
# logger and sh, and LD_PRELOAD to a library that records the euid of whatever loads it. Through an sshd-like
# stack (pam_env user_readenv=1, then common-session with the pus-mount profile, enabled in 05-package)
# pamtester opens and closes bob's session: his share is attached and detached over cifs, and nothing planted
# ever runs. The same through an su-like caller. A pam_exec control shows the plant would run as root.
# Then: no config file, a bad module argument and a missing binary, each one syslog line, the login going on.
SYSLOG=/tmp/syslog.txt
/usr/bin/python3 /host/syslog-listener.py /dev/log $SYSLOG 600 </dev/null >/dev/null 2>&1 &
listener=$!
for i in $(seq 100); do [ -e /dev/log.ready ] && break; sleep 0.1; done
# Our lines so far, once everything sent before has arrived: a sentinel goes through the same datagram
# socket (delivered in order), and the count is taken when it is in.
ours() {
  token="pus-sync-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  logger -u /dev/log -t pus-sync "$token"
  for i in $(seq 200); do grep -q "$token" $SYSLOG 2>/dev/null && break; sleep 0.05; done
  grep -E 'pam_pus_mount\(|pus-mount\[' $SYSLOG 2>/dev/null | wc -l
}

install -d -o bob -g bob /home/bob/bin
for t in tr env timeout logger sh; do
  printf '#!/bin/sh\necho "planted %s ran with euid $(id -u)" >> /tmp/planted.marker\n' "$t" > /home/bob/bin/$t
  chmod 755 /home/bob/bin/$t; chown bob:bob /home/bob/bin/$t
done
install -o bob -g bob -m 0755 /host/evil.so /home/bob/evil.so
printf 'PATH DEFAULT=/home/bob/bin:/usr/bin:/bin\nLD_PRELOAD DEFAULT=/home/bob/evil.so\n' > /home/bob/.pam_environment
chown bob:bob /home/bob/.pam_environment
rm -f /tmp/planted.marker
SHARE=$(share_of bob)

check "pamtester open_session close_session for bob" pamtester -v pus-sshd bob open_session close_session
check "bob's share was attached by the session" sh -c "grep '\"command\":\"attach\"' /var/log/pus-mount/audit.jsonl | grep '\"user\":\"bob\"' | tail -1 | grep -q '\"mounted_now\":true'"
tail -2 /var/log/pus-mount/audit.jsonl
check "the audit line names the PAM service" sh -c "tail -2 /var/log/pus-mount/audit.jsonl | grep -q '\"pam\":{\"service\":\"pus-sshd\"'"
check "and detached at close" sh -c "tail -1 /var/log/pus-mount/audit.jsonl | grep -q '\"command\":\"detach\".*\"unmounted\":true'"
check "nothing is mounted for bob after the close" [ -z "$(mountinfo_line /mnt/pus/bob)" ]
check "nothing planted ran (no marker)" [ ! -e /tmp/planted.marker ]

check "an su-like caller (real uid bob's, effective 0)" setpriv --ruid=1002 -- pamtester pus-sshd bob open_session close_session
check "it attached as root (uid 0 in the audit line)" sh -c "tail -2 /var/log/pus-mount/audit.jsonl | head -1 | grep -q '\"command\":\"attach\",\"outcome\":\"ok\",\"pid\":[0-9]*,\"uid\":0'"
check "nothing planted ran" [ ! -e /tmp/planted.marker ]

printf 'session required pam_env.so user_readenv=1\nsession optional pam_exec.so /bin/true\n' > /etc/pam.d/pus-control
pamtester pus-control bob open_session > /dev/null 2>&1 || true
cat /tmp/planted.marker 2>/dev/null || true
check "control: pam_exec hands the planted LD_PRELOAD to a root child" grep -q 'LD_PRELOAD ran with euid 0' /tmp/planted.marker
rm -f /tmp/planted.marker /etc/pam.d/pus-control

# No configuration file: a login mounts nothing and says so once.
mv "$CONFIG" /root/pus-mount.toml.aside
n=$(ours)
check "not configured: the session opens" pamtester pus-sshd alice open_session
check "not configured: nothing mounted" [ -z "$(mountinfo_line /mnt/pus/alice)" ]
check "not configured: one syslog line" [ "$(( $(ours) - n ))" -eq 1 ]
grep 'not configured' $SYSLOG
check "it says what is missing" grep -q "pus-mount is not configured: $CONFIG is missing" $SYSLOG
check "doctor warns: logins get no storage" sh -c "$PUS doctor 2>&1 | grep -q 'warn config: not configured: logins get no storage'"
# (An admin's own command still runs on the embedded local default: .ci/run's scripts/run-local.sh shows it on
# the host. Not here: it would record alice in this node's ledger as a local user, which later scenarios
# rely on being an azure one.)
mv /root/pus-mount.toml.aside "$CONFIG"

# A bad module argument: one line, the login goes on, nothing mounted.
cp /etc/pam.d/common-session /root/common-session.saved
sed -i 's/pam_pus_mount\.so.*/pam_pus_mount.so timout=5/' /etc/pam.d/common-session
n=$(ours)
check "bad argument: the session opens" pamtester pus-sshd alice open_session
check "bad argument: one syslog line" [ "$(( $(ours) - n ))" -eq 1 ]
check "it names the argument" grep -q 'unknown module argument "timout=5"' $SYSLOG
check "bad argument: nothing mounted" [ -z "$(mountinfo_line /mnt/pus/alice)" ]
cp /root/common-session.saved /etc/pam.d/common-session

# The binary missing (a half-removed package): one line, the login goes on.
mv /usr/sbin/pus-mount /root/pus-mount.aside
n=$(ours)
check "missing binary: the session opens" pamtester pus-sshd alice open_session
check "missing binary: one syslog line" [ "$(( $(ours) - n ))" -eq 1 ]
check "it says what it could not run" grep -q 'cannot run /usr/sbin/pus-mount: No such file or directory' $SYSLOG
mv /root/pus-mount.aside /usr/sbin/pus-mount
kill $listener 2>/dev/null || true
