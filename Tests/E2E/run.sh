#!/usr/bin/env bash
# Real-kernel end-to-end test: a qemu guest (Debian's kernel with cifs.ko, samba, mount.cifs) runs our
# emulator and pus-mount over its own loopback, with no network device.
#
# usage: Tests/E2E/run.sh [SCENARIO...]      (as root; default: every Tests/E2E/scenarios/*.sh, in order)
#
# A scenario NN-name.sh may have a second half NN-name.reboot.sh: it runs in a second boot of the same
# pristine image, after the first boot's scenarios (a simulated reboot; the first half saves what the second
# needs under /host/out/reboot). A scenario NN-name.bpo.sh runs in a last boot on bookworm-backports' kernel
# (6.12: cifs password2) instead of Debian 12's 6.1; the image holds both kernels. A scenario NN-name.systemd.sh
# runs in a boot with systemd as PID 1 (pus-e2e.service), so pus-mount's own units run as on a node.
# env:   PUS_E2E_CACHE   where the guest root is cached (default /var/cache/pus-mount-e2e), keyed by the
#                        package list and guest files, so a change rebuilds it
#        PUS_E2E_LINTIAN= (empty) skip lintian on the package (default: --lintian, errors fail the run)
#        PUS_E2E_KVM=1   use KVM (off by default: a nested KVM guest hangs on these machines)
#        PUS_E2E_TIMEOUT hard limit for the guest in seconds (default 900)
#
# Builds the guest root once (debootstrap minbase + packages, ext4 image via mke2fs -d), boots it with
# -kernel/-initrd from that root, the image as a snapshot=on virtio disk and a host folder over 9p, runs
# the scenarios inside, prints their output and timings, and exits with the scenarios' status. The guest
# is always stopped within the hard limit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PUS_E2E_CACHE:-/var/cache/pus-mount-e2e}
limit=${PUS_E2E_TIMEOUT:-900}
# The image also gets linux-image-amd64 from bookworm-backports (see below); "+bpo" keys that.
backports_kernel="linux-image-amd64/bookworm-backports"
packages="linux-image-amd64,samba,cifs-utils,util-linux,kmod,python3,libcurl4,libmount1,libssl3,libxml2,procps,passwd,ca-certificates,libstdc++6,iproute2,pamtester,libpam-runtime,libpam-modules,systemd,systemd-sysv"
mirror=${PUS_E2E_MIRROR:-http://deb.debian.org/debian}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || { echo "e2e: run as root" >&2; exit 77; }
for tool in debootstrap qemu-system-x86_64 mke2fs; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool missing (apt-get install debootstrap qemu-system-x86 e2fsprogs)" >&2; exit 69; }
done

# 1. The guest root, cached by content.
# Only what goes into the image counts (lib.sh, handles-hook and the scenarios travel over 9p at each run).
key=$( { echo "$packages $backports_kernel"; cat "$here"/guest/init "$here"/guest/share-hook "$here"/guest/smb.conf "$here"/guest/pus-e2e.service; } | sha256sum | cut -c1-16)
image="$cache/root-$key.ext4"
t0=$(now)
if [ ! -s "$image" ]; then
  echo "e2e: building guest root $key (debootstrap, about 2.5 minutes)"
  mkdir -p "$cache"
  root="$cache/root-$key.tmp"
  rm -rf "$root"
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" > "$cache/debootstrap-$key.log" 2>&1 \
    || { tail -20 "$cache/debootstrap-$key.log" >&2; exit 69; }
  # The backports kernel beside Debian 12's (its own modules and initrd), for the *.bpo.sh scenarios.
  echo "deb $mirror bookworm-backports main" > "$root/etc/apt/sources.list.d/backports.list"
  for m in proc sys dev; do mount --bind "/$m" "$root/$m"; done
  { chroot "$root" apt-get update -q && DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends \
      -t bookworm-backports linux-image-amd64; } >> "$cache/debootstrap-$key.log" 2>&1 || bpo_failed=1
  for m in dev sys proc; do umount "$root/$m"; done
  [ -z "${bpo_failed:-}" ] || { tail -20 "$cache/debootstrap-$key.log" >&2; exit 69; }
  rm -f "$root/etc/apt/sources.list.d/backports.list"
  install -m 0755 "$here/guest/init" "$root/sbin/pus-e2e-init"
  install -m 0755 "$here/guest/share-hook" "$root/usr/local/sbin/pus-e2e-share-hook"
  install -m 0644 "$here/guest/smb.conf" "$root/etc/samba/smb.conf"
  install -m 0644 "$here/guest/pus-e2e.service" "$root/etc/systemd/system/pus-e2e.service"
  old=$(ls "$root"/boot/vmlinuz-* | sort -V | head -1); new=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
  [ "$old" != "$new" ] || { echo "e2e: the backports kernel did not install" >&2; exit 69; }
  cp -L "$old" "$cache/vmlinuz-$key"; cp -L "$root/boot/initrd.img-${old#*/vmlinuz-}" "$cache/initrd-$key"
  cp -L "$new" "$cache/vmlinuz-bpo-$key"; cp -L "$root/boot/initrd.img-${new#*/vmlinuz-}" "$cache/initrd-bpo-$key"
  rm -rf "$root"/var/cache/apt/archives/*.deb
  mke2fs -q -t ext4 -d "$root" "$image.tmp" 2560M
  mv "$image.tmp" "$image"
  rm -rf "$root"
  # Old roots of other keys are no longer needed.
  find "$cache" -maxdepth 1 \( -name 'root-*.ext4' -o -name 'vmlinuz-*' -o -name 'initrd-*' -o -name 'debootstrap-*.log' \) ! -name "*$key*" -delete
  echo "e2e: image built in $(elapsed "$t0") s"
fi
image_time=$(elapsed "$t0")

# 2. What the guest gets over 9p: the Debian package of pus-mount (checked by lintian; the guest installs it
# with dpkg -i at each boot), the static emulator, the scenarios, an output folder.
t1=$(now)
release="-c release --static-swift-stdlib --disable-local-rpath"
(cd "$repo" && swift build $release --product pus-mount >/dev/null && swift build $release --product azfiles-emulator >/dev/null)
bindir=$(cd "$repo" && swift build $release --show-bin-path)
deb=$(cd "$repo" && scripts/package-deb.sh --no-build ${PUS_E2E_LINTIAN---lintian})
share=$(mktemp -d /tmp/pus-e2e.XXXXXX)
next=$(mktemp -d /tmp/pus-e2e-next.XXXXXX)
trap 'rm -rf "$share" "$next"' EXIT
mkdir -p "$share/bin" "$share/scenarios" "$share/out"
cp "$bindir/azfiles-emulator" "$share/bin/"
cp "$repo/$deb" "$share/pus-mount.deb"
# The same package built from a later commit: this tree's files (committed or not) in a new repository whose
# one commit is an hour later than now. Installing it must upgrade, as a rebuild from a newer main does.
mkdir -p "$next/src"
git -C "$repo" ls-files -z --cached --others --exclude-standard | tar -C "$repo" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$next/src" -xf -
(cd "$next/src" && git init -q && git add -A && GIT_COMMITTER_DATE="$(date -R -d '+1 hour')" \
  git -c user.name=e2e -c user.email=e2e@localhost commit -q -m "e2e: a later build")
nextdeb=$(cd "$next/src" && scripts/package-deb.sh --binary "$bindir/pus-mount")
cp "$next/src/$nextdeb" "$share/pus-mount-next.deb"
# For the PAM scenarios: a session process (pam_start, open, wait, close), the LD_PRELOAD plant, a /dev/log.
cc -O1 -o "$share/pam-session" "$repo/Tests/PAM/session.c" -lpam
cc -shared -fPIC -DMARKER='"/tmp/planted.marker"' -o "$share/evil.so" "$repo/Tests/PAM/evil.c"
cp "$repo/Tests/PAM/syslog-listener.py" "$share/"
cp "$here/guest/lib.sh" "$here/guest/handles-hook" "$here/guest/rotate-key.sh" "$share/"
if [ $# -gt 0 ]; then for s in "$@"; do cp "$here/scenarios/$s.sh" "$share/scenarios/"; done
else cp "$here"/scenarios/*.sh "$share/scenarios/"; fi
mkdir -p "$share/reboot" "$share/bpo" "$share/systemd"
for s in "$share"/scenarios/*.reboot.sh; do [ -e "$s" ] && mv "$s" "$share/reboot/"; done
for s in "$share"/scenarios/*.bpo.sh; do [ -e "$s" ] && mv "$s" "$share/bpo/"; done
for s in "$share"/scenarios/*.systemd.sh; do [ -e "$s" ] && mv "$s" "$share/systemd/"; done
for s in "$share"/scenarios/*.sh; do
  r="$here/scenarios/$(basename "$s" .sh).reboot.sh"
  [ -e "$r" ] && cp "$r" "$share/reboot/"
done
build_time=$(elapsed "$t1")

# 3. Boot, run, always stop. A second boot runs the *.reboot.sh halves.
accel="-accel tcg"
[ "${PUS_E2E_KVM:-0}" = 1 ] && accel="-accel kvm"
boot() {  # $1: console log, $2: "bpo" for the backports kernel, "systemd" for systemd as PID 1
  local k="" init="init=/sbin/pus-e2e-init"
  [ "${2:-}" = bpo ] && k="bpo-"
  [ "${2:-}" = systemd ] && init="init=/lib/systemd/systemd systemd.unit=pus-e2e.service systemd.show_status=0"
  set +e
  timeout --kill-after=10 "$limit" qemu-system-x86_64 $accel -m 2048 -smp 2 -nographic -no-reboot -nic none \
    -kernel "$cache/vmlinuz-$k$key" -initrd "$cache/initrd-$k$key" \
    -append "console=ttyS0 root=/dev/vda rw $init panic=-1 quiet" \
    -drive "file=$image,format=raw,if=virtio,snapshot=on" \
    -virtfs "local,path=$share,mount_tag=host,security_model=none,id=host" > "$1" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "e2e: guest killed after the ${limit} s limit"; tail -20 "$1"; return 1; fi
  return 0
}
# One boot over the scenarios in $share/scenarios: $1 console log, $2 the boot's name in messages and timings
# (empty for the first), $3 "bpo" for the backports kernel or "systemd" for systemd as PID 1.
phase() {
  boot "$1" "${3:-}" || status=1
  cat "$share/out/scenarios.log" 2>/dev/null || { echo "e2e: no scenario output${2:+ in the $2}; console:"; tail -40 "$1"; }
  [ "$(cat "$share/out/status" 2>/dev/null || echo 1)" = 0 ] || status=1
  timings="${timings:+$timings; }${2:+$2: }$(cat "$share/out/timings" 2>/dev/null)"
}
# Puts the scenarios of $share/$1 in place of the last boot's.
stage() {
  rm -f "$share"/scenarios/*.sh "$share/out/status" "$share/out/scenarios.log" "$share/phase2"
  mv "$share/$1"/*.sh "$share/scenarios/"
}
t2=$(now)
status=0
timings=""
if ls "$share"/scenarios/*.sh >/dev/null 2>&1; then
  phase "$share/console.log" ""
fi
if ls "$share"/reboot/*.sh >/dev/null 2>&1; then
  echo "=== reboot: a second boot of the pristine image runs the second halves"
  stage reboot
  touch "$share/phase2"
  phase "$share/console2.log" "second boot"
fi
if ls "$share"/bpo/*.sh >/dev/null 2>&1; then
  echo "=== backports kernel: a boot on bookworm-backports' kernel runs the *.bpo.sh scenarios"
  stage bpo
  phase "$share/console3.log" "backports boot" bpo
fi
if ls "$share"/systemd/*.sh >/dev/null 2>&1; then
  echo "=== systemd: a boot with systemd as PID 1 runs the *.systemd.sh scenarios (pus-mount's units)"
  stage systemd
  phase "$share/console4.log" "systemd boot" systemd
fi
guest_time=$(elapsed "$t2")
echo "e2e timings: image ${image_time} s (cached when ~0), binaries ${build_time} s, boots+scenarios ${guest_time} s; $timings"
exit "$status"
