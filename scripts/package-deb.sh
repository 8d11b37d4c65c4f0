#!/usr/bin/env bash
# Builds the Debian package of pus-mount: dist/pus-mount_<version>_<arch>.deb (dpkg-deb, no debhelper).
#
# usage (as root on Debian 12): scripts/package-deb.sh [--no-build] [--binary PATH] [--lintian]
#   --no-build     package the release binary already built (swift build -c release --static-swift-stdlib
#                  --disable-local-rpath)
#   --binary PATH  package this pus-mount binary (implies --no-build)
#   --lintian      run lintian on the result and fail on any error
# What it needs from Debian (dpkg-dev, binutils, gcc, make, libpam0g-dev; lintian with --lintian) it installs
# with apt-get when missing, so the command works as typed on a fresh machine.
#
# Version: <pus-mount's version>+git<commit time, UTC, YYYYMMDDhhmmss>.<commit>, so a package built from a
# later commit upgrades one built from an earlier one (a tree with uncommitted changes to tracked files uses
# the build time and ends in ".dirty").
#
# Contents: the static-stdlib pus-mount (stripped) in /usr/sbin; the PAM module pam_pus_mount.so in
# /lib/<multiarch>/security and its pam-auth-update profile /usr/share/pam-configs/pus-mount ("Default: no":
# installing changes no PAM stack, `pam-auth-update --enable pus-mount` does); man pages; systemd units (not
# enabled); tmpfiles.d; logrotate for the audit log; the example config and cron entry under
# /usr/share/doc/pus-mount/; md5sums. The emulator is not in it. Maintainer scripts: preinst refuses an
# upgrade while a PAM stack still includes the old /etc/pam.d/pus-mount; postinst creates pus-mount's
# directories and refreshes the stacks where an admin enabled the profile; prerm (remove) takes the profile
# out of every stack and stops and disables the units. Nothing ever mounts, unmounts, or deletes users' data,
# the ledger, the credentials or the audit log.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 lint=0 bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --lintian) lint=1 ;;
    --binary) [ $# -ge 2 ] || { echo "package-deb: --binary needs a path" >&2; exit 64; }; bin=$2; build=0; shift ;;
    *) echo "package-deb: unknown argument $1 (use --no-build, --binary PATH, --lintian)" >&2; exit 64 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "package-deb: run as root (it installs what it needs with apt-get)" >&2; exit 77; }

