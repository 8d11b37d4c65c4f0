#!/bin/sh
# A Backend.AI-style container launcher's pus-mount steps, around whatever starts the container:
#   launch.sh start USER CONTAINER_ID -- COMMAND...   attach, run COMMAND (it starts the container and prints its
#                                                      init pid on stdout), then bind the lease to that pid
#   launch.sh stop USER CONTAINER_ID                   detach the container's lease
# The share is attached on the host before the container starts, so COMMAND can bind /mnt/pus/USER into it
# (docker run -v /mnt/pus/USER:/home/work/storage, or a bind in the container's mount namespace). The lease
# carries the container's init pid: if the container dies without a stop, reconcile drops the lease and
# unmounts the share once nothing else holds it.
set -eu
PUS_MOUNT=${PUS_MOUNT:-/usr/sbin/pus-mount}
action=$1 user=$2 id=$3
shift 3
case $action in
  start)
    [ "${1:-}" = "--" ] && shift
    "$PUS_MOUNT" attach "$user" --session "ctr-$id" > /dev/null
    if ! pid=$("$@"); then
      "$PUS_MOUNT" detach "$user" --session "ctr-$id" > /dev/null || true
      echo "launch: the container command failed; the share's lease is dropped" >&2
      exit 1
    fi
    # The same session again, now with the init pid: the lease follows the container's life.
    "$PUS_MOUNT" attach "$user" --session "ctr-$id" --pid "$pid" > /dev/null
    echo "$pid" ;;
  stop)
    "$PUS_MOUNT" detach "$user" --session "ctr-$id" ;;
  *)
    echo "usage: launch.sh start USER ID -- COMMAND... | stop USER ID" >&2
    exit 64 ;;
esac
