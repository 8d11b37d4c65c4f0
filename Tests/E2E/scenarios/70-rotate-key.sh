# Key rotation on Debian 12's kernel 6.1 (no cifs password2): see ../guest/rotate-key.sh.
. /host/rotate-key.sh