# What building the package needs, installed when missing (a fresh Debian 12 has none of it).
need=""
for pair in dpkg-shlibdeps:dpkg-dev readelf:binutils cc:gcc make:make /usr/include/security/pam_modules.h:libpam0g-dev; do
  t=${pair%%:*} p=${pair#*:}
  case "$t" in /*) [ -e "$t" ] || need="$need $p" ;; *) command -v "$t" >/dev/null 2>&1 || need="$need $p" ;; esac
done
if [ "$lint" = 1 ] && ! command -v lintian >/dev/null 2>&1; then need="$need lintian"; fi
if [ -n "$need" ]; then
  echo "package-deb: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -q && apt-get install -y -q --no-install-recommends $need; } >/dev/null \
    || { echo "package-deb: apt-get install$need failed" >&2; exit 69; }
fi

base=$(sed -n 's/.*version: "\([0-9][0-9.]*\)".*/\1/p' Sources/PusMountCLI/PusMountCommand.swift | head -1)
[ -n "$base" ] || { echo "package-deb: no version in Sources/PusMountCLI/PusMountCommand.swift" >&2; exit 1; }
if commit=$(git rev-parse --short=10 HEAD 2>/dev/null); then
  if [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    version="$base+git$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd).$commit"
    stamp=$(git log -1 --format=%ct)
  else
    version="$base+git$(date -u +%Y%m%d%H%M%S).$commit.dirty"
    stamp=$(date +%s)
  fi
else
  commit=unknown
  version="$base+build$(date -u +%Y%m%d%H%M%S)"
  stamp=$(date +%s)
fi
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

if [ -z "$bin" ]; then
  if [ "$build" = 1 ]; then swift build -c release --static-swift-stdlib --disable-local-rpath --product pus-mount >/dev/null; fi
  bin="$(swift build -c release --static-swift-stdlib --disable-local-rpath --show-bin-path)/pus-mount"
fi
[ -x "$bin" ] || { echo "package-deb: $bin is missing (drop --no-build)" >&2; exit 1; }
if readelf -d "$bin" | grep -q "R.*PATH"; then
  echo "package-deb: $bin carries an RPATH/RUNPATH (build with --disable-local-rpath, or drop --no-build)" >&2; exit 1
fi

root=$(mktemp -d /tmp/pus-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT
pkg="$root/pus-mount"
doc="$pkg/usr/share/doc/pus-mount"
security="lib/$multiarch/security"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/sbin" "$pkg/$security" "$pkg/usr/share/pam-configs" "$pkg/usr/lib/tmpfiles.d" \
  "$pkg/lib/systemd/system" "$pkg/usr/share/man/man8" "$pkg/usr/share/man/man5" "$pkg/etc/logrotate.d" "$doc/examples"
install -m 0755 "$bin" "$pkg/usr/sbin/pus-mount"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/sbin/pus-mount"
# The PAM module with Debian's hardening flags (pam/Makefile), built fresh for the package.
make -s -C pam OUT="$root/pam_pus_mount.so" PUS_MOUNT_BIN=/usr/sbin/pus-mount
install -m 0644 "$root/pam_pus_mount.so" "$pkg/$security/pam_pus_mount.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/$security/pam_pus_mount.so"
install -m 0644 etc/pam-configs/pus-mount "$pkg/usr/share/pam-configs/pus-mount"
install -m 0644 etc/tmpfiles.d/pus-mount.conf "$pkg/usr/lib/tmpfiles.d/pus-mount.conf"
install -m 0644 etc/systemd/* "$pkg/lib/systemd/system/"
install -m 0644 etc/logrotate.d/pus-mount "$pkg/etc/logrotate.d/pus-mount"
install -d -m 0755 "$pkg/usr/share/lintian/overrides"
install -m 0644 etc/lintian/pus-mount "$pkg/usr/share/lintian/overrides/pus-mount"
gzip -9n < man/pus-mount.8 > "$pkg/usr/share/man/man8/pus-mount.8.gz"
gzip -9n < man/pus-mount.toml.5 > "$pkg/usr/share/man/man5/pus-mount.toml.5.gz"
install -m 0644 etc/pus-mount.toml.example "$doc/pus-mount.toml.example"
install -m 0644 etc/cron.d/pus-mount "$doc/examples/cron.d-pus-mount"
# The callers' recipes (Slurm, JupyterHub, container launcher), as tested by RecipeTests.
for f in $(cd etc/recipes && find . -type f | sort); do
  install -D -m "$(stat -c %a "etc/recipes/$f")" "etc/recipes/$f" "$doc/examples/recipes/${f#./}"
done
chmod 0644 "$pkg"/usr/share/man/man*/*.gz

{
  echo "pus-mount ($version) unstable; urgency=medium"
  echo
  echo "  * Package built from commit $commit."
  echo
  echo " -- pus-mount developers <pus-mount@example.org>  $(date -R -d "@$stamp")"
} | gzip -9n > "$doc/changelog.gz"
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pus-mount

Files: *
Copyright: 2026 pus-mount developers
License: Apache-2.0
 On Debian systems, the full text of the Apache License version 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.
EOF
chmod 0644 "$doc/changelog.gz" "$doc/copyright"

cat > "$pkg/DEBIAN/conffiles" <<'EOF'
/etc/logrotate.d/pus-mount
EOF
units="pus-mount-reconcile.timer pus-mount-reconcile.service pus-mount-bootstrap.service"
cat > "$pkg/DEBIAN/preinst" <<'EOF'
#!/bin/sh
# pus-mount preinst. Versions before 0.2.0 shipped /etc/pam.d/pus-mount (a pam_exec hook, which let a user's
# ~/.pam_environment run programs as root) for PAM stacks to @include. This version removes that file, and a
# stack that still includes it would then refuse every login: the upgrade stops first and says what to do.
set -e
if [ "$1" = install ] || [ "$1" = upgrade ]; then
  if [ -e /etc/pam.d/pus-mount ]; then
    stacks=$(grep -lE '^[[:space:]]*@include[[:space:]]+pus-mount([[:space:]]|$)' /etc/pam.d/* 2>/dev/null | grep -vx /etc/pam.d/pus-mount || true)
    if [ -n "$stacks" ]; then
      echo "pus-mount: $(echo $stacks) still @include pus-mount, the old pam_exec hook that this version removes; those stacks would refuse every login. Remove the '@include pus-mount' lines, install again, then run: pam-auth-update --enable pus-mount" >&2
      exit 1
    fi
  fi
fi
dpkg-maintscript-helper rm_conffile /etc/pam.d/pus-mount 0.2.0~ pus-mount -- "$@"
exit 0
EOF
cat > "$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# pus-mount postinst: create pus-mount's directories with their modes (tmpfiles.d/pus-mount.conf), refresh the
# PAM stacks (the pus-mount profile is "Default: no": this enables it nowhere, and updates the stacks where an
# admin enabled it with pam-auth-update --enable pus-mount) and let systemd see the units. Nothing is mounted,
# enabled or started: see pus-mount(8), INSTALLATION.
set -e
dpkg-maintscript-helper rm_conffile /etc/pam.d/pus-mount 0.2.0~ pus-mount -- "$@"
if [ "$1" = configure ]; then
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create pus-mount.conf || true
  fi
  # The same directories where systemd-tmpfiles is absent (containers, other init systems).
  install -d -m 0700 /var/lib/pus-mount /var/lib/pus-mount/locks /etc/pus-mount/credentials /etc/pus-mount/keys
  install -d -m 0755 /mnt/pus
  install -d -m 0750 /var/log/pus-mount
  chgrp adm /var/log/pus-mount 2>/dev/null || true
  if command -v pam-auth-update >/dev/null 2>&1; then pam-auth-update --package; fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
fi
exit 0
EOF
cat > "$pkg/DEBIAN/prerm" <<EOF
#!/bin/sh
# pus-mount prerm: on removal, take the PAM profile out of every stack (while the module is still installed,
# so no stack ever names a missing module), then stop and disable the units this package ships. Mounts stay:
# the ledger describes them, and a reinstall or an admin's detach takes them from there.
set -e
if [ "\$1" = remove ]; then
  if command -v pam-auth-update >/dev/null 2>&1; then pam-auth-update --package --remove pus-mount; fi
  if [ -d /run/systemd/system ]; then systemctl stop $units >/dev/null 2>&1 || true; fi
  if command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload disable $units >/dev/null 2>&1 || true
  else
    for u in $units; do find /etc/systemd/system -lname "*/\$u" -delete 2>/dev/null || true; done
  fi
fi
exit 0
EOF
cat > "$pkg/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# pus-mount postrm: never unmounts, and never deletes users' data (/srv/pus-mount), the ledger, the
# credentials or the audit log (/var/log/pus-mount: a security record, kept on purge too).
set -e
dpkg-maintscript-helper rm_conffile /etc/pam.d/pus-mount 0.2.0~ pus-mount -- "$@"
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
EOF
chmod 0755 "$pkg/DEBIAN/preinst" "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"

# Shared libraries the binary and the module link (dpkg-shlibdeps), plus libcurl, libssl3 (libcrypto) and
# libmount1, which pus-mount opens with dlopen at the first REST request, digest or mount, mount.cifs, which libmount runs as the cifs helper, and pam-auth-update.
mkdir -p "$root/debian"
printf 'Source: pus-mount\n\nPackage: pus-mount\nArchitecture: any\n' > "$root/debian/control"
shlibs=$(cd "$root" && dpkg-shlibdeps -O pus-mount/usr/sbin/pus-mount "pus-mount/$security/pam_pus_mount.so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies (apt-get install dpkg-dev)" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: pus-mount
Version: $version
Architecture: $arch
Maintainer: pus-mount developers <pus-mount@example.org>
Installed-Size: $size
Depends: $shlibs, libcurl4 (>= 7.85.0), libssl3 (>= 3.0.0), libmount1 (>= 2.38), cifs-utils, libpam-runtime (>= 1.0.1-6)
Recommends: systemd
Section: admin
Priority: optional
Description: per-user persistent storage on Azure Files for multi-user nodes
 pus-mount gives every user of a multi-user compute node (JupyterHub,
 Backend.AI, HPC login nodes) a private, persistent share: one Azure File
 share per user, mounted with the kernel cifs client at session start (PAM
 module or session launcher), or a local directory per user bind-mounted the
 same way. Mounts and session leases are kept in a versioned JSON ledger
 that "pus-mount reconcile" (systemd timer or cron) holds against the node.
EOF
# md5sums, so that dpkg --verify (dpkg -V) can check the installed files.
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort | xargs md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums"

mkdir -p dist
out="dist/pus-mount_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
if [ "$lint" = 1 ]; then
  lintian --fail-on error "$out" >&2
fi
