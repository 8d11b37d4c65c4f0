# Helpers for e2e scenarios (sourced inside the guest). A scenario is a sh script run with `set -e`;
# `check` makes each assertion explicit and named.
# pus-mount as an operator installs it: the Debian package built by scripts/package-deb.sh (guest_setup).
PUS=/usr/sbin/pus-mount
EMU=/host/bin/azfiles-emulator
ACCOUNT=pusacct
CONFIG=/etc/pus-mount/pus-mount.toml
KEYFILE=/etc/pus-mount/keys/$ACCOUNT.key

fail() { echo "FAIL: $*"; exit 1; }
check() {  # check "what" command...
  what=$1; shift
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
share_of() { printf 'pus-%s-%s' "$1" "$(printf %s "$1" | sha256sum | cut -c1-8)"; }
mountinfo_line() { awk -v mp="$1" '$5 == mp' /proc/self/mountinfo; }

guest_setup() {
  dpkg -i /host/pus-mount.deb > /tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; echo "e2e-guest: dpkg -i of the package failed"; }
  KEY=$(head -c 64 /dev/urandom | base64 -w0)
  # Azure accounts have two keys; the emulator accepts both (rotate-key checks each against the service).
  KEY2=$(head -c 64 /dev/urandom | base64 -w0)
  # Second boot of a simulated reboot: the same account key and the emulator's shares as the first boot left
  # them (saved by the first half of the scenario under /host/out/reboot).
  if [ -e /host/phase2 ]; then
    KEY=$(cat /host/out/reboot/key)
    tar -C / -xf /host/out/reboot/state.tar srv/emulator
  fi
  useradd -M -s /usr/sbin/nologin "$ACCOUNT"
  printf '%s\n%s\n' "$KEY" "$KEY" | smbpasswd -s -a "$ACCOUNT" >/dev/null
  useradd -m -u 1001 alice; useradd -m -u 1002 bob
  mkdir -p /var/log/samba /run/samba /var/lib/samba/private /etc/pus-mount/keys /srv/emulator
  : > /etc/samba/pus-shares.conf
  smbd -D
  printf '%s=%s\n%s=%s\n' "$ACCOUNT" "$KEY" "$ACCOUNT" "$KEY2" > /root/emulator.accounts; chmod 600 /root/emulator.accounts
  PUS_E2E_DATA=/srv/emulator "$EMU" --listen 127.0.0.1:10000 --data /srv/emulator --accounts-file /root/emulator.accounts \
    --on-share-change /usr/local/sbin/pus-e2e-share-hook --handles-hook /host/handles-hook --soft-delete-days 7 --log > /tmp/emu.out 2> /tmp/emu.log &
  for i in $(seq 100); do grep -q listening /tmp/emu.out 2>/dev/null && break; sleep 0.1; done
  [ -e /host/phase2 ] && PUS_E2E_DATA=/srv/emulator /usr/local/sbin/pus-e2e-share-hook
  printf '%s\n' "$KEY" > "$KEYFILE"; chmod 600 "$KEYFILE"
  cat > "$CONFIG" <<TOML
backend = "azure"
[[azure.accounts]]
name = "$ACCOUNT"
key_file = "$KEYFILE"
file_endpoint = "http://127.0.0.1:10000/$ACCOUNT"
smb_host = "127.0.0.1"
[shares]
quota_gib = 5
TOML
  chmod 644 "$CONFIG"
  echo "e2e-guest: samba $(smbd --version), emulator $(cat /tmp/emu.out)"
}

# Seconds (with decimals) since boot, for timing a command in a scenario.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# check_json "what" JSON KEY VALUE: the compact JSON has "KEY":VALUE (the JSON goes through a file, never
# through code: it may hold quotes and backticks).
check_json() { printf '%s' "$2" > /tmp/check.json; check "$1" grep -q "\"$3\":$4" /tmp/check.json; }

# add_volume NAME SHARE MOUNTPOINT: a [[volumes]] entry in the config (read-only by default).
add_volume() {
  cat >> "$CONFIG" <<TOML
[[volumes]]
name = "$1"
account = "$ACCOUNT"
share = "$2"
mountpoint = "$3"
TOML
}
