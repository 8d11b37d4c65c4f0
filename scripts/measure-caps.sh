#!/usr/bin/env bash
# Measures which capabilities pus-mount needs for the units' CapabilityBoundingSet: runs attach, reconcile
# (a missing mount repaired, a dead lease dropped), bootstrap and detach on the local backend (bind mounts in
# a private mount namespace), first with every capability of the candidate set, then with each one removed
# from the bounding set (as systemd's CapabilityBoundingSet= does for a root service), and prints which step
# fails without which capability. cifs (mount.cifs) is measured in the qemu guest under the real units
# (Tests/E2E/scenarios/*.systemd.sh).
# usage (as root, after swift build): scripts/measure-caps.sh [path/to/pus-mount]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$(swift build --show-bin-path)/pus-mount}
user=${PUS_CAPS_USER:-pusu44}
id -u "$user" >/dev/null
candidates="sys_admin chown fowner dac_override dac_read_search setuid setgid setpcap kill sys_resource sys_ptrace"
run() {  # $1: bounding-set spec for setpriv; prints "ok" or the first failing step
  local t; t=$(mktemp -d /tmp/pus-caps.XXXXXX); chmod 755 "$t"
  cat > "$t/c.toml" <<TOML
backend = "local"
[local]
root = "$t/local"
[mount]
root = "$t/mnt"
[paths]
state_dir = "$t/state"
credentials_dir = "$t/creds"
audit_log = "$t/audit.jsonl"
TOML
  # Data and mountpoints owned by the user, as a real node has them after the first attach.
  unshare -m --propagation private setpriv --bounding-set="$1" -- sh -c "
    p='$bin --config $t/c.toml'
    sleep 60 & holder=\$!
    \$p attach $user --session s1 --pid \$holder >/dev/null 2>$t/err || { echo 'attach:' \$(cat $t/err); exit; }
    echo data > $t/mnt/$user/f 2>/dev/null
    umount $t/mnt/$user
    \$p reconcile >/dev/null 2>$t/err || { echo 'reconcile (remount):' \$(cat $t/err); exit; }
    kill \$holder; wait \$holder 2>/dev/null
    \$p reconcile >/dev/null 2>$t/err || { echo 'reconcile (dead lease):' \$(cat $t/err); exit; }
    \$p bootstrap >/dev/null 2>$t/err || { echo 'bootstrap:' \$(cat $t/err); exit; }
    \$p attach $user >/dev/null 2>$t/err || { echo 'attach again:' \$(cat $t/err); exit; }
    \$p detach $user >/dev/null 2>$t/err || { echo 'detach:' \$(cat $t/err); exit; }
    echo ok"
  rm -rf "$t"
}
all=$(echo "$candidates" | tr ' ' '\n' | sed 's/^/+/' | paste -sd, -)
echo "with the whole candidate set: $(run "-all,$all")"
for c in $candidates; do
  echo "without $c: $(run "-all,$(echo "$all" | sed "s/+$c,\{0,1\}//; s/,\$//")")"
done
