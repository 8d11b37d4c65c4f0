# Key rotation on bookworm-backports' kernel 6.12 (cifs password2): see ../guest/rotate-key.sh.
. /host/rotate-key.sh
