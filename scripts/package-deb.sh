#!/usr/bin/env bash
# Builds the Debian package of pus-mount: dist/pus-mount_<version>_amd64.deb (dpkg-deb, no debhelper).
#
# usage: scripts/package-deb.sh [--no-build] [--lintian]
#   --no-build  package the release binary already built (swift build -c release --static-swift-stdlib --disable-local-rpath)
#   --lintian   run lintian on the result and fail on any error
#
# Contents: the static-stdlib pus-mount (stripped) in /usr/sbin, the PAM hook in /usr/lib/pus-mount/, man
# pages, systemd units (not enabled), tmpfiles.d, the PAM snippet /etc/pam.d/pus-mount (a conffile; it does
# nothing until a service's stack includes it), and the example config and cron entry under
# /usr/share/doc/pus-mount/. The emulator is not in it. Maintainer scripts only create pus-mount's
# directories with their modes; they never mount, unmount, enable or start anything.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 lint=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --lintian) lint=1 ;;
    *) echo "package-deb: unknown argument $a (use --no-build, --lintian)" >&2; exit 64 ;;
  esac
done
version=$(sed -n 's/.*version: "\([0-9][0-9.]*\)".*/\1/p' Sources/PusMountCLI/PusMountCommand.swift | head -1)
[ -n "$version" ] || { echo "package-deb: no version in Sources/PusMountCLI/PusMountCommand.swift" >&2; exit 1; }
arch=$(dpkg --print-architecture)
if [ "$build" = 1 ]; then swift build -c release --static-swift-stdlib --disable-local-rpath --product pus-mount >/dev/null; fi
bin="$(swift build -c release --static-swift-stdlib --disable-local-rpath --show-bin-path)/pus-mount"
if readelf -d "$bin" | grep -q "R.*PATH"; then
  echo "package-deb: $bin carries an RPATH/RUNPATH (build with --disable-local-rpath, or drop --no-build)" >&2; exit 1
fi
[ -x "$bin" ] || { echo "package-deb: $bin is missing (drop --no-build)" >&2; exit 1; }

root=$(mktemp -d /tmp/pus-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT
pkg="$root/pus-mount"
doc="$pkg/usr/share/doc/pus-mount"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/sbin" "$pkg/usr/lib/pus-mount" "$pkg/usr/lib/tmpfiles.d" \
  "$pkg/lib/systemd/system" "$pkg/usr/share/man/man8" "$pkg/usr/share/man/man5" "$pkg/etc/pam.d" "$doc/examples"
install -m 0755 "$bin" "$pkg/usr/sbin/pus-mount"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/sbin/pus-mount"
install -m 0755 etc/pam-session "$pkg/usr/lib/pus-mount/pam-session"
install -m 0644 etc/tmpfiles.d/pus-mount.conf "$pkg/usr/lib/tmpfiles.d/pus-mount.conf"
install -m 0644 etc/systemd/* "$pkg/lib/systemd/system/"
install -m 0644 etc/pam.d/pus-mount "$pkg/etc/pam.d/pus-mount"
gzip -9n < man/pus-mount.8 > "$pkg/usr/share/man/man8/pus-mount.8.gz"
gzip -9n < man/pus-mount.toml.5 > "$pkg/usr/share/man/man5/pus-mount.toml.5.gz"
install -m 0644 etc/pus-mount.toml.example "$doc/pus-mount.toml.example"
install -m 0644 etc/cron.d/pus-mount "$doc/examples/cron.d-pus-mount"
chmod 0644 "$pkg"/usr/share/man/man*/*.gz

date_r=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
{
  echo "pus-mount ($version) unstable; urgency=medium"
  echo
  echo "  * Package built from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo " -- pus-mount developers <pus-mount@example.org>  $date_r"
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
/etc/pam.d/pus-mount
EOF
cat > "$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# pus-mount postinst: create pus-mount's directories with their modes (tmpfiles.d/pus-mount.conf) and let
# systemd see the units. Nothing is mounted, enabled or started: see pus-mount(8), INSTALLATION.
set -e
if [ "$1" = configure ]; then
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create pus-mount.conf || true
  fi
  # The same directories where systemd-tmpfiles is absent (containers, other init systems).
  install -d -m 0700 /var/lib/pus-mount /var/lib/pus-mount/locks /etc/pus-mount/credentials /etc/pus-mount/keys
  install -d -m 0755 /mnt/pus
  install -d -m 0750 /var/log/pus-mount
  chgrp adm /var/log/pus-mount 2>/dev/null || true
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
fi
exit 0
EOF
cat > "$pkg/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# pus-mount postrm: never unmounts, and never deletes users' data (/srv/pus-mount), the ledger or the
# credentials: a node may still have mounts that the ledger describes. purge removes only the log directory.
set -e
if [ "$1" = purge ]; then
  rm -rf /var/log/pus-mount
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
EOF
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"

# Shared libraries the binary links (dpkg-shlibdeps), plus libcurl, which it opens with dlopen at the first
# REST request, and mount.cifs, which libmount runs as the cifs helper.
mkdir -p "$root/debian"
printf 'Source: pus-mount\n\nPackage: pus-mount\nArchitecture: any\n' > "$root/debian/control"
shlibs=$(cd "$root" && dpkg-shlibdeps -O pus-mount/usr/sbin/pus-mount 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies (apt-get install dpkg-dev)" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: pus-mount
Version: $version
Architecture: $arch
Maintainer: pus-mount developers <pus-mount@example.org>
Installed-Size: $size
Depends: $shlibs, libcurl4 (>= 7.85.0), cifs-utils
Recommends: systemd
Section: admin
Priority: optional
Description: per-user persistent storage on Azure Files for multi-user nodes
 pus-mount gives every user of a multi-user compute node (JupyterHub,
 Backend.AI, HPC login nodes) a private, persistent share: one Azure File
 share per user, mounted with the kernel cifs client at session start (PAM
 hook or session launcher), or a local directory per user bind-mounted the
 same way. Mounts and session leases are kept in a versioned JSON ledger
 that "pus-mount reconcile" (systemd timer or cron) holds against the node.
EOF

mkdir -p dist
out="dist/pus-mount_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
if [ "$lint" = 1 ]; then
  lintian --fail-on error "$out" >&2
fi
