#!/bin/sh
# Slurm Prolog (slurm.conf: Prolog=/etc/slurm/prolog.d/pus-mount.sh): runs as root on each node of a job before
# it starts. Attaches the job's user with a lease named for the job; Epilog (epilog.sh) detaches it, so the
# share stays mounted while any job or login of the user holds a lease on the node.
#
# A failing Prolog drains the node (slurm.conf(5)). A problem of this user's (bad name 65, unknown or refused
# user 67, a share that is not theirs 77) is logged and the job runs without the share; only a failure of
# the node (configuration 78, mount 73, service 69 or 75, other) fails the Prolog.
PUS_MOUNT=${PUS_MOUNT:-/usr/sbin/pus-mount}
[ -n "${SLURM_JOB_USER:-}" ] && [ -n "${SLURM_JOB_ID:-}" ] || { echo "pus-mount prolog: no SLURM_JOB_USER/SLURM_JOB_ID" >&2; exit 0; }
out=$("$PUS_MOUNT" --if-configured attach "$SLURM_JOB_USER" --session "slurm-$SLURM_JOB_ID" 2>&1)
rc=$?
case $rc in
  0) exit 0 ;;
  64|65|67|77)
    logger -t pus-mount-prolog "job $SLURM_JOB_ID: $SLURM_JOB_USER gets no share: $out" 2>/dev/null || true
    echo "pus-mount prolog: $out" >&2
    exit 0 ;;
  *)
    echo "pus-mount prolog: job $SLURM_JOB_ID: $out (exit $rc)" >&2
    exit "$rc" ;;
esac
